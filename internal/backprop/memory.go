package backprop

import "math"

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

// EstimateBytes estimates the memory a network needs for batches of up to
// maxBatch samples, with elemSize bytes per element and optimizerSlots
// state vectors per parameter: parameters, gradients and optimizer state,
// plus every layer's output, input gradient and workspace for a batch, and
// the loss gradient. It is what NewNetwork allocates, up to small per-layer
// bookkeeping.
//
// Sizes are summed in float64 and the result saturates at math.MaxInt64,
// so an absurd config reads as "too big", never as a wrapped-around number.
func EstimateBytes(in []int, specs []Spec, maxBatch int, elemSize int64, optimizerSlots int) int64 {
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
	if b >= math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(b)
}
