package backprop

// workspacer is implemented by layers that keep buffers beyond their
// output and input gradient (a convolution's patch matrix, an LSTM's gates
// and states): WorkspaceElems is their size per sample, in elements.
type workspacer interface {
	WorkspaceElems() int64
}

// EstimateBytes estimates the memory a network needs for batches of up to
// maxBatch samples, with elemSize bytes per element and optimizerSlots
// state vectors per parameter: parameters, gradients and optimizer state,
// plus every layer's output, input gradient and workspace for a batch, and
// the loss gradient. It is what NewNetwork allocates, up to small per-layer
// bookkeeping.
func EstimateBytes(in []int, specs []Spec, maxBatch int, elemSize int64, optimizerSlots int) int64 {
	var params, perSample int64
	for _, s := range specs {
		for _, p := range s.Params() {
			params += int64(Prod(p.Shape))
		}
		perSample += int64(Prod(s.InShape())) + int64(Prod(s.OutShape()))
		if w, ok := s.(workspacer); ok {
			perSample += w.WorkspaceElems()
		}
	}
	if len(specs) > 0 {
		perSample += int64(Prod(specs[len(specs)-1].OutShape())) // loss gradient
	}
	perSample += int64(Prod(in)) // the batch buffer
	return elemSize * (params*int64(2+optimizerSlots) + perSample*int64(maxBatch))
}
