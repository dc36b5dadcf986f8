package main

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/finitejson"
	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/train"
)

// SummaryOptions are the parsed arguments of `nettrain summary`.
type SummaryOptions struct {
	IO     *IOStreams
	Config string
	Sets   []string
	JSON   bool
}

// NewCmdSummary builds `nettrain summary`.
func NewCmdSummary(s *IOStreams, runF func(*SummaryOptions) error) *cobra.Command {
	opts := &SummaryOptions{IO: s}
	cmd := &cobra.Command{
		Use:   "summary CONFIG",
		Short: "Show each layer's output shape and parameter count",
		Args:  configArg,
		RunE: func(c *cobra.Command, args []string) error {
			opts.Config = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runSummary(opts)
		},
	}
	addSetFlag(cmd, &opts.Sets)
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON")
	return cmd
}

// LayerSummary is one row of the summary.
type LayerSummary struct {
	Index  int            `json:"index"`
	Kind   string         `json:"kind"`
	Input  []int          `json:"input_shape"`
	Output []int          `json:"output_shape"`
	Params int            `json:"params"`
	Shapes map[string]any `json:"param_shapes,omitempty"`
	// Weights and Biases split Params: a parameter whose name starts
	// with "bias" is a bias (one per unit or filter; an LSTM's per gate
	// row), every other one a weight (a conv2d's filters x in_channels x
	// kernel height x kernel width).
	Weights int `json:"weights"`
	Biases  int `json:"biases"`
	// WeightShapes and BiasShapes are the parameter shapes of each kind,
	// in state_dict order.
	WeightShapes [][]int `json:"weight_shapes,omitempty"`
	BiasShapes   [][]int `json:"bias_shapes,omitempty"`
	// Path is the layer's state_dict prefix: "3", or "3.body.1" for a
	// layer inside block 3 (Inner), whose parameters its block's row
	// counts too.
	Path  string `json:"path"`
	Inner bool   `json:"inner,omitempty"`
}

// Summary is the whole table.
type Summary struct {
	Name        string         `json:"name"`
	DType       string         `json:"dtype"`
	Input       []int          `json:"input_shape"`
	Layers      []LayerSummary `json:"layers"`
	TotalParams int            `json:"total_params"`
	// TotalWeights and TotalBiases split TotalParams.
	TotalWeights int    `json:"total_weights"`
	TotalBiases  int    `json:"total_biases"`
	Loss         string `json:"loss"`
}

// Summarize lists the layers of a config's model graph g.
func Summarize(cfg *model.Config, g *model.Graph) Summary {
	s := Summary{Name: cfg.Name, DType: cfg.DType, Input: g.Input, Loss: g.Loss}
	for i, sp := range g.Specs {
		backprop.Walk([]backprop.Spec{sp}, func(path string, sp backprop.Spec) {
			inner := path != "0"
			if inner {
				path = fmt.Sprint(i) + path[1:]
			} else {
				path = fmt.Sprint(i)
			}
			ls := LayerSummary{Index: i, Kind: sp.Kind(), Input: sp.InShape(), Output: sp.OutShape(), Path: path, Inner: inner}
			for _, p := range sp.Params() {
				if ls.Shapes == nil {
					ls.Shapes = map[string]any{}
				}
				ls.Shapes[p.Name] = p.Shape
				size := backprop.Prod(p.Shape)
				ls.Params += size
				// The parameter's own name, after a block's prefix
				// ("body.0.bias").
				if name := p.Name[strings.LastIndex(p.Name, ".")+1:]; strings.HasPrefix(name, "bias") {
					ls.Biases += size
					ls.BiasShapes = append(ls.BiasShapes, p.Shape)
				} else {
					ls.Weights += size
					ls.WeightShapes = append(ls.WeightShapes, p.Shape)
				}
			}
			if !inner {
				s.TotalParams += ls.Params
				s.TotalWeights += ls.Weights
				s.TotalBiases += ls.Biases
			}
			s.Layers = append(s.Layers, ls)
		})
	}
	return s
}

func runSummary(o *SummaryOptions) error {
	cfg, err := model.Load(o.Config, o.Sets)
	if err != nil {
		return err
	}
	g, err := train.Graph(cfg)
	if err != nil {
		return err
	}
	s := Summarize(cfg, g)
	if o.JSON {
		return writeJSON(o.IO.Out, s)
	}
	printSummary(o.IO.Out, s)
	return nil
}

func printSummary(w io.Writer, s Summary) {
	fmt.Fprintf(w, "Model %q (%s), input %s, loss %s\n", s.Name, s.DType, shapeStr(s.Input), s.Loss)
	rows := [][]string{{"#", "layer", "output shape", "weights", "biases", "params"}}
	for _, l := range s.Layers {
		kind := l.Kind
		if l.Inner {
			kind = strings.Repeat("  ", (strings.Count(l.Path, ".")+1)/2) + l.Kind
		}
		weights, biases := sizes(l.WeightShapes, l.Weights), sizes(l.BiasShapes, l.Biases)
		if len(l.WeightShapes)+len(l.BiasShapes) > 3 {
			// A block: its inner rows list the shapes; here the totals.
			weights, biases = commas(l.Weights), commas(l.Biases)
		}
		rows = append(rows, []string{l.Path, kind, shapeStr(l.Output), weights, biases, commas(l.Params)})
	}
	printTable(w, rows, []bool{false, false, false, false, false, true})
	fmt.Fprintf(w, "Total parameters: %s (%s weights, %s biases)\n", commas(s.TotalParams), commas(s.TotalWeights), commas(s.TotalBiases))
}

// sizes writes parameter shapes and their total: "32x3x5x5 = 2,400" (a
// conv2d's filters x in_channels x kh x kw), "32" for one vector,
// "128x1 + 128x32 = 4,224" for several; empty without any.
func sizes(shapes [][]int, total int) string {
	if len(shapes) == 0 {
		return ""
	}
	parts := make([]string, len(shapes))
	for i, sh := range shapes {
		d := make([]string, len(sh))
		for k, v := range sh {
			d[k] = commas(v)
		}
		parts[i] = strings.Join(d, "x")
	}
	if len(shapes) == 1 && len(shapes[0]) == 1 {
		return parts[0]
	}
	return strings.Join(parts, " + ") + " = " + commas(total)
}

func shapeStr(s []int) string {
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = fmt.Sprint(v)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// commas formats n with thousands separators.
func commas(n int) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// printTable prints rows with aligned columns (right-aligned where right[i]).
func printTable(w io.Writer, rows [][]string, right []bool) {
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	for ri, r := range rows {
		var b strings.Builder
		for i, c := range r {
			if i > 0 {
				b.WriteString("  ")
			}
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c)) // columns by character, not byte
			if right[i] {
				b.WriteString(pad + c)
			} else if i == len(r)-1 {
				b.WriteString(c)
			} else {
				b.WriteString(c + pad)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
		if ri == 0 {
			total := len(widths)*2 - 2
			for _, wd := range widths {
				total += wd
			}
			fmt.Fprintln(w, strings.Repeat("-", total))
		}
	}
}

// writeJSON prints v as indented JSON; a NaN or infinite value (a model
// whose outputs overflow) is written as null.
func writeJSON(w io.Writer, v any) error { return finitejson.Encode(w, v, "  ") }
