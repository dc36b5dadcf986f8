package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/nettrain/nettrain/internal/inspect"
	"github.com/nettrain/nettrain/internal/model"
)

// TraceOptions are the parsed arguments of `nettrain trace`.
type TraceOptions struct {
	IO      *IOStreams
	Config  string
	Sets    []string
	Weights string
	Input   string
	Samples int
	Limit   int
	JSON    bool
}

// NewCmdTrace builds `nettrain trace`.
func NewCmdTrace(s *IOStreams, runF func(*TraceOptions) error) *cobra.Command {
	opts := &TraceOptions{IO: s}
	cmd := &cobra.Command{
		Use:   "trace CONFIG",
		Short: "Show one forward and backward pass, layer by layer",
		Long: `Run one sample (or a small batch) forward and backward, in float64, and print
layer by layer: the output y, the gradient dL/dy arriving from the layer
above (the "delta"), the gradient dL/dx passed to the layer below, and each
parameter with its gradient dL/dW. Follow backprop through conv, pooling and
dense layers exactly as on paper.

Without --weights the config's initialisation is used (model.init_from, or the
seeded PyTorch-default initialisers); without --input, the first training
samples.`,
		Args: configArg,
		RunE: func(c *cobra.Command, args []string) error {
			opts.Config = args[0]
			if opts.Samples < 1 {
				return usageError{fmt.Errorf("--samples must be at least 1, got %d", opts.Samples)}
			}
			if runF != nil {
				return runF(opts)
			}
			return runTrace(opts)
		},
	}
	addSetFlag(cmd, &opts.Sets)
	cmd.Flags().StringVar(&opts.Weights, "weights", "", "checkpoint or safetensors weights to trace")
	cmd.Flags().StringVar(&opts.Input, "input", "", "data file with the samples (IDX, CSV or safetensors; default: the training data)")
	cmd.Flags().IntVar(&opts.Samples, "samples", 1, "number of samples in the batch")
	cmd.Flags().IntVar(&opts.Limit, "limit", 1000, "summarise tensors with more values than this (0: print everything)")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON")
	return cmd
}

func runTrace(o *TraceOptions) error {
	cfg, err := model.Load(o.Config, o.Sets)
	if err != nil {
		return err
	}
	tr, err := inspect.RunTrace(cfg, inspect.TraceOptions{Weights: o.Weights, Input: o.Input, Samples: o.Samples})
	if err != nil {
		return err
	}
	if o.JSON {
		return writeJSON(o.IO.Out, tr)
	}
	printTrace(o.IO.Out, tr, o.Limit)
	return nil
}

func printTrace(w io.Writer, tr *inspect.Trace, limit int) {
	f := func(t inspect.Tensor) string { return formatTensor(t, limit, "    ") }
	fmt.Fprintf(w, "== forward (%s, float64)\n\ninput %s\n    %s\n", tr.Source, shapeStr(tr.Input.Shape), f(tr.Input))
	for _, l := range tr.Layers {
		fmt.Fprintf(w, "\nlayer %s %s -> output %s\n", l.Path, l.Kind, shapeStr(l.Output.Shape))
		for _, p := range l.Params {
			fmt.Fprintf(w, "  %s %s\n    %s\n", p.Name, shapeStr(p.Value.Shape), f(p.Value))
		}
		fmt.Fprintf(w, "  y\n    %s\n", f(l.Output))
	}
	fmt.Fprintf(w, "\n== loss %s = %.10g\n", tr.LossFn, tr.Loss)
	if tr.Labels != nil {
		fmt.Fprintf(w, "  labels %v\n", tr.Labels)
	} else if tr.Targets != nil {
		fmt.Fprintf(w, "  targets\n    %s\n", f(*tr.Targets))
	}
	fmt.Fprintf(w, "\n== backward (gradients of the loss)\n")
	for i := len(tr.Layers) - 1; i >= 0; i-- {
		l := tr.Layers[i]
		fmt.Fprintf(w, "\nlayer %s %s\n", l.Path, l.Kind)
		if l.GradOutput != nil {
			fmt.Fprintf(w, "  dL/dy (delta from above) %s\n    %s\n", shapeStr(l.GradOutput.Shape), f(*l.GradOutput))
		} else {
			fmt.Fprintf(w, "  dL/dy: not needed (the layer above takes token ids)\n")
		}
		for _, p := range l.Params {
			fmt.Fprintf(w, "  dL/d%s %s\n    %s\n", p.Name, shapeStr(p.Grad.Shape), f(p.Grad))
		}
		if l.GradInput != nil {
			fmt.Fprintf(w, "  dL/dx (passed below) %s\n    %s\n", shapeStr(l.GradInput.Shape), f(*l.GradInput))
		} else {
			fmt.Fprintf(w, "  dL/dx: none (the input is token ids)\n")
		}
	}
}
