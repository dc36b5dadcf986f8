package inspect

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/train"
)

// Literal is a tensor typed in by hand: trace's --input, --target and
// --output-grad, or the config's trace.input, trace.target and
// trace.output_grad.
type Literal struct {
	*model.Tensor
	// Key names it in messages: a flag ("--input") or a config key
	// ("trace.input"), which messages locate at its line and column.
	Key string
	// Names, when not nil, are class names typed in for a target
	// (--target setosa): classNames turns them into the class ids.
	Names []string
}

// classNames sets a target typed in as class names to their ids among
// the model's classes: the data must name its classes (CSV labels, image
// folders), and each name must be one of them.
func (l *Literal) classNames(cfg *model.Config, classes []string) error {
	if l == nil || l.Names == nil {
		return nil
	}
	if len(classes) == 0 {
		return l.errf(cfg, "%q: class names need a model whose data names its classes (CSV labels, image folders); give class ids", strings.Join(l.Names, ","))
	}
	t := &model.Tensor{Shape: []int{len(l.Names)}}
	for _, name := range l.Names {
		i := slices.Index(classes, name)
		if i < 0 {
			return l.errf(cfg, "%q is not a class of the model%s; its classes: %s", name, model.DidYouMean(name, classes), strings.Join(classes[:min(len(classes), 20)], ", "))
		}
		t.Values = append(t.Values, float64(i))
	}
	l.Tensor = t
	return nil
}

// errf returns an error about the literal: the flag's (a FlagError), or
// located at the config key.
func (l *Literal) errf(cfg *model.Config, format string, args ...any) error {
	if strings.HasPrefix(l.Key, "--") {
		return model.FlagError{Err: fmt.Errorf("%s: %s", l.Key, fmt.Sprintf(format, args...))}
	}
	return cfg.KeyError(l.Key, format, args...)
}

// samples returns how many samples of per values each the literal holds:
// a tensor of the sample shape is one sample, one with an extra leading
// axis a list of samples, and a flat list of a multiple of per values (or
// a single number, when a sample has one value) is viewed in the sample
// shape (as data is). what names the shape in
// messages.
func (l *Literal) samples(cfg *model.Config, shape []int, what string) (int, error) {
	per := backprop.Prod(shape)
	got := l.Shape
	switch {
	case slices.Equal(got, shape):
		return 1, nil
	case len(got) == len(shape)+1 && slices.Equal(got[1:], shape):
		return got[0], nil
	case len(got) <= 1 && len(l.Values)%per == 0:
		return len(l.Values) / per, nil
	}
	return 0, l.errf(cfg, "has shape %s, but %s is %s: give one sample of that shape, a list of them, or its %d values in a flat list",
		model.ShapeText(got), what, model.ShapeText(shape), per)
}

// literalSplit is the split of samples typed in: inputs as given, targets
// as given (zeros when backprop starts from a given output gradient).
type literalSplit struct {
	n, in   int
	x       []float64
	labels  []int32   // per sample: positions labels; nil for values
	values  []float64 // per sample: out values; nil for labels
	perLab  int
	perVals int
}

func (s *literalSplit) Len() int { return s.n }

func (s *literalSplit) Fill(pos []int, x []float64, labels []int32, values []float64) {
	for r, p := range pos {
		copy(x[r*s.in:(r+1)*s.in], s.x[p*s.in:(p+1)*s.in])
		if labels != nil && s.labels != nil {
			copy(labels[r*s.perLab:(r+1)*s.perLab], s.labels[p*s.perLab:(p+1)*s.perLab])
		}
		if values != nil && s.values != nil {
			copy(values[r*s.perVals:(r+1)*s.perVals], s.values[p*s.perVals:(p+1)*s.perVals])
		}
	}
}

// literalInput is the batch of samples typed in (o.Input), with the
// target typed in (o.Target) or none when backprop starts from a given
// output gradient.
func literalInput(m *train.Model[float64], o TraceOptions) (input, error) {
	cfg, g := m.Config, m.Graph
	lit := o.Literal
	n, err := lit.samples(cfg, g.Input, "the model's input (model.input)")
	if err != nil {
		return input{}, err
	}
	if vocab := tokenVocab(g); vocab > 0 {
		for i, v := range lit.Values {
			if v != math.Trunc(v) || v < 0 || v >= float64(vocab) {
				return input{}, lit.errf(cfg, "entry %d is %g, but the model takes token ids, whole numbers from 0 to %d", i, v, vocab-1)
			}
		}
	}
	s := &literalSplit{n: n, in: backprop.Prod(g.Input), x: lit.Values}
	classes := m.Classes()
	out := g.OutShape()
	if classes > 0 {
		s.perLab = backprop.Prod(out) / classes
	}
	s.perVals = backprop.Prod(out)
	key := lit.Key
	where := fmt.Sprintf("the %d sample(s) given by %s", n, key)
	if !strings.HasPrefix(key, "--") {
		where = fmt.Sprintf("the %d sample(s) of %s in %s", n, key, cfg.File)
	}
	switch {
	case o.Target != nil:
		if err := setTarget(cfg, s, o.Target, classes, out, n); err != nil {
			return input{}, err
		}
	case o.OutputGrad == nil:
		return input{}, lit.errf(cfg, "a sample typed in has no target: give one (--target or trace.target: a class id for cross_entropy, else the output values) or start backprop from a given output gradient (--output-grad or trace.output_grad)")
	default: // the loss is not used: zero targets
		if classes > 0 {
			s.labels = make([]int32, n*s.perLab)
		} else {
			s.values = make([]float64, n*s.perVals)
		}
	}
	return input{split: s, n: n, classes: classes, source: where}, nil
}

// setTarget sets the targets of a literal split from t: class ids for
// classes > 0 (one per sample and output position), else output values.
func setTarget(cfg *model.Config, s *literalSplit, t *Literal, classes int, out []int, n int) error {
	if classes > 0 {
		if len(t.Values) != n*s.perLab {
			return t.errf(cfg, "has %d value(s), but the %d sample(s) need %d class id(s) (one per sample%s)", len(t.Values), n, n*s.perLab,
				map[bool]string{true: " and output position", false: ""}[s.perLab > 1])
		}
		s.labels = make([]int32, len(t.Values))
		for i, v := range t.Values {
			if v != math.Trunc(v) || v < 0 || v >= float64(classes) {
				return t.errf(cfg, "entry %d is %g, but class ids are whole numbers from 0 to %d (the loss is cross_entropy)", i, v, classes-1)
			}
			s.labels[i] = int32(v)
		}
		return nil
	}
	if len(t.Values) != n*s.perVals {
		return t.errf(cfg, "has %d value(s), but the output of %d sample(s) has %d (shape %s per sample)", len(t.Values), n, n*s.perVals, model.ShapeText(out))
	}
	s.values = t.Values
	return nil
}

// overrideTarget replaces the targets of data samples by t (--target on
// the training data or a data file).
type overrideTarget struct {
	train.Split[float64]
	t *literalSplit
}

func (s overrideTarget) Fill(pos []int, x []float64, labels []int32, values []float64) {
	s.Split.Fill(pos, x, labels, values)
	for r := range pos {
		if labels != nil {
			copy(labels[r*s.t.perLab:(r+1)*s.t.perLab], s.t.labels[r*s.t.perLab:(r+1)*s.t.perLab])
		}
		if values != nil {
			copy(values[r*s.t.perVals:(r+1)*s.t.perVals], s.t.values[r*s.t.perVals:(r+1)*s.t.perVals])
		}
	}
}

// tokenVocab is the vocabulary of a model that takes token ids, else 0.
func tokenVocab(g *model.Graph) int {
	switch first := g.Specs[0].(type) {
	case backprop.EmbeddingSpec:
		return first.Vocab
	case backprop.OneHotSpec:
		return first.Vocab
	}
	return 0
}

// WithConfig completes trace options given by flags with the config's
// trace section: trace.input when no input was given (neither a file nor
// a sample), trace.target and trace.output_grad when their flags were not
// given, except that a flag on one side drops the config's key on the
// other (--target replaces trace.output_grad, --output-grad trace.target:
// both say where backprop starts).
func (o TraceOptions) WithConfig(cfg *model.Config) TraceOptions {
	tc := cfg.Trace
	if tc == nil {
		return o
	}
	if o.Input == "" && o.Literal == nil && tc.Input != nil {
		o.Literal = &Literal{Tensor: tc.Input, Key: "trace.input"}
	}
	flagTarget, flagGrad := o.Target != nil, o.OutputGrad != nil
	if !flagTarget && !flagGrad {
		if tc.Target != nil {
			o.Target = &Literal{Tensor: tc.Target, Key: "trace.target"}
		}
		if tc.OutputGrad != nil {
			o.OutputGrad = &Literal{Tensor: tc.OutputGrad, Key: "trace.output_grad"}
		}
	}
	return o
}
