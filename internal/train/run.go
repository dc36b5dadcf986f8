package train

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/optim"
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
}

// Result is what a finished run reports.
type Result struct {
	RunDir string
	Rows   []Row
	// Stopped is true when training stopped early (training.steps).
	Stopped bool
}

// RunDir is the run directory for cfg under o.
func (o Options) RunDir(cfg *model.Config) string {
	if o.OutDir != "" {
		return o.OutDir
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
// unless asked to.
func prepareDir(dir string, o Options) error {
	if o.Resume == "" {
		for _, f := range runFiles {
			if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
				if !o.Overwrite {
					return fmt.Errorf("run directory %s already holds a run (%s); pass --resume %s to continue it, --overwrite to start over, or --out DIR for a new directory",
						dir, f, filepath.Join(dir, "last.safetensors"))
				}
				for _, g := range runFiles {
					if err := os.Remove(filepath.Join(dir, g)); err != nil && !os.IsNotExist(err) {
						return fmt.Errorf("cannot clear run directory: %w", err)
					}
				}
				break
			}
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create run directory: %w", err)
	}
	return nil
}

func run[T backprop.Float](cfg *model.Config, o Options) (*Result, error) {
	logw := o.Log
	if logw == nil {
		logw = io.Discard
	}
	ds, err := LoadData[T](cfg)
	if err != nil {
		return nil, err
	}
	bs := cfg.Training.BatchSize
	net, err := InitNetwork[T](cfg, bs)
	if err != nil {
		return nil, err
	}
	opt := optim.New[T](cfg.Optimizer.Optim, net.NumParams())
	pool := NewPool(Threads(cfg, o.Threads))
	defer pool.Close()
	ctx := pool.Ctx()
	tr := NewTrainer(cfg, net, opt, ctx, ds.Train, ds.Classes)

	dir := o.RunDir(cfg)
	if err := prepareDir(dir, o); err != nil {
		return nil, err
	}
	st := State{BestValLoss: math.Inf(1)}
	if o.Resume != "" {
		f, rs, err := ReadCheckpoint(o.Resume)
		if err != nil {
			return nil, err
		}
		if err := LoadWeights(f, net, layerNamer(cfg)); err != nil {
			return nil, err
		}
		if err := LoadOptimizer(f, rs, net, opt, cfg.Optimizer.Name); err != nil {
			return nil, err
		}
		if err := tr.SetDropoutState(rs.RNG); err != nil {
			return nil, fmt.Errorf("%s: bad RNG state: %v", o.Resume, err)
		}
		st = rs
		fmt.Fprintf(logw, "resuming %s at epoch %d, step %d\n", o.Resume, st.Epoch+1, st.Step)
	}
	if err := writeFileAtomic(filepath.Join(dir, "config.yaml"), cfg.Resolved); err != nil {
		return nil, err
	}
	mlog, err := openMetrics(dir, st.MetricsRows)
	if err != nil {
		return nil, err
	}
	defer mlog.close()

	res := &Result{RunDir: dir}
	n := ds.Train.Len()
	nb := (n + bs - 1) / bs
	sched := NewScheduler(cfg, nb)
	if err := sched.Restore(st.Sched); err != nil {
		return nil, fmt.Errorf("%s: %v", o.Resume, err)
	}
	start := time.Now().Add(-time.Duration(st.ElapsedS * float64(time.Second)))
	// save writes a checkpoint; keepRows is the number of metrics rows a
	// resume from it keeps (a partial epoch's row is dropped and redone).
	save := func(name string, es *EpochStats, keepRows int) error {
		st.MetricsRows = keepRows
		st.RNG = tr.DropoutState()
		st.ConfigHash, st.ModelHash = cfg.Hash(), cfg.ModelHash()
		st.Optimizer = cfg.Optimizer.Name
		st.Config = string(cfg.Resolved)
		st.EpochLossSum, st.EpochSamples, st.EpochNormSum, st.EpochSteps = 0, 0, 0, 0
		if st.BatchInEpoch > 0 {
			st.EpochLossSum, st.EpochSamples, st.EpochNormSum, st.EpochSteps = es.LossSum, es.Samples, es.NormSum, es.Steps
		}
		st.ElapsedS = time.Since(start).Seconds()
		st.Sched = sched.State()
		return SaveCheckpoint(filepath.Join(dir, name), net, opt, st)
	}
	fmt.Fprintf(logw, "training %s: %d training samples, %d validation, %d parameters, %d threads, run directory %s\n",
		cfg.Describe(), n, lenOf(ds.Val), net.NumParams(), pool.Threads(), dir)
	for st.Epoch < cfg.Training.Epochs && !res.Stopped {
		epoch := st.Epoch
		perm := Permutation(n, cfg.Seed, epoch, cfg.Training.Shuffle)
		es := EpochStats{Start: time.Now()}
		if st.BatchInEpoch > 0 {
			es.LossSum, es.Samples, es.NormSum, es.Steps = st.EpochLossSum, st.EpochSamples, st.EpochNormSum, st.EpochSteps
		}
		doneBefore := es.Samples
		if !sched.PerStep() {
			opt.SetLR(sched.LR(epoch))
		}
		var bar *progressbar.ProgressBar
		if o.Progress != nil {
			bar = newBar(o.Progress, int64(n), fmt.Sprintf("epoch %d/%d", epoch+1, cfg.Training.Epochs))
			bar.Set64(int64(min(st.BatchInEpoch*bs, n)))
		}
		for b := st.BatchInEpoch; b < nb; b++ {
			pos := perm[b*bs : min((b+1)*bs, n)]
			if sched.PerStep() {
				opt.SetLR(sched.LR(int(st.Step)))
			}
			loss, norm := tr.Step(pos)
			es.add(loss, norm, len(pos))
			st.Step++
			st.BatchInEpoch = b + 1
			if bar != nil {
				bar.Describe(fmt.Sprintf("epoch %d/%d loss %.4f", epoch+1, cfg.Training.Epochs, es.Loss()))
				bar.Add(len(pos))
			}
			if s := cfg.Training.Steps; s != nil && st.Step >= int64(*s) {
				res.Stopped = true
				break
			}
		}
		es.TrainTime = time.Since(es.Start)
		if bar != nil {
			bar.Finish()
			fmt.Fprintln(o.Progress)
		}
		complete := st.BatchInEpoch == nb
		if complete {
			st.Epoch++
			st.BatchInEpoch = 0
		}
		row := Row{Epoch: epoch + 1, Step: st.Step, TrainLoss: es.Loss(), LR: opt.LR(),
			GradNorm:    es.NormSum / math.Max(1, float64(es.Steps)),
			SamplesPerS: float64(es.Samples-doneBefore) / es.TrainTime.Seconds(), ElapsedS: time.Since(start).Seconds()}
		score := es.Loss() // without a validation set, "best" is by training loss
		if ds.Val != nil && ds.Val.Len() > 0 {
			ev := Evaluate(ctx, net, ds.Val, ds.Classes)
			row.ValLoss, row.ValAccuracy, row.ValMAE = &ev.Loss, ev.Accuracy, ev.MAE
			score = ev.Loss
		}
		improved := false
		if complete {
			if improved = score < st.BestValLoss; improved {
				st.BestValLoss = score
			}
			sched.Observe(score)
		} else if _, err := os.Stat(filepath.Join(dir, "best.safetensors")); err != nil {
			// Stopped inside the first epoch: these weights are the best so
			// far, but the record stays with whole epochs so that a resumed
			// run decides "best" exactly as an uninterrupted one.
			improved = true
		}
		if err := mlog.write(row); err != nil {
			return nil, err
		}
		res.Rows = append(res.Rows, row)
		fmt.Fprintln(logw, row.Line())
		keep := mlog.rows
		if !complete {
			keep-- // a resumed run redoes this epoch's row
		}
		if improved {
			if err := save("best.safetensors", &es, keep); err != nil {
				return nil, err
			}
		}
		if st.Epoch%cfg.Checkpoint.EveryEpochs == 0 || st.Epoch == cfg.Training.Epochs || !complete {
			if err := save("last.safetensors", &es, keep); err != nil {
				return nil, err
			}
		}
	}
	return res, nil
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

// writeFileAtomic writes b to path through a temporary file and a rename.
func writeFileAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	return nil
}
