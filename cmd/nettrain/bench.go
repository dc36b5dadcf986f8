package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nettrain/nettrain/internal/inspect"
	"github.com/nettrain/nettrain/internal/model"
)

// BenchOptions are the parsed arguments of `nettrain bench`.
type BenchOptions struct {
	IO      *IOStreams
	Config  string
	Sets    []string
	Steps   int
	Threads int
	JSON    bool
}

// NewCmdBench builds `nettrain bench`.
func NewCmdBench(s *IOStreams, runF func(*BenchOptions) error) *cobra.Command {
	opts := &BenchOptions{IO: s}
	cmd := &cobra.Command{
		Use:   "bench CONFIG",
		Short: "Time the training step: samples/s, per-layer time, GFLOP/s, allocations",
		Long: `Time the training step of a config (forward, backward and optimizer) at its
batch size, on its data, after 10 warm-up steps: samples per second, time per
layer forward and backward (as caffe time does), the loss and optimizer time,
the GFLOP/s achieved against the machine's float32 GEMM peak on the same
threads, allocations per step and peak memory.`,
		Args: configArg,
		RunE: func(c *cobra.Command, args []string) error {
			opts.Config = args[0]
			if err := checkThreads(opts.Threads); err != nil {
				return err
			}
			if opts.Steps < 1 {
				return usageError{fmt.Errorf("--steps must be at least 1, got %d", opts.Steps)}
			}
			if runF != nil {
				return runF(opts)
			}
			return runBench(opts)
		},
	}
	addSetFlag(cmd, &opts.Sets)
	cmd.Flags().IntVar(&opts.Steps, "steps", 100, "timed steps")
	cmd.Flags().IntVar(&opts.Threads, "threads", 0, fmt.Sprintf("threads, at most %d (default: training.threads, else every core)", maxThreads))
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON")
	return cmd
}

func runBench(o *BenchOptions) error {
	cfg, err := model.Load(o.Config, o.Sets)
	if err != nil {
		return err
	}
	r, err := inspect.Bench(cfg, inspect.BenchOptions{Steps: o.Steps, Threads: o.Threads})
	if err != nil {
		return err
	}
	if o.JSON {
		return writeJSON(o.IO.Out, r)
	}
	printBench(o.IO.Out, r)
	return nil
}

func printBench(w io.Writer, r *inspect.BenchResult) {
	threads := fmt.Sprintf("%d threads", r.Threads)
	if r.Threads == 1 {
		threads = "1 thread"
	}
	fmt.Fprintf(w, "%s: batch %d, %s, %d steps\n", r.Config, r.BatchSize, threads, r.Steps)
	fmt.Fprintf(w, "%.0f samples/s, %.3f ms per step\n\n", r.SamplesPerS, r.StepMS)
	rows := [][]string{{"#", "layer", "forward ms", "backward ms", "GFLOP", "GFLOP/s"}}
	for _, l := range r.Layers {
		gf := "-"
		if t := l.ForwardMS + l.BackwardMS; l.GFLOP > 0 && t > 0 {
			gf = fmt.Sprintf("%.1f", l.GFLOP/(t/1000))
		}
		kind, idx := l.Kind, fmt.Sprint(l.Index)
		if l.Inner {
			kind, idx = strings.Repeat("  ", (strings.Count(l.Path, ".")+1)/2)+l.Kind, l.Path
		}
		rows = append(rows, []string{idx, kind, fmt.Sprintf("%.3f", l.ForwardMS), fmt.Sprintf("%.3f", l.BackwardMS), fmt.Sprintf("%.4f", l.GFLOP), gf})
	}
	rows = append(rows, []string{"", "batch fill", fmt.Sprintf("%.3f", r.DataMS), "", "", ""},
		[]string{"", "loss", fmt.Sprintf("%.3f", r.LossMS), "", "", ""},
		[]string{"", "optimizer", "", fmt.Sprintf("%.3f", r.OptimizerMS), "", ""})
	printTable(w, rows, []bool{false, false, true, true, true, true})
	fmt.Fprintf(w, "\n%.3f GFLOP per step, %.1f GFLOP/s: %.0f%% of the float32 GEMM peak on %s (%.1f GFLOP/s)\n",
		r.GFLOPPerStep, r.GFLOPS, 100*r.GFLOPS/r.PeakGFLOPS, threads, r.PeakGFLOPS)
	fmt.Fprintf(w, "%.2f allocations per step, peak resident memory %.0f MiB\n", r.AllocsPerStep, r.PeakRSSMiB)
}
