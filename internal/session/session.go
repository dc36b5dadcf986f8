package session

import (
	"fmt"
	"github.com/nettrain/nettrain/internal/safeio"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/checkpoint"
	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/optim"
	"github.com/nettrain/nettrain/internal/train"
)

// Options are the choices of one `nettrain train` invocation.
type Options struct {
	// OutDir is the run directory; "" means runs/<config name>.
	OutDir string
	// Resume continues from this checkpoint (weights, optimizer state,
	// position in the data, RNG state).
	Resume string
	// Overwrite starts afresh in an existing run directory.
	Overwrite bool
	// Log receives one plain line per epoch (and notes); nil discards.
	Log io.Writer
	// Progress, when not nil, shows a progress bar there (a terminal).
	Progress io.Writer
	// Threads overrides training.threads when > 0.
	Threads int
	// Interrupt delivers SIGINT/SIGTERM: training finishes the current
	// step, saves last.safetensors and returns an *InterruptedError.
	Interrupt <-chan os.Signal
	// ResumeHint is the command line that resumes this run, without
	// --resume (e.g. "nettrain train c.yaml --set training.epochs=2"),
	// for the message after an interruption.
	ResumeHint string
}

// Result is what a finished run reports.
type Result struct {
	RunDir string
	Rows   []Row
	// Stopped is true when training stopped early (training.steps).
	Stopped bool
}

// maxRollbacks bounds training.on_nan: rollback, and maxSkipsInARow
// training.on_nan: skip_batch.
const (
	maxRollbacks   = 8
	maxSkipsInARow = 10
)

// Run trains the network a config describes, writing the run directory.
func Run(cfg *model.Config, o Options) (*Result, error) {
	if cfg.DType == "float64" {
		return run[float64](cfg, o)
	}
	return run[float32](cfg, o)
}

// session is one `nettrain train` run in progress: the training loop, and
// what the run keeps besides the loop's position (its directory, the
// checkpoint state, the metrics files). It is the loop's hooks.
type session[T backprop.Float] struct {
	cfg *model.Config
	o   Options
	log io.Writer
	m   *train.Model[T] // the config's data and graph
	net *backprop.Network[T]
	opt optim.Optimizer[T]
	// loop drives the epochs; loop.Pos is where the run stands.
	loop *train.Loop[T]
	// dir is the run directory.
	dir string
	// st is what checkpoints record besides the loop's position (best
	// score, metrics rows, skips); save fills in the position.
	st      checkpoint.State
	metrics *metricsLog
	// start is when training started, less the training time of the
	// processes a resumed run continues.
	start time.Time
	res   *Result
	// bar is the current epoch's progress bar (nil without a terminal).
	bar *progressbar.ProgressBar
	// rollbacks and skippedInARow count training.on_nan's actions.
	rollbacks, skippedInARow int
}

var _ train.Hooks[float32] = (*session[float32])(nil)

func run[T backprop.Float](cfg *model.Config, o Options) (*Result, error) {
	s := &session[T]{cfg: cfg, o: o, log: o.Log, res: &Result{}}
	if s.log == nil {
		s.log = io.Discard
	}
	var err error
	if s.m, err = train.LoadWithData[T](cfg, "to train"); err != nil {
		return nil, err
	}
	d := s.m.Data
	warnSkipped(s.log, d.Skipped)
	if err := model.CheckLastBatch(cfg, s.m.Graph, d.Train.Len()); err != nil {
		return nil, err
	}
	if s.net, err = s.m.InitNetwork(cfg.Training.BatchSize); err != nil {
		return nil, err
	}
	s.opt = optim.New[T](cfg.Optimizer.Optim, s.net.NumParams())
	pool := train.NewPool(train.Threads(cfg, o.Threads))
	defer pool.Close()
	tr := train.NewTrainer(cfg, s.net, s.opt, pool.Ctx(), d.Train, d.Classes)
	s.loop = train.NewLoop(tr, d.Val, s)
	s.loop.Pos.LRScale = 1
	s.dir = o.RunDir(cfg)
	s.res.RunDir = s.dir
	s.st = checkpoint.State{BestValLoss: math.Inf(1), LRScale: 1}
	// One run at a time in a directory; the lock comes first, so that no
	// other run changes the files while this one checks and uses them.
	lock, err := lockDir(s.dir, s.log)
	if err != nil {
		return nil, err
	}
	defer lock.unlock()
	if o.Resume != "" {
		// Everything about the checkpoint is checked before anything in
		// the run directory changes: the metrics too when the run goes on
		// in the checkpoint's directory (another directory starts its own
		// metrics, or holds another run, which prepareDir refuses or
		// clears).
		if err := s.restore(o.Resume); err != nil {
			return nil, err
		}
		if sameDir(s.dir, filepath.Dir(o.Resume)) {
			if err := checkMetrics(s.dir, o.Resume, s.st); err != nil {
				return nil, err
			}
		}
	}
	if err := prepareDir(s.dir, o); err != nil {
		return nil, err
	}
	if o.Resume != "" {
		fmt.Fprintf(s.log, "resuming %s at epoch %d, step %d\n", o.Resume, s.st.Epoch+1, s.st.Step)
	}
	if err := safeio.WriteFile(filepath.Join(s.dir, "config.yaml"), cfg.Resolved); err != nil {
		return nil, err
	}
	if s.metrics, err = openMetrics(s.dir, s.st.MetricsRows); err != nil {
		return nil, err
	}
	defer s.metrics.close()
	s.start = time.Now().Add(-time.Duration(s.st.ElapsedS * float64(time.Second)))
	if o.Resume == "" {
		// A first last.safetensors: the last good state rollback and
		// interruption can always fall back to.
		if err := s.save("last.safetensors", 0); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(s.log, "training %s: %d training samples, %d validation, %d parameters, %s, run directory %s\n",
		cfg.Describe(), d.Train.Len(), lenOf(d.Val), s.net.NumParams(), plural(pool.Threads(), "thread"), s.dir)
	if lim := s.loop.MaxSteps; lim > 0 && s.loop.Pos.Step >= lim {
		fmt.Fprintf(s.log, "the run already made %d steps (training.steps is %d): nothing to do\n", s.loop.Pos.Step, lim)
	} else if s.loop.Pos.Epoch >= s.loop.Epochs {
		fmt.Fprintf(s.log, "the run already finished its %d epochs (training.epochs is %d): nothing to do; raise training.epochs to train on\n", s.loop.Pos.Epoch, s.loop.Epochs)
	}
	err = s.loop.Run()
	s.res.Stopped = s.loop.Stopped
	return s.res, err
}

// warnSkipped reports the image files data.image.skip_bad skipped: their
// count and the first few, each with why.
func warnSkipped(w io.Writer, skipped []string) {
	if len(skipped) == 0 {
		return
	}
	fmt.Fprintf(w, "warning: data.image.skip_bad skipped %s that could not be read as images:\n", plural(len(skipped), "file"))
	for i, m := range skipped {
		if i == 5 {
			fmt.Fprintf(w, "  ... and %d more\n", len(skipped)-i)
			break
		}
		fmt.Fprintf(w, "  %s\n", m)
	}
}

// restore loads a checkpoint's weights, optimizer state, position and RNG
// state into the session, after checking that this config and its data
// can continue from it (checkState).
func (s *session[T]) restore(path string) error {
	limit, what := train.MemoryLimit(s.cfg)
	f, rs, err := checkpoint.ReadLimit(path, limit, what)
	if err != nil {
		return err
	}
	if err := s.checkState(path, rs); err != nil {
		return err
	}
	if err := checkpoint.LoadWeights(f, s.net, s.m.LayerName); err != nil {
		return err
	}
	if err := checkpoint.LoadOptimizer(f, rs, s.net, s.opt, s.cfg.Optimizer.Name); err != nil {
		return err
	}
	if err := s.loop.Trainer.SetDropoutState(rs.RNG); err != nil {
		return fmt.Errorf("%s: bad RNG state: %v", path, err)
	}
	if err := s.loop.Sched.Restore(rs.Sched); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	if rs.LRScale == 0 {
		rs.LRScale = 1
	}
	s.st = rs
	pos := train.Position{Epoch: rs.Epoch, BatchInEpoch: rs.BatchInEpoch, Step: rs.Step, LRScale: rs.LRScale}
	if rs.BatchInEpoch > 0 {
		pos.Stats = train.EpochStats{LossSum: rs.EpochLossSum, Samples: rs.EpochSamples, NormSum: rs.EpochNormSum, Steps: rs.EpochSteps}
	}
	s.loop.Pos = pos
	return nil
}

// save writes a checkpoint into the run directory. keepRows is the number
// of metrics rows a resume from it keeps (a partial epoch's row is dropped
// and redone).
func (s *session[T]) save(name string, keepRows int) error {
	st, pos := &s.st, s.loop.Pos
	st.Epoch, st.BatchInEpoch, st.Step, st.LRScale = pos.Epoch, pos.BatchInEpoch, pos.Step, pos.LRScale
	st.MetricsRows = keepRows
	st.RNG = s.loop.Trainer.DropoutState()
	st.ConfigHash, st.ModelHash = s.cfg.Hash(), s.cfg.ModelHash()
	st.Optimizer = s.cfg.Optimizer.Name
	st.Config = string(s.cfg.Resolved)
	st.EpochLossSum, st.EpochSamples, st.EpochNormSum, st.EpochSteps = 0, 0, 0, 0
	if pos.BatchInEpoch > 0 {
		st.EpochLossSum, st.EpochSamples, st.EpochNormSum, st.EpochSteps = pos.Stats.LossSum, pos.Stats.Samples, pos.Stats.NormSum, pos.Stats.Steps
	}
	if !s.start.IsZero() {
		st.ElapsedS = time.Since(s.start).Seconds()
	}
	st.Sched = s.loop.Sched.State()
	st.Sections = s.cfg.ResumeSections()
	st.Data = s.m.Data.Fingerprints
	st.Preprocess = s.m.Data.Preprocess()
	return checkpoint.Save(filepath.Join(s.dir, name), s.net, s.opt, *st)
}

// hint is the command line that resumes this run.
func (s *session[T]) hint() string {
	if s.o.ResumeHint != "" {
		return s.o.ResumeHint
	}
	return "nettrain train " + s.cfg.File
}

// lastCheckpoint is the path of the run's last.safetensors.
func (s *session[T]) lastCheckpoint() string { return filepath.Join(s.dir, "last.safetensors") }

// stepCheckpoint writes step-<N>.safetensors and keeps the newest
// checkpoint.keep of them.
func (s *session[T]) stepCheckpoint() error {
	name := fmt.Sprintf("step-%09d.safetensors", s.loop.Pos.Step)
	if err := s.save(name, s.metrics.rows); err != nil {
		return err
	}
	old, _ := filepath.Glob(filepath.Join(s.dir, "step-*.safetensors"))
	sort.Strings(old)
	for len(old) > s.cfg.Checkpoint.Keep {
		if err := os.Remove(old[0]); err != nil {
			return fmt.Errorf("cannot remove an old checkpoint: %w", err)
		}
		old = old[1:]
	}
	return nil
}

// interrupted reports a pending signal, without blocking.
func (s *session[T]) interrupted() os.Signal {
	select {
	case sig := <-s.o.Interrupt:
		return sig
	default:
		return nil
	}
}

// interruption saves last.safetensors (unless it was just written) and
// returns the error that ends the run after a signal.
func (s *session[T]) interruption(sig os.Signal, save bool) error {
	if save {
		if err := s.save("last.safetensors", s.metrics.rows); err != nil {
			return err
		}
	}
	return &InterruptedError{Signal: sig, Checkpoint: s.lastCheckpoint(), Hint: s.hint(), Step: s.loop.Pos.Step}
}

// EpochStart shows the epoch's progress bar on a terminal.
func (s *session[T]) EpochStart(l *train.Loop[T], epoch int) error {
	if s.o.Progress != nil {
		n, bs := s.m.Data.Train.Len(), s.cfg.Training.BatchSize
		s.bar = newBar(s.o.Progress, int64(n), fmt.Sprintf("epoch %d/%d", epoch+1, l.Epochs))
		s.bar.Set64(int64(min(l.Pos.BatchInEpoch*bs, n)))
	}
	return nil
}

// finishBar ends the current progress bar's line.
func (s *session[T]) finishBar() {
	if s.bar != nil {
		s.bar.Finish()
		fmt.Fprintln(s.o.Progress)
		s.bar = nil
	}
}

// AfterStep applies training.on_nan when a step's loss or gradient was not
// finite: stop with a diagnosis, skip the batch, or roll back to the last
// checkpoint with half the learning rate.
func (s *session[T]) AfterStep(l *train.Loop[T], st train.StepInfo) (train.Action, error) {
	if st.OK {
		s.skippedInARow = 0
		return train.Continue, nil
	}
	step := l.Pos.Step + 1
	where := train.Diagnose(s.net, s.m.LayerName)
	switch s.cfg.Training.OnNaN {
	case model.OnNaNSkipBatch:
		if s.skippedInARow++; s.skippedInARow > maxSkipsInARow {
			return train.Stop, &DivergedError{Step: step, Loss: st.Loss, Where: where, Last: s.lastCheckpoint(),
				Hint: fmt.Sprintf(" (gave up after %d batches in a row were skipped; lower optimizer.lr)", maxSkipsInARow)}
		}
		s.st.Skipped++
		fmt.Fprintf(s.log, "step %d: the loss or gradient is not finite (%s); batch skipped (%d so far)\n", step, where, s.st.Skipped)
		return train.Continue, nil
	case model.OnNaNRollback:
		if s.rollbacks++; s.rollbacks > maxRollbacks {
			return train.Stop, &DivergedError{Step: step, Loss: st.Loss, Where: where, Last: s.lastCheckpoint(),
				Hint: fmt.Sprintf(" (gave up after %d rollbacks, the learning rate down to x%g; lower optimizer.lr)", maxRollbacks, l.Pos.LRScale)}
		}
		scale := l.Pos.LRScale / 2
		if err := s.restore(s.lastCheckpoint()); err != nil {
			return train.Stop, fmt.Errorf("rollback after a non-finite loss at step %d: %w", step, err)
		}
		l.Pos.LRScale, s.st.LRScale = scale, scale
		if err := s.metrics.truncate(s.st.MetricsRows); err != nil {
			return train.Stop, err
		}
		fmt.Fprintf(s.log, "step %d: the loss or gradient is not finite (%s); rolled back to %s (epoch %d, step %d) and halved the learning rate (x%g)\n",
			step, where, s.lastCheckpoint(), l.Pos.Epoch+1, l.Pos.Step, scale)
		s.finishBar()
		return train.Restart, nil
	}
	return train.Stop, &DivergedError{Step: step, Loss: st.Loss, Where: where, Last: s.lastCheckpoint(),
		Hint: " (training.on_nan: skip_batch or rollback would continue)"}
}

// Stepped advances the progress bar, writes step checkpoints, and stops
// after the step when a signal came.
func (s *session[T]) Stepped(l *train.Loop[T], st train.StepInfo) error {
	pos := l.Pos
	if s.bar != nil {
		s.bar.Describe(fmt.Sprintf("epoch %d/%d loss %.4f", pos.Epoch+1, l.Epochs, pos.Stats.Loss()))
		s.bar.Add(st.Samples)
	}
	inEpoch := pos.BatchInEpoch < l.Batches()
	if e := s.cfg.Checkpoint.EverySteps; e != nil && pos.Step%int64(*e) == 0 && inEpoch {
		if err := s.stepCheckpoint(); err != nil {
			return err
		}
	}
	if inEpoch { // at an epoch's end, EpochEnd takes the signal
		if sig := s.interrupted(); sig != nil {
			return s.interruption(sig, true)
		}
	}
	return nil
}

// Measure is not used: `train` evaluates at the end of each epoch.
func (s *session[T]) Measure(*train.Loop[T], *train.EvalResult) error { return nil }

// EpochEnd writes the epoch's metrics row and the checkpoints: best when
// the score improved, last every checkpoint.every_epochs epochs, at the
// end, and when training.steps stopped the run inside an epoch.
func (s *session[T]) EpochEnd(l *train.Loop[T], e train.EpochEnd) error {
	s.finishBar()
	pos, st := l.Pos, &s.st
	row := Row{Epoch: e.Epoch + 1, Step: pos.Step, TrainLoss: e.Stats.Loss(), LR: s.opt.LR(), GradNorm: e.Stats.GradNorm(),
		SamplesPerS: float64(e.Stats.Samples-e.SamplesBefore) / e.TrainTime.Seconds(), ElapsedS: time.Since(s.start).Seconds()}
	if e.Val != nil {
		row.ValLoss, row.ValAccuracy, row.ValMAE = &e.Val.Loss, e.Val.Accuracy, e.Val.MAE
	}
	improved := false
	if e.Complete {
		if improved = e.Score < st.BestValLoss; improved {
			st.BestValLoss = e.Score
		}
	} else if e.Epoch == 0 && math.IsInf(st.BestValLoss, 1) {
		// Stopped inside the first epoch: these weights are the best so
		// far, but the record stays with whole epochs so that a resumed
		// run decides "best" exactly as an uninterrupted one. (A partial
		// later epoch is never a candidate: best stays with whole epochs.)
		improved = true
	}
	if err := s.metrics.write(row); err != nil {
		return err
	}
	s.res.Rows = append(s.res.Rows, row)
	fmt.Fprintln(s.log, row.Line())
	keep := s.metrics.rows
	if !e.Complete {
		keep-- // a resumed run redoes this epoch's row
	}
	if improved {
		if err := s.save("best.safetensors", keep); err != nil {
			return err
		}
	}
	// A signal that came during the epoch's last batch is taken here.
	var sig os.Signal
	if pos.Epoch < l.Epochs {
		sig = s.interrupted()
	}
	// last.safetensors: every checkpoint.every_epochs epochs, and whenever
	// the run ends here (its last epoch, training.steps, a signal), so that
	// a resume continues from exactly here.
	if pos.Epoch%s.cfg.Checkpoint.EveryEpochs == 0 || pos.Epoch == l.Epochs || !e.Complete || l.Stopped || sig != nil {
		if err := s.save("last.safetensors", keep); err != nil {
			return err
		}
	}
	if sig != nil {
		return s.interruption(sig, false)
	}
	return nil
}

func lenOf[T backprop.Float](s train.Split[T]) int {
	if s == nil {
		return 0
	}
	return s.Len()
}

// plural is "1 thread" or "2 threads".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
