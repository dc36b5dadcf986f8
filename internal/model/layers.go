package model

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/nettrain/nettrain/internal/backprop"
)

// LayerConfig is one entry of model.layers: either a bare kind ("relu") or a
// one-key mapping from the kind to its parameters ({dense: {units: 256}}).
type LayerConfig struct {
	Kind   string
	Params any // pointer to the kind's params struct; nil for kinds without parameters
	// Body are the inner layers of a block kind (residual), nil for others.
	Body []LayerConfig

	node, paramsNode *yaml.Node
	// inline are the parameter tensors typed in the config (see Given),
	// in the order given; Build checks them against the layer.
	inline []inlineParam
}

// DataInfo is what the model may take from the data (see
// backprop.DataInfo).
type DataInfo = backprop.DataInfo

// LayerKinds lists the known layer kinds (the backprop registry's).
func LayerKinds() []string { return backprop.KindNames() }

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
	k, ok := backprop.LookupKind(l.Kind)
	if !ok {
		// Keras's and PyTorch's name of a kind, or a close name, is
		// suggested; otherwise every known kind is listed.
		if kind, from, ok := frameworkKind(l.Kind); ok {
			return d.errAt(kindNode, path, "unknown layer kind %q (%s name; here it is %q)", l.Kind, from, kind)
		}
		if hint := didYouMean(strings.TrimPrefix(l.Kind, "nn."), LayerKinds()); hint != "" {
			return d.errAt(kindNode, path, "unknown layer kind %q%s", l.Kind, hint)
		}
		return d.errAt(kindNode, path, "unknown layer kind %q; known: %s", l.Kind, oneOf(LayerKinds()))
	}
	l.paramsNode = params
	if k.Block {
		return l.decodeBlock(d, k, params, path+"."+l.Kind)
	}
	if k.Params == nil {
		if params != nil && !isNull(params) && !(params.Kind == yaml.MappingNode && len(params.Content) == 0) {
			return d.errAt(params, path+"."+l.Kind, "%s takes no parameters, got %s", l.Kind, describe(params))
		}
		return nil
	}
	l.Params = k.Params()
	if params == nil || isNull(params) {
		return nil
	}
	if params.Kind != yaml.MappingNode {
		return d.decodeStruct(params, reflect.ValueOf(l.Params).Elem(), path+"."+l.Kind)
	}
	skip := map[string]bool{}
	pt := reflect.TypeOf(l.Params).Elem()
	for i := 0; i+1 < len(params.Content); i += 2 {
		key, val := params.Content[i], resolve(params.Content[i+1])
		if !isInline(pt, key.Value, val) || skip[key.Value] {
			continue // a repeated key is decodeFields' error
		}
		p, err := d.decodeInline(key, val, path+"."+l.Kind+"."+key.Value)
		if err != nil {
			return err
		}
		skip[key.Value] = true
		l.inline = append(l.inline, p)
	}
	return d.decodeFields(params, reflect.ValueOf(l.Params).Elem(), path+"."+l.Kind, skip)
}

// decodeBlock decodes a block kind's parameters: the list of its layers
// alone, or a mapping with the key layers (that list) and the kind's other
// parameters.
func (l *LayerConfig) decodeBlock(d *decoder, k backprop.Kind, params *yaml.Node, path string) error {
	l.Params = k.Params()
	layers := params
	if params != nil && params.Kind == yaml.MappingNode {
		if err := d.decodeFields(params, reflect.ValueOf(l.Params).Elem(), path, map[string]bool{"layers": true}); err != nil {
			return err
		}
		var kn *yaml.Node
		kn, layers = keyNode(params, "layers")
		if kn == nil {
			return d.errAt(params, path, "needs layers: the list of the block's layers, e.g. {layers: [{conv2d: {filters: 8, kernel: 3, padding: 1}}, relu]}")
		}
		path += ".layers"
	}
	layers = resolve(layers)
	if layers == nil || layers.Kind != yaml.SequenceNode || len(layers.Content) == 0 {
		at := layers
		if at == nil {
			at = l.node
		}
		return d.errAt(at, path, "expected a non-empty list of layers, e.g. [{conv2d: {filters: 8, kernel: 3, padding: 1}}, relu]")
	}
	l.Body = make([]LayerConfig, len(layers.Content))
	for j, c := range layers.Content {
		if err := d.decode(c, reflect.ValueOf(&l.Body[j]).Elem(), fmt.Sprintf("%s[%d]", path, j)); err != nil {
			return err
		}
	}
	return nil
}

// MarshalJSON encodes the kind with its parameters (for the config hash),
// the parameter values typed in the config when there are any (under
// "given"), and a block's inner layers under "layers".
func (l LayerConfig) MarshalJSON() ([]byte, error) {
	if l.Body == nil {
		m := map[string]any{l.Kind: l.Params}
		if len(l.inline) > 0 {
			given := map[string]Given{}
			for _, p := range l.inline {
				given[p.Name] = p.Given
			}
			m["given"] = given
		}
		return json.Marshal(m)
	}
	var m map[string]any
	b, err := json.Marshal(l.Params)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	if m == nil {
		m = map[string]any{}
	}
	m["layers"] = l.Body
	return json.Marshal(map[string]any{l.Kind: m})
}

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

// frameworkNames are Keras's and PyTorch's names of layer kinds that
// nettrain spells otherwise, by their folded form (lower case, no "_" or
// "nn." prefix): what a user coming from them types.
var frameworkNames = map[string]struct{ kind, from string }{
	"batchnormalization":     {"batchnorm", "Keras's"},
	"batchnorm1d":            {"batchnorm", "PyTorch's"},
	"batchnorm2d":            {"batchnorm", "PyTorch's"},
	"layernormalization":     {"layernorm", "Keras's"},
	"linear":                 {"dense", "PyTorch's"},
	"maxpooling1d":           {"maxpool1d", "Keras's"},
	"maxpooling2d":           {"maxpool2d", "Keras's"},
	"averagepooling1d":       {"avgpool1d", "Keras's"},
	"averagepooling2d":       {"avgpool2d", "Keras's"},
	"globalaveragepooling1d": {"global_avgpool", "Keras's"},
	"globalaveragepooling2d": {"global_avgpool", "Keras's"},
	"globalmaxpooling1d":     {"global_maxpool", "Keras's"},
	"globalmaxpooling2d":     {"global_maxpool", "Keras's"},
	"adaptiveavgpool2d":      {"global_avgpool", "PyTorch's"},
	"adaptivemaxpool2d":      {"global_maxpool", "PyTorch's"},
	"leakyrelu":              {"leaky_relu", "Keras's and PyTorch's"},
}

// frameworkKind is the nettrain kind a Keras or PyTorch layer name stands
// for, when nettrain spells it otherwise (BatchNormalization, nn.Linear,
// MaxPooling2D), and which framework uses the name.
func frameworkKind(name string) (kind, from string, ok bool) {
	f := strings.ToLower(strings.TrimPrefix(name, "nn."))
	f = strings.ReplaceAll(f, "_", "")
	if e, ok := frameworkNames[f]; ok {
		return e.kind, e.from, true
	}
	return "", "", false
}
