package backprop_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/gemm"
	"github.com/nettrain/nettrain/internal/optim"
	"github.com/nettrain/nettrain/internal/parallel"
)

// stepRun is what a few training steps produce: the weights, the optimizer
// state, and each step's loss and gradient norm.
type stepRun struct {
	w, slots      []float32
	losses, norms []float64
}

// updateTask is the trainer's fused update: clip the chunk, then the
// optimizer's update of the chunk.
type updateTask struct {
	net  *backprop.Network[float32]
	opt  optim.Optimizer[float32]
	coef float32
}

func (u *updateTask) Run(_, lo, hi int) {
	g := u.net.G[lo:hi]
	optim.ClipValue(g, 0.5)
	if u.coef < 1 {
		for i := range g {
			g[i] *= u.coef
		}
	}
	u.opt.Update(u.net.W, u.net.G, lo, hi)
}

// trainOn runs steps of Adam with gradient clipping on one batch, every
// part of the step on ctx's threads, as the trainer does.
func trainOn(in []int, specs []backprop.Spec, loss string, ctx *backprop.Ctx, x []float32, tgt backprop.Target[float32], n, steps int) stepRun {
	net := backprop.NewNetwork[float32](in, specs, loss, n)
	net.Init(rand.New(rand.NewPCG(7, 7)))
	c, _ := optim.Defaults("adam")
	opt := optim.New[float32](c, net.NumParams())
	ctx.Train = true
	ctx.RNG = rand.New(rand.NewPCG(9, 9))
	u := &updateTask{net: net, opt: opt}
	var r stepRun
	for range steps {
		net.ZeroGradCtx(ctx)
		y := net.Forward(ctx, x, n)
		l, _, _ := net.Loss.ForwardCtx(ctx, y, tgt, n)
		net.Backward(ctx, net.Loss.Grad(n), n, false)
		norm := net.GradNormCtx(ctx)
		r.losses, r.norms = append(r.losses, l), append(r.norms, norm)
		u.coef = float32(min(1, 0.7/(norm+1e-6)))
		opt.Begin()
		ctx.For(len(net.W), backprop.SlabGrain, u)
	}
	r.w = append([]float32(nil), net.W...)
	for _, s := range opt.Slots() {
		r.slots = append(r.slots, s.Data...)
	}
	return r
}

// TestThreadsBitIdenticalTraining trains an MLP, one-hot and embedding
// LSTMs and a network of the other activations with an MSE loss for a few
// Adam steps, every part of the step (zeroing, layers, loss, gradient
// norm, clipping, update) on 1 to 3 threads, and compares the weights,
// the optimizer state, the losses and the norms bit for bit with the run
// without a pool.
func TestThreadsBitIdenticalTraining(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	uniform := func(m int) []float32 {
		x := make([]float32, m)
		for i := range x {
			x[i] = float32(rng.Float64())
		}
		return x
	}
	tokens := func(m, vocab int) []float32 {
		x := make([]float32, m)
		for i := range x {
			x[i] = float32(rng.IntN(vocab))
		}
		return x
	}
	labels := func(m, classes int) []int32 {
		l := make([]int32, m)
		for i := range l {
			l[i] = int32(rng.IntN(classes))
		}
		return l
	}
	const steps, vocab, window = 3, 23, 9
	cases := []struct {
		name  string
		in    []int
		specs []backprop.Spec
		loss  string
		n     int
		x     []float32
		tgt   backprop.Target[float32]
	}{
		{
			name: "mlp", in: []int{784}, n: 53, loss: backprop.CrossEntropy,
			specs: []backprop.Spec{
				backprop.DenseSpec{In: []int{784}, Units: 256, Bias: true},
				backprop.ActivationSpec{Fn: "relu", In: []int{256}},
				backprop.DenseSpec{In: []int{256}, Units: 128, Bias: true},
				backprop.ActivationSpec{Fn: "relu", In: []int{128}},
				backprop.DenseSpec{In: []int{128}, Units: 10, Bias: true},
			},
			x: uniform(53 * 784), tgt: backprop.Target[float32]{Labels: labels(53, 10)},
		},
		{
			name: "lstm-onehot", in: []int{window}, n: 37, loss: backprop.CrossEntropy,
			specs: []backprop.Spec{
				backprop.OneHotSpec{In: []int{window}, Vocab: vocab},
				backprop.LSTMSpec{In: []int{window, vocab}, Units: 96, Layers: 2, OneHot: true},
				backprop.DenseSpec{In: []int{96}, Units: vocab, Bias: true},
			},
			x: tokens(37*window, vocab), tgt: backprop.Target[float32]{Labels: labels(37, vocab)},
		},
		{
			name: "lstm-embedding-sequences", in: []int{window}, n: 21, loss: backprop.CrossEntropy,
			specs: []backprop.Spec{
				backprop.EmbeddingSpec{In: []int{window}, Vocab: vocab, Dim: 12},
				backprop.LSTMSpec{In: []int{window, 12}, Units: 40, Layers: 1, ReturnSequences: true},
				backprop.DenseSpec{In: []int{window, 40}, Units: vocab, Bias: true},
			},
			x: tokens(21*window, vocab), tgt: backprop.Target[float32]{Labels: labels(21*window, vocab)},
		},
		{
			name: "tanh-sigmoid-softmax-mse", in: []int{50}, n: 64, loss: backprop.MSE,
			specs: []backprop.Spec{
				backprop.DenseSpec{In: []int{50}, Units: 400, Bias: true},
				backprop.ActivationSpec{Fn: "tanh", In: []int{400}},
				backprop.DropoutSpec{In: []int{400}, P: 0.2},
				backprop.DenseSpec{In: []int{400}, Units: 300, Bias: true},
				backprop.ActivationSpec{Fn: "sigmoid", In: []int{300}},
				backprop.DenseSpec{In: []int{300}, Units: 6, Bias: true},
				backprop.ActivationSpec{Fn: "softmax", In: []int{6}},
			},
			x: uniform(64 * 50), tgt: backprop.Target[float32]{Labels: labels(64, 6)},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := trainOn(c.in, c.specs, c.loss, &backprop.Ctx{}, c.x, c.tgt, c.n, steps)
			for _, threads := range []int{1, 2, 3} {
				pool := parallel.NewPool(threads)
				got := trainOn(c.in, c.specs, c.loss, &backprop.Ctx{Pool: pool, Gemm: gemm.NewParallel(pool)}, c.x, c.tgt, c.n, steps)
				pool.Close()
				for s := range want.losses {
					if got.losses[s] != want.losses[s] || got.norms[s] != want.norms[s] {
						t.Fatalf("%d threads, step %d: loss %v norm %v, without a pool %v %v",
							threads, s, got.losses[s], got.norms[s], want.losses[s], want.norms[s])
					}
				}
				for i := range want.w {
					if math.Float32bits(got.w[i]) != math.Float32bits(want.w[i]) {
						t.Fatalf("%d threads: weight %d is %v, %v without a pool", threads, i, got.w[i], want.w[i])
					}
				}
				for i := range want.slots {
					if math.Float32bits(got.slots[i]) != math.Float32bits(want.slots[i]) {
						t.Fatalf("%d threads: optimizer state %d is %v, %v without a pool", threads, i, got.slots[i], want.slots[i])
					}
				}
			}
		})
	}
}

// countTask counts the elements its chunks cover.
type countTask struct{ n []int64 }

func (c *countTask) Run(_, lo, hi int) { c.n[0] += int64(hi - lo) }

// TestForManyChunks: a huge range with a small grain does not exceed the
// pool's chunk limit; the grain grows instead.
func TestForManyChunks(t *testing.T) {
	n := 70000 * 16
	task := &countTask{n: make([]int64, 1)}
	var ctx backprop.Ctx // no pool: chunks run in order on the caller
	ctx.For(n, 8, task)
	if task.n[0] != int64(n) {
		t.Fatalf("covered %d of %d", task.n[0], n)
	}
}
