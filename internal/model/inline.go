package model

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/nettrain/nettrain/internal/backprop"
)

// Parameters typed in the config: any layer may give the values of its
// parameter tensors under their names (the layer's backprop.ParamSpec
// names, PyTorch's: weight, bias, weight_ih_l0, ...), as nested lists in
// row-major order:
//
//	- dense: {units: 2, weight: [[0.1, 0.2], [0.3, 0.4]], bias: [0, 0]}
//
// Decoding takes every key of a layer's parameters whose value is a list
// and that is not one of the kind's list-valued options (kernel: [3, 3])
// as such a tensor; a boolean option of the same name (dense's bias: true)
// gives way to it. Build checks each against the layer's parameters once
// the layer's shapes are known, so a kind added later gets this for free.

// Given is a parameter tensor typed in the config.
type Given struct {
	Name   string    // the layer's parameter name, e.g. "weight"
	Shape  []int     // as the nested lists give it
	Values []float64 // row-major, exactly as strconv.ParseFloat(.., 64) reads them
}

// inlineParam is a parameter given in a layer's mapping, decoded.
type inlineParam struct {
	Given
	key, node *yaml.Node
}

// isInline reports whether key (with value val) of a layer's parameters
// is a parameter tensor rather than an option of the kind: a list under a
// key the kind does not take, or under a boolean option (bias).
func isInline(params reflect.Type, key string, val *yaml.Node) bool {
	if val == nil || val.Kind != yaml.SequenceNode {
		return false
	}
	idx, _ := fieldsOf(params)
	fi, ok := idx[key]
	if !ok {
		return true
	}
	ft := params.FieldByIndex(fi).Type
	for ft.Kind() == reflect.Pointer {
		ft = ft.Elem()
	}
	return ft.Kind() == reflect.Bool
}

// decodeInline reads a parameter tensor given under key: a nested list.
func (d *decoder) decodeInline(key, n *yaml.Node, path string) (inlineParam, error) {
	t, err := d.decodeTensor(n, path, false)
	if err != nil {
		return inlineParam{}, err
	}
	return inlineParam{Given: Given{Name: key.Value, Shape: t.Shape, Values: t.Values}, key: key, node: n}, nil
}

// Tensor is a tensor typed in a config (trace.input) or on the command
// line (trace --input): its shape and row-major values, exactly as
// strconv.ParseFloat(.., 64) reads them. A single number has shape [].
type Tensor struct {
	Shape  []int     `json:"shape"`
	Values []float64 `json:"values"`
}

// decodeNode reads a number or a nested list of numbers.
func (t *Tensor) decodeNode(d *decoder, n *yaml.Node, path string) error {
	v, err := d.decodeTensor(n, path, true)
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// ParseTensor reads a tensor given on the command line by flag (for
// messages): a number, a nested list in JSON or YAML flow syntax
// ("[[1, 2], [3, 4]]"), or numbers separated by commas ("0.3,-0.1"), a
// list.
func ParseTensor(flag, text string) (*Tensor, error) {
	src := strings.TrimSpace(text)
	if src == "" {
		return nil, fmt.Errorf("%s: empty; want a number or a list such as [0.5, -1] or 0.5,-1", flag)
	}
	shift := strings.Index(text, src) // columns of src in text
	if !strings.HasPrefix(src, "[") && strings.Contains(src, ",") {
		src = "[" + src + "]"
		shift--
	}
	var doc yaml.Node
	if err := unmarshalOne("", []byte(src), &doc); err != nil || len(doc.Content) != 1 {
		msg := "not a number or a list"
		var second *Error
		switch {
		case errors.As(err, &second):
			// yaml.Unmarshal would keep the first document alone.
			msg = fmt.Sprintf("a second YAML document starts on line %d", second.Line)
		case err != nil:
			msg = strings.TrimPrefix(err.Error(), "yaml: ")
		}
		return nil, fmt.Errorf("%s %q: %s; want a number or a list such as [[0.5, -1], [2, 0]] (JSON or YAML flow syntax)", flag, text, msg)
	}
	d := &decoder{file: flag}
	t, err := d.decodeTensor(doc.Content[0], "", true)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return nil, fmt.Errorf("%s %q: at column %d: %s", flag, text, e.Col+shift, e.Msg)
		}
		return nil, err
	}
	return &t, nil
}

// decodeTensor reads a nested list of numbers (or, with scalar, also a
// single number): its shape and row-major values. Ragged lists, empty
// lists and anything but finite numbers are errors at the offending node.
func (d *decoder) decodeTensor(n *yaml.Node, path string, scalar bool) (Tensor, error) {
	var p Tensor
	n = resolve(n)
	if n.Kind != yaml.SequenceNode && !scalar {
		return p, d.errAt(n, path, "expected a list of numbers, got %s", describe(n))
	}
	var walk func(n *yaml.Node, depth int, at string) error
	walk = func(n *yaml.Node, depth int, at string) error {
		if d.visits++; d.visits > maxVisits {
			return d.errAt(n, at, "the config expands to more than %d values", maxVisits)
		}
		n = resolve(n)
		if n.Kind == yaml.SequenceNode {
			if len(n.Content) == 0 {
				return d.errAt(n, at, "an empty list; a tensor needs values")
			}
			switch {
			case depth == len(p.Shape) && len(p.Values) == 0:
				p.Shape = append(p.Shape, len(n.Content))
			case depth >= len(p.Shape):
				return d.errAt(n, at, "a list where the rows before it have a number (the nesting must be the same throughout)")
			case p.Shape[depth] != len(n.Content):
				return d.errAt(n, at, "a list of %d where the lists before it at this depth have %d (every row must have the same length)", len(n.Content), p.Shape[depth])
			}
			for i, c := range n.Content {
				if err := walk(c, depth+1, fmt.Sprintf("%s[%d]", at, i)); err != nil {
					return err
				}
			}
			return nil
		}
		if depth != len(p.Shape) {
			return d.errAt(n, at, "%s where the rows before it have lists (the nesting must be the same throughout)", describe(n))
		}
		v, err := inlineNumber(n)
		if err != nil {
			return d.errAt(n, at, "%v", err)
		}
		p.Values = append(p.Values, v)
		return nil
	}
	if err := walk(n, 0, path); err != nil {
		return Tensor{}, err
	}
	return p, nil
}

// inlineNumber reads one value of a parameter tensor: a finite number.
func inlineNumber(n *yaml.Node) (float64, error) {
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") {
		return 0, fmt.Errorf("expected a number, got %s", describe(n))
	}
	v, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("expected a finite number, got %s", n.Value)
	}
	return v, nil
}

// checkGiven matches a layer's inline parameters with its spec's
// parameters: each must name one, with its shape.
func checkGiven(d *decoder, l LayerConfig, lname string, spec backprop.Spec) ([]Given, error) {
	if len(l.inline) == 0 {
		return nil, nil
	}
	params := spec.Params()
	var names, described []string
	for _, p := range params {
		names = append(names, p.Name)
		described = append(described, p.Name+" "+ShapeText(p.Shape))
	}
	var options []string
	if l.Params != nil {
		_, options = fieldsOf(reflect.TypeOf(l.Params).Elem())
	}
	var given []Given
	for _, in := range l.inline {
		var ps *backprop.ParamSpec
		for k := range params {
			if params[k].Name == in.Name {
				ps = &params[k]
			}
		}
		if ps == nil {
			takes := "no parameters"
			if len(described) > 0 {
				takes = "the parameters " + strings.Join(described, ", ")
			}
			return nil, d.withOverrides(d.errAt(in.key, where(lname, l.Kind), "%s: unknown key%s; %s takes the options %s and %s",
				in.Name, didYouMean(in.Name, append(names, options...)), l.Kind, strings.Join(options, ", "), takes), "model")
		}
		if !slices.Equal(in.Shape, ps.Shape) {
			return nil, d.withOverrides(d.errAt(in.node, where(lname, l.Kind), "%s: the values given have shape %s, but the layer's %s is %s%s",
				in.Name, ShapeText(in.Shape), in.Name, ShapeText(ps.Shape), shapeHint(spec, ps.Name)), "model")
		}
		given = append(given, in.Given)
	}
	return given, nil
}

// ShapeText writes a shape as (2, 3), the way the layer table does.
func ShapeText(s []int) string {
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = strconv.Itoa(v)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// shapeHint says what a parameter's axes are, for the common kinds.
func shapeHint(spec backprop.Spec, name string) string {
	switch spec.Kind() + "." + name {
	case "dense.weight":
		return ": one row per unit, one column per input"
	case "conv2d.weight":
		return ": filters x input channels x kernel height x kernel width"
	case "dense.bias", "conv2d.bias":
		return ": one per " + map[string]string{"dense": "unit", "conv2d": "filter"}[spec.Kind()]
	}
	if strings.HasPrefix(name, "weight_ih") || strings.HasPrefix(name, "weight_hh") || strings.HasPrefix(name, "bias_") {
		return ": the gates i, f, g, o stacked (4 x units rows), as PyTorch's nn.LSTM"
	}
	return ""
}
