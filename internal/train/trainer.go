package train

import (
	"math"
	"math/rand/v2"

	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/data"
	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/optim"
	"github.com/nettrain/nettrain/internal/simd"
)

// Trainer runs training steps and epochs of one network on one split. It
// holds every buffer a step needs, so steps do not allocate.
type Trainer[T backprop.Float] struct {
	Cfg   *model.Config
	Net   *backprop.Network[T]
	Opt   optim.Optimizer[T]
	Ctx   *backprop.Ctx
	Train Split[T]
	// Classes > 0 when targets are class labels.
	Classes int
	// Times, when not nil, collects where each step's time goes (bench).
	Times *StepTimes

	buf     *Batch[T]
	dropout *rand.PCG
	fill    fillTask[T]
	update  updateTask[T]
}

// NewTrainer prepares a trainer; the dropout RNG starts from the seed. A
// split whose samples depend on the epoch (augmentation) is copied, so
// that the trainer's Loop sets the epoch of its own copy.
func NewTrainer[T backprop.Float](cfg *model.Config, net *backprop.Network[T], opt optim.Optimizer[T], ctx *backprop.Ctx, train Split[T], classes int) *Trainer[T] {
	if e, ok := train.(epochSplit[T]); ok {
		train = e.forTrainer() // the trainer's own epoch
	}
	t := &Trainer[T]{Cfg: cfg, Net: net, Opt: opt, Ctx: ctx, Train: train, Classes: classes,
		buf: NewBatch(net, classes > 0), dropout: rand.NewPCG(cfg.Seed, StreamDropout)}
	t.fill = fillTask[T]{t: t, in: backprop.Prod(net.In), positions: net.Loss.Positions(), outSize: backprop.Prod(net.OutShape())}
	t.update.t = t
	t.Ctx.RNG = rand.New(t.dropout)
	t.Ctx.Train = true
	return t
}

// Step trains on the samples at positions pos of the training split: zero
// the gradients, forward, loss, backward, clip, update. It returns the batch
// loss and the gradient norm before clipping. When either is not finite,
// Step applies no update and returns ok false; the network's outputs and
// gradients are left for Diagnose.
func (t *Trainer[T]) Step(pos []int) (loss, gradNorm float64, ok bool) {
	if t.Times != nil {
		return t.timedStep(pos)
	}
	n := len(pos)
	net := t.Net
	x, target := t.Fill(pos)
	net.ZeroGradCtx(t.Ctx)
	t.Ctx.Train = true
	y := net.Forward(t.Ctx, x, n)
	loss, _, _ = net.Loss.ForwardCtx(t.Ctx, y, target, n)
	net.Backward(t.Ctx, net.Loss.Grad(n), n, false)
	gradNorm, ok = t.Update(loss)
	return loss, gradNorm, ok
}

// Fill writes the samples at positions pos of the training split into
// the trainer's batch buffers, on the context's threads (chunks of
// samples, each through Split.Fill), and returns the input (len(pos),
// In...) and the targets.
func (t *Trainer[T]) Fill(pos []int) (x []T, target backprop.Target[T]) {
	n := len(pos)
	t.fill.pos = pos
	t.Ctx.For(n, max(1, fillGrain/max(1, t.fill.in)), &t.fill)
	t.fill.pos = nil
	return t.buf.X[:n*t.fill.in], t.buf.Target(n)
}

// fillGrain is the chunk of the batch filling loop, in values of input.
const fillGrain = 8192

// fillTask fills the batch rows [lo, hi): each chunk is one Split.Fill
// call on its part of the buffers (Fill only reads the split).
type fillTask[T backprop.Float] struct {
	t             *Trainer[T]
	pos           []int
	in, positions int // input values and labels per sample
	outSize       int // output values per sample
}

func (f *fillTask[T]) Run(_, lo, hi int) {
	b := f.t.buf
	var labels []int32
	var values []T
	if b.Labels != nil {
		labels = b.Labels[lo*f.positions:]
	}
	if b.Values != nil {
		values = b.Values[lo*f.outSize:]
	}
	f.t.Train.Fill(f.pos[lo:hi], b.X[lo*f.in:], labels, values)
}

// Update ends a step whose gradients are in the network's slab: the
// gradient norm, and unless it or loss is not finite (then ok is false and
// nothing changes), clipping and the optimizer's update. All of it runs on
// the context's threads, in chunks of backprop.SlabGrain values fixed by
// the slab's length: the norm's partial sums are added in chunk order,
// and clipping and the update are element-wise, fused in one pass (clip
// then update each chunk), so the result is the same bits on any number of
// threads.
func (t *Trainer[T]) Update(loss float64) (gradNorm float64, ok bool) {
	net := t.Net
	gradNorm = net.GradNormCtx(t.Ctx)
	if math.IsNaN(loss) || math.IsInf(loss, 0) || math.IsNaN(gradNorm) || math.IsInf(gradNorm, 0) {
		return gradNorm, false
	}
	u := &t.update
	u.clipValue, u.clipNorm = false, false
	if c := t.Cfg.Training.ClipValue; c != nil {
		u.clipValue, u.value = true, *c
	}
	if c := t.Cfg.Training.ClipNorm; c != nil {
		// As optim.ClipNorm: scale when the factor is below 1.
		if coef := *c / (gradNorm + 1e-6); coef < 1 {
			u.clipNorm, u.coef = true, T(coef)
		}
	}
	t.Opt.Begin()
	t.Ctx.For(len(net.W), backprop.SlabGrain, u)
	return gradNorm, true
}

// updateTask clips the gradient and applies the optimizer's update begun
// by Begin, for the slab values [lo, hi).
type updateTask[T backprop.Float] struct {
	t                   *Trainer[T]
	clipValue, clipNorm bool
	value               float64 // clip_value
	coef                T       // clip_norm's factor
}

func (u *updateTask[T]) Run(_, lo, hi int) {
	net := u.t.Net
	g := net.G[lo:hi]
	if u.clipValue {
		optim.ClipValue(g, u.value)
	}
	if u.clipNorm {
		simd.Scale(g, u.coef)
	}
	u.t.Opt.Update(net.W, net.G, lo, hi)
}

// Diagnose names where a non-finite value first appeared in the last step:
// the first layer whose output is not finite, else (going backwards, as
// backprop does) the first whose parameter or input gradient is not.
func Diagnose[T backprop.Float](net *backprop.Network[T], kinds func(int) string) string {
	finite := func(v []T) bool {
		for _, x := range v {
			if f := float64(x); math.IsNaN(f) || math.IsInf(f, 0) {
				return false
			}
		}
		return true
	}
	for i := range net.Layers {
		if !finite(net.Outs[i]) {
			return "the output of " + kinds(i)
		}
	}
	for i := len(net.Layers) - 1; i >= 0; i-- {
		for _, p := range net.ByLayer[i] {
			if !finite(p.G) {
				return "the gradient of " + p.Name + " in " + kinds(i)
			}
		}
		if i > 0 && !finite(net.Dx[i]) {
			return "the input gradient of " + kinds(i)
		}
	}
	return "the loss (every layer's values are finite)"
}

// Permutation writes into p (len(p) = the number of training samples) the
// order of the training samples in an epoch: a pure function of the seed
// and the epoch (data.Permutation), so a resumed run sees the same order.
// It returns p; the caller owns it and reuses it epoch after epoch.
func Permutation(p []int, seed uint64, epoch int, shuffle bool) []int {
	if !shuffle {
		for i := range p {
			p[i] = i
		}
		return p
	}
	data.Permutation(p, seed, epoch)
	return p
}

// DropoutState returns the dropout RNG state for a checkpoint.
func (t *Trainer[T]) DropoutState() []byte {
	b, _ := t.dropout.MarshalBinary()
	return b
}

// SetDropoutState restores the dropout RNG from a checkpoint.
func (t *Trainer[T]) SetDropoutState(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	return t.dropout.UnmarshalBinary(b)
}
