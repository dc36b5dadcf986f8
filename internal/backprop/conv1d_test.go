package backprop

import (
	"math"
	"math/rand/v2"
	"testing"
)

func conv1(in []int, f, k, stride, padL, padR, dil int, bias bool) func([]int) Spec {
	return func(in []int) Spec {
		return Conv1DSpec{In: in, Filters: f, K: k, Stride: stride, PadL: padL, PadR: padR, Dilation: dil, Bias: bias}
	}
}

// TestConv1D: the gradient check through conv1d (strides, padding,
// dilation, no bias, a kernel of 1, T' = 1), and the forward pass against
// the definition.
func TestConv1D(t *testing.T) {
	runGradCases(t, []gradCase{
		{"k3, ce per step", []int{6, 3}, []func([]int) Spec{conv1(nil, 4, 3, 1, 0, 0, 1, true)}, CrossEntropy, 3},
		{"stride 2, padding 1, mse", []int{7, 2}, []func([]int) Spec{conv1(nil, 3, 3, 2, 1, 1, 1, true), flat, denseTo(2)}, MSE, 2},
		{"dilation 2, same, no bias", []int{8, 3}, []func([]int) Spec{conv1(nil, 2, 3, 1, 2, 2, 2, false), denseTo(2)}, HalfSSE, 2},
		{"even kernel same (extra step at the end)", []int{5, 2}, []func([]int) Spec{conv1(nil, 3, 4, 1, 1, 2, 1, true)}, MSE, 2},
		{"kernel 1, batch 1", []int{4, 5}, []func([]int) Spec{conv1(nil, 2, 1, 1, 0, 0, 1, true)}, MSE, 1},
		{"one output step, stride 3, dilation 3", []int{7, 2}, []func([]int) Spec{conv1(nil, 3, 3, 3, 0, 0, 3, true), flat}, MSE, 2},
		{"two convs", []int{9, 2}, []func([]int) Spec{conv1(nil, 4, 3, 1, 1, 1, 1, true), func(in []int) Spec { return act("tanh", in) },
			conv1(nil, 3, 2, 2, 0, 0, 1, true)}, HalfSSE, 3},
	})

	// The forward pass from the definition.
	s := Conv1DSpec{In: []int{9, 3}, Filters: 4, K: 3, Stride: 2, PadL: 2, PadR: 1, Dilation: 2, Bias: true}
	const n = 3
	net := NewNetwork[float64](s.In, []Spec{s}, MSE, n)
	net.Init(rand.New(rand.NewPCG(2, 2)))
	x, _ := randomBatch(net, n, 5)
	y := net.Forward(nil, x, n)
	w, b := net.Params[0].W, net.Params[1].W
	ot := s.OutLen()
	for smp := range n {
		for o := range ot {
			for f := range s.Filters {
				want := b[f]
				for c := range 3 {
					for k := range s.K {
						if p := o*s.Stride + k*s.Dilation - s.PadL; p >= 0 && p < 9 {
							want += w[(f*3+c)*s.K+k] * x[(smp*9+p)*3+c]
						}
					}
				}
				if got := y[(smp*ot+o)*s.Filters+f]; math.Abs(got-want) > 1e-13 {
					t.Fatalf("y[%d,%d,%d] = %v, want %v", smp, o, f, got, want)
				}
			}
		}
	}
}
