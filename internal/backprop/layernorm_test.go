package backprop

import (
	"math"
	"testing"
)

// TestLayerNorm: the gradient check through layernorm (affine or not,
// vectors and sequences, a feature axis of 1), and its values by hand.
func TestLayerNorm(t *testing.T) {
	ln := func(eps float64, affine bool) func([]int) Spec {
		return func(in []int) Spec { return LayerNormSpec{In: in, Eps: eps, Affine: affine} }
	}
	runGradCases(t, []gradCase{
		{"affine, ce", []int{5}, []func([]int) Spec{denseTo(7), ln(1e-5, true), denseTo(4)}, CrossEntropy, 3},
		{"no affine, mse", []int{6}, []func([]int) Spec{denseTo(5), ln(1e-5, false), denseTo(3)}, MSE, 2},
		{"sequence, eps 0.1", []int{3, 4}, []func([]int) Spec{denseTo(6), ln(0.1, true), denseTo(2)}, HalfSSE, 2},
		{"first layer, batch 1", []int{2, 5}, []func([]int) Spec{ln(1e-5, true), denseTo(3)}, MSE, 1},
		{"one feature", []int{4, 1}, []func([]int) Spec{denseTo(1), ln(1e-3, true), denseTo(2)}, MSE, 2},
		// 70 and 37 features: more than the 32 lanes of the sums, with a
		// partial last group. The checks run in float64, on package
		// simd's Go references; the float32 kernels are held to those
		// bit for bit (simd's TestLayerNormKernels) and run in the golden
		// cases' float32 runs.
		{"wide", []int{6}, []func([]int) Spec{denseTo(70), ln(1e-5, true), denseTo(3)}, CrossEntropy, 3},
		{"wide sequence, no affine", []int{2, 3}, []func([]int) Spec{denseTo(37), ln(1e-5, false), denseTo(2)}, MSE, 2},
	})
	// A row (1, 2, 3, 4) normalises to (x - 2.5) / sqrt(1.25 + eps).
	l := newLayer[float64](LayerNormSpec{In: []int{4}, Eps: 1e-5}, nil, 1)
	y := l.Forward(nil, []float64{1, 2, 3, 4}, 1)
	for j, v := range y {
		want := (float64(j+1) - 2.5) / math.Sqrt(1.25+1e-5)
		if math.Abs(v-want) > 1e-14 {
			t.Errorf("y[%d] = %v, want %v", j, v, want)
		}
	}
}
