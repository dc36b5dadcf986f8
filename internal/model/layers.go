package model

import (
	"errors"
	"fmt"
	"reflect"

	"gopkg.in/yaml.v3"

	"github.com/nettrain/nettrain/internal/backprop"
)

// LayerConfig is one entry of model.layers: either a bare kind ("relu") or a
// one-key mapping from the kind to its parameters ({dense: {units: 256}}).
type LayerConfig struct {
	Kind   string
	Params any // pointer to the kind's params struct; nil for kinds without parameters

	node, paramsNode *yaml.Node
}

// layerKind is one registry entry: how to decode a kind's parameters and
// how to turn them and an input shape into a validated backprop.Spec.
type layerKind struct {
	// params returns a new params struct holding the kind's defaults, or
	// nil when the kind takes no parameters.
	params func() any
	// build checks the parameters against the per-sample input shape and
	// returns the layer's Spec. Errors about one parameter are keyErrs.
	// Kinds that need facts about the data (a vocabulary size, the number
	// of classes) read them from info, and return errNeedsData while info
	// is not known yet.
	build func(p any, in []int, info *DataInfo) (backprop.Spec, error)
	// link, when set, adapts the built spec to the spec of the layer before
	// it (an lstm after a onehot layer reads one-hot rows); it sees a valid
	// pair of specs and cannot fail. Nil for most kinds.
	link func(spec, prev backprop.Spec) backprop.Spec
	// doc is a one-line description for the README and `--help`.
	doc string
}

// DataInfo is what the model may take from the data: the sample shape (when
// model.input is omitted), the number of classes (dense units: classes) and
// the vocabulary size of token data (embedding, onehot).
type DataInfo struct {
	Input   []int
	Classes int
	Vocab   int
	// Tokens is true when the samples are token ids (text).
	Tokens bool
}

// errNeedsData defers building the graph until the data is loaded.
var errNeedsData = errors.New("needs the data")

// keyError is a problem with one parameter of a layer.
type keyError struct{ key, msg string }

func (e *keyError) Error() string { return e.key + ": " + e.msg }

func keyErr(key, format string, args ...any) error {
	return &keyError{key, fmt.Sprintf(format, args...)}
}

// kinds is the layer registry: a layer kind is known here and in its own
// file in package backprop, nowhere else.
var kinds = map[string]layerKind{}

func registerLayer(name string, k layerKind) { kinds[name] = k }

// LayerKinds lists the known layer kinds.
func LayerKinds() []string {
	names := make([]string, 0, len(kinds))
	for n := range kinds {
		names = append(names, n)
	}
	return names
}

func (l *LayerConfig) decodeNode(d *decoder, n *yaml.Node, path string) error {
	l.node = n
	var kindNode, params *yaml.Node
	switch {
	case n.Kind == yaml.ScalarNode && !isNull(n):
		kindNode = n
	case n.Kind == yaml.MappingNode && len(n.Content) == 2:
		kindNode, params = n.Content[0], resolve(n.Content[1])
	case n.Kind == yaml.MappingNode:
		keys := []string{}
		for i := 0; i < len(n.Content); i += 2 {
			keys = append(keys, n.Content[i].Value)
		}
		return d.errIn(n, path, "a layer is one kind with its parameters, e.g. {dense: {units: 10}}; got %d keys %v (indent the parameters under the kind)", len(keys), keys)
	default:
		return d.errAt(n, path, "expected a layer such as relu or {dense: {units: 10}}, got %s", describe(n))
	}
	l.Kind = kindNode.Value
	k, ok := kinds[l.Kind]
	if !ok {
		return d.errAt(kindNode, path, "unknown layer kind %q%s; known: %s", l.Kind, didYouMean(l.Kind, LayerKinds()), oneOf(LayerKinds()))
	}
	l.paramsNode = params
	if k.params == nil {
		if params != nil && !isNull(params) && !(params.Kind == yaml.MappingNode && len(params.Content) == 0) {
			return d.errAt(params, path+"."+l.Kind, "%s takes no parameters, got %s", l.Kind, describe(params))
		}
		return nil
	}
	l.Params = k.params()
	if params == nil || isNull(params) {
		return nil
	}
	return d.decodeStruct(params, reflect.ValueOf(l.Params).Elem(), path+"."+l.Kind)
}

// MarshalJSON encodes the kind with its parameters (for the config hash).
func (l LayerConfig) MarshalJSON() ([]byte, error) {
	return jsonMarshal(map[string]any{l.Kind: l.Params})
}

// Graph is a validated network: the input shape and one Spec per layer.
type Graph struct {
	Input []int
	Specs []backprop.Spec
	Loss  string
}

func (c *Config) buildGraph(d *decoder, modelNode *yaml.Node, info *DataInfo) (*Graph, error) {
	_, inNode := keyNode(modelNode, "input")
	if inNode == nil {
		inNode = modelNode
	}
	input := c.Model.Input
	if len(input) == 0 {
		if info == nil {
			return nil, nil // taken from the data once it is loaded
		}
		input = info.Input
	}
	size := 1.0
	for i, v := range input {
		if v < 1 {
			return nil, d.errAt(inNode, "model.input", "every dimension must be at least 1, got %d at position %d", v, i)
		}
		size *= float64(v)
	}
	if size > maxValues {
		return nil, d.errAt(inNode, "model.input", "%v is %.3g values per sample, more than nettrain supports (2^40)", input, size)
	}
	if len(c.Model.Layers) == 0 {
		_, ln := keyNode(modelNode, "layers")
		if ln == nil {
			ln = modelNode
		}
		return nil, d.errAt(ln, "model.layers", "required: at least one layer")
	}
	g := &Graph{Input: input, Loss: c.Loss}
	in := input
	for i, l := range c.Model.Layers {
		spec, err := kinds[l.Kind].build(l.Params, in, info)
		if err == errNeedsData {
			return nil, nil
		}
		if err != nil {
			where := fmt.Sprintf("layer %d (%s)", i, l.Kind)
			if ke, ok := err.(*keyError); ok {
				kn, vn := keyNode(l.paramsNode, ke.key)
				if vn == nil {
					vn = kn
				}
				if vn == nil {
					vn = l.node
				}
				return nil, d.withOverrides(d.errAt(vn, where, "%s: %s", ke.key, ke.msg), fmt.Sprintf("model.layers.%d", i))
			}
			return nil, d.withOverrides(d.errAt(l.node, where, "%v", err), "model")
		}
		if i > 0 && backprop.DiscreteInput([]backprop.Spec{spec}) {
			return nil, d.withOverrides(d.errAt(l.node, where(i, l.Kind), "takes token ids, so it must be the first layer"), "model")
		}
		if link := kinds[l.Kind].link; link != nil && i > 0 {
			spec = link(spec, g.Specs[i-1])
		}
		g.Specs = append(g.Specs, spec)
		in = spec.OutShape()
		if err := checkSize(spec); err != nil {
			return nil, d.withOverrides(d.errAt(l.node, where(i, l.Kind), "%v", err), "model")
		}
	}
	last := c.Model.Layers[len(c.Model.Layers)-1]
	if c.Loss == backprop.CrossEntropy && last.Kind == "softmax" {
		return nil, d.withOverrides(d.errAt(last.node, fmt.Sprintf("layer %d (softmax)", len(c.Model.Layers)-1),
			"cross_entropy takes logits and applies softmax itself (as torch.nn.CrossEntropyLoss); remove this softmax layer, or use loss mse or half_sse on probabilities"), "model", "loss")
	}
	return g, nil
}

func where(i int, kind string) string { return fmt.Sprintf("layer %d (%s)", i, kind) }

// maxValues bounds a layer's output per sample and its parameters (2^40
// values, terabytes): beyond it products of sizes could overflow.
const maxValues = 1 << 40

// checkSize refuses shapes too large to be real, before anything overflows.
func checkSize(s backprop.Spec) error {
	size := func(dims []int) float64 {
		p := 1.0
		for _, d := range dims {
			p *= float64(d)
		}
		return p
	}
	if v := size(s.OutShape()); v > maxValues {
		return fmt.Errorf("the output %v has %.3g values per sample, more than nettrain supports (2^40)", s.OutShape(), v)
	}
	params := 0.0
	for _, p := range s.Params() {
		params += size(p.Shape)
	}
	if params > maxValues {
		return fmt.Errorf("%.3g parameters, more than nettrain supports (2^40)", params)
	}
	return nil
}
