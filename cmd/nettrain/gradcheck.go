package main

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nettrain/nettrain/internal/inspect"
	"github.com/nettrain/nettrain/internal/model"
)

// GradCheckOptions are the parsed arguments of `nettrain gradcheck`.
type GradCheckOptions struct {
	IO             *IOStreams
	Config         string
	Sets           []string
	Samples        int
	SamplesSet     bool // --samples given (trace.input's samples otherwise go unremarked)
	MaxEntries     int
	Tol            float64
	Jitter         float64
	AllowUnchecked bool
	Eval           bool
	JSON           bool
}

// NewCmdGradCheck builds `nettrain gradcheck`.
func NewCmdGradCheck(s *IOStreams, runF func(*GradCheckOptions) error) *cobra.Command {
	opts := &GradCheckOptions{IO: s}
	cmd := &cobra.Command{
		Use:   "gradcheck CONFIG",
		Short: "Check backprop against finite differences for every layer",
		Long: `Build the configured network in float64 and compare the analytic gradient of
every parameter tensor, and of the input, with central finite differences
(L(w+eps) - L(w-eps)) / 2eps on a few training samples. Small tensors are
checked entry by entry, large ones on a seeded random subset. Prints the
maximum relative error per tensor and a pass/fail verdict; exits non-zero on
failure.`,
		Args: configArg,
		RunE: func(c *cobra.Command, args []string) error {
			opts.Config = args[0]
			opts.SamplesSet = c.Flags().Changed("samples")
			if opts.Samples < 1 {
				return usageError{fmt.Errorf("--samples must be at least 1, got %d", opts.Samples)}
			}
			// A relative error is at most 2, so --tol 2 (or +Inf) passed
			// anything; --jitter moves the normalised inputs, and 1e308
			// made them infinite.
			if err := checkFloatFlag("tol", opts.Tol, opts.Tol > 0 && opts.Tol <= 1, "a number > 0 and at most 1 (the largest relative error that passes)"); err != nil {
				return err
			}
			if err := checkFloatFlag("jitter", opts.Jitter, opts.Jitter >= 0 && opts.Jitter <= 1, "a number from 0 to 1 (the largest noise added to each input value, after normalisation)"); err != nil {
				return err
			}
			if err := checkIntFlag("max-entries", opts.MaxEntries, 0, math.MaxInt); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runGradCheck(opts)
		},
	}
	addSetFlag(cmd, &opts.Sets)
	cmd.Flags().IntVar(&opts.Samples, "samples", 2, "batch size of the check")
	cmd.Flags().IntVar(&opts.MaxEntries, "max-entries", 64, "entries checked per tensor; larger tensors get a seeded random subset (0: all)")
	cmd.Flags().Float64Var(&opts.Tol, "tol", 1e-6, "largest relative error that passes")
	cmd.Flags().Float64Var(&opts.Jitter, "jitter", 1e-3, "uniform noise added to the inputs so that no value sits exactly on a ReLU kink or a max-pooling tie")
	cmd.Flags().BoolVar(&opts.AllowUnchecked, "allow-unchecked", false, "pass even when every sampled entry of a tensor sat on a kink or tie and nothing of it was checked")
	cmd.Flags().BoolVar(&opts.Eval, "eval", false, "check the evaluation-mode network (batchnorm on its running statistics, dropout off) instead of the training mode's")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON")
	return cmd
}

func runGradCheck(o *GradCheckOptions) error {
	cfg, err := model.Load(o.Config, o.Sets)
	if err != nil {
		return err
	}
	rep, err := inspect.RunGradCheck(cfg, inspect.GradCheckOptions{Samples: o.Samples, MaxEntries: o.MaxEntries, Tol: o.Tol, Jitter: o.Jitter, AllowUnchecked: o.AllowUnchecked, Eval: o.Eval})
	if err != nil {
		return err
	}
	switch {
	case rep.TraceInput && o.SamplesSet && o.Samples != rep.Samples:
		fmt.Fprintf(o.IO.ErrOut, "nettrain: note: --samples %d: checking the %d sample(s) of the config's trace.input\n", o.Samples, rep.Samples)
	case !rep.TraceInput && o.Samples > rep.Samples:
		fmt.Fprintf(o.IO.ErrOut, "nettrain: note: --samples %d: the data has %d sample(s); checking those\n", o.Samples, rep.Samples)
	}
	if o.JSON {
		if err := writeJSON(o.IO.Out, rep); err != nil {
			return err
		}
	} else {
		printGradCheck(o.IO.Out, rep)
	}
	if len(rep.Unchecked) > 0 && !o.AllowUnchecked {
		return fmt.Errorf("gradient check failed: nothing of %s was checked (every sampled entry sat on a kink or tie); a larger --jitter (e.g. 0.05) moves more inputs off them, other --samples put others on them, --max-entries 0 checks every entry; or --allow-unchecked", strings.Join(rep.Unchecked, ", "))
	}
	if !rep.Pass {
		return fmt.Errorf("gradient check failed: some relative errors exceed %g", rep.Tol)
	}
	return nil
}

func printGradCheck(w io.Writer, rep *inspect.GradCheckReport) {
	rows := [][]string{{"layer", "kind", "tensor", "checked", "skipped", "max rel err", "max abs err", "verdict"}}
	for _, r := range rep.Results {
		layer := fmt.Sprint(r.Layer)
		if r.Layer < 0 {
			layer = "-"
		}
		verdict := "ok"
		if r.Checked == 0 && r.Total > 0 {
			verdict = "NOT CHECKED (every sampled entry sat on a kink or tie)"
		} else if !(r.MaxErr <= rep.Tol) {
			verdict = fmt.Sprintf("FAIL (entry %d: analytic %.6g, numeric %.6g)", r.WorstIdx, r.Analytic, r.Numeric)
		}
		rows = append(rows, []string{layer, r.Kind, r.Tensor, fmt.Sprintf("%d/%d", r.Checked, r.Total), fmt.Sprint(r.Skipped),
			fmt.Sprintf("%.2e", r.MaxErr), fmt.Sprintf("%.2e", r.MaxAbs), verdict})
	}
	printTable(w, rows, []bool{true, false, false, true, true, true, true, false})
	fmt.Fprintln(w, "(skipped: entries within eps of a point where the loss is not differentiable, such as a ReLU at 0 or a max-pooling tie)")
	verdict := "PASS"
	if !rep.Pass {
		verdict = "FAIL"
	}
	jitter := ""
	if rep.Jitter > 0 {
		jitter = fmt.Sprintf(" (each input value moved by up to ±%g, --jitter)", rep.Jitter)
	}
	fmt.Fprintf(w, "on %s%s: loss %.6g; tolerance %g: %s\n", rep.Source, jitter, rep.Loss, rep.Tol, verdict)
}
