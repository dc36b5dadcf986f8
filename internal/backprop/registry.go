package backprop

import (
	"errors"
	"fmt"
	"slices"
	"sort"
)

// The layer registry: every layer kind a config can name is registered
// here, from its own file, by an init function next to its Spec, Forward
// and Backward. The config decoder (package model) knows kinds only
// through this registry: adding a kind touches its own file and nothing
// else.

// Kind is one entry of the layer registry: how a config's parameters for
// the kind are decoded and turned into a validated Spec.
type Kind struct {
	// Params returns a new parameter struct holding the kind's defaults
	// (its fields' yaml tags name the config keys; a field whose type is a
	// ParamValue decodes itself), or nil when the kind takes no
	// parameters.
	Params func() any
	// Build checks the parameters (as Params returned them, decoded)
	// against the per-sample input shape and returns the layer's Spec.
	// Errors about one parameter are *ParamError (ParamErr), so that the
	// decoder reports them at that key's line and column. A kind that
	// takes a size from the data (the number of classes, a vocabulary)
	// reads it from info and returns a *NeedsDataError while info is nil.
	Build func(p any, in []int, info *DataInfo) (Spec, error)
	// Link, when set, adapts the built spec to the spec of the layer
	// before it (an lstm after a onehot layer reads one-hot rows); it sees
	// a valid pair of specs and cannot fail. Nil for most kinds.
	Link func(spec, prev Spec) Spec
	// Block marks a kind whose parameters hold a nested list of layers
	// (residual): the config gives `kind: [layers...]` or `kind: {layers:
	// [...], other keys}`; the decoder builds those layers, in order, from
	// the block's input shape and hands their specs to the parameters
	// (which implement BlockParams) before Build.
	Block bool
	// Doc is a one-line description.
	Doc string
	// Trace names the layer's quantities in `nettrain trace`; the zero
	// value reads "y" for the output, "dL/dy" for the gradient arriving
	// from above and "dL/dx" for the one passed below.
	Trace TraceDoc
}

// TraceDoc names a layer's output and gradients for a reader following
// backprop on paper. An affine layer (dense, conv2d) computes the
// pre-activation z, so the gradient arriving at its output is dL/dz, the
// textbook delta; an activation y = f(z) receives dL/dy and passes the
// delta dL/dz = dL/dy * f'(z) below. Empty fields read as the zero
// value's.
type TraceDoc struct {
	Out     string `json:"out"`      // the output, e.g. "z = W x + b (pre-activation)"
	GradOut string `json:"grad_out"` // the gradient at the output, e.g. "dL/dz = delta, the textbook delta (from above)"
	GradIn  string `json:"grad_in"`  // the gradient passed below, with its formula
	// Params maps a parameter name to its gradient's formula.
	Params map[string]string `json:"params,omitempty"`
}

// Parent is a Spec holding inner layers (a residual block): Children are
// their specs and ChildNames their state_dict prefixes inside the layer
// ("body.0", "projection").
type Parent interface {
	Children() []Spec
	ChildNames() []string
}

// required is the note a size-like parameter's error adds when the value
// is 0, the value of a key the config did not give: " (required: what)".
func required(v int, what string) string {
	if v != 0 {
		return ""
	}
	return " (required: " + what + ")"
}

// Walk calls f for every spec of specs and, depth first, of their
// children, with its path of state_dict indexes ("3", "3.body.1").
func Walk(specs []Spec, f func(path string, s Spec)) {
	for i, s := range specs {
		walk(fmt.Sprint(i), s, f)
	}
}

func walk(path string, s Spec, f func(string, Spec)) {
	f(path, s)
	if p, ok := s.(Parent); ok {
		names := p.ChildNames()
		for j, c := range p.Children() {
			walk(path+"."+names[j], c, f)
		}
	}
}

var kinds = map[string]Kind{}

// Register adds a layer kind under the name configs use. It panics when
// the name is taken or the entry has no Build (programmer errors, found at
// start-up).
func Register(name string, k Kind) {
	if _, dup := kinds[name]; dup {
		panic("backprop: layer kind " + name + " registered twice")
	}
	if k.Build == nil {
		panic("backprop: layer kind " + name + " has no Build")
	}
	kinds[name] = k
}

// LookupKind returns the registered kind of that name.
func LookupKind(name string) (Kind, bool) {
	k, ok := kinds[name]
	return k, ok
}

// KindNames lists the registered layer kinds, sorted.
func KindNames() []string {
	names := make([]string, 0, len(kinds))
	for n := range kinds {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// DataInfo is what a layer may take from the data: the sample shape (when
// model.input is omitted), the number of classes (dense units: classes)
// and the vocabulary size of token data (embedding, onehot).
type DataInfo struct {
	Input   []int
	Classes int
	Vocab   int
	// Tokens is true when the samples are token ids (text).
	Tokens bool
}

// needsSequence is the error of a layer over time (lstm, gru, conv1d,
// pool1d) given an input of another rank than (time steps, features),
// with what most likely gave it: text's token ids (no embedding), the
// data's vectors (a CSV's features), or a layer below that keeps only the
// last step (an lstm or gru without return_sequences), or a flattened one.
func needsSequence(in []int, info *DataInfo) error {
	msg := fmt.Sprintf("needs a sequence input (time steps, features), got %v", in)
	switch {
	case len(in) != 1:
	case info != nil && info.Tokens && slices.Equal(in, info.Input):
		msg += ": text's samples are token ids; put an embedding or onehot layer first"
	case info != nil && slices.Equal(in, info.Input):
		msg += ": the data gives one vector per sample (a CSV's feature columns, say); read a CSV series in windows with data.sequence"
	case info != nil:
		msg += ": the layer below gives one vector per sample; an lstm or gru below passes every step with return_sequences: true"
	default:
		msg += ": one vector per sample; an lstm or gru below passes every step with return_sequences: true, and text needs an embedding or onehot layer first"
	}
	return errors.New(msg)
}

// ParamError is a problem with one parameter of a layer: Key names it.
type ParamError struct{ Key, Msg string }

func (e *ParamError) Error() string { return e.Key + ": " + e.Msg }

// ParamErr returns a *ParamError for key with a formatted message.
func ParamErr(key, format string, args ...any) error {
	return &ParamError{key, fmt.Sprintf(format, args...)}
}

// NeedsDataError is returned by Build when info is nil and the layer takes
// a size from the data: Key is the parameter, What says what it takes.
type NeedsDataError struct{ Key, What string }

func (e *NeedsDataError) Error() string { return e.Key + ": " + e.What }

// ParamValue is a parameter type that decodes itself from the config: a
// size given as 5 or [3, 5], padding "same", units: classes.
type ParamValue interface {
	DecodeParam(n ParamNode) error
}

// ParamNode is one value of a layer's parameters as the config decoder
// hands it to a ParamValue. Errors it returns are located at the value
// (file, line and column, or the --set override it came from).
type ParamNode interface {
	// IsInt reports whether the value is an integer.
	IsInt() bool
	// Int decodes the value as an integer.
	Int() (int, error)
	// String returns the value when it is a string.
	String() (string, bool)
	// List returns the elements of a list (nil when it is not one).
	List() []ParamNode
	// Describe names the value for messages: `"full"`, "a list of 3".
	Describe() string
	// Errorf returns an error located at the value.
	Errorf(format string, args ...any) error
}
