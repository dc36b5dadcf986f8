package model

import (
	"slices"
	"strings"
	"testing"
)

// TestGivenParams: parameter tensors typed in a layer's mapping, by the
// layer's parameter names, reach the graph with their shapes; wrong names
// and shapes are errors at their line and column.
func TestGivenParams(t *testing.T) {
	src := `model:
  input: [1, 3, 3]
  layers:
    - conv2d: {filters: 1, kernel: 2, weight: [[[[1, -2], [0.5, 1e-3]]]], bias: [0.25]}
    - flatten
    - dense: {units: 2, bias: false, weight: [[1, 2, 3, 4], [5, 6, 7, 8.123456789012345]]}
`
	c, err := parse(t, src)
	if err != nil {
		t.Fatal(err)
	}
	g, err := Build(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Given) != 3 || g.Given[0].Name != "0.weight" || g.Given[1].Name != "0.bias" || g.Given[2].Name != "2.weight" {
		t.Fatalf("Given: %+v", g.Given)
	}
	w := g.Given[0]
	if !slices.Equal(w.Shape, []int{1, 1, 2, 2}) || !slices.Equal(w.Values, []float64{1, -2, 0.5, 1e-3}) {
		t.Errorf("conv weight: %+v", w)
	}
	if d := g.Given[2]; d.Values[7] != 8.123456789012345 {
		t.Errorf("dense weight: %+v", d)
	}
	// The hash sees the values.
	c2, _ := parse(t, strings.Replace(src, "bias: [0.25]", "bias: [0.5]", 1))
	if c.ModelHash() == c2.ModelHash() {
		t.Error("a changed given bias leaves the model hash unchanged")
	}

	for _, tc := range []struct{ layer, want string }{
		{"dense: {units: 2, weight: [[1, 2], [3, 4]]}", "c.yaml:4:33: layer 0 (dense): weight: the values given have shape (2, 2), but the layer's weight is (2, 3): one row per unit, one column per input"},
		{"dense: {units: 2, bias: [1]}", "c.yaml:4:31: layer 0 (dense): bias: the values given have shape (1), but the layer's bias is (2): one per unit"},
		{"dense: {units: 1, wieght: [[1, 2, 3]]}", `c.yaml:4:25: layer 0 (dense): wieght: unknown key (did you mean "weight"?); dense takes the options units, bias and the parameters weight (1, 3), bias (1)`},
		{"dense: {units: 1, weight: [[1, 2], [3]]}", "c.yaml:4:42: model.layers[0].dense.weight[1]: a list of 1 where the lists before it at this depth have 2 (every row must have the same length)"},
		{"dense: {units: 1, weight: [[1, .nan, 3]]}", "c.yaml:4:38: model.layers[0].dense.weight[0][1]: expected a finite number, got .nan"},
		{"dense: {units: 1, weight: [[1, two, 3]]}", `c.yaml:4:38: model.layers[0].dense.weight[0][1]: expected a number, got "two"`},
	} {
		_, err := parse(t, "model:\n  input: [3]\n  layers:\n    - "+tc.layer+"\n")
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s:\n got %v\nwant %s", tc.layer, err, tc.want)
		}
	}
}

// TestGivenInsideABlock: values typed in a residual block's inner layer
// are named by their full state_dict name.
func TestGivenInsideABlock(t *testing.T) {
	c, err := parse(t, `name: b
model:
  input: [2]
  layers:
    - residual: [{dense: {units: 2, weight: [[1, 2], [3, 4]], bias: [0.5, -0.5]}}, relu]
    - dense: {units: 1}
`)
	if err != nil {
		t.Fatal(err)
	}
	g, err := Build(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Given) != 2 || g.Given[0].Name != "0.body.0.weight" || g.Given[1].Name != "0.body.0.bias" || g.Given[1].Values[1] != -0.5 {
		t.Fatalf("Given: %+v", g.Given)
	}
}
