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
		{"[12, 3]", "conv1d: {filters: 8, kernel: 3}", []int{10, 8}, 8*3*3 + 8},
		{"[12, 3]", "conv1d: {filters: 8, kernel: 4, padding: same, bias: false}", []int{12, 8}, 8 * 3 * 4},
		{"[12, 3]", "conv1d: {filters: 2, kernel: 3, stride: 2, padding: 1, dilation: 2}", []int{5, 2}, 2*3*3 + 2},
		{"[12, 3]", "maxpool1d: {size: 2}", []int{6, 3}, 0},
		{"[12, 3]", "avgpool1d: {size: 3, stride: 2, padding: 1}", []int{6, 3}, 0},
		// nn.GRU(3, 8): 3*8*(3 + 8) + 2*3*8; a second layer 3*8*(8 + 8) + 2*3*8.
		{"[12, 3]", "gru: {units: 8}", []int{8}, 312},
		{"[12, 3]", "gru: {units: 8, layers: 2, return_sequences: true}", []int{12, 8}, 312 + 432},
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
		{"[12]", []string{"conv1d: {filters: 2, kernel: 3}"}, `layer 0 (conv1d): needs a sequence input (time steps, features), got [12]`},
		{"[12, 3]", []string{"conv1d: {filters: 2}"}, `c.yaml:5:7: layer 0 (conv1d): kernel: required: the kernel length, e.g. 3`},
		{"[12, 3]", []string{"conv1d: {filters: 2, kernel: 3, stride: 2, padding: same}"}, `c.yaml:5:59: layer 0 (conv1d): padding: "same" needs stride 1, got stride 2`},
		{"[12, 3]", []string{"conv1d: {filters: 2, kernel: 3, padding: full}"}, `c.yaml:5:48: model.layers[0].conv1d.padding: expected an integer, "same" or "valid", got "full"`},
		{"[5, 3]", []string{"conv1d: {filters: 2, kernel: 3, dilation: 3}"}, `layer 0 (conv1d): kernel 3 with dilation 3 spans 7 steps, more than the input [5 3] padded to 5`},
		{"[12, 3]", []string{"conv1d: {filters: 2, kernel: 3, dilation: 0}"}, `c.yaml:5:49: layer 0 (conv1d): dilation: must be at least 1, got 0`},
		{"[12, 3]", []string{"maxpool1d: {size: 2, padding: 2}"}, `c.yaml:5:37: layer 0 (maxpool1d): padding: must be between 0 and half the window size (at most 1 for a window of 2, as in PyTorch), got 2`},
		{"[12, 3]", []string{"avgpool1d: {stride: 2}"}, `layer 0 (avgpool1d): size: required: the window length, e.g. 2`},
		{"[3, 4, 5]", []string{"maxpool1d: {size: 2}"}, `layer 0 (maxpool1d): needs a sequence input (time steps, features), got [3 4 5]`},
		{"[12]", []string{"gru: {units: 3}"}, `layer 0 (gru): needs a sequence input (time steps, features), got [12]`},
		{"[12, 3]", []string{"gru: {units: 0}"}, `c.yaml:5:20: layer 0 (gru): units: must be at least 1, got 0`},
		{"[12, 3]", []string{"gru: {units: 2, layers: 0}"}, `c.yaml:5:31: layer 0 (gru): layers: must be at least 1, got 0`},
		{"[4]", []string{"silu: {beta: 1}"}, `c.yaml:5:13: model.layers[0].silu: silu takes no parameters`},
	}
	for _, tc := range tests {
		_, err := parse(t, cnnConfig(tc.input, tc.layers...))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v\nwant it to contain %q", tc.layers, err, tc.want)
		}
	}
}

// TestFrameworkLayerNames: Keras's and PyTorch's names of a kind that
// nettrain spells otherwise get nettrain's name.
func TestFrameworkLayerNames(t *testing.T) {
	for _, c := range []struct{ name, want string }{
		{"BatchNormalization", `unknown layer kind "BatchNormalization" (Keras's name; here it is "batchnorm")`},
		{"batch_normalization", `unknown layer kind "batch_normalization" (Keras's name; here it is "batchnorm")`},
		{"nn.BatchNorm2d", `unknown layer kind "nn.BatchNorm2d" (PyTorch's name; here it is "batchnorm")`},
		{"Linear", `unknown layer kind "Linear" (PyTorch's name; here it is "dense")`},
		{"MaxPooling2D", `unknown layer kind "MaxPooling2D" (Keras's name; here it is "maxpool2d")`},
		{"GlobalAveragePooling2D", `unknown layer kind "GlobalAveragePooling2D" (Keras's name; here it is "global_avgpool")`},
		{"AdaptiveAvgPool2d", `unknown layer kind "AdaptiveAvgPool2d" (PyTorch's name; here it is "global_avgpool")`},
		{"LeakyReLU", `unknown layer kind "LeakyReLU" (Keras's and PyTorch's name; here it is "leaky_relu")`},
		{"desne", `unknown layer kind "desne" (did you mean "dense"?)`},
		{"nn.Conv2d", `unknown layer kind "nn.Conv2d" (did you mean "conv2d"?)`},
		{"nn.ReLU", `unknown layer kind "nn.ReLU" (did you mean "relu"?)`},
	} {
		src := "model:\n  input: [4]\n  layers:\n    - " + c.name + "\nloss: mse\n"
		_, err := Parse("c.yaml", []byte(src), nil, nil)
		if want := "c.yaml:4:7: model.layers[0]: " + c.want; err == nil || err.Error() != want {
			t.Errorf("%s: %v, want %q", c.name, err, want)
		}
	}
	for name, e := range frameworkNames {
		if !slices.Contains(LayerKinds(), e.kind) {
			t.Errorf("%s stands for %q, which is no layer kind", name, e.kind)
		}
	}
}
