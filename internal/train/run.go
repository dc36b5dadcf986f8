package train

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/optim"
	"github.com/nettrain/nettrain/internal/safetensors"
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

// RunDir is the run directory for cfg under o: --out, else the resumed
// checkpoint's directory, else runs/<name>.
func (o Options) RunDir(cfg *model.Config) string {
	switch {
	case o.OutDir != "":
		return o.OutDir
	case o.Resume != "":
		return filepath.Dir(o.Resume)
	}
	return filepath.Join("runs", cfg.Name)
}

// Threads is the number of threads a run uses.
func Threads(cfg *model.Config, override int) int {
	if override > 0 {
		return override
	}
	if t := cfg.Training.Threads; t != nil {
		return *t
	}
	return runtime.NumCPU()
}

// Run trains the network a config describes, writing the run directory.
func Run(cfg *model.Config, o Options) (*Result, error) {
	if cfg.DType == "float64" {
		return run[float64](cfg, o)
	}
	return run[float32](cfg, o)
}

// runFiles are the files a run writes into its directory.
var runFiles = []string{"config.yaml", "metrics.csv", "metrics.jsonl", "last.safetensors", "best.safetensors"}

// prepareDir creates the run directory, refusing to clobber an earlier run
// unless asked to, and removes what an interrupted write left behind.
func prepareDir(dir string, o Options) error {
	sameRun := o.Resume != "" && sameDir(dir, filepath.Dir(o.Resume))
	if !sameRun {
		for _, f := range runFiles {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				continue
			}
			if !o.Overwrite {
				if o.Resume != "" {
					return fmt.Errorf("run directory %s already holds another run (%s); resume into the checkpoint's own directory (leave out --out), choose an empty --out, or pass --overwrite", dir, f)
				}
				return fmt.Errorf("run directory %s already holds a run (%s); pass --resume %s to continue it, --overwrite to start over, or --out DIR for a new directory",
					dir, f, filepath.Join(dir, "last.safetensors"))
			}
			old, _ := filepath.Glob(filepath.Join(dir, "step-*.safetensors"))
			for _, g := range append(old, runFileList(dir)...) {
				if err := os.Remove(g); err != nil && !os.IsNotExist(err) {
					return fmt.Errorf("cannot clear run directory: %w", err)
				}
			}
			break
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create run directory: %w", err)
	}
	// Temporary files of writes a killed process never finished.
	stale, _ := filepath.Glob(filepath.Join(dir, ".*.tmp*"))
	more, _ := filepath.Glob(filepath.Join(dir, ".tmp-*"))
	for _, f := range append(stale, more...) {
		os.Remove(f)
	}
	return nil
}

func runFileList(dir string) []string {
	var l []string
	for _, f := range runFiles {
		l = append(l, filepath.Join(dir, f))
	}
	return l
}

func sameDir(a, b string) bool {
	x, err1 := filepath.Abs(a)
	y, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && x == y
}

// InterruptedError reports a run stopped by a signal after saving a
// checkpoint.
type InterruptedError struct {
	Signal     os.Signal
	Checkpoint string
	Hint       string // the command line that resumes, without --resume
	Step       int64
}

func (e *InterruptedError) Error() string {
	return fmt.Sprintf("interrupted by %s after step %d; saved %s; resume with: %s --resume %s",
		SignalName(e.Signal), e.Step, e.Checkpoint, e.Hint, e.Checkpoint)
}

// SignalName is "SIGINT", "SIGTERM", or the signal's own description.
func SignalName(s os.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}

// DivergedError reports a non-finite loss or gradient that stopped
// training (training.on_nan: stop, or too many rollbacks).
type DivergedError struct {
	Step  int64
	Loss  float64
	Where string
	Last  string // the last good checkpoint
	Hint  string
}

func (e *DivergedError) Error() string {
	return fmt.Sprintf("training diverged at step %d: the loss is %v; the first non-finite value is %s; the last good checkpoint is %s%s",
		e.Step, e.Loss, e.Where, e.Last, e.Hint)
}

// maxRollbacks bounds training.on_nan: rollback, and maxSkipsInARow
// training.on_nan: skip_batch.
const (
	maxRollbacks   = 8
	maxSkipsInARow = 10
)

// session is one training run in progress: its network, optimizer, data,
// position and files.
type session[T backprop.Float] struct {
	cfg   *model.Config
	o     Options
	log   io.Writer
	ds    *Data[T]
	net   *backprop.Network[T]
	opt   optim.Optimizer[T]
	tr    *Trainer[T]
	sched *optim.Scheduler
	dir   string
	st    State
	mlog  *metricsLog
	start time.Time
	es    EpochStats
	res   *Result
	nb    int
}

func run[T backprop.Float](cfg *model.Config, o Options) (*Result, error) {
	s := &session[T]{cfg: cfg, o: o, log: o.Log, res: &Result{}}
	if s.log == nil {
		s.log = io.Discard
	}
	var err error
	if s.ds, err = LoadData[T](cfg); err != nil {
		return nil, err
	}
	if err := CheckMemory[T](cfg); err != nil {
		return nil, err
	}
	bs := cfg.Training.BatchSize
	if s.net, err = InitNetwork[T](cfg, bs); err != nil {
		return nil, err
	}
	s.opt = optim.New[T](cfg.Optimizer.Optim, s.net.NumParams())
	pool := NewPool(Threads(cfg, o.Threads))
	defer pool.Close()
	s.tr = NewTrainer(cfg, s.net, s.opt, pool.Ctx(), s.ds.Train, s.ds.Classes)
	s.dir = o.RunDir(cfg)
	s.res.RunDir = s.dir
	if err := prepareDir(s.dir, o); err != nil {
		return nil, err
	}
	n := s.ds.Train.Len()
	s.nb = (n + bs - 1) / bs
	s.sched = NewScheduler(cfg, s.nb)
	s.st = State{BestValLoss: math.Inf(1), LRScale: 1}
	if o.Resume != "" {
		if err := s.restore(o.Resume); err != nil {
			return nil, err
		}
		fmt.Fprintf(s.log, "resuming %s at epoch %d, step %d\n", o.Resume, s.st.Epoch+1, s.st.Step)
	}
	if err := safetensors.WriteFile(filepath.Join(s.dir, "config.yaml"), cfg.Resolved); err != nil {
		return nil, err
	}
	if s.mlog, err = openMetrics(s.dir, s.st.MetricsRows); err != nil {
		return nil, err
	}
	defer s.mlog.close()
	s.start = time.Now().Add(-time.Duration(s.st.ElapsedS * float64(time.Second)))
	if o.Resume == "" {
		// A first last.safetensors: the last good state rollback and
		// interruption can always fall back to.
		if err := s.save("last.safetensors", 0); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(s.log, "training %s: %d training samples, %d validation, %d parameters, %s, run directory %s\n",
		cfg.Describe(), n, lenOf(s.ds.Val), s.net.NumParams(), plural(pool.Threads(), "thread"), s.dir)
	if err := s.loop(); err != nil {
		return s.res, err
	}
	return s.res, nil
}

// restore loads a checkpoint's weights, optimizer state, position and RNG
// state into the session.
func (s *session[T]) restore(path string) error {
	f, rs, err := ReadCheckpoint(path)
	if err != nil {
		return err
	}
	if err := LoadWeights(f, s.net, layerNamer(s.cfg)); err != nil {
		return err
	}
	if err := LoadOptimizer(f, rs, s.net, s.opt, s.cfg.Optimizer.Name); err != nil {
		return err
	}
	if err := s.tr.SetDropoutState(rs.RNG); err != nil {
		return fmt.Errorf("%s: bad RNG state: %v", path, err)
	}
	if err := s.sched.Restore(rs.Sched); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	if d := sectionsDiffer(rs, s.cfg.ResumeSections()); len(d) > 0 {
		return fmt.Errorf("%s was trained with a different %s than %s sets now, so resuming would not continue the same run; resume with the same config and --set options (only training.epochs, training.steps, training.threads, training.on_nan, training.memory_limit and checkpoint settings may change), or start a new run from these weights with model.init_from",
			path, strings.Join(d, ", "), s.cfg.File)
	}
	if rs.LRScale == 0 {
		rs.LRScale = 1
	}
	s.st = rs
	return nil
}

// save writes a checkpoint into the run directory. keepRows is the number
// of metrics rows a resume from it keeps (a partial epoch's row is dropped
// and redone).
func (s *session[T]) save(name string, keepRows int) error {
	st := &s.st
	st.MetricsRows = keepRows
	st.RNG = s.tr.DropoutState()
	st.ConfigHash, st.ModelHash = s.cfg.Hash(), s.cfg.ModelHash()
	st.Optimizer = s.cfg.Optimizer.Name
	st.Config = string(s.cfg.Resolved)
	st.EpochLossSum, st.EpochSamples, st.EpochNormSum, st.EpochSteps = 0, 0, 0, 0
	if st.BatchInEpoch > 0 {
		st.EpochLossSum, st.EpochSamples, st.EpochNormSum, st.EpochSteps = s.es.LossSum, s.es.Samples, s.es.NormSum, s.es.Steps
	}
	if !s.start.IsZero() {
		st.ElapsedS = time.Since(s.start).Seconds()
	}
	st.Sched = s.sched.State()
	st.Sections = s.cfg.ResumeSections()
	return SaveCheckpoint(filepath.Join(s.dir, name), s.net, s.opt, *st)
}

// hint is the command line that resumes this run.
func (s *session[T]) hint() string {
	if s.o.ResumeHint != "" {
		return s.o.ResumeHint
	}
	return "nettrain train " + s.cfg.File
}

// setLR applies the schedule (times the rollback scale) for interval i.
func (s *session[T]) setLR(i int) { s.opt.SetLR(s.sched.LR(i) * s.st.LRScale) }

// stepCheckpoint writes step-<N>.safetensors and keeps the newest
// checkpoint.keep of them.
func (s *session[T]) stepCheckpoint() error {
	name := fmt.Sprintf("step-%09d.safetensors", s.st.Step)
	if err := s.save(name, s.mlog.rows); err != nil {
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

func (s *session[T]) loop() error {
	cfg, st := s.cfg, &s.st
	n, bs := s.ds.Train.Len(), cfg.Training.BatchSize
	rollbacks, skippedInARow := 0, 0
	if lim := cfg.Training.Steps; lim != nil && st.Step >= int64(*lim) {
		fmt.Fprintf(s.log, "the run already made %d steps (training.steps is %d): nothing to do\n", st.Step, *lim)
		s.res.Stopped = true
		return nil
	}
epochs:
	for st.Epoch < cfg.Training.Epochs && !s.res.Stopped {
		epoch := st.Epoch
		perm := Permutation(n, cfg.Seed, epoch, cfg.Training.Shuffle)
		s.es = EpochStats{Start: time.Now()}
		if st.BatchInEpoch > 0 {
			s.es.LossSum, s.es.Samples, s.es.NormSum, s.es.Steps = st.EpochLossSum, st.EpochSamples, st.EpochNormSum, st.EpochSteps
		}
		doneBefore := s.es.Samples
		if !s.sched.PerStep() {
			s.setLR(epoch)
		}
		var bar *progressbar.ProgressBar
		if s.o.Progress != nil {
			bar = newBar(s.o.Progress, int64(n), fmt.Sprintf("epoch %d/%d", epoch+1, cfg.Training.Epochs))
			bar.Set64(int64(min(st.BatchInEpoch*bs, n)))
		}
		for b := st.BatchInEpoch; b < s.nb; b++ {
			pos := perm[b*bs : min((b+1)*bs, n)]
			if s.sched.PerStep() {
				s.setLR(int(st.Step))
			}
			loss, norm, ok := s.tr.Step(pos)
			if !ok {
				switch cfg.Training.OnNaN {
				case "skip_batch":
					if skippedInARow++; skippedInARow > maxSkipsInARow {
						return &DivergedError{Step: st.Step + 1, Loss: loss, Where: Diagnose(s.net, layerNamer(cfg)), Last: filepath.Join(s.dir, "last.safetensors"),
							Hint: fmt.Sprintf(" (gave up after %d batches in a row were skipped; lower optimizer.lr)", maxSkipsInARow)}
					}
					st.Skipped++
					fmt.Fprintf(s.log, "step %d: the loss or gradient is not finite (%s); batch skipped (%d so far)\n",
						st.Step+1, Diagnose(s.net, layerNamer(cfg)), st.Skipped)
				case "rollback":
					if rollbacks++; rollbacks > maxRollbacks {
						return &DivergedError{Step: st.Step + 1, Loss: loss, Where: Diagnose(s.net, layerNamer(cfg)), Last: filepath.Join(s.dir, "last.safetensors"),
							Hint: fmt.Sprintf(" (gave up after %d rollbacks, the learning rate down to x%g; lower optimizer.lr)", maxRollbacks, st.LRScale)}
					}
					where, failed := Diagnose(s.net, layerNamer(cfg)), st.Step+1
					last := filepath.Join(s.dir, "last.safetensors")
					scale := st.LRScale / 2
					if err := s.restore(last); err != nil {
						return fmt.Errorf("rollback after a non-finite loss at step %d: %w", st.Step+1, err)
					}
					st.LRScale = scale
					if err := s.mlog.truncate(st.MetricsRows); err != nil {
						return err
					}
					fmt.Fprintf(s.log, "step %d: the loss or gradient is not finite (%s); rolled back to %s (epoch %d, step %d) and halved the learning rate (x%g)\n",
						failed, where, last, st.Epoch+1, st.Step, st.LRScale)
					if bar != nil {
						bar.Finish()
						fmt.Fprintln(s.o.Progress)
					}
					continue epochs
				default:
					return &DivergedError{Step: st.Step + 1, Loss: loss, Where: Diagnose(s.net, layerNamer(cfg)), Last: filepath.Join(s.dir, "last.safetensors"),
						Hint: " (training.on_nan: skip_batch or rollback would continue)"}
				}
			} else {
				s.es.add(loss, norm, len(pos))
				skippedInARow = 0
			}
			st.Step++
			st.BatchInEpoch = b + 1
			if bar != nil {
				bar.Describe(fmt.Sprintf("epoch %d/%d loss %.4f", epoch+1, cfg.Training.Epochs, s.es.Loss()))
				bar.Add(len(pos))
			}
			if e := cfg.Checkpoint.EverySteps; e != nil && st.Step%int64(*e) == 0 && st.BatchInEpoch < s.nb {
				if err := s.stepCheckpoint(); err != nil {
					return err
				}
			}
			if sig := s.interrupted(); sig != nil && st.BatchInEpoch < s.nb {
				if err := s.save("last.safetensors", s.mlog.rows); err != nil {
					return err
				}
				return &InterruptedError{Signal: sig, Checkpoint: filepath.Join(s.dir, "last.safetensors"), Hint: s.hint(), Step: st.Step}
			}
			if lim := cfg.Training.Steps; lim != nil && st.Step >= int64(*lim) {
				s.res.Stopped = true
				break
			}
		}
		if bar != nil {
			bar.Finish()
			fmt.Fprintln(s.o.Progress)
		}
		if err := s.endEpoch(epoch, doneBefore); err != nil {
			return err
		}
		if sig := s.interrupted(); sig != nil && st.Epoch < cfg.Training.Epochs {
			return &InterruptedError{Signal: sig, Checkpoint: filepath.Join(s.dir, "last.safetensors"), Hint: s.hint(), Step: st.Step}
		}
	}
	return nil
}

// endEpoch evaluates, writes the metrics row and the checkpoints after the
// epoch's batches (all of them, or up to training.steps).
func (s *session[T]) endEpoch(epoch, doneBefore int) error {
	cfg, st := s.cfg, &s.st
	s.es.TrainTime = time.Since(s.es.Start)
	complete := st.BatchInEpoch == s.nb
	if complete {
		st.Epoch++
		st.BatchInEpoch = 0
	}
	row := Row{Epoch: epoch + 1, Step: st.Step, TrainLoss: s.es.Loss(), LR: s.opt.LR(),
		GradNorm:    s.es.NormSum / math.Max(1, float64(s.es.Steps)),
		SamplesPerS: float64(s.es.Samples-doneBefore) / s.es.TrainTime.Seconds(), ElapsedS: time.Since(s.start).Seconds()}
	score := s.es.Loss() // without a validation set, "best" is by training loss
	if s.ds.Val != nil && s.ds.Val.Len() > 0 {
		ev := Evaluate(s.tr.Ctx, s.net, s.ds.Val, s.ds.Classes)
		row.ValLoss, row.ValAccuracy, row.ValMAE = &ev.Loss, ev.Accuracy, ev.MAE
		score = ev.Loss
	}
	improved := false
	if complete {
		if improved = score < st.BestValLoss; improved {
			st.BestValLoss = score
		}
		s.sched.Observe(score)
	} else if _, err := os.Stat(filepath.Join(s.dir, "best.safetensors")); err != nil {
		// Stopped inside the first epoch: these weights are the best so
		// far, but the record stays with whole epochs so that a resumed
		// run decides "best" exactly as an uninterrupted one.
		improved = true
	}
	if err := s.mlog.write(row); err != nil {
		return err
	}
	s.res.Rows = append(s.res.Rows, row)
	fmt.Fprintln(s.log, row.Line())
	keep := s.mlog.rows
	if !complete {
		keep-- // a resumed run redoes this epoch's row
	}
	if improved {
		if err := s.save("best.safetensors", keep); err != nil {
			return err
		}
	}
	if st.Epoch%cfg.Checkpoint.EveryEpochs == 0 || st.Epoch == cfg.Training.Epochs || !complete {
		if err := s.save("last.safetensors", keep); err != nil {
			return err
		}
	}
	return nil
}

// CheckMemory refuses a model and batch whose buffers would need more than
// training.memory_limit (default: the machine's memory), for batches of
// training.batch_size.
func CheckMemory[T backprop.Float](cfg *model.Config) error {
	return checkMemory[T](cfg, cfg.Training.BatchSize)
}

func checkMemory[T backprop.Float](cfg *model.Config, maxBatch int) error {
	limit, what := machineMemory(), "the machine's memory"
	if m := cfg.Training.MemoryLimit; m != nil {
		limit, _ = model.ParseBytes(*m)
		what = "training.memory_limit " + *m
	}
	if limit <= 0 {
		return nil
	}
	g := cfg.Graph()
	size := int64(4)
	if !backprop.Is32[T]() {
		size = 8
	}
	slots := len(optim.New[T](cfg.Optimizer.Optim, 0).Slots())
	need := backprop.EstimateBytes(g.Input, g.Specs, maxBatch, size, slots)
	if need > limit || need < 0 {
		return fmt.Errorf("%s: the model with batch size %d needs about %s for its parameters, optimizer state and batch buffers, more than %s (%s); use a smaller batch or model, or raise training.memory_limit",
			cfg.File, maxBatch, humanBytes(need), what, humanBytes(limit))
	}
	return nil
}

// newNetwork builds the config's network for batches of up to maxBatch,
// after checking that it fits in memory.
func newNetwork[T backprop.Float](cfg *model.Config, maxBatch int) (*backprop.Network[T], error) {
	if err := checkMemory[T](cfg, maxBatch); err != nil {
		return nil, err
	}
	g := cfg.Graph()
	return backprop.NewNetwork[T](g.Input, g.Specs, g.Loss, maxBatch), nil
}

func humanBytes(b int64) string {
	const unit = 1024
	if b < unit {
		return fmt.Sprintf("%d B", b)
	}
	div, exp := int64(unit), 0
	for n := b / unit; n >= unit; n /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(b)/float64(div), "KMGTPE"[exp])
}

func lenOf[T backprop.Float](s Split[T]) int {
	if s == nil {
		return 0
	}
	return s.Len()
}

// Line formats a metrics row for the log.
func (r Row) Line() string {
	s := fmt.Sprintf("epoch %d  step %d  train_loss %.4f", r.Epoch, r.Step, r.TrainLoss)
	if r.ValLoss != nil {
		s += fmt.Sprintf("  val_loss %.4f", *r.ValLoss)
	}
	if r.ValAccuracy != nil {
		s += fmt.Sprintf("  val_acc %.4f", *r.ValAccuracy)
	}
	if r.ValMAE != nil {
		s += fmt.Sprintf("  val_mae %.4g", *r.ValMAE)
	}
	return s + fmt.Sprintf("  lr %.3g  grad_norm %.3g  %.0f samples/s  %.1fs", r.LR, r.GradNorm, r.SamplesPerS, r.ElapsedS)
}

func newBar(w io.Writer, total int64, desc string) *progressbar.ProgressBar {
	return progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("samples"),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetWidth(30),
		progressbar.OptionSetPredictTime(true),
	)
}

// plural is "1 thread" or "2 threads".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
