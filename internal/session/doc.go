// Package session runs `nettrain train`: one training run with its run
// directory. It plugs into train.Loop as its hooks and owns everything a
// run keeps besides the loop's position: the run directory (never
// overwritten silently), config.yaml, metrics.csv and metrics.jsonl (one
// row per evaluation: each epoch's end and every
// training.eval_every_steps steps; appended, flushed and synced row by
// row), curves.png and curves.svg (redrawn at every evaluation),
// TensorBoard event files (training.tensorboard), status.json (how the
// run ended), the checkpoints (last, best, step-N), early stopping,
// resume, interruption by a signal, training.on_nan's policies (stop with
// a diagnosis, skip the batch, roll back to the last checkpoint with half
// the learning rate), and the summary printed at the end.
//
// Invariants:
//   - Resume is bit-identical: a run interrupted at any step and resumed
//     from its last checkpoint gives the same weights and metrics rows
//     (wall-clock columns aside) as one that was not. A checkpoint records
//     the loop's position, the epoch's running sums, the RNG and schedule
//     state and the metrics rows to keep; a resume refuses a config that
//     changes the trajectory (checkpoint.SectionsDiffer, with the data
//     section as train.ResumeSections hashes it: a data setting that
//     resolves to the checkpoint's preprocessing is no change) and data
//     whose contents changed (checkpoint.DataDiffers: the fingerprints
//     train.Load computes, which every checkpoint records). data.train
//     is read as the checkpoint's run read it (train.ReadingOf: what the
//     config leaves to detection, such as data.csv.header and classes,
//     the run's nettrain decided), so that a run of an older nettrain
//     resumes on the data it trained on. Images that decode otherwise
//     since the checkpoint (train.Data.ImageDecodingChanged) are refused
//     as such, or with Options.AcceptImageDecoding resumed on as they
//     decode now: the one resume that is not bit-identical.
//   - A resume checks the checkpoint before it touches the run directory:
//     it must hold nettrain's training state (not a plain weights file),
//     its stored config must read, build and have the config's model
//     (train.CheckTrainedModel), and its position must fit the config and the data (batch_in_epoch
//     below the batches per epoch, epoch within training.epochs, step =
//     epoch * batches + batch_in_epoch), and metrics_rows must be exactly
//     the rows of metrics.csv up to the checkpoint's step (a row at that
//     very step inside an epoch may be kept or redone), so that no row of
//     an earlier evaluation is ever dropped. Errors name the
//     file and the field.
//   - A run opens every file it writes to (metrics, TensorBoard, config.yaml
//     written atomically) before status.json is removed and the metrics
//     cut to the checkpoint's rows (openRun): a resume that fails before
//     it trains leaves the run directory as it was (a failure after that
//     point, which only truncating the metrics can cause, is recorded as
//     failed in status.json), and a new run that fails before its first
//     last.safetensors removes what it wrote, so that its directory never
//     holds a run without a checkpoint to resume.
//   - Nothing written is lost to --overwrite before the new run can be
//     resumed: prepareDir moves the old run's files into the hidden
//     .nettrain-overwritten (marked complete once all are there), save
//     removes it with the first last.safetensors, and a failure before
//     that removes the new run's files and moves the old ones back (the
//     error says so). A killed run's leftover is finished or undone by the
//     next run, under the lock, before its checks (recoverAside).
//   - Early stopping's record (best value, its step, evaluations without
//     improvement) is part of every checkpoint, so a resumed run stops at
//     the same evaluation.
//   - Every file is written atomically or appended a whole row at a time:
//     a crash at any moment leaves a run that resumes.
//   - One run at a time in a run directory: a run holds nettrain.lock
//     (flock(2), the file holding its pid) from before it reads anything
//     there until it ends, and removes it; a second run fails at once
//     naming the first's pid. The kernel releases the flock of a killed
//     process, so its leftover lock file is taken over.
//   - Nothing here exits the process: interruption and divergence are
//     errors (*InterruptedError, *DivergedError) the command maps to exit
//     codes. A signal before the run changes its directory (while the data
//     loads: the wait is abandoned) stops it there with nothing written
//     (an *InterruptedError without a checkpoint); a signal after the
//     run's last step is no interruption: the run is complete.
//   - The summary names curves.png as current only when this process's
//     last drawing of it succeeded (or it drew none: a resume with
//     nothing to do); every evaluation draws the curves again.
package session
