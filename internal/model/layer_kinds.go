package model

import (
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/nettrain/nettrain/internal/backprop"
)

// DenseParams are the parameters of a dense (fully connected) layer.
type DenseParams struct {
	Units Units `yaml:"units"`
	Bias  bool  `yaml:"bias"` // default true
}

// Units is a layer width: an integer, or "classes" for the number of
// classes in the data (the vocabulary size of text).
type Units struct {
	N       int
	Classes bool
	set     bool
}

func (u *Units) decodeNode(d *decoder, n *yaml.Node, path string) error {
	u.set = true
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" && n.Value == "classes" {
		u.Classes = true
		return nil
	}
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		return d.errAt(n, path, "expected an integer or \"classes\" (the number of classes in the data), got %s", describe(n))
	}
	return d.decodeScalar(n, reflectValue(&u.N), path)
}

func (u Units) MarshalJSON() ([]byte, error) {
	if u.Classes {
		return jsonMarshal("classes")
	}
	return jsonMarshal(u.N)
}

// resolve returns the width, from the data when it is "classes".
func (u Units) resolve(info *DataInfo) (int, error) {
	if !u.set {
		return 0, keyErr("units", "required: the number of outputs, or classes for one per class of the data")
	}
	if !u.Classes {
		return u.N, nil
	}
	if info == nil {
		return 0, &needsData{key: "units", what: "is \"classes\", the number of classes in the data"}
	}
	if info.Classes < 1 {
		return 0, keyErr("units", "\"classes\" needs class labels, but the data has none (a regression target)")
	}
	return info.Classes, nil
}

func init() {
	registerLayer("dense", layerKind{
		params: func() any { return &DenseParams{Bias: true} },
		build: func(p any, in []int, info *DataInfo) (backprop.Spec, error) {
			dp := p.(*DenseParams)
			if len(in) > 2 {
				return nil, fmt.Errorf("input is %v; dense works on the last axis of a vector or a (time, features) sequence: add a flatten layer before it", in)
			}
			units, err := dp.Units.resolve(info)
			if err != nil {
				return nil, err
			}
			if units < 1 {
				return nil, keyErr("units", "must be at least 1, got %d", units)
			}
			return backprop.DenseSpec{In: in, Units: units, Bias: dp.Bias}, nil
		},
		doc: "fully connected layer on the last axis: y = x W^T + b",
	})
	for _, fn := range backprop.Activations {
		registerLayer(fn, layerKind{
			build: func(_ any, in []int, _ *DataInfo) (backprop.Spec, error) {
				return backprop.ActivationSpec{Fn: fn, In: in}, nil
			},
			doc: fmt.Sprintf("%s activation", fn),
		})
	}
}
