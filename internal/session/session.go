package session

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
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
	"github.com/nettrain/nettrain/internal/parallel"
	"github.com/nettrain/nettrain/internal/safeio"
	"github.com/nettrain/nettrain/internal/tfevents"
	"github.com/nettrain/nettrain/internal/train"
)

// Options are the choices of one `nettrain train` invocation.
type Options struct {
	// OutDir is the run directory; "" means runs/<config name>.
	OutDir string
	// Resume continues from this checkpoint (weights, optimizer state,
	// position in the data, RNG state).
	Resume string
	// Overwrite starts afresh in an existing run directory; the old run is
	// set aside until the new one has its first last.safetensors.
	Overwrite bool
	// Log receives one plain line per epoch (and notes); nil discards.
	Log io.Writer
	// Progress, when not nil, shows a progress bar there (a terminal).
	Progress io.Writer
	// Threads overrides training.threads when > 0.
	Threads int
	// Interrupt delivers SIGINT/SIGTERM: training finishes the current
	// step, saves last.safetensors and returns an *InterruptedError. A
	// signal before training starts stops the run before anything in the
	// run directory changes (at once while the data loads; after the
	// checkpoint's checks), with an *InterruptedError without a
	// checkpoint. A signal after the run's last step (during its final
	// evaluation) changes nothing: the run is complete (see README,
	// Reliability).
	Interrupt <-chan os.Signal
	// BeginTraining, when not nil, is called once, just before the run
	// changes its directory: false means a signal came (it is on
	// Interrupt), and the run stops without writing anything; after true,
	// a signal stops the run after a step, with a checkpoint. It lets
	// whoever catches the signals say which of the two a signal does.
	BeginTraining func() bool
	// StepDelay, when > 0, pauses after every step: a short run slowed
	// down to be watched (the board's browser test, demos).
	StepDelay time.Duration
	// TensorBoard, when not "", writes TensorBoard event files into this
	// directory (training.tensorboard: the run directory).
	TensorBoard string
	// AcceptImageDecoding resumes a checkpoint trained before nettrain's
	// image decoding changed (train.Data.ImageDecodingChanged) on the
	// images as they decode now, with a note, instead of refusing it: the
	// run is then not the one an uninterrupted run would have been.
	AcceptImageDecoding bool
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
	// Stop is why early stopping ended the run ("" when it did not).
	Stop string
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
	// tb writes TensorBoard event files (nil: off).
	tb *tfevents.Writer
	// curvesErr is why the last drawing of the curves failed (nil: it
	// did not, or there was none): the summary says so.
	curvesErr error
	// epochStart is when this process entered the current epoch, and
	// epochSamples the samples its stats held then.
	epochStart   time.Time
	epochSamples int
	// aside is the old run --overwrite set aside until this run's first
	// last.safetensors (nil: none, or dropped).
	aside *aside
	// reading is how data.train was read: as the checkpoint a resume
	// continues read it (train.ReadingOf), else as the data says.
	reading train.Reading
}

var _ train.Hooks[float32] = (*session[float32])(nil)

func run[T backprop.Float](cfg *model.Config, o Options) (_ *Result, err error) {
	s := &session[T]{cfg: cfg, o: o, log: o.Log, res: &Result{}}
	if s.log == nil {
		s.log = io.Discard
	}
	if s.m, s.reading, err = loadData[T](cfg, o.Resume, o.Interrupt); err != nil {
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
	if e := cfg.Training.EvalEverySteps; e != nil {
		s.loop.EvalEvery = int64(*e)
	}
	if es := cfg.Training.EarlyStopping; es != nil {
		if lenOf(d.Val) == 0 {
			return nil, cfg.KeyError("training.early_stopping", "monitors the validation data, and there is none: set data.validation or data.validation_split > 0, or remove early_stopping")
		}
		if es.Monitor == model.MonitorValAccuracy && d.Classes == 0 {
			return nil, cfg.KeyError("training.early_stopping.monitor", "is val_accuracy, but the targets are not classes (a regression has no accuracy): monitor val_loss")
		}
	}
	s.dir = o.RunDir(cfg)
	s.res.RunDir = s.dir
	s.st = checkpoint.State{BestValLoss: math.Inf(1), LRScale: 1}
	// One run at a time in a directory; the lock comes first, so that no
	// other run changes the files while this one checks and uses them.
	lock, err := lockDir(s.dir, "run directory", s.log)
	if err != nil {
		return nil, err
	}
	defer lock.unlock()
	// What a killed --overwrite left: finished or undone before the
	// directory is checked.
	if err := recoverAside(s.dir, s.log); err != nil {
		return nil, err
	}
	if o.Resume != "" {
		// Everything about the checkpoint is checked before anything in
		// the run directory changes: the metrics too when the run goes on
		// in the checkpoint's directory (another directory starts its own
		// metrics, or holds another run, which prepareDir refuses or
		// clears).
		if err := s.restore(o.Resume, true); err != nil {
			return nil, err
		}
		if sameDir(s.dir, filepath.Dir(o.Resume)) {
			if err := checkMetrics(s.dir, o.Resume, s.st); err != nil {
				return nil, err
			}
		}
	}
	// A directory of other files is no run directory: refused before
	// anything but the lock (removed again) is written into it, after the
	// checkpoint's checks (a resume in the checkpoint's directory).
	if err := checkRunDir(s.dir, o); err != nil {
		return nil, err
	}
	// A --tensorboard directory of its own is opened before the run
	// directory is touched: one that cannot be written leaves the run
	// directory as it was (not a run without a checkpoint, not an
	// --overwrite that set the old run aside for nothing).
	tbDir := o.TensorBoard
	if tbDir == "" && cfg.Training.TensorBoard {
		tbDir = s.dir
	}
	openTB := func() error {
		if tbDir == "" || s.tb != nil {
			return nil
		}
		if s.tb, err = tfevents.Create(tbDir, time.Now()); err != nil {
			if o.TensorBoard != "" {
				return fmt.Errorf("--tensorboard %s: %w", tbDir, err)
			}
			return err
		}
		return nil
	}
	inRunDir := sameDir(tbDir, s.dir)
	if a, err1 := os.Stat(tbDir); err1 == nil {
		if b, err2 := os.Stat(s.dir); err2 == nil && os.SameFile(a, b) {
			inRunDir = true // the run directory by another path or a link
		}
	}
	if !inRunDir {
		if err := openTB(); err != nil {
			return nil, err
		}
	}
	defer func() {
		if s.tb != nil {
			s.tb.CloseOrRemove()
		}
	}()
	// A signal that came while the data loaded or the checkpoint was
	// checked stops the run here, before anything changes.
	if sig := s.signalBeforeStart(); sig != nil {
		return nil, &InterruptedError{Signal: sig, Step: s.st.Step}
	}
	if s.aside, err = prepareDir(s.dir, o); err != nil {
		return nil, err
	}
	// --overwrite's old run goes once this run has its first
	// last.safetensors (save) or ends well; a failure before that puts it
	// back, after this run's files are closed.
	defer func() {
		if s.aside == nil {
			return
		}
		if err == nil {
			s.aside.drop(s.log)
			s.aside = nil
			return
		}
		if s.metrics != nil {
			s.metrics.close()
		}
		if s.tb != nil {
			s.tb.CloseOrRemove()
			s.tb = nil
		}
		err = s.aside.failed(err)
	}()
	if err := s.openRun(openTB); err != nil {
		return nil, err
	}
	defer s.metrics.close()
	if o.Resume != "" {
		if s.st.Epoch >= s.loop.Epochs { // every epoch done: there is no epoch st.Epoch+1
			fmt.Fprintf(s.log, "resuming %s, which ended after epoch %d, step %d\n", o.Resume, s.st.Epoch, s.st.Step)
		} else {
			fmt.Fprintf(s.log, "resuming %s at epoch %d, step %d\n", o.Resume, s.st.Epoch+1, s.st.Step)
		}
	}
	if w := train.ThreadsWarning(pool.Threads(), parallel.Cores()); w != "" {
		fmt.Fprintln(s.log, w)
	}
	fmt.Fprintf(s.log, "training %s: %d training samples, %d validation, %d parameters, %s, run directory %s\n",
		cfg.Describe(), d.Train.Len(), lenOf(d.Val), s.net.NumParams(), plural(pool.Threads(), "thread"), s.dir)
	if lim := s.loop.MaxSteps; lim > 0 && s.loop.Pos.Step >= lim {
		fmt.Fprintf(s.log, "the run already made %d steps (training.steps is %d): nothing to do\n", s.loop.Pos.Step, lim)
	} else if es, rec := cfg.Training.EarlyStopping, s.st.EarlyStop; es != nil && rec != nil && rec.Bad >= es.Patience {
		fmt.Fprintf(s.log, "early stopping ended the run: %s did not improve for %s (patience %d): nothing to do; raise training.early_stopping.patience to train on\n",
			es.Monitor, plural(rec.Bad, "evaluation"), es.Patience)
		s.loop.Halted = true
	} else if s.loop.Pos.Epoch >= s.loop.Epochs {
		fmt.Fprintf(s.log, "the run already finished its %s (training.epochs is %d): nothing to do; raise training.epochs to train on\n", plural(s.loop.Pos.Epoch, "epoch"), s.loop.Epochs)
	}
	err = s.loop.Run()
	s.res.Stopped = s.loop.Stopped
	if sig := s.interrupted(); sig != nil && err == nil {
		// The signal came after the last step (during the final
		// evaluation, or as the run stopped): nothing was left to skip.
		fmt.Fprintf(s.log, "note: %s came after the run's last step: the run is complete, and ends as it would have\n", SignalName(sig))
	}
	s.writeStatus(err)
	if err == nil && len(s.metrics.all) > 0 {
		s.printSummary(s.log)
	}
	return s.res, err
}

// loadData loads the config's data and graph (train.LoadWithData); for a
// resume, data.train is read as the checkpoint's training read it
// (train.ReadingOf: what the config leaves to the data, such as
// data.csv.header and classes), which it returns. The checkpoint is read
// for that before the run directory's lock; restore reads it again under
// the lock and checks that it still says the same. A signal on interrupt
// stops the wait at once: the loading's result is discarded, and the
// error is an *InterruptedError without a checkpoint.
func loadData[T backprop.Float](cfg *model.Config, resume string, interrupt <-chan os.Signal) (*train.Model[T], train.Reading, error) {
	load := func() (*train.Model[T], train.Reading, error) {
		var as train.Reading
		if resume != "" {
			// A checkpoint that cannot be read is restore's error, after
			// the data's.
			limit, what := train.MemoryLimit(cfg)
			if _, rs, err := checkpoint.ReadLimit(resume, limit, what); err == nil {
				as = train.ReadingOf(rs)
			}
		}
		if err := cfg.RequireData("to train"); err != nil {
			return nil, as, err
		}
		m, err := train.LoadAs[T](cfg, as)
		return m, as, err
	}
	if interrupt == nil {
		return load()
	}
	type loaded struct {
		m     *train.Model[T]
		as    train.Reading
		err   error
		panic any
	}
	done := make(chan loaded, 1)
	go func() {
		var l loaded
		defer func() {
			if r := recover(); r != nil {
				l.panic = r
			}
			done <- l
		}()
		l.m, l.as, l.err = load()
	}()
	select {
	case l := <-done:
		if l.panic != nil {
			panic(l.panic) // where the command's recover reports it
		}
		return l.m, l.as, l.err
	case sig := <-interrupt:
		return nil, train.Reading{}, &InterruptedError{Signal: sig}
	}
}

// signalBeforeStart is the signal that stops the run before it changes its
// directory (nil: train). With BeginTraining, its answer decides, so that
// a signal after it is taken by the training loop, as its catcher said.
func (s *session[T]) signalBeforeStart() os.Signal {
	if s.o.BeginTraining != nil && s.o.BeginTraining() {
		return nil
	}
	if sig := s.interrupted(); sig != nil || s.o.BeginTraining == nil {
		return sig
	}
	return os.Interrupt // BeginTraining said a signal came, and none is on Interrupt
}

// openRun opens the run's files in its directory, which prepareDir made,
// and writes config.yaml. Everything that can fail comes before what
// cannot be undone: the metrics files are opened (commit, which drops the
// rows a resume does not keep, comes last), the TensorBoard event file is
// created, config.yaml is written (atomically) and only then status.json
// removed (a failure there puts the old config.yaml back). Until then a
// failure leaves the directory as it was: the files it created are
// removed, and a resume in the checkpoint's directory keeps the status
// and config of the run it would have continued. A new run writes its
// first last.safetensors here; a new directory (a new run, or a resume
// into another --out) that fails before that is emptied of what it
// wrote. Of a resume in its own directory, a later failure (the metrics
// cannot be truncated) is recorded in status.json as failed.
func (s *session[T]) openRun(openTB func() error) (err error) {
	ownDir := s.o.Resume != "" && sameDir(s.dir, filepath.Dir(s.o.Resume))
	var undo []func()
	removed := false // status.json is gone: the directory changed
	defer func() {
		if err == nil {
			return
		}
		if removed && ownDir {
			s.writeStatus(err)
			s.metrics.close()
			return
		}
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}()
	if s.metrics, err = openMetrics(s.dir, s.st.MetricsRows); err != nil {
		return err
	}
	undo = append(undo, s.metrics.discard)
	if err := openTB(); err != nil { // in the run directory, after prepareDir
		return err
	}
	// (The event file, with no scalars in it, goes with run's CloseOrRemove.)
	cfgPath := filepath.Join(s.dir, "config.yaml")
	// The config.yaml to put back (4 times a config's limit: a resolved
	// config inlines nothing that large).
	old, oldErr := safeio.ReadFile(cfgPath, 4*model.MaxConfigSize, "the config size limit")
	if oldErr != nil && !errors.Is(oldErr, fs.ErrNotExist) {
		return oldErr
	}
	if err := safeio.WriteFile(cfgPath, s.cfg.Resolved); err != nil {
		return err
	}
	undo = append(undo, func() {
		if oldErr != nil {
			os.Remove(cfgPath)
		} else if err := safeio.WriteFile(cfgPath, old); err != nil {
			fmt.Fprintf(s.log, "note: could not put back the run's config.yaml: %v\n", err)
		}
	})
	// How an earlier process ended no longer holds: this one writes its
	// own status.json when it ends (a killed run leaves none).
	if err := os.Remove(filepath.Join(s.dir, StatusFile)); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("cannot clear run directory: %w", err)
	}
	removed = true
	if err := s.metrics.commit(); err != nil {
		return err
	}
	s.start = time.Now().Add(-time.Duration(s.st.ElapsedS * float64(time.Second)))
	if s.o.Resume == "" {
		// A first last.safetensors: the last good state rollback and
		// interruption can always fall back to.
		if err := s.save("last.safetensors", 0); err != nil {
			return err
		}
	}
	return nil
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

// isDir tells whether path is a directory.
func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

// restore loads a checkpoint's weights, optimizer state, position and RNG
// state into the session, after checking that this config and its data
// can continue from it (checkState) and that its model is the config's
// (train.CheckTrainedModel). resume says that it is the checkpoint a
// resume continues, whose reading of the data loadData followed (a
// rollback restores the run's own).
func (s *session[T]) restore(path string, resume bool) error {
	limit, what := train.MemoryLimit(s.cfg)
	f, rs, err := checkpoint.ReadLimit(path, limit, what)
	if err != nil {
		if _, serr := os.Stat(path); errors.Is(serr, fs.ErrNotExist) {
			if sub := filepath.Join(filepath.Dir(path), asideName); isDir(sub) {
				return fmt.Errorf("%w; an interrupted --overwrite set the run of %s aside in %s: run nettrain train with --out %s to put it back first",
					err, filepath.Dir(path), sub, filepath.Dir(path))
			}
		}
		return err
	}
	if resume && !train.ReadingOf(rs).Equal(s.reading) {
		return fmt.Errorf("%s changed while the training data was read as it says its run read it; run the command again", path)
	}
	if err := s.checkState(path, rs); err != nil {
		return err
	}
	if err := checkpoint.LoadWeights(f, s.net, s.m.LayerName); err != nil {
		return err
	}
	// After the shapes, which name the tensor that differs; resume_sections
	// compare hashes, this names the layer (and refuses a checkpoint whose
	// stored config does not read).
	if err := train.CheckTrainedModel(s.cfg, s.m.Graph, path, rs); err != nil {
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
	if err := checkpoint.Save(filepath.Join(s.dir, name), s.net, s.opt, *st); err != nil {
		return err
	}
	if name == "last.safetensors" && s.aside != nil {
		// The point of no return: the new run can be resumed.
		s.aside.drop(s.log)
		s.aside = nil
	}
	return nil
}

// writeRow appends a row to the metrics files and redraws the curves.
func (s *session[T]) writeRow(row Row) error {
	if err := s.metrics.write(row); err != nil {
		return err
	}
	s.res.Rows = append(s.res.Rows, row)
	if s.tb != nil {
		if err := s.tbRow(row); err != nil {
			return err
		}
	}
	ax := curveAxis{bySteps: s.cfg.Training.Steps != nil, batches: s.loop.Batches()}
	// The curves are a view of the metrics: training goes on without
	// them, and every evaluation tries again (noted when that changes).
	err := writeCurves(s.dir, s.metrics.all, ax)
	switch {
	case err != nil && s.curvesErr == nil:
		fmt.Fprintf(s.log, "note: %v; training goes on, and curves.png and curves.svg are not up to date until a later evaluation can draw them\n", err)
	case err == nil && s.curvesErr != nil:
		fmt.Fprintln(s.log, "note: curves.png and curves.svg are drawn again")
	}
	s.curvesErr = err
	return nil
}

// tbRow writes a metrics row's values as TensorBoard scalars (the tags
// name metrics.csv's columns: epoch/train_loss, val/loss, ...) and flushes
// the event file.
func (s *session[T]) tbRow(r Row) error {
	vals := []tfevents.Scalar{{Tag: "epoch/train_loss", Value: r.TrainLoss}, {Tag: "epoch/lr", Value: r.LR},
		{Tag: "epoch/grad_norm", Value: r.GradNorm}, {Tag: "epoch/epoch", Value: float64(r.Epoch)}}
	for _, v := range []struct {
		tag string
		v   *float64
	}{{"val/loss", r.ValLoss}, {"val/accuracy", r.ValAccuracy}, {"val/mae", r.ValMAE}} {
		if v.v != nil {
			vals = append(vals, tfevents.Scalar{Tag: v.tag, Value: *v.v})
		}
	}
	if err := s.tb.Scalars(r.Step, time.Now(), vals...); err != nil {
		return err
	}
	return s.tb.Flush()
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
	s.epochStart, s.epochSamples = time.Now(), l.Pos.Stats.Samples
	if s.o.Progress != nil {
		s.newBar(l, 0)
	}
	return nil
}

// newBar shows the current epoch's progress bar, at the batches done but
// the last pending of them, which Stepped is still to add (a bar made
// after a measurement, which comes before Stepped).
func (s *session[T]) newBar(l *train.Loop[T], pending int) {
	n, bs := s.m.Data.Train.Len(), s.cfg.Training.BatchSize
	s.bar = newBar(s.o.Progress, int64(n), fmt.Sprintf("epoch %d/%d", l.Pos.Epoch+1, l.Epochs))
	s.bar.Set64(int64(min(max(0, l.Pos.BatchInEpoch-pending)*bs, n)))
}

// finishBar ends the current progress bar's line: full at an epoch's end,
// where it stands inside one (a measurement's row, a stop, a rollback).
func (s *session[T]) finishBar() {
	if s.bar != nil {
		if s.loop != nil && s.loop.Pos.BatchInEpoch == 0 {
			s.bar.Finish()
		} else {
			s.bar.Exit()
		}
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
		if err := s.restore(s.lastCheckpoint(), false); err != nil {
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
	if s.o.StepDelay > 0 {
		time.Sleep(s.o.StepDelay)
	}
	if s.tb != nil {
		if err := s.tb.Scalars(pos.Step, time.Now(), tfevents.Scalar{Tag: "train/loss", Value: st.Loss},
			tfevents.Scalar{Tag: "train/lr", Value: s.opt.LR()}, tfevents.Scalar{Tag: "train/grad_norm", Value: st.GradNorm}); err != nil {
			return err
		}
	}
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
	// At an epoch's end, EpochEnd takes the signal; after the run's last
	// step (training.steps), none is taken: the run is complete once its
	// final evaluation is written.
	if last := l.MaxSteps > 0 && pos.Step >= l.MaxSteps; inEpoch && !last {
		if sig := s.interrupted(); sig != nil {
			return s.interruption(sig, true)
		}
	}
	return nil
}

// Measure writes the row of an evaluation inside an epoch
// (training.eval_every_steps), saves best.safetensors when the validation
// loss improved, and applies early stopping.
func (s *session[T]) Measure(l *train.Loop[T], val *train.EvalResult) error {
	pos, st := l.Pos, &s.st
	row := s.row(l, pos.Epoch, pos.Stats, s.epochSamples, time.Since(s.epochStart), val)
	improved, prevBest := val != nil && val.Loss < st.BestValLoss, st.BestValLoss
	if improved {
		st.BestValLoss = val.Loss
	}
	row.Stop = s.earlyStop(l, val)
	if err := s.writeRow(row); err != nil {
		return err
	}
	s.printRow(row)
	if improved {
		if err := s.save("best.safetensors", s.metrics.rows); err != nil {
			st.BestValLoss = prevBest // status.json names the best that was saved
			return err
		}
	}
	return nil
}

// row is the metrics row of a measurement at the loop's position, in the
// 0-based epoch, whose stats count samplesBefore samples of an earlier
// process (resume) and took d in this one.
func (s *session[T]) row(l *train.Loop[T], epoch int, stats train.EpochStats, samplesBefore int, d time.Duration, val *train.EvalResult) Row {
	row := Row{Epoch: epoch + 1, Step: l.Pos.Step, TrainLoss: stats.Loss(), LR: s.opt.LR(), GradNorm: stats.GradNorm(),
		SamplesPerS: float64(stats.Samples-samplesBefore) / d.Seconds(), ElapsedS: time.Since(s.start).Seconds()}
	if val != nil {
		row.ValLoss, row.ValAccuracy, row.ValMAE = &val.Loss, val.Accuracy, val.MAE
	}
	return row
}

// printRow logs a row, ending the progress bar's line first.
func (s *session[T]) printRow(r Row) {
	s.finishBar()
	fmt.Fprintln(s.log, r.Line())
	if r.Stop != "" {
		fmt.Fprintln(s.log, "stopped: "+r.Stop)
	}
	if s.o.Progress != nil && s.loop.Pos.BatchInEpoch > 0 && !s.loop.Halted && !s.loop.Stopped {
		s.newBar(s.loop, 1) // for the rest of the epoch; Stepped adds this batch
	}
}

// earlyStop applies training.early_stopping to an evaluation: it records
// whether the monitored value improved by more than min_delta and halts
// the loop after patience evaluations without, returning the reason ("" to
// go on).
func (s *session[T]) earlyStop(l *train.Loop[T], val *train.EvalResult) string {
	es := s.cfg.Training.EarlyStopping
	if es == nil || val == nil {
		return ""
	}
	v := val.Loss
	if es.Monitor == model.MonitorValAccuracy {
		if val.Accuracy == nil {
			return ""
		}
		v = *val.Accuracy
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		v = math.Inf(1) // never an improvement
		if es.Mode == model.ModeMax {
			v = math.Inf(-1)
		}
	}
	rec := s.st.EarlyStop
	better := rec == nil
	if rec != nil {
		if es.Mode == model.ModeMax {
			better = v > rec.Best+es.MinDelta
		} else {
			better = v < rec.Best-es.MinDelta
		}
	}
	switch {
	case better && !math.IsInf(v, 0):
		s.st.EarlyStop = &checkpoint.EarlyStop{Best: v, BestStep: l.Pos.Step}
	case rec != nil:
		rec.Bad++
	}
	if rec = s.st.EarlyStop; rec == nil || rec.Bad < es.Patience {
		return ""
	}
	l.Halted = true
	// rec.Best is the value of the last improvement by more than
	// min_delta (as Keras's EarlyStopping keeps it), not the best value:
	// a smaller gain since then leaves it, so say which it is.
	return fmt.Sprintf("early stopping: %s did not improve on %.6g (step %d) by more than %g for %s",
		es.Monitor, rec.Best, rec.BestStep, es.MinDelta, plural(rec.Bad, "evaluation"))
}

// EpochEnd writes the epoch's metrics row and the checkpoints: best when
// the score improved, last every checkpoint.every_epochs epochs, at the
// end, and when training.steps stopped the run inside an epoch.
func (s *session[T]) EpochEnd(l *train.Loop[T], e train.EpochEnd) error {
	s.finishBar()
	pos, st := l.Pos, &s.st
	if e.AtMeasure {
		// The run ends at a measurement inside the epoch (early stopping,
		// training.steps), whose row Measure wrote and a resume keeps.
		if l.Halted {
			s.res.Stop = s.res.Rows[len(s.res.Rows)-1].Stop
		}
		if e.Epoch == 0 && math.IsInf(st.BestValLoss, 1) {
			// No validation data: as at the end of a cut first epoch.
			if err := s.save("best.safetensors", s.metrics.rows); err != nil {
				return err
			}
		}
		// The run ends here, complete: a signal changes nothing.
		return s.save("last.safetensors", s.metrics.rows)
	}
	row := s.row(l, e.Epoch, e.Stats, e.SamplesBefore, e.TrainTime, e.Val)
	improved, prevBest := false, st.BestValLoss
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
	if e.Complete {
		row.Stop = s.earlyStop(l, e.Val)
		s.res.Stop = row.Stop
	}
	if err := s.writeRow(row); err != nil {
		return err
	}
	s.printRow(row)
	keep := s.metrics.rows
	if !e.Complete {
		keep-- // a resumed run redoes this epoch's row
	}
	if improved {
		if err := s.save("best.safetensors", keep); err != nil {
			st.BestValLoss = prevBest // status.json names the best that was saved
			return err
		}
	}
	// A signal that came during the epoch's last batch is taken here,
	// unless the run ends here anyway (its last epoch, training.steps, an
	// early stop): then it is complete, and recorded so.
	var sig os.Signal
	if pos.Epoch < l.Epochs && !l.Stopped && !l.Halted {
		sig = s.interrupted()
	}
	// last.safetensors: every checkpoint.every_epochs epochs, and whenever
	// the run ends here (its last epoch, training.steps, a signal), so that
	// a resume continues from exactly here.
	if pos.Epoch%s.cfg.Checkpoint.EveryEpochs == 0 || pos.Epoch == l.Epochs || !e.Complete || l.Stopped || l.Halted || sig != nil {
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
