package model

import (
	"fmt"

	"github.com/nettrain/nettrain/internal/backprop"
)

// DenseParams are the parameters of a dense (fully connected) layer.
type DenseParams struct {
	Units int  `yaml:"units"`
	Bias  bool `yaml:"bias"` // default true
}

func init() {
	registerLayer("dense", layerKind{
		params: func() any { return &DenseParams{Bias: true} },
		build: func(p any, in []int) (backprop.Spec, error) {
			dp := p.(*DenseParams)
			if len(in) > 2 {
				return nil, fmt.Errorf("input is %v; dense works on the last axis of a vector or a (time, features) sequence: add a flatten layer before it", in)
			}
			if dp.Units < 1 {
				return nil, keyErr("units", "must be at least 1, got %d", dp.Units)
			}
			return backprop.DenseSpec{In: in, Units: dp.Units, Bias: dp.Bias}, nil
		},
		doc: "fully connected layer on the last axis: y = x W^T + b",
	})
	for _, fn := range backprop.Activations {
		registerLayer(fn, layerKind{
			build: func(_ any, in []int) (backprop.Spec, error) {
				return backprop.ActivationSpec{Fn: fn, In: in}, nil
			},
			doc: fmt.Sprintf("%s activation", fn),
		})
	}
}
