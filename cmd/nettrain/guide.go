package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nettrain/nettrain/internal/guide"
	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/parallel"
)

// GuideOptions are the parsed arguments of `nettrain guide`.
type GuideOptions struct {
	IO            *IOStreams
	Configs       string
	Out           string
	Problems      []string
	LRGrid        int
	Seeds         int
	Workers       int
	Scale         float64
	Report        bool
	WriteLicences string
}

// NewCmdGuide builds `nettrain guide`.
func NewCmdGuide(s *IOStreams, runF func(*GuideOptions) error) *cobra.Command {
	opts := &GuideOptions{IO: s}
	var probs []string
	for _, p := range guide.Suite {
		probs = append(probs, p.Name+" ("+p.Kind+")")
	}
	cmd := &cobra.Command{
		Use:   "guide",
		Short: "Compare the optimizers over a suite of problems of different kinds and write a one-page guide",
		Long: `Run the compare-optimizers protocol over a built-in suite of problems, each on
real data available offline, and write a one-page report (OUT/README.md) of which
optimizer to start with for which kind of data, stated only as far as the
measurements support it:

  ` + strings.Join(probs, "\n  ") + `

Each problem's comparison is in OUT/<problem> (records, report, plots); a rerun
resumes. For larger budgets, run each problem's comparison sharded
(compare-optimizers --shard, then report into OUT/<problem>) and rebuild the
page with --report. Run it from the repository's root (the configs are read
from --configs).`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			for _, c := range []struct {
				flag      string
				v, lo, hi int
			}{
				{"--lr-grid", opts.LRGrid, 1, model.MaxGridPoints},
				{"--seeds", opts.Seeds, 1, model.MaxSeeds},
				{"--workers", opts.Workers, 1, model.MaxThreads},
			} {
				if c.v < c.lo || c.v > c.hi {
					return usageError{fmt.Errorf("%s must be between %d and %d, got %d", c.flag, c.lo, c.hi, c.v)}
				}
			}
			if !(opts.Scale > 0) || opts.Scale > 1000 {
				return usageError{fmt.Errorf("--scale must be in (0, 1000], got %g", opts.Scale)}
			}
			if err := guide.CheckProblems(opts.Problems); err != nil {
				return usageError{fmt.Errorf("--problems: %w", err)}
			}
			if runF != nil {
				return runF(opts)
			}
			return runGuide(opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Configs, "configs", "configs", "directory of the suite's configs")
	f.StringVar(&opts.Out, "out", "docs/guide", "output directory: new, empty or a guide's; one holding other files is refused")
	f.StringSliceVar(&opts.Problems, "problems", nil, "problems to run (default: all)")
	f.IntVar(&opts.LRGrid, "lr-grid", 5, "learning rates per optimizer (the default rate always among them)")
	f.IntVar(&opts.Seeds, "seeds", 3, "seeds of the final runs")
	f.IntVar(&opts.Workers, "workers", parallel.Cores(), "trials in parallel, each single-threaded; the default is the number of cores the process may use")
	f.Float64Var(&opts.Scale, "scale", 1, "multiply every problem's step budget")
	f.BoolVar(&opts.Report, "report", false, "only rebuild the page from the records in OUT/<problem>")
	f.StringVar(&opts.WriteLicences, "write-licences", "", "only write the licence bag-of-words data set into this directory")
	return cmd
}

func runGuide(o *GuideOptions) error {
	if o.WriteLicences != "" {
		d, err := guide.WriteLicenceBOW(guide.LicencesDir, o.WriteLicences)
		if err != nil {
			return err
		}
		fmt.Fprintf(o.IO.Out, "%s: %d paragraphs of %d licences, %d words (%.1f%% of the features non-zero)\n",
			d.CSV, d.Paragraphs, len(d.Classes), d.Vocab, 100*d.Density)
		return nil
	}
	cmdline := []string{"nettrain guide", "--out " + o.Out, "--lr-grid " + strconv.Itoa(o.LRGrid), "--seeds " + strconv.Itoa(o.Seeds)}
	if o.Scale != 1 {
		cmdline = append(cmdline, "--scale "+strconv.FormatFloat(o.Scale, 'g', -1, 64))
	}
	if len(o.Problems) > 0 {
		cmdline = append(cmdline, "--problems "+strings.Join(o.Problems, ","))
	}
	if o.Configs != "configs" {
		cmdline = append(cmdline, "--configs "+o.Configs)
	}
	gopts := guide.Options{ConfigsDir: o.Configs, Out: o.Out, Problems: o.Problems, LRGrid: o.LRGrid, Seeds: o.Seeds,
		Workers: o.Workers, Scale: o.Scale, ReportOnly: o.Report, Command: strings.Join(cmdline, " "), Log: o.IO.Out}
	if o.IO.Terminal {
		gopts.Progress = o.IO.ErrOut
	}
	interrupt, stop := watchSignals(o.IO, trialSignals)
	defer stop()
	gopts.Interrupt = interrupt
	_, err := guide.Run(gopts)
	return err
}
