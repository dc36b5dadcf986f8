package train

import "time"

// StepTimes accumulates where a training step's time goes, for `bench`:
// set Trainer.Times to collect them (nil, the default, times nothing and
// runs the step as one pass of the network).
type StepTimes struct {
	Fill     time.Duration   // filling the batch
	Forward  []time.Duration // per layer
	Loss     time.Duration   // the loss and its gradient
	Backward []time.Duration // per layer
	Update   time.Duration   // gradient norm, clipping and the update
}

// Reset zeroes every duration.
func (s *StepTimes) Reset() {
	s.Fill, s.Loss, s.Update = 0, 0, 0
	clear(s.Forward)
	clear(s.Backward)
}

// timedStep is Step with every stage timed: the layers run one by one, as
// Network.Forward and Backward run them (a ReLU that runs inside the
// pooling after it, Network.ForwardLayer, takes no time of its own: the
// pooling's includes it).
func (t *Trainer[T]) timedStep(pos []int) (loss, gradNorm float64, ok bool) {
	tm, net, n := t.Times, t.Net, len(pos)
	if len(tm.Forward) != len(net.Layers) {
		tm.Forward = make([]time.Duration, len(net.Layers))
		tm.Backward = make([]time.Duration, len(net.Layers))
	}
	t0 := time.Now()
	x, target := t.Fill(pos)
	tm.Fill += time.Since(t0)
	net.ZeroGradCtx(t.Ctx)
	t.Ctx.Train = true
	t.Ctx.Timing = true // blocks time their inner layers too
	defer func() { t.Ctx.Timing = false }()
	for i := 0; i < len(net.Layers); i++ {
		a := time.Now()
		x, i = net.ForwardLayer(t.Ctx, i, x, n)
		tm.Forward[i] += time.Since(a)
	}
	a := time.Now()
	loss, _, _ = net.Loss.ForwardCtx(t.Ctx, x, target, n)
	dy := net.Loss.Grad(n)
	tm.Loss += time.Since(a)
	for i := len(net.Layers) - 1; i >= 0; i-- {
		a, j := time.Now(), i
		dy, i = net.BackwardLayer(t.Ctx, i, dy, n, false)
		tm.Backward[j] += time.Since(a)
	}
	a = time.Now()
	gradNorm, ok = t.Update(loss)
	tm.Update += time.Since(a)
	return loss, gradNorm, ok
}
