package model

import (
	"encoding/json"
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
		// A close name is suggested; otherwise every known kind is listed.
		if hint := didYouMean(l.Kind, LayerKinds()); hint != "" {
			return d.errAt(kindNode, path, "unknown layer kind %q%s", l.Kind, hint)
		}
		return d.errAt(kindNode, path, "unknown layer kind %q; known: %s", l.Kind, oneOf(LayerKinds()))
	}
	l.paramsNode = params
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

// MarshalJSON encodes the kind with its parameters (for the config hash),
// and the parameter values typed in the config when there are any.
func (l LayerConfig) MarshalJSON() ([]byte, error) {
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
