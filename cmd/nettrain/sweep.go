package main

import (
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/nettrain/nettrain/internal/compare"
	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/parallel"
)

// SweepOptions are the parsed arguments of `nettrain sweep`.
type SweepOptions struct {
	IO            *IOStreams
	Check         bool // --check: validate and say how many trials, run nothing
	Config        string
	Sets          []string
	Grid          []string
	Random        []string
	Trials        int
	Seeds         int
	Epochs        int
	Steps         int
	Workers       int
	EvalsPerEpoch int
	Out           string
	Shard         string
	// Which budget flags were given (recorded by RunE): only those
	// override the config's training.epochs and training.steps.
	EpochsProvided bool
	StepsProvided  bool
}

// NewCmdSweep builds `nettrain sweep` and its `report`.
func NewCmdSweep(s *IOStreams, runF func(*SweepOptions) error) *cobra.Command {
	opts := &SweepOptions{IO: s}
	cmd := &cobra.Command{
		Use:   "sweep CONFIG",
		Short: "Train the config over a grid (or random draws) of any config keys, with several seeds",
		Long: `Train the config at every setting of some config keys, each with several seeds,
and report the validation loss, the final training loss and the gap between
them per setting. Keys are set as --set sets them, so any config key can be
swept:

  nettrain sweep configs/text-lstm.yaml --grid data.sequence.stride=1,4,16 \
      --steps 600 --seeds 2

--grid key=v1,v2,... (repeatable) sweeps every combination of the values;
--random key=log-uniform(a,b) or key=uniform(a,b) (repeatable) with --trials N
draws N values (from a stream seeded by the config's seed, the same in every
shard), each combined with every grid combination. Every trial has the same
budget: training.epochs and training.steps, or --epochs and --steps.

It shares compare-optimizers' machinery: trial records in trials.jsonl (a rerun
resumes), --workers trials in parallel, --shard I/N to split the trials over N
processes, merged by
  nettrain sweep report DIR... --out DIR
(without --out, the report goes into the first DIR).`,
		Args: configArg,
		RunE: func(c *cobra.Command, args []string) error {
			opts.Config = args[0]
			opts.EpochsProvided = c.Flags().Changed("epochs")
			opts.StepsProvided = c.Flags().Changed("steps")
			for _, c := range []struct {
				flag      string
				v, lo, hi int
			}{
				{"--seeds", opts.Seeds, 1, model.MaxSeeds},
				{"--evals-per-epoch", opts.EvalsPerEpoch, 1, model.MaxEvalsPerEpoch},
				{"--workers", opts.Workers, 1, model.MaxThreads},
				{"--trials", opts.Trials, 0, model.MaxGridPoints * model.MaxGridPoints},
			} {
				if c.v < c.lo || c.v > c.hi {
					return usageError{fmt.Errorf("%s must be between %d and %d, got %d", c.flag, c.lo, c.hi, c.v)}
				}
			}
			switch {
			case opts.EpochsProvided && opts.Epochs < 1:
				return usageError{fmt.Errorf("--epochs must be at least 1, got %d", opts.Epochs)}
			case opts.EpochsProvided && opts.Epochs > model.MaxEpochs:
				return usageError{fmt.Errorf("--epochs must be at most %d (the cap of training.epochs), got %d", model.MaxEpochs, opts.Epochs)}
			case opts.StepsProvided && opts.Steps < 1:
				return usageError{fmt.Errorf("--steps must be at least 1, got %d", opts.Steps)}
			}
			if runF != nil {
				return runF(opts)
			}
			return runSweep(opts)
		},
	}
	addSetFlag(cmd, &opts.Sets)
	f := cmd.Flags()
	f.StringArrayVar(&opts.Grid, "grid", nil, "sweep a key over values, key=v1,v2,... (repeatable)")
	f.StringArrayVar(&opts.Random, "random", nil, "draw a key's values, key=log-uniform(a,b) or key=uniform(a,b) (repeatable; with --trials)")
	f.IntVar(&opts.Trials, "trials", 0, "random draws (with --random)")
	f.IntVar(&opts.Seeds, "seeds", 3, "seeds per setting")
	f.IntVar(&opts.Epochs, "epochs", 0, fmt.Sprintf("epochs per trial, at most %d (default: training.epochs)", model.MaxEpochs))
	f.IntVar(&opts.Steps, "steps", 0, "steps per trial (default: training.steps)")
	f.IntVar(&opts.Workers, "workers", parallel.Cores(), "trials in parallel, each single-threaded; the default is the number of cores the process may use")
	f.IntVar(&opts.EvalsPerEpoch, "evals-per-epoch", 10, "about this many validation measurements per epoch (one every max(1, batches/N) steps)")
	f.StringVar(&opts.Out, "out", "", "output directory (default runs/<name>-sweep): new, empty or a sweep's; one holding other files is refused")
	f.StringVar(&opts.Shard, "shard", "", "run only shard I of N of the trial list, as I/N")
	f.BoolVar(&opts.Check, "check", false, "check the flags, every setting's config and --out (new, empty, or this sweep's: not other files or another sweep's records), then stop (the data is not read): what the Slurm and Kubernetes scripts run before submitting")
	cmd.AddCommand(newCmdSweepReport(s, nil))
	return cmd
}

func runSweep(o *SweepOptions) error {
	so := compare.SweepOptions{Trials: o.Trials, Seeds: o.Seeds, Workers: o.Workers, EvalsPerEpoch: o.EvalsPerEpoch, Log: o.IO.Out}
	for _, g := range o.Grid {
		a, err := compare.ParseGrid(g)
		if err != nil {
			return usageError{err}
		}
		so.Grid = append(so.Grid, a)
	}
	for _, r := range o.Random {
		a, err := compare.ParseRandom(r)
		if err != nil {
			return usageError{err}
		}
		so.Random = append(so.Random, a)
	}
	if err := so.Validate(); err != nil {
		return usageError{err}
	}
	// The budget flags are overrides like any other, before the swept keys.
	base := append([]string(nil), o.Sets...)
	if o.EpochsProvided {
		base = append(base, "training.epochs="+strconv.Itoa(o.Epochs))
	}
	if o.StepsProvided {
		base = append(base, "training.steps="+strconv.Itoa(o.Steps))
	}
	so.Load = func(extra []string) (*model.Config, error) {
		return model.Load(o.Config, append(append([]string(nil), base...), extra...))
	}
	cfg, err := so.Load(nil)
	if err != nil {
		return err
	}
	so.OutDir = o.Out
	if so.OutDir == "" {
		so.OutDir = filepath.Join("runs", cfg.Name+"-sweep")
	}
	if o.Shard != "" {
		i, n, ok := parseShard(o.Shard)
		if !ok {
			return usageError{fmt.Errorf("--shard wants I/N with 1 <= I <= N, got %q", o.Shard)}
		}
		so.Shard, so.Shards = i, n
	}
	if o.Check {
		n, err := compare.CheckSweep(so)
		if err != nil {
			return err
		}
		fmt.Fprintf(o.IO.Out, "ok: %s and the flags give %d trials (the data was not read)\n", o.Config, n)
		return nil
	}
	if o.IO.Terminal {
		so.Progress = o.IO.ErrOut
	}
	interrupt, stop := watchSignals(o.IO, trialSignals)
	defer stop()
	so.Interrupt = interrupt
	_, err = compare.Sweep(so)
	return err
}

// SweepReportOptions are the parsed arguments of `nettrain sweep report`.
type SweepReportOptions struct {
	IO      *IOStreams
	Dirs    []string
	Out     string // "": the first of Dirs
	Partial bool
}

// newCmdSweepReport builds `nettrain sweep report`; runF replaces
// runSweepReport in tests.
func newCmdSweepReport(s *IOStreams, runF func(*SweepReportOptions) error) *cobra.Command {
	opts := &SweepReportOptions{IO: s}
	cmd := &cobra.Command{
		Use:   "report DIR...",
		Short: "Merge the trial records of several runs (shards) of a sweep into one summary",
		Long: `Merge the trial records (trials.jsonl) of the output directories of one sweep,
typically its --shard runs, and write trials.csv, summary.md, summary.json and
the plots. It needs every setting with every seed; --partial writes the report
of what there is, with a warning. A report replaces the one before it whole:
when one of its files cannot be written (a full disk), the old report is left
as it was.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, dirs []string) error {
			opts.Dirs = dirs
			if runF != nil {
				return runF(opts)
			}
			ro := compare.ReportOptions{Out: opts.Out, Partial: opts.Partial, Log: opts.IO.Out}
			if ro.Out == "" {
				ro.Out = dirs[0]
			}
			lock, err := lockReport(ro.Out, opts.IO)
			if err != nil {
				return err
			}
			defer lock.Unlock()
			_, err = compare.SweepReportDirs(dirs, ro)
			return err
		},
	}
	cmd.Flags().StringVar(&opts.Out, "out", "", "where to write the merged report (default: the first DIR)")
	cmd.Flags().BoolVar(&opts.Partial, "partial", false, "write the report even if trials are missing, with a warning")
	return cmd
}
