package backprop

import (
	"math"
	"testing"
)

// TestGlobalMaxPool: the gradient check through global_maxpool, and the
// routing of the gradient to the first maximum (a NaN wins).
func TestGlobalMaxPool(t *testing.T) {
	gmp := func(in []int) Spec { return GlobalMaxPoolSpec{in} }
	runGradCases(t, []gradCase{
		{"after conv, ce", []int{2, 5, 4}, []func([]int) Spec{
			func(in []int) Spec { return conv(in, 3, 3, 3, 1, 1, 1, 1, 1, 1) }, gmp, denseTo(3)}, CrossEntropy, 3},
		{"first layer, 1x1 planes", []int{4, 1, 1}, []func([]int) Spec{gmp, denseTo(2)}, MSE, 2},
		{"rectangular, batch 1", []int{3, 2, 7}, []func([]int) Spec{gmp}, HalfSSE, 1},
	})
	l := newLayer[float64](GlobalMaxPoolSpec{In: []int{2, 2, 2}}, nil, 1)
	y := l.Forward(nil, []float64{1, 3, 3, 2, -1, math.NaN(), 5, math.NaN()}, 1)
	dx := l.Backward(nil, []float64{10, 20}, 1, true)
	if y[0] != 3 || !math.IsNaN(y[1]) {
		t.Errorf("y = %v, want [3 NaN]", y)
	}
	want := []float64{0, 10, 0, 0, 0, 20, 0, 0}
	for i := range want {
		if dx[i] != want[i] {
			t.Errorf("dx = %v, want %v", dx, want)
			break
		}
	}
}
