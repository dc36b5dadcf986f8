package backprop

import (
	"math/rand/v2"

	"github.com/nettrain/nettrain/internal/gemm"
	"github.com/nettrain/nettrain/internal/parallel"
)

// Ctx carries what a forward or backward pass needs besides tensors.
// The zero value is usable: evaluation mode, everything on the calling
// goroutine, no RNG.
type Ctx struct {
	// Train selects training behaviour (dropout active). False: evaluation.
	Train bool
	// RNG drives stochastic layers (dropout). Nil is fine when no layer needs it.
	RNG *rand.Rand
	// Pool runs the engine's parallel loops (Ctx.For) on its threads. Nil:
	// the calling goroutine.
	Pool *parallel.Pool
	// Gemm runs the float32 GEMMs, unless Sgemm is set, on the threads of
	// its pool: gemm.NewParallel(Pool) (the products inside Pool's loops
	// use its per-goroutine workspaces, so it must be built on Pool). Nil:
	// gemm.Sgemm on the calling goroutine.
	Gemm *gemm.Parallel
	// Sgemm and Dgemm multiply whole-batch matrices; nil selects Gemm.Sgemm
	// (gemm.Sgemm without it) and gonum's Dgemm. Products computed inside
	// a parallel loop (per-sample convolution GEMMs, a recurrence's steps)
	// always run on the loop's goroutine: Gemm.SgemmOn in that goroutine's
	// workspace (gemm.Sgemm without Gemm), or Dgemm for float64.
	Sgemm SgemmFunc
	Dgemm DgemmFunc
	// Timing asks blocks (residual) to time their inner layers (Residual's
	// FwdTime and BwdTime), for bench. False: nothing is timed.
	Timing bool
	// Layerwise runs every layer of Network.Forward on its own, and so of
	// the Backward after it, so that each keeps its output and input
	// gradient in Outs and Dx (trace). False: a ReLU before a max pooling
	// whose 2x2 windows of stride 2 tile its input runs inside the pooling
	// (Network.ForwardLayer), with the same bits.
	Layerwise bool
	// GemmLog, when set, is told the shape of every matrix product the
	// context runs, including those inside parallel loops (so it must be
	// safe for concurrent use): bench's list of the shapes a model
	// multiplies. Nil: nothing is told (the normal case).
	GemmLog func(GemmCall)
}

// GemmCall is the shape of one matrix product: C (M x N) = op(A) op(B)
// over depth K. Rows marks a product whose B is read through row offsets
// (a stride-1 convolution on its padded image, gemm.SgemmRows), which
// computes what the TA, !TB product on the materialised B would.
type GemmCall struct {
	TA, TB  bool
	M, N, K int
	Rows    bool
}

// Task is the body of a parallel loop (Ctx.For): Run(w, lo, hi) processes
// items [lo, hi) on goroutine w, 0 <= w < Ctx.Threads().
type Task = parallel.Task

// ElemGrain is the chunk of Ctx.For loops over the elements of a tensor
// (element-wise maps): 16K values, 64 KB of float32, several microseconds
// of work, so that the hand-off to a worker (about a microsecond) stays
// small.
const ElemGrain = 1 << 14

// For runs t over [0, n) in chunks of grain items ([0, grain), [grain,
// 2*grain), ...), on the context's pool, or in order on the caller without
// one. The chunks never depend on the thread count, so a loop whose chunks
// write disjoint outputs (or per-chunk partial results combined in chunk
// order afterwards) gives the same bits on any number of threads. t.Run
// must not call ctx's GEMMs or For (use gemmSerial inside). Passing a
// pointer to a task struct kept in the layer does not allocate.
//
// An element-wise map y = f(x) over m values is
//
//	type reluTask[T Float] struct{ x, y []T }
//	func (t *reluTask[T]) Run(_, lo, hi int) { /* y[lo:hi] = f(x[lo:hi]) */ }
//
//	l.task.x, l.task.y = x[:m], y[:m] // l.task is a field of the layer
//	ctx.For(m, ElemGrain, &l.task)
func (c *Ctx) For(n, grain int, t Task) {
	var p *parallel.Pool
	if c != nil {
		p = c.Pool
	}
	// The pool takes at most parallel.MaxChunks chunks: for very large n,
	// grow the grain by a whole factor (so chunk boundaries stay multiples
	// of the grain the caller chose; the chunking still depends only on n).
	if chunks := (n + grain - 1) / grain; grain > 0 && chunks > parallel.MaxChunks {
		grain *= (chunks + parallel.MaxChunks - 1) / parallel.MaxChunks
	}
	p.For(n, grain, t)
}

// Threads is the number of goroutines For may use: w in Task.Run is below it.
func (c *Ctx) Threads() int {
	if c == nil {
		return 1
	}
	return c.Pool.Threads()
}

func (c *Ctx) sgemm() SgemmFunc {
	switch {
	case c == nil:
		return gemm.Sgemm
	case c.Sgemm != nil:
		return c.Sgemm
	case c.Gemm != nil:
		return c.Gemm.Sgemm
	}
	return gemm.Sgemm
}

// gemmSerial is Gemm on the calling goroutine, for products inside a
// parallel loop, run by the loop's goroutine w (the w of Task.Run):
// float32 through the context's Gemm.SgemmOn, in goroutine w's own
// workspace (gemm.Sgemm without a Gemm; the same bits either way, and as
// the pool's GEMM), float64 through the context's Dgemm.
func gemmSerial[T Float](ctx *Ctx, w int, tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if ctx != nil && ctx.GemmLog != nil {
		ctx.GemmLog(GemmCall{TA: tA, TB: tB, M: m, N: n, K: k})
	}
	if Is32[T]() {
		var g *gemm.Parallel
		if ctx != nil {
			g = ctx.Gemm
		}
		g.SgemmOn(w, tA, tB, m, n, k, float32(alpha), as32(a), lda, as32(b), ldb, float32(beta), as32(c), ldc)
		return
	}
	ctx.dgemm()(tA, tB, m, n, k, float64(alpha), as64(a), lda, as64(b), ldb, float64(beta), as64(c), ldc)
}

func (c *Ctx) dgemm() DgemmFunc {
	if c == nil || c.Dgemm == nil {
		return GonumDgemm
	}
	return c.Dgemm
}

// Layer is one differentiable stage of a network, working on whole batches.
//
// Forward computes y = f(x) for n samples: x is (n, in...) row-major and the
// returned y is (n, out...), owned by the layer and valid until the next
// Forward. Backward takes dy = dL/dy for the batch of the last Forward, adds
// dL/dW to the gradients of the layer's parameters (accumulating), and
// returns dx = dL/dx, owned by the layer. When needDx is false (the first
// layer of a network) Backward may skip computing dx and return nil.
type Layer[T Float] interface {
	Forward(ctx *Ctx, x []T, n int) []T
	Backward(ctx *Ctx, dy []T, n int, needDx bool) []T
}

// Spec describes a configured layer independently of the element type: its
// kind, input and output shapes per sample, and its parameters. Package
// model builds Specs from the YAML config (validating shapes); NewNetwork
// turns them into Layers.
type Spec interface {
	// Kind is the config name of the layer kind, e.g. "dense".
	Kind() string
	// InShape and OutShape are per-sample shapes.
	InShape() []int
	OutShape() []int
	// Params lists the layer's parameters in PyTorch state_dict order.
	Params() []ParamSpec
	// FLOPs is the number of floating-point operations of the forward pass
	// for one sample (multiply-add = 2), for throughput reports.
	FLOPs() int64

	new32(p []*Param[float32], maxBatch int) Layer[float32]
	new64(p []*Param[float64], maxBatch int) Layer[float64]
}

// ParamSpec is one parameter (or buffer) tensor of a layer.
type ParamSpec struct {
	Name  string // suffix after the layer index, e.g. "weight" -> "0.weight"
	Shape []int
	Init  Init
	// Int marks a buffer torch keeps as int64 (batchnorm's
	// num_batches_tracked): held as T in the engine, whole numbers only,
	// and stored as I64 in checkpoints and exports.
	Int bool
}

// BufferSpec is implemented by a Spec whose layer keeps state that is not
// trained (torch's buffers: batchnorm's running statistics). Buffers live
// in Network.B, outside the parameter slab, so optimizers, weight decay
// and gradient clipping never see them; checkpoints save and restore them
// under their state_dict names. The layer's constructor receives its
// parameters followed by its buffers (whose G is nil).
type BufferSpec interface {
	Buffers() []ParamSpec
}

// BuffersOf lists a spec's buffers (none for most kinds).
func BuffersOf(s Spec) []ParamSpec {
	if b, ok := s.(BufferSpec); ok {
		return b.Buffers()
	}
	return nil
}

// Init says how a parameter tensor is initialised.
type Init struct {
	Kind  InitKind
	Bound float64
	Value float64
	// Ranges then set parts of the flat tensor to constants (an LSTM's
	// forget-gate bias).
	Ranges []InitRange
}

// InitKind is how a parameter tensor's entries are drawn.
type InitKind string

const (
	InitUniform  InitKind = "uniform"  // U(-Bound, Bound)
	InitNormal   InitKind = "normal"   // N(0, Bound^2)
	InitConstant InitKind = "constant" // every entry Value
)

// InitRange sets entries [Lo, Hi) of a parameter to Value.
type InitRange struct {
	Lo, Hi int
	Value  float64
}

// Uniform is U(-bound, bound), PyTorch's default for Linear, Conv2d and LSTM
// weights with bound = 1/sqrt(fan_in) (kaiming_uniform with a = sqrt(5)).
func Uniform(bound float64) Init { return Init{Kind: InitUniform, Bound: bound} }

// Constant fills a parameter with v.
func Constant(v float64) Init { return Init{Kind: InitConstant, Value: v} }

// Param is one parameter tensor: values W and gradient G, both views into
// the network's flat slabs.
type Param[T Float] struct {
	Name  string // state_dict name, e.g. "0.weight"
	Shape []int
	W     []T
	G     []T
	Init  Init
	// Offset is the position of W in Network.W (and of G in Network.G),
	// or for a buffer, in Network.B.
	Offset int
	// Int: a buffer torch keeps as int64 (see ParamSpec.Int).
	Int bool
}

func newLayer[T Float](s Spec, p []*Param[T], maxBatch int) Layer[T] {
	if Is32[T]() {
		ps := make([]*Param[float32], len(p))
		for i := range p {
			ps[i] = any(p[i]).(*Param[float32])
		}
		return any(s.new32(ps, maxBatch)).(Layer[T])
	}
	ps := make([]*Param[float64], len(p))
	for i := range p {
		ps[i] = any(p[i]).(*Param[float64])
	}
	return any(s.new64(ps, maxBatch)).(Layer[T])
}
