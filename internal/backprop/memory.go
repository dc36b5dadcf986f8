package backprop

import (
	"math"

	"github.com/nettrain/nettrain/internal/gemm"
)

// workspacer is implemented by layers that keep buffers beyond their
// output and input gradient (a convolution's patch matrix, an LSTM's gates
// and states): WorkspaceElems is their size per sample, in elements.
type workspacer interface {
	WorkspaceElems() int64
}

// fixedWorkspacer is implemented by layers that also keep buffers whose
// size does not depend on the batch (an LSTM's transposed weights and its
// chunks' partial gradients): FixedWorkspaceElems is their size, in
// elements.
type fixedWorkspacer interface {
	FixedWorkspaceElems() int64
}

// bufferer is implemented by layers with buffers that do not grow in
// proportion to the batch alone (a convolution's per-chunk partial
// gradients and per-goroutine scratch): BufferElems is their size for
// batches of up to maxBatch on threads goroutines, in elements of elemSize
// bytes.
type bufferer interface {
	BufferElems(maxBatch, threads int, elemSize int64) int64
}

// EstimateBytes estimates the memory a network needs for batches of up to
// maxBatch samples on threads goroutines, with elemSize bytes per element
// and optimizerSlots state vectors per parameter: parameters, gradients
// and optimizer state, plus every layer's output, input gradient and
// workspace for a batch, its buffers for the batch and the threads, and
// the loss gradient. It is what NewNetwork allocates, up to small per-layer
// bookkeeping.
//
// Sizes are summed in float64 and the result saturates at math.MaxInt64,
// so an absurd config reads as "too big", never as a wrapped-around number.
func EstimateBytes(in []int, specs []Spec, maxBatch int, elemSize int64, optimizerSlots, threads int) int64 {
	prod := func(dims []int) float64 {
		p := 1.0
		for _, d := range dims {
			p *= float64(d)
		}
		return p
	}
	var params, perSample, fixed float64
	for _, s := range specs {
		for _, p := range s.Params() {
			params += prod(p.Shape)
		}
		if w, ok := s.(fixedWorkspacer); ok {
			fixed += float64(w.FixedWorkspaceElems())
		}
		if b, ok := s.(bufferer); ok {
			fixed += float64(b.BufferElems(maxBatch, max(1, threads), elemSize))
		}
		perSample += prod(s.InShape()) + prod(s.OutShape())
		if w, ok := s.(workspacer); ok {
			perSample += float64(w.WorkspaceElems())
		}
	}
	if len(specs) > 0 {
		perSample += prod(specs[len(specs)-1].OutShape()) // loss gradient
	}
	perSample += prod(in) // the batch buffer
	b := float64(elemSize) * (params*float64(2+optimizerSlots) + fixed + perSample*float64(maxBatch))
	if elemSize == 4 {
		b += float64(max(1, threads)) * float64(gemm.WorkspaceBytes()) // the float32 GEMM's packing buffers
	}
	if b >= math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(b)
}
