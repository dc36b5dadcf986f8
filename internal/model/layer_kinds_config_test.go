package model

import (
	"slices"
	"strings"
	"testing"
)

// TestLayerKindShapes: the output shape and parameter count of the
// activation, normalisation, pooling, 1-D convolution and GRU kinds as
// summary reports them (parameter counts as torch's modules).
func TestLayerKindShapes(t *testing.T) {
	tests := []struct {
		input  string
		layer  string
		out    []int
		params int
	}{
		{"[3, 4]", "elu", []int{3, 4}, 0},
		{"[3, 4]", "elu: {alpha: 0.5}", []int{3, 4}, 0},
		{"[7]", "gelu", []int{7}, 0},
		{"[7]", "gelu: {approximate: tanh}", []int{7}, 0},
		{"[2, 3, 4]", "silu", []int{2, 3, 4}, 0},
		{"[5, 8]", "layernorm", []int{5, 8}, 16},
		{"[8]", "layernorm: {affine: false}", []int{8}, 0},
		{"[3, 4, 5]", "global_maxpool", []int{3}, 0},
	}
	for _, tc := range tests {
		c, err := parse(t, cnnConfig(tc.input, tc.layer))
		if err != nil {
			t.Errorf("%s: %v", tc.layer, err)
			continue
		}
		g, err := Build(c, nil)
		if err != nil {
			t.Errorf("%s: %v", tc.layer, err)
			continue
		}
		s := g.Specs[0]
		params := 0
		for _, p := range s.Params() {
			n := 1
			for _, d := range p.Shape {
				n *= d
			}
			params += n
		}
		if !slices.Equal(s.OutShape(), tc.out) || params != tc.params {
			t.Errorf("%s on %s: output %v, %d params; want %v, %d", tc.layer, tc.input, s.OutShape(), params, tc.out, tc.params)
		}
	}
}

// TestLayerKindConfigErrors: bad parameters of these kinds stop with the
// file, line and column of the key.
func TestLayerKindConfigErrors(t *testing.T) {
	tests := []struct {
		input  string
		layers []string
		want   string
	}{
		{"[4]", []string{"gelu: {approximate: fast}"}, `c.yaml:5:27: layer 0 (gelu): approximate: must be none (the exact erf form) or tanh, got "fast"`},
		{"[4]", []string{"elu: {alpha: .nan}"}, `c.yaml:5:20: model.layers[0].elu.alpha: expected a finite number, got .nan`},
		{"[4]", []string{"layernorm: {eps: 0}"}, `c.yaml:5:24: layer 0 (layernorm): eps: must be a positive number, got 0`},
		{"[4, 5]", []string{"global_maxpool"}, `c.yaml:5:7: layer 0 (global_maxpool): needs a 3-D input (channels, height, width), got [4 5]`},
		{"[4]", []string{"silu: {beta: 1}"}, `c.yaml:5:13: model.layers[0].silu: silu takes no parameters`},
	}
	for _, tc := range tests {
		_, err := parse(t, cnnConfig(tc.input, tc.layers...))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v\nwant it to contain %q", tc.layers, err, tc.want)
		}
	}
}
