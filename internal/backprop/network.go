package backprop

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/nettrain/nettrain/internal/simd"
)

// Network is a sequence of layers with a loss, built for batches of up to
// MaxBatch samples. Its parameter names follow PyTorch's nn.Sequential
// state_dict: "<layer index>.<name>", the index counting every layer of the
// config's list, parameter-free ones included.
type Network[T Float] struct {
	In      []int // per-sample input shape
	Specs   []Spec
	Layers  []Layer[T]
	Params  []*Param[T]   // all parameters, in state_dict order
	ByLayer [][]*Param[T] // the parameters of each layer
	W, G    []T           // flat parameter and gradient slabs
	// Buffers are the layers' untrained state (batchnorm's running
	// statistics), in state_dict order, views into the flat slab B;
	// BufByLayer groups them by layer. Their G is nil.
	Buffers    []*Param[T]
	BufByLayer [][]*Param[T]
	B          []T
	Loss       *LossFn[T]
	MaxBatch   int

	// Outs[i] is layer i's output from the last Forward and Dx[i] its input
	// gradient from the last Backward (nil for layer 0 unless the input
	// gradient was asked for); views into layer buffers, for tracing. A
	// ReLU fused into the pooling after it has neither, nor has that
	// pooling a Dx (see ForwardLayer; Ctx.Layerwise keeps them all).
	Outs, Dx [][]T
	// fused[i]: the last Forward ran layer i, a ReLU, inside layer i+1.
	fused []bool

	norm  sumSquaresTask[T] // GradNorm's loop, with a slot per chunk
	clear clearTask[T]      // ZeroGrad's loop
}

// SlabGrain is the chunk, in values, of the parallel loops over the flat
// parameter and gradient slabs: ZeroGradCtx, GradNormCtx's partial sums,
// and the trainer's clipping and optimizer update. It is a multiple of the
// 32 lanes of simd.SumSquares.
const SlabGrain = ElemGrain

// NewNetwork builds a network for the given per-sample input shape, layer
// specs (as validated by package model) and loss kind, allocating every
// buffer for batches of up to maxBatch samples. Parameters are zero until
// Init or a checkpoint sets them.
func NewNetwork[T Float](in []int, specs []Spec, loss string, maxBatch int) *Network[T] {
	net := &Network[T]{In: in, Specs: specs, MaxBatch: maxBatch}
	total := 0
	for _, s := range specs {
		for _, p := range s.Params() {
			total += Prod(p.Shape)
		}
	}
	net.W = make([]T, total)
	net.G = make([]T, total)
	nbuf := 0
	for _, s := range specs {
		for _, b := range BuffersOf(s) {
			nbuf += Prod(b.Shape)
		}
	}
	net.B = make([]T, nbuf)
	off, boff := 0, 0
	for i, s := range specs {
		var ps []*Param[T]
		for _, sp := range s.Params() {
			size := Prod(sp.Shape)
			p := &Param[T]{
				Name:   fmt.Sprintf("%d.%s", i, sp.Name),
				Shape:  sp.Shape,
				W:      net.W[off : off+size : off+size],
				G:      net.G[off : off+size : off+size],
				Init:   sp.Init,
				Offset: off,
			}
			off += size
			ps = append(ps, p)
			net.Params = append(net.Params, p)
		}
		net.ByLayer = append(net.ByLayer, ps)
		var bs []*Param[T]
		for _, sp := range BuffersOf(s) {
			size := Prod(sp.Shape)
			b := &Param[T]{
				Name:   fmt.Sprintf("%d.%s", i, sp.Name),
				Shape:  sp.Shape,
				W:      net.B[boff : boff+size : boff+size],
				Init:   sp.Init,
				Offset: boff,
				Int:    sp.Int,
			}
			boff += size
			bs = append(bs, b)
			net.Buffers = append(net.Buffers, b)
		}
		net.BufByLayer = append(net.BufByLayer, bs)
		net.Layers = append(net.Layers, newLayer(s, append(ps[:len(ps):len(ps)], bs...), maxBatch))
	}
	out := in
	if len(specs) > 0 {
		out = specs[len(specs)-1].OutShape()
	}
	net.Loss = NewLoss[T](loss, out, maxBatch)
	net.Outs = make([][]T, len(specs))
	net.Dx = make([][]T, len(specs))
	net.fused = make([]bool, len(specs))
	net.norm.part = make([]float64, (total+SlabGrain-1)/SlabGrain)
	return net
}

// OutShape is the per-sample shape of the network's output.
func (net *Network[T]) OutShape() []int {
	if len(net.Specs) == 0 {
		return net.In
	}
	return net.Specs[len(net.Specs)-1].OutShape()
}

// Init draws every parameter from its initialiser with rng. Values are drawn
// in float64 and rounded to T, so float32 and float64 networks built from the
// same seed start from the same (rounded) weights.
func (net *Network[T]) Init(rng *rand.Rand) {
	// Buffers take constants (no draws), so they do not shift the
	// parameters' random stream.
	for _, p := range append(net.Params[:len(net.Params):len(net.Params)], net.Buffers...) {
		switch p.Init.Kind {
		case InitUniform:
			b := p.Init.Bound
			for i := range p.W {
				p.W[i] = T(b * (2*rng.Float64() - 1))
			}
		case InitNormal:
			for i := range p.W {
				p.W[i] = T(p.Init.Bound * rng.NormFloat64())
			}
		case InitConstant:
			for i := range p.W {
				p.W[i] = T(p.Init.Value)
			}
		default:
			panic(fmt.Sprintf("backprop: parameter %s has unknown init %q", p.Name, p.Init.Kind))
		}
		for _, r := range p.Init.Ranges {
			for i := r.Lo; i < r.Hi; i++ {
				p.W[i] = T(r.Value)
			}
		}
	}
}

// Forward runs a batch of n samples x (n, In...) through every layer and
// returns the output (n, out...).
func (net *Network[T]) Forward(ctx *Ctx, x []T, n int) []T {
	if n > net.MaxBatch {
		panic(fmt.Sprintf("backprop: batch of %d exceeds the network's maximum %d", n, net.MaxBatch))
	}
	for i := 0; i < len(net.Layers); i++ {
		x, i = net.ForwardLayer(ctx, i, x, n)
	}
	return x
}

// ForwardLayer runs layer i of Forward on x and returns its output and
// the index of the last layer it ran: i, or i+1 when layer i is a ReLU
// and layer i+1 a max pooling whose 2x2 windows of stride 2 tile its
// input. Such a pooling then pools the ReLU's input and applies the ReLU
// to its own output, 4 times smaller, sparing the ReLU's passes over the
// larger tensor forward and backward (BackwardLayer), with the same bits
// (pool2d.forwardReLU); the ReLU's Outs are nil. Unless ctx.Layerwise.
func (net *Network[T]) ForwardLayer(ctx *Ctx, i int, x []T, n int) ([]T, int) {
	if p := net.reluPool(ctx, i); p != nil {
		x = p.forwardReLU(ctx, x, n)
		net.Outs[i], net.Outs[i+1], net.fused[i], net.fused[i+1] = nil, x, true, false
		return x, i + 1
	}
	x = net.Layers[i].Forward(ctx, x, n)
	net.Outs[i], net.fused[i] = x, false
	return x, i
}

// FusedIntoNext reports whether the last Forward ran layer i inside layer
// i+1 (ForwardLayer), which then took its time and holds its work.
func (net *Network[T]) FusedIntoNext(i int) bool { return net.fused[i] }

// reluPool returns layer i+1 when layer i is a ReLU that ForwardLayer
// runs inside it, else nil.
func (net *Network[T]) reluPool(ctx *Ctx, i int) *pool2d[T] {
	if (ctx != nil && ctx.Layerwise) || i+1 >= len(net.Layers) {
		return nil
	}
	if a, ok := net.Layers[i].(*activation[T]); !ok || a.fn != ReLU {
		return nil
	}
	if p, ok := net.Layers[i+1].(*pool2d[T]); ok && p.tiles {
		return p
	}
	return nil
}

// fuser is a layer that can finish each sample of its output as it
// writes it, while the values are in cache, instead of leaving the layers
// after it a pass each over the whole batch: apply the ReLU that follows
// it, then run the next layer, if that works sample by sample: conv2d.
type fuser[T Float] interface {
	fuse(relu bool, next sampleFollower[T])
}

// sampleFollower is a layer whose forward pass can run one sample at a
// time, inside the loop of the layer before it: pool2d. followSample
// computes sample s's output from the batch x; output is the batch's.
type sampleFollower[T Float] interface {
	followSample(x []T, s int)
	// followGrid is followSample reading sample s's planes in place
	// from a convolution's grid, plane k at grid[k*planeStride:] in rows
	// of pitch values, and applying a ReLU to its output when relu is
	// set. It reports false, doing nothing, when it cannot.
	followGrid(grid []T, planeStride, pitch, s int, relu bool) bool
	output(n int) []T
}

// Predict is Forward for evaluation and predictions (ctx.Train false):
// the same output, bit for bit, with a layer able to fuse what follows it
// (conv2d) applying the ReLU after it and running the pooling layer after
// that on each sample as it writes it, which spares passes over the
// largest activations of a CNN. A convolution's Outs then holds its
// ReLU'd output, not its own; when a pooling layer follows, the
// convolution's and the ReLU's Outs are nil, since a 2x2 max pooling
// after a stride-1 convolution reads the convolution's product in place
// and applies the ReLU to its own, 4 times smaller, output (the same
// bits: the maximum of ReLUs is the ReLU of the maximum, NaNs included).
// So Forward with Ctx.Layerwise, not Predict, is for inspecting each
// layer's output (trace).
func (net *Network[T]) Predict(ctx *Ctx, x []T, n int) []T {
	if n > net.MaxBatch {
		panic(fmt.Sprintf("backprop: batch of %d exceeds the network's maximum %d", n, net.MaxBatch))
	}
	clear(net.fused) // no Backward follows Predict
	for i := 0; i < len(net.Layers); i++ {
		l := net.Layers[i]
		f, ok := l.(fuser[T])
		if !ok || (ctx != nil && ctx.Train) {
			x = l.Forward(ctx, x, n)
			net.Outs[i] = x
			continue
		}
		j := i // the last layer the call runs
		// (A type test rather than Kind, which some specs build with a
		// string concatenation: Predict does not allocate.)
		a, relu := ActivationSpec{}, false
		if j+1 < len(net.Layers) {
			a, relu = net.Specs[j+1].(ActivationSpec)
		}
		relu = relu && a.Fn == ReLU
		if relu {
			j++
		}
		var next sampleFollower[T]
		if j+1 < len(net.Layers) {
			next, _ = net.Layers[j+1].(sampleFollower[T])
		}
		f.fuse(relu, next)
		x = l.Forward(ctx, x, n)
		f.fuse(false, nil)
		for k := i; k <= j; k++ {
			net.Outs[k] = x
			if next != nil {
				net.Outs[k] = nil // perhaps never written (followGrid)
			}
		}
		if next != nil {
			j++
			x = next.output(n)
			net.Outs[j] = x
		}
		i = j
	}
	return x
}

// Backward propagates dy = dL/dy (n, out...) back through every layer,
// accumulating parameter gradients into G. It returns dL/dx for the input
// when needDx is true, else nil.
func (net *Network[T]) Backward(ctx *Ctx, dy []T, n int, needDx bool) []T {
	for i := len(net.Layers) - 1; i >= 0; i-- {
		dy, i = net.BackwardLayer(ctx, i, dy, n, needDx)
	}
	return dy
}

// BackwardLayer runs layer i of Backward on dy and returns its input
// gradient and the index of the last layer it ran: i, or i-1 when the
// last Forward ran layer i-1, a ReLU, inside layer i (ForwardLayer); then
// the pooling routes dy through the ReLU's mask, and the pooling's Dx is
// nil. needDx is Backward's: whether layer 0 must give its input gradient.
func (net *Network[T]) BackwardLayer(ctx *Ctx, i int, dy []T, n int, needDx bool) ([]T, int) {
	if i > 0 && net.fused[i-1] {
		if i-1 == 0 && !needDx {
			dy = nil // neither layer has parameters
		} else {
			dy = net.Layers[i].(*pool2d[T]).backwardReLU(ctx, dy, n)
		}
		net.Dx[i], net.Dx[i-1] = nil, dy
		return dy, i - 1
	}
	dy = net.Layers[i].Backward(ctx, dy, n, i > 0 || needDx)
	net.Dx[i] = dy
	return dy, i
}

// ZeroGrad clears every parameter gradient, on the calling goroutine.
func (net *Network[T]) ZeroGrad() { net.ZeroGradCtx(nil) }

// ZeroGradCtx is ZeroGrad on ctx's threads.
func (net *Network[T]) ZeroGradCtx(ctx *Ctx) {
	net.clear.x = net.G
	ctx.For(len(net.G), SlabGrain, &net.clear)
	net.clear.x = nil
}

// clearTask zeroes x, one chunk at a time.
type clearTask[T Float] struct{ x []T }

func (t *clearTask[T]) Run(_, lo, hi int) { clear(t.x[lo:hi]) }

// NumParams is the number of scalar parameters.
func (net *Network[T]) NumParams() int { return len(net.W) }

// GradNorm is the Euclidean norm of the whole gradient slab, computed on
// the calling goroutine; see GradNormCtx.
func (net *Network[T]) GradNorm() float64 { return net.GradNormCtx(nil) }

// GradNormCtx is the Euclidean norm of the whole gradient slab, on ctx's
// threads. It is accumulated in float64 in a fixed order: the slab is cut
// into chunks of SlabGrain values, each chunk's sum of squares is
// simd.SumSquares (32 interleaved partial sums and a fixed reduction tree),
// and the chunks' sums are added in chunk order. The chunks depend only on
// the slab's length, so the norm is the same bits on every run and any
// number of threads.
func (net *Network[T]) GradNormCtx(ctx *Ctx) float64 {
	t := &net.norm
	t.x = net.G
	ctx.For(len(net.G), SlabGrain, t)
	t.x = nil
	var sum float64
	for _, p := range t.part {
		sum += p
	}
	return math.Sqrt(sum)
}

// sumSquaresTask sets part[c] to the sum of squares of chunk c of x
// (chunks of SlabGrain values).
type sumSquaresTask[T Float] struct {
	x    []T
	part []float64
}

func (t *sumSquaresTask[T]) Run(_, lo, hi int) { t.part[lo/SlabGrain] = simd.SumSquares(t.x[lo:hi]) }

// Param returns the parameter with the given state_dict name, or nil.
func (net *Network[T]) Param(name string) *Param[T] {
	for _, p := range net.Params {
		if p.Name == name {
			return p
		}
	}
	return nil
}
