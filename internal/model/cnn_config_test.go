package model

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/nettrain/nettrain/internal/backprop"
)

func cnnConfig(input string, layers ...string) string {
	return fmt.Sprintf("data: {train: mnist:train}\nmodel:\n  input: %s\n  layers:\n    - %s\nloss: mse\n", input, strings.Join(layers, "\n    - "))
}

func TestConvShapesAndParams(t *testing.T) {
	tests := []struct {
		layer  string
		out    []int
		params int
	}{
		// (3*5*5 + 1) * 32: one bias per filter.
		{"conv2d: {filters: 32, kernel: 5}", []int{32, 28, 28}, 2432},
		{"conv2d: {filters: 32, kernel: 5, padding: 2}", []int{32, 32, 32}, 2432},
		{"conv2d: {filters: 32, kernel: 5, padding: same}", []int{32, 32, 32}, 2432},
		{"conv2d: {filters: 32, kernel: 4, padding: same}", []int{32, 32, 32}, (3*4*4 + 1) * 32},
		{"conv2d: {filters: 32, kernel: 5, stride: 2}", []int{32, 14, 14}, 2432},
		{"conv2d: {filters: 32, kernel: 5, stride: 2, padding: 2}", []int{32, 16, 16}, 2432},
		{"conv2d: {filters: 32, kernel: 5, stride: 3, padding: valid}", []int{32, 10, 10}, 2432},
		{"conv2d: {filters: 32, kernel: [3, 5], stride: [1, 2], padding: [1, 0]}", []int{32, 32, 14}, (3*3*5 + 1) * 32},
		{"conv2d: {filters: 32, kernel: 5, bias: false}", []int{32, 28, 28}, 3 * 5 * 5 * 32},
		{"maxpool2d: {size: 2}", []int{3, 16, 16}, 0},
		{"maxpool2d: {size: 3, stride: 2, padding: 1}", []int{3, 16, 16}, 0},
		{"avgpool2d: {size: 3, stride: 1}", []int{3, 30, 30}, 0},
		{"global_avgpool", []int{3}, 0},
		{"flatten", []int{3072}, 0},
	}
	for _, tc := range tests {
		c, err := parse(t, cnnConfig("[3, 32, 32]", tc.layer))
		if err != nil {
			t.Errorf("%s: %v", tc.layer, err)
			continue
		}
		s := mustBuild(t, c, nil).Specs[0]
		n := 0
		for _, p := range s.Params() {
			n += backprop.Prod(p.Shape)
		}
		if !slices.Equal(s.OutShape(), tc.out) || n != tc.params {
			t.Errorf("%s: output %v with %d parameters, want %v with %d", tc.layer, s.OutShape(), n, tc.out, tc.params)
		}
	}
}

func TestCNNConfigErrors(t *testing.T) {
	tests := []struct {
		input  string
		layers []string
		want   string
	}{
		{"[1, 5, 5]", []string{"conv2d: {filters: 2, kernel: 7}"}, "layer 0 (conv2d): kernel 7x7 does not fit the input [1 5 5] padded to 5x5"},
		{"[1, 5, 5]", []string{"conv2d: {filters: 2, kernel: [8, 3], padding: 1}"}, "layer 0 (conv2d): kernel 8x3 does not fit the input [1 5 5] padded to 7x7"},
		{"[1, 6, 6]", []string{"conv2d: {filters: 2, kernel: 3}", "maxpool2d: {size: 5}"}, "layer 1 (maxpool2d): the 5x5 window does not fit the input [2 4 4] padded to 4x4"},
		{"[1, 6, 6]", []string{"maxpool2d: {size: 2, padding: 2}"}, "layer 0 (maxpool2d): padding: must be between 0 and half the window size (at most [1, 1] for a window of [2, 2], as in PyTorch), got [2, 2]"},
		{"[1, 6, 6]", []string{"conv2d: {filters: 2, kernel: 3}", "dense: {units: 3}"}, "layer 1 (dense): input is [2 4 4]; dense works on the last axis of a vector or a (time, features) sequence: add a flatten layer before it"},
		{"[36]", []string{"conv2d: {filters: 2, kernel: 3}"}, "layer 0 (conv2d): needs a 3-D input (channels, height, width), got [36]"},
		{"[1, 6, 6]", []string{"conv2d: {filters: 0, kernel: 3}"}, "layer 0 (conv2d): filters: must be at least 1, got 0"},
		{"[1, 6, 6]", []string{"conv2d: {filters: 2}"}, "layer 0 (conv2d): kernel: required"},
		{"[1, 6, 6]", []string{"conv2d: {filters: 2, kernel: [3, 3, 3]}"}, "model.layers[0].conv2d.kernel: expected an integer or [height, width], got a list of 3"},
		{"[1, 6, 6]", []string{"conv2d: {filters: 2, kernel: 3, stride: 2, padding: same}"}, `padding: "same" needs stride 1`},
		{"[1, 6, 6]", []string{"conv2d: {filters: 2, kernel: 3, padding: full}"}, `expected an integer, [height, width], "same" or "valid", got "full"`},
		{"[4]", []string{"dropout: {p: 1}"}, "layer 0 (dropout): p: must be in [0, 1), got 1"},
	}
	for _, tc := range tests {
		_, err := parse(t, cnnConfig(tc.input, tc.layers...))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v\nwant it to contain %q", tc.layers, err, tc.want)
		}
	}
}
