package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nettrain/nettrain/internal/inspect"
	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/tracepage"
)

// TraceOptions are the parsed arguments of `nettrain trace`.
type TraceOptions struct {
	IO      *IOStreams
	Config  string
	Sets    []string
	Weights string
	// Input is a data file, or a sample typed in (it starts with "[" or
	// is a number).
	Input      string
	Target     string
	OutputGrad string
	Samples    int
	Limit      int
	// Digits is the significant digits printed; 0: trace.digits, else 6.
	Digits int
	JSON   bool
	Step   bool   // --step: the parameters after one optimizer step
	HTML   string // --html FILE: the trace as a page of pictures
	PNG    string // --png FILE: the trace as a static picture
}

// NewCmdTrace builds `nettrain trace`.
func NewCmdTrace(s *IOStreams, runF func(*TraceOptions) error) *cobra.Command {
	opts := &TraceOptions{IO: s}
	cmd := &cobra.Command{
		Use:   "trace CONFIG",
		Short: "Show one forward and backward pass, layer by layer",
		Long: `Run one sample (or a small batch) forward and backward, in float64, and print
layer by layer the forward values and the gradients, named as a textbook
names them: a dense or conv2d layer computes the pre-activation z = W x + b
and receives dL/dz, the textbook delta; an activation computes y = f(z),
receives dL/dy and passes dL/dz = dL/dy * f'(z) below; each parameter is
shown with its gradient dL/dW. Follow backprop exactly as on paper.

Without --weights the config's initialisation is used (weights typed in the
config, model.init_from, or the seeded PyTorch-default initialisers). The
input is, in order: --input (a data file, or a sample typed in such as
"[[0.5, -1], [2, 0]]"), the config's trace.input, the first training samples.
A typed-in sample needs a target (--target or trace.target: a class id for
cross_entropy, else the output values) or an output gradient (--output-grad
or trace.output_grad, e.g. "0.3,-0.1": backprop starts from it, no loss).`,
		Args: configArg,
		RunE: func(c *cobra.Command, args []string) error {
			opts.Config = args[0]
			if opts.Samples < 1 {
				return usageError{fmt.Errorf("--samples must be at least 1, got %d", opts.Samples)}
			}
			if opts.Digits < 0 || opts.Digits > 17 || c.Flags().Changed("digits") && opts.Digits == 0 {
				return usageError{fmt.Errorf("--digits must be from 1 to 17, got %d", opts.Digits)}
			}
			// The page and the picture are written whatever the name:
			// one ending otherwise (a .safetensors, a .csv) is a slip.
			for _, f := range []struct{ flag, path, ext string }{{"--html", opts.HTML, ".html"}, {"--png", opts.PNG, ".png"}} {
				if ext := strings.ToLower(filepath.Ext(f.path)); f.path != "" && ext != f.ext && !(f.ext == ".html" && ext == ".htm") {
					return usageError{fmt.Errorf("%s %s: the file is written as %s; name a %s file", f.flag, f.path, strings.ToUpper(f.ext[1:]), f.ext)}
				}
			}
			if opts.Target != "" && opts.OutputGrad != "" {
				return usageError{fmt.Errorf("--target and --output-grad both say where backprop starts: a target starts it from the loss, an output gradient from the output; give one")}
			}
			if runF != nil {
				return runF(opts)
			}
			return runTrace(opts)
		},
	}
	addSetFlag(cmd, &opts.Sets)
	cmd.Flags().StringVar(&opts.Weights, "weights", "", "checkpoint or safetensors weights to trace")
	cmd.Flags().StringVar(&opts.Input, "input", "", `data file with the samples (IDX, CSV or safetensors; default: trace.input, else the training data), or a sample typed in: "[[0.5, -1], [2, 0]]"`)
	cmd.Flags().StringVar(&opts.Target, "target", "", `the target typed in: a class id (cross_entropy) or the output values, "1" or "0.5,-1"`)
	cmd.Flags().StringVar(&opts.OutputGrad, "output-grad", "", `start backprop from this gradient dL/dy at the output instead of a loss: "0.3,-0.1"`)
	cmd.Flags().IntVar(&opts.Samples, "samples", 1, "number of samples in the batch")
	cmd.Flags().IntVar(&opts.Limit, "limit", 1000, "summarise tensors with more values than this (0: print everything)")
	cmd.Flags().IntVar(&opts.Digits, "digits", 0, "significant digits of the numbers printed (default: trace.digits, else 6)")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON")
	cmd.Flags().BoolVar(&opts.Step, "step", false, "also take one step of the config's optimizer from these gradients and print the parameters after it")
	cmd.Flags().StringVar(&opts.HTML, "html", "", "also write the trace as pictures: one self-contained HTML page (heatmaps, formulas on hover)")
	cmd.Flags().StringVar(&opts.PNG, "png", "", "also write the trace as a static PNG picture")
	return cmd
}

// isLiteral reports whether --input holds a sample typed in rather than a
// path: a list or a number; or, when no file has that name, text that
// reads as a list of numbers gone wrong ("NaN,1", "1,x": a comma, or a
// number's start, and no path separator or file extension), whose error
// is then the sample's rather than a missing file's.
func isLiteral(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasPrefix(s, "[") {
		return true // blank: ParseTensor says it is empty
	}
	if strings.ContainsAny(s, "/\\") {
		return false
	}
	if _, err := model.ParseTensor("", s); err == nil {
		return true
	}
	if _, err := os.Stat(s); err == nil || fileExt.MatchString(filepath.Ext(s)) {
		return false
	}
	low := strings.ToLower(s)
	return strings.Contains(s, ",") || strings.ContainsAny(s[:1], "0123456789+-.") ||
		strings.HasPrefix(low, "nan") || strings.HasPrefix(low, "inf")
}

// fileExt matches a file name's extension (".csv", ".safetensors"), not
// the decimals of a number ("0.5,abc" has the "extension" ".5,abc").
var fileExt = regexp.MustCompile(`^\.[A-Za-z][A-Za-z0-9]*$`)

func runTrace(o *TraceOptions) error {
	defer exitOnSignal(o.IO)()
	cfg, err := model.Load(o.Config, o.Sets)
	if err != nil {
		return err
	}
	ins := readFiles(cfg, o.Config, namedFile{"the weights (--weights)", o.Weights})
	if o.Input != "" && !isLiteral(o.Input) {
		ins = append(ins, namedFile{"the input (--input)", o.Input})
	}
	if err := refuseOverwritingInputs([]namedFile{{"--html", o.HTML}, {"--png", o.PNG}}, ins); err != nil {
		return err
	}
	to := inspect.TraceOptions{Weights: o.Weights, Samples: o.Samples, Step: o.Step}
	// Flags first; the config's trace keys fill the rest (WithConfig).
	literal := func(flag, text string) (*inspect.Literal, error) {
		if text == "" {
			return nil, nil
		}
		t, err := model.ParseTensor(flag, text)
		if err != nil {
			return nil, usageError{err}
		}
		return &inspect.Literal{Tensor: t, Key: flag}, nil
	}
	switch {
	case o.Input != "" && isLiteral(o.Input):
		if to.Literal, err = literal("--input", o.Input); err != nil {
			return err
		}
	case o.Input != "":
		to.Input = o.Input
	}
	if to.Target, err = literal("--target", o.Target); err != nil {
		// Class names (--target setosa): the model's data says which.
		names := classNamesTyped(o.Target)
		if names == nil {
			return err
		}
		to.Target = &inspect.Literal{Key: "--target", Names: names}
	}
	if to.OutputGrad, err = literal("--output-grad", o.OutputGrad); err != nil {
		return err
	}
	to = to.WithConfig(cfg)
	tr, err := inspect.RunTrace(cfg, to)
	if err != nil {
		return err
	}
	if o.Samples > tr.Samples {
		fmt.Fprintf(o.IO.ErrOut, "nettrain: note: --samples %d: the input has %d sample(s); tracing those\n", o.Samples, tr.Samples)
	}
	if tr.Unnormalised != "" {
		fmt.Fprintf(o.IO.ErrOut, "nettrain: note: the sample typed in is the network's input as given, but this model's data is normalised (%s): type it normalised, or give it in a file (--input FILE), which is read as in training\n", tr.Unnormalised)
	}
	digits := tracepage.DefaultDigits
	if tc := cfg.Trace; tc != nil && tc.Digits != nil {
		digits = *tc.Digits
	}
	if o.Digits > 0 {
		digits = o.Digits
	}
	if o.HTML != "" || o.PNG != "" {
		// The pictures write their numbers as the text does.
		p := tracepage.Build(cfg, tr)
		p.Digits = digits
		if err := p.WriteFiles(o.HTML, o.PNG); err != nil {
			return err
		}
	}
	if o.JSON {
		return writeJSON(o.IO.Out, tr)
	}
	printTrace(o.IO.Out, tr, o.Limit, digits)
	return nil
}

func printTrace(w io.Writer, tr *inspect.Trace, limit, digits int) {
	f := func(t inspect.Tensor) string { return formatTensor(t, limit, "    ", digits) }
	g := func(v float64) string { return formatNumber(v, digits) }
	fmt.Fprintf(w, "== forward (%s, float64)\n\ninput x %s\n    %s\n", tr.Source, shapeStr(tr.Input.Shape), f(tr.Input))
	for _, l := range tr.Layers {
		fmt.Fprintf(w, "\nlayer %s %s -> output %s\n", l.Path, l.Kind, shapeStr(l.Output.Shape))
		for _, p := range l.Params {
			fmt.Fprintf(w, "  %s %s\n    %s\n", p.Name, shapeStr(p.Value.Shape), f(p.Value))
		}
		fmt.Fprintf(w, "  %s\n    %s\n", labelled(l.Labels.Out, nil), f(l.Output))
	}
	if tr.OutputGrad != nil {
		fmt.Fprintf(w, "\n== no loss: backprop starts from the given output gradient dL/dy %s\n    %s\n", shapeStr(tr.OutputGrad.Shape), f(*tr.OutputGrad))
	} else {
		fmt.Fprintf(w, "\n== loss %s = %s\n", tr.LossFn, g(tr.Loss))
		if tr.Labels != nil {
			fmt.Fprintf(w, "  labels %v\n", tr.Labels)
		} else if tr.Targets != nil {
			fmt.Fprintf(w, "  targets\n    %s\n", f(*tr.Targets))
		}
	}
	if tr.OutputGrad != nil {
		fmt.Fprintf(w, "\n== backward (gradients from the given dL/dy at the output)\n")
	} else {
		fmt.Fprintf(w, "\n== backward (gradients of the loss)\n")
	}
	for i := len(tr.Layers) - 1; i >= 0; i-- {
		l := tr.Layers[i]
		fmt.Fprintf(w, "\nlayer %s %s\n", l.Path, l.Kind)
		if l.GradOutput != nil {
			fmt.Fprintf(w, "  %s\n    %s\n", labelled(l.Labels.GradOut, l.GradOutput.Shape), f(*l.GradOutput))
		} else {
			fmt.Fprintf(w, "  dL/dy: not needed (the layer above takes token ids)\n")
		}
		for _, p := range l.Params {
			name := p.Name[strings.IndexByte(p.Name, '.')+1:]
			formula := ""
			if s, ok := l.Labels.Params[name]; ok {
				formula = " = " + s
			}
			fmt.Fprintf(w, "  dL/d%s %s%s\n    %s\n", p.Name, shapeStr(p.Grad.Shape), formula, f(p.Grad))
		}
		if l.GradInput != nil {
			fmt.Fprintf(w, "  %s\n    %s\n", labelled(l.Labels.GradIn, l.GradInput.Shape), f(*l.GradInput))
		} else {
			fmt.Fprintf(w, "  dL/dx: none (the input is token ids)\n")
		}
	}
	if st := tr.Step; st != nil {
		fmt.Fprintf(w, "\n== after one %s step (lr %s", st.Optimizer, g(st.LR))
		if st.Clipped != "" {
			fmt.Fprintf(w, "; the gradients clipped first: %s", st.Clipped)
		}
		fmt.Fprintf(w, ")\n")
		for _, p := range st.Params {
			fmt.Fprintf(w, "  %s %s\n    %s\n", p.Name, shapeStr(p.Value.Shape), f(p.Value))
		}
	}
}

// labelled writes a label such as "dL/dz = dL/dy * [z > 0] (...)" with
// the shape after its symbol, the label's first word: "dL/dz (1, 2) = ...".
func labelled(label string, shape []int) string {
	if shape == nil {
		return label
	}
	sym, rest, _ := strings.Cut(label, " ")
	if rest != "" {
		rest = " " + rest
	}
	return sym + " " + shapeStr(shape) + rest
}

// classNamesTyped reads --target as class names separated by commas
// ("setosa" or "cat,dog"), when none of them is a number; else nil.
func classNamesTyped(text string) []string {
	var names []string
	for _, f := range strings.Split(strings.Trim(strings.TrimSpace(text), "[]"), ",") {
		f = strings.Trim(strings.TrimSpace(f), `"'`)
		if _, err := strconv.ParseFloat(f, 64); err == nil || f == "" {
			return nil
		}
		names = append(names, f)
	}
	return names
}
