package model

import (
	"errors"
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/nettrain/nettrain/internal/backprop"
)

// Graph is a validated network: the input shape, one Spec per layer, and
// the loss. It is immutable once Build returns it.
type Graph struct {
	Input []int
	Specs []backprop.Spec
	Loss  string
	// Given holds, per layer, the parameter values typed in the config
	// (checked against the layer's parameters and shapes); nil entries
	// for layers without any. They override the initialisers and
	// model.init_from.
	Given [][]Given
}

// OutShape is the per-sample shape of the network's output.
func (g *Graph) OutShape() []int {
	if len(g.Specs) == 0 {
		return g.Input
	}
	return g.Specs[len(g.Specs)-1].OutShape()
}

// ErrNeedsData is wrapped by Build's error when the model takes a size from
// the data (model.input omitted, units: classes, an embedding's or onehot's
// vocabulary) and no data was given: errors.Is(err, ErrNeedsData).
var ErrNeedsData = errors.New("the model takes sizes from the data")

// Build checks the config's model layer by layer against its input shape
// and returns the graph. info is what the data says (the sample shape, the
// number of classes, the vocabulary of a text); nil means there is no data,
// and then a model that takes a size from the data is an error that names
// the keys to set (wrapping ErrNeedsData). Build does not modify the
// config, and errors carry the config's line:column.
func Build(c *Config, info *DataInfo) (*Graph, error) {
	d, modelNode := c.dec, c.modelNode
	_, inNode := keyNode(modelNode, "input")
	if inNode == nil {
		inNode = modelNode
	}
	input := c.Model.Input
	if len(input) == 0 {
		if info == nil {
			e := d.errAt(inNode, "model.input", "not set, and there is no data to take the input shape from; give the per-sample input shape (e.g. [784] or [3, 32, 32]) or data.train")
			e.cause = ErrNeedsData
			return nil, e
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
		kind, _ := backprop.LookupKind(l.Kind) // decoding checked the name
		spec, err := kind.Build(l.Params, in, info)
		if err != nil {
			return nil, layerError(d, l, i, err)
		}
		if i > 0 && backprop.DiscreteInput([]backprop.Spec{spec}) {
			return nil, d.withOverrides(d.errAt(l.node, where(i, l.Kind), "takes token ids, so it must be the first layer"), "model")
		}
		if link := kind.Link; link != nil && i > 0 {
			spec = link(spec, g.Specs[i-1])
		}
		given, err := checkGiven(d, l, i, spec)
		if err != nil {
			return nil, err
		}
		g.Specs = append(g.Specs, spec)
		g.Given = append(g.Given, given)
		in = spec.OutShape()
		if err := checkSize(spec); err != nil {
			return nil, d.withOverrides(d.errAt(l.node, where(i, l.Kind), "%v", err), "model")
		}
	}
	last := c.Model.Layers[len(c.Model.Layers)-1]
	if c.Loss == backprop.CrossEntropy && last.Kind == string(backprop.Softmax) {
		return nil, d.withOverrides(d.errAt(last.node, where(len(c.Model.Layers)-1, "softmax"),
			"cross_entropy takes logits and applies softmax itself (as torch.nn.CrossEntropyLoss); remove this softmax layer, or use loss mse or half_sse on probabilities"), "model", "loss")
	}
	return g, nil
}

// layerError locates a layer's build error: at the offending parameter's
// value for a backprop.ParamError or NeedsDataError, else at the layer.
func layerError(d *decoder, l LayerConfig, i int, err error) error {
	at := func(key string) *yaml.Node {
		kn, vn := keyNode(l.paramsNode, key)
		if vn == nil {
			vn = kn
		}
		if vn == nil {
			vn = l.node
		}
		return vn
	}
	var ke *backprop.ParamError
	var nd *backprop.NeedsDataError
	switch {
	case errors.As(err, &ke):
		return d.withOverrides(d.errAt(at(ke.Key), where(i, l.Kind), "%s: %s", ke.Key, ke.Msg), fmt.Sprintf("model.layers.%d", i))
	case errors.As(err, &nd):
		e := d.errAt(at(nd.Key), where(i, l.Kind), "%s: %s, and there is no data; set %s or give data.train", nd.Key, nd.What, nd.Key)
		e.cause = ErrNeedsData
		return e
	}
	return d.withOverrides(d.errAt(l.node, where(i, l.Kind), "%v", err), "model")
}

func where(i int, kind string) string { return fmt.Sprintf("layer %d (%s)", i, kind) }
