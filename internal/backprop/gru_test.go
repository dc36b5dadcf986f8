package backprop

import "testing"

func gruS(units, layers int, seq bool) func([]int) Spec {
	return func(in []int) Spec { return GRUSpec{In: in, Units: units, Layers: layers, ReturnSequences: seq} }
}

// TestGRU: the gradient check through gru (last step and sequences, one
// to three layers, a single step, batch 1, an odd batch over several
// chunks of samples).
func TestGRU(t *testing.T) {
	runGradCases(t, []gradCase{
		{"last step, ce", []int{5, 3}, []func([]int) Spec{gruS(4, 1, false), denseTo(3)}, CrossEntropy, 3},
		{"sequences, mse", []int{4, 2}, []func([]int) Spec{gruS(3, 1, true), denseTo(2)}, MSE, 2},
		{"2 layers", []int{4, 3}, []func([]int) Spec{gruS(3, 2, false)}, HalfSSE, 2},
		{"3 layers, sequences", []int{3, 2}, []func([]int) Spec{gruS(2, 3, true), denseTo(3)}, CrossEntropy, 2},
		{"one step", []int{1, 3}, []func([]int) Spec{gruS(4, 1, false), denseTo(2)}, MSE, 3},
		{"batch 1", []int{6, 2}, []func([]int) Spec{gruS(3, 1, true)}, MSE, 1},
		{"several chunks", []int{3, 2}, []func([]int) Spec{gruS(3, 1, false), denseTo(2)}, MSE, 19},
	})
}
