package backprop

import (
	"fmt"
	"testing"
)

func gruS(units, layers int, seq bool) func([]int) Spec {
	return func(in []int) Spec { return GRUSpec{In: in, Units: units, Layers: layers, ReturnSequences: seq} }
}

// TestGRU: the gradient check through gru (last step and sequences, one
// to three layers, a single step, batch 1, an odd batch over several
// chunks of samples), with the chunks' weight gradients in per-chunk
// parts and without (lstmMaxPart exceeded: one product over every row
// after the recurrence).
func TestGRU(t *testing.T) {
	defer func(m int) { lstmMaxPart = m }(lstmMaxPart)
	for _, maxPart := range []int{lstmMaxPart, 0} {
		lstmMaxPart = maxPart
		t.Run(fmt.Sprintf("lstmMaxPart=%d", maxPart), testGRUGrads)
	}
}

func testGRUGrads(t *testing.T) {
	runGradCases(t, []gradCase{
		{"last step, ce", []int{5, 3}, []func([]int) Spec{gruS(4, 1, false), denseTo(3)}, CrossEntropy, 3},
		{"sequences, mse", []int{4, 2}, []func([]int) Spec{gruS(3, 1, true), denseTo(2)}, MSE, 2},
		{"2 layers", []int{4, 3}, []func([]int) Spec{gruS(3, 2, false)}, HalfSSE, 2},
		{"3 layers, sequences", []int{3, 2}, []func([]int) Spec{gruS(2, 3, true), denseTo(3)}, CrossEntropy, 2},
		{"one step", []int{1, 3}, []func([]int) Spec{gruS(4, 1, false), denseTo(2)}, MSE, 3},
		{"batch 1", []int{6, 2}, []func([]int) Spec{gruS(3, 1, true)}, MSE, 1},
		{"several chunks", []int{3, 2}, []func([]int) Spec{gruS(3, 1, false), denseTo(2)}, MSE, 19},
		{"2 layers, sequences, several chunks", []int{3, 4}, []func([]int) Spec{gruS(4, 2, true), denseTo(2)}, MSE, 19},
		{"3 layers, one step, several chunks", []int{1, 3}, []func([]int) Spec{gruS(3, 3, false)}, HalfSSE, 11},
	})
}

// TestGRUWithoutPartsBitIdentical: without per-chunk weight-gradient parts
// (lstmMaxPart exceeded) a GRU still trains to the same bits on 1 to 4
// threads (TestThreadsBitIdenticalLayerKinds covers the parts).
func TestGRUWithoutPartsBitIdentical(t *testing.T) {
	defer func(m int) { lstmMaxPart = m }(lstmMaxPart)
	lstmMaxPart = 0
	in := []int{12, 5}
	checkThreadsBitIdentical(t, in, chain(in, gruS(24, 2, true), gruS(16, 1, false), denseTo(3)), 45)
}

// TestGRUFixedWorkspaceElems: the batch-independent buffers a GRU
// allocates are what FixedWorkspaceElems (and so EstimateBytes) counts,
// with per-chunk parts and without.
func TestGRUFixedWorkspaceElems(t *testing.T) {
	defer func(m int) { lstmMaxPart = m }(lstmMaxPart)
	for _, maxPart := range []int{lstmMaxPart, 0} {
		lstmMaxPart = maxPart
		for _, s := range []GRUSpec{
			{In: []int{5, 7}, Units: 6, Layers: 2},
			{In: []int{5, 3}, Units: 4, Layers: 3, ReturnSequences: true},
		} {
			l := newGRU(s, NewNetwork[float32](s.In, []Spec{s}, MSE, 1).Params[0:4*s.Layers], 9)
			var got int64
			for _, ly := range l.layers {
				got += int64(2*len(ly.dbPart) + len(ly.dwihPart) + len(ly.dwhhPart))
			}
			if want := s.FixedWorkspaceElems(); got != want {
				t.Errorf("%+v, lstmMaxPart %d: %d elements allocated, FixedWorkspaceElems %d", s, maxPart, got, want)
			}
		}
	}
}
