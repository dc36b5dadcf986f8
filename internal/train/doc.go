// Package train is the training machinery every command shares: a config
// made ready to run (Load: the data loaded, split and normalised, and the
// model built against it, once), the network's initialisation, one
// training step (Trainer), the one epoch driver (Loop) with its hooks, and
// evaluation (Evaluate).
//
// The commands are built on it and do not reach into it: package session
// runs `nettrain train` (run directory, checkpoints, resume, metrics) as
// hooks on a Loop, package compare runs its trials on the same Loop,
// package inspect (trace, gradcheck, bench) and package infer (eval,
// predict, generate) use Model, Batch and Evaluate.
//
// Invariants:
//   - Randomness comes from PCG streams of the config's seed, one stream
//     per use (StreamInit, StreamSplit, StreamDropout, StreamInput,
//     StreamAugment), so
//     that changing one use (the optimizer, the validation split) never
//     shifts another (initial weights, batch order).
//   - The order of the training samples in an epoch is a pure function of
//     the seed and the epoch (Permutation): a resumed run, a comparison
//     trial and `train` see the same batches. So is a sample's random
//     augmentation (data.augment): a function of (seed, epoch, sample),
//     with the epoch given to the training split by Loop (SetEpoch)
//     before the epoch's first batch. Only Data.Train is augmented;
//     validation, test, Data.TrainForEval and LoadFile never are.
//   - A step allocates nothing; every buffer is sized once for the
//     network's largest batch (Batch, Trainer).
//   - Memory is checked against MemoryLimit before it is allocated: Load
//     checks the data's arrays beyond the samples (the normaliser, per
//     feature; class counts and Evaluate's per-class arrays), NewNetwork
//     the network's estimate with them and the data sets read
//     (CheckMemory; NewPredictNetwork without the optimizer's state,
//     which evaluation and prediction do not hold). Evaluate's memory
//     grows with the classes, not their square: it keeps a confusion
//     matrix for up to MaxConfusionClasses only.
//   - Every parallel loop works in chunks fixed by the data's size, never
//     by the thread count: the same seed gives the same bits on any number
//     of threads.
//   - A Model does not change after Load; the config it holds is never
//     modified.
//   - Load fingerprints every data file it reads once (Data.Fingerprints:
//     sample count and an FNV-1a of the arrays as loaded; for an image
//     folder, the version of the image decoding), so that checkpoints can
//     record the data and resumes compare it.
//   - The training data of a checkpoint is read as the checkpoint's run
//     read it (LoadAs with ReadingOf): what a config leaves to detection
//     (data.csv.header and classes, data.image's channels and size) is
//     what that run decided, by the rules of the nettrain that trained.
//     A config's data settings are checked against a checkpoint's as
//     resolved on its data (CheckTrainedModel, ResumeSections), not as
//     text.
package train
