package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nettrain/nettrain/internal/compare"
	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/parallel"
	"github.com/nettrain/nettrain/internal/session"
)

// CompareOptions are the parsed arguments of `nettrain compare-optimizers`.
type CompareOptions struct {
	IO            *IOStreams
	Check         bool // --check: validate, run nothing
	Config        string
	Sets          []string
	Optimizers    []string
	LRGrid        int
	Seeds         int
	Epochs        int
	Steps         int
	Workers       int
	EvalsPerEpoch int
	Out           string
	Shard         string
	Phase         compare.Phase
	Tuned         []string
	TargetLoss    float64
	// Which of the flags that override the config were given, recorded by
	// RunE: only those replace the config's compare and training settings.
	OptimizersProvided    bool
	LRGridProvided        bool
	SeedsProvided         bool
	EpochsProvided        bool
	StepsProvided         bool
	EvalsPerEpochProvided bool
	TargetLossProvided    bool
}

// NewCmdCompare builds `nettrain compare-optimizers` and its `report`.
func NewCmdCompare(s *IOStreams, runF func(*CompareOptions) error) *cobra.Command {
	opts := &CompareOptions{IO: s}
	cmd := &cobra.Command{
		Use:   "compare-optimizers CONFIG",
		Short: "Compare optimizers fairly on your model and data",
		Long: `Compare optimizers on the config's model and data with a fair, reproducible
protocol: tune each optimizer's learning rate on a log-spaced grid (by default
7 rates over two decades either side of its default) by validation loss with
one seed, then rerun each at its chosen rate with several seeds and report
mean and spread. Every trial has the same budget, starts from the same weights
and sees the same batches for a given seed. Writes trials.csv, summary.md,
summary.json and plots (PNG, SVG) into the output directory, and resumes
from the trials already there.

Optimizers: ` + strings.Join(compare.VariantNames(), ", ") + `
(momentum and nesterov are SGD with momentum 0.9).

Scale-out: run --phase tune --shard I/N on N machines, then --phase final
--shard I/N --tuned DIR... (all tuning directories), then merge with
  nettrain compare-optimizers report DIR... --out DIR
(without --out, the report goes into the first DIR).`,
		Args: configArg,
		RunE: func(c *cobra.Command, args []string) error {
			opts.Config = args[0]
			fl := c.Flags()
			opts.OptimizersProvided = fl.Changed("optimizers")
			opts.LRGridProvided = fl.Changed("lr-grid")
			opts.SeedsProvided = fl.Changed("seeds")
			opts.EpochsProvided = fl.Changed("epochs")
			opts.StepsProvided = fl.Changed("steps")
			opts.EvalsPerEpochProvided = fl.Changed("evals-per-epoch")
			opts.TargetLossProvided = fl.Changed("target-loss")
			for _, c := range []struct {
				flag      string
				v, lo, hi int
				given     bool
			}{
				{"--lr-grid", opts.LRGrid, 1, model.MaxGridPoints, opts.LRGridProvided},
				{"--seeds", opts.Seeds, 1, model.MaxSeeds, opts.SeedsProvided},
				{"--evals-per-epoch", opts.EvalsPerEpoch, 1, model.MaxEvalsPerEpoch, opts.EvalsPerEpochProvided},
				{"--workers", opts.Workers, 1, model.MaxThreads, true},
			} {
				if c.given && (c.v < c.lo || c.v > c.hi) {
					return usageError{fmt.Errorf("%s must be between %d and %d, got %d", c.flag, c.lo, c.hi, c.v)}
				}
			}
			// --epochs below 1 is compare.Options.Validate's; above it,
			// the cap of training.epochs (the schedule's length in steps
			// must not overflow), as train and sweep refuse it.
			if opts.EpochsProvided && opts.Epochs > model.MaxEpochs {
				return usageError{fmt.Errorf("--epochs must be at most %d (the cap of training.epochs), got %d", model.MaxEpochs, opts.Epochs)}
			}
			if opts.OptimizersProvided {
				if err := checkOptimizersFlag(opts.Optimizers); err != nil {
					return err
				}
			}
			if runF != nil {
				return runF(opts)
			}
			return runCompare(opts)
		},
	}
	addSetFlag(cmd, &opts.Sets)
	f := cmd.Flags()
	f.StringSliceVar(&opts.Optimizers, "optimizers", nil, "optimizers to compare (default: compare.optimizers, else all)")
	f.IntVar(&opts.LRGrid, "lr-grid", 0, "learning rates per optimizer (default: compare.grid_points, 7)")
	f.IntVar(&opts.Seeds, "seeds", 0, "seeds of the final runs (default: compare.seeds, 3)")
	f.IntVar(&opts.Epochs, "epochs", 0, fmt.Sprintf("epochs per trial, at most %d (default: training.epochs)", model.MaxEpochs))
	f.IntVar(&opts.Steps, "steps", 0, "cap on steps per trial (default: training.steps)")
	f.IntVar(&opts.Workers, "workers", parallel.Cores(), "trials in parallel, each single-threaded; the default is the number of cores the process may use")
	f.IntVar(&opts.EvalsPerEpoch, "evals-per-epoch", 0, "about this many validation measurements per epoch, one every max(1, batches/N) steps (default: compare.evals_per_epoch, 10)")
	f.StringVar(&opts.Out, "out", "", "output directory (default runs/<name>-compare): new, empty or a comparison's; one holding other files is refused")
	f.StringVar(&opts.Shard, "shard", "", "run only shard I of N of the trial list, as I/N")
	f.StringVar((*string)(&opts.Phase), "phase", string(compare.PhaseAll), "all, tune or final (sharded sweeps run tune, then final)")
	f.StringArrayVar(&opts.Tuned, "tuned", nil, "directory with tuning results of other shards (phase final; repeatable)")
	f.Float64Var(&opts.TargetLoss, "target-loss", 0, "validation loss for \"steps to target\" (default: compare.target_loss, else 1.25 x the lowest mean best)")
	f.BoolVar(&opts.Check, "check", false, "check the flags, the config and --out (new, empty, or this comparison's: not other files or another sweep's records; with --phase final, also that the records in --out and --tuned hold every tuning result), then stop; the data is not read: what the Slurm and Kubernetes scripts run before submitting")
	cmd.AddCommand(newCmdCompareReport(s, nil))
	return cmd
}

func runCompare(o *CompareOptions) error {
	// A --tuned path that is not a directory (a typo) is refused here with
	// the flag's name (a shard with no trials of its own leaves an empty
	// records file in its directory), by --check too.
	for _, dir := range o.Tuned {
		if o.Phase != compare.PhaseFinal {
			break // compare.Options.Validate refuses --tuned here
		}
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return fmt.Errorf("--tuned %s: not a directory: give the --out directory of a --phase tune shard", dir)
		}
	}
	cfg, err := model.Load(o.Config, o.Sets)
	if err != nil {
		return err
	}
	cc := cfg.Compare
	co := compare.Options{
		Optimizers: cc.Optimizers, LRGrid: cc.GridPoints, LRs: cc.LRGrid, Seeds: cc.Seeds, Seed: cfg.Seed,
		Epochs: cfg.Training.Epochs, Steps: cfg.Training.Steps, Workers: o.Workers, EvalsPerEpoch: cc.EvalsPerEpoch,
		Phase: o.Phase, Tuned: o.Tuned, OutDir: o.Out, TargetLoss: cc.TargetLoss, Log: o.IO.Out,
	}
	if len(co.Optimizers) == 0 {
		co.Optimizers = compare.VariantNames()
	}
	if o.OptimizersProvided {
		co.Optimizers = o.Optimizers
	}
	if o.LRGridProvided {
		co.LRGrid = o.LRGrid
	}
	if o.SeedsProvided {
		co.Seeds = o.Seeds
	}
	if o.EpochsProvided {
		co.Epochs = o.Epochs
	}
	if o.StepsProvided {
		co.Steps = &o.Steps
	}
	if o.EvalsPerEpochProvided {
		co.EvalsPerEpoch = o.EvalsPerEpoch
	}
	if o.TargetLossProvided {
		co.TargetLoss = &o.TargetLoss
	}
	if co.OutDir == "" {
		co.OutDir = filepath.Join("runs", cfg.Name+"-compare")
	}
	if o.Shard != "" {
		i, n, ok := parseShard(o.Shard)
		if !ok {
			return usageError{fmt.Errorf("--shard wants I/N with 1 <= I <= N, got %q", o.Shard)}
		}
		co.Shard, co.Shards = i, n
	}
	if o.Check {
		// The final phase's tuning results too: a final phase without
		// them fails at once, which --check must say.
		if err := compare.Check(cfg, co); err != nil {
			return err
		}
		fmt.Fprintf(o.IO.Out, "ok: %s and the flags are valid (%d optimizers; the data was not read)\n", o.Config, len(co.Optimizers))
		return nil
	}
	if o.IO.Terminal {
		co.Progress = o.IO.ErrOut
	}
	interrupt, stop := watchSignals(o.IO, trialSignals)
	defer stop()
	co.Interrupt = interrupt
	_, err = compare.Run(cfg, co)
	return err
}

// checkOptimizersFlag refuses, as a usage error, an --optimizers list that
// is empty, names an optimizer that does not exist or names one twice.
// (compare.Options.Validate checks compare.optimizers, from the config.)
func checkOptimizersFlag(names []string) error {
	known := compare.VariantNames()
	if len(names) == 0 {
		return usageError{fmt.Errorf("--optimizers is empty: name at least one of %s", strings.Join(known, ", "))}
	}
	if err := compare.CheckOptimizerNames(names, "--optimizers"); err != nil {
		return usageError{err}
	}
	return nil
}

func parseShard(s string) (i, n int, ok bool) {
	a, b, found := strings.Cut(s, "/")
	if !found {
		return 0, 0, false
	}
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	return i, n, err1 == nil && err2 == nil && i >= 1 && i <= n
}

// CompareReportOptions are the parsed arguments of
// `nettrain compare-optimizers report`.
type CompareReportOptions struct {
	IO         *IOStreams
	Dirs       []string
	Out        string // "": the first of Dirs
	TargetLoss float64
	// TargetLossProvided records, from RunE, that --target-loss was given.
	TargetLossProvided bool
	Partial            bool
}

// newCmdCompareReport builds `nettrain compare-optimizers report`; runF
// replaces runCompareReport in tests.
func newCmdCompareReport(s *IOStreams, runF func(*CompareReportOptions) error) *cobra.Command {
	opts := &CompareReportOptions{IO: s}
	cmd := &cobra.Command{
		Use:   "report DIR...",
		Short: "Merge the trial records of several runs (shards) into one summary",
		Long: `Merge the trial records (trials.jsonl) of the output directories of one sweep,
typically its sharded --phase tune and --phase final runs, and write
trials.csv, summary.md, summary.json and the plots.

Without --out the report is written into the first DIR (replacing the report
files there; the trial records are left alone). A report replaces the one
before it whole: when one of its files cannot be written (a full disk), the
old report is left as it was.

The report needs every trial the sweep expects: each optimizer's tuning run at
every rate of its grid, and a final run for every seed of each optimizer with a
chosen rate. When some are missing (a shard's directory left out, a phase not
run yet) it lists them and fails; --partial writes the report of what there is,
with a warning.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, dirs []string) error {
			opts.Dirs = dirs
			opts.TargetLossProvided = c.Flags().Changed("target-loss")
			if opts.TargetLossProvided && (!(opts.TargetLoss > 0) || math.IsInf(opts.TargetLoss, 0)) {
				return usageError{fmt.Errorf("--target-loss must be a finite validation loss > 0, got %g", opts.TargetLoss)}
			}
			if runF != nil {
				return runF(opts)
			}
			return runCompareReport(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Out, "out", "", "where to write the merged report (default: the first DIR)")
	cmd.Flags().Float64Var(&opts.TargetLoss, "target-loss", 0, "validation loss for \"steps to target\"")
	cmd.Flags().BoolVar(&opts.Partial, "partial", false, "write the report even if trials are missing, with a warning")
	return cmd
}

// lockReport takes the lock of a report's output directory, so that a
// report is not written where a comparison, a sweep or another report is
// writing (it fails at once, naming the holder).
func lockReport(out string, s *IOStreams) (*session.DirLock, error) {
	return session.LockDir(out, "report's output directory", s.Out)
}

func runCompareReport(o *CompareReportOptions) error {
	ro := compare.ReportOptions{Out: o.Out, Partial: o.Partial, Log: o.IO.Out}
	if ro.Out == "" {
		ro.Out = o.Dirs[0]
	}
	lock, err := lockReport(ro.Out, o.IO)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	if o.TargetLossProvided {
		ro.Target = &o.TargetLoss
	}
	// The records of a general sweep get its report.
	if sweep, err := compare.IsSweep(o.Dirs...); err != nil {
		return err
	} else if sweep {
		_, err := compare.SweepReportDirs(o.Dirs, ro)
		return err
	}
	_, err = compare.ReportDirs(o.Dirs, ro)
	return err
}
