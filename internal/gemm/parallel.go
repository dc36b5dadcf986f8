package gemm

import (
	"sync"

	"github.com/nettrain/nettrain/internal/parallel"
)

// Parallel runs GEMMs on the goroutines of a parallel.Pool. It owns one
// workspace (packing buffers) per pool goroutine, so a call in steady
// state allocates nothing.
//
// A call cuts C into chunks of about equal size (rows or columns,
// whichever costs less: see split) and runs them as one parallel.Pool.For
// loop over the chunk indices with grain 1, so the caller claims chunks
// from the first up and the workers from the last down, each chunk over
// the full depth k. Every element of C is thus computed by one goroutine
// with the same operations as on one thread: the bits of the result depend
// neither on the number of threads nor on which goroutine ran which chunk.
//
// Sgemm calls on one Parallel are serialised. A Parallel on a nil
// *parallel.Pool runs every call on the caller. The products of a parallel
// loop's chunks go through SgemmOn (or SgemmRowsOn), with the goroutine
// index of the loop, on a Parallel built on that loop's pool.
type Parallel struct {
	pool *parallel.Pool
	mu   sync.Mutex // serialises Sgemm calls: task and ws[0] are shared
	task chunkTask
}

// NewParallel returns a Parallel running on p (nil: on the caller). The
// workspaces are allocated by the first calls that pack.
func NewParallel(p *parallel.Pool) *Parallel {
	g := &wsGroup{ws: make([]workspace, p.Threads())}
	for i := range g.ws {
		g.ws[i].group = g
	}
	return &Parallel{pool: p, task: chunkTask{ws: g.ws}}
}

// minParallelFlops: below this many flops (2mnk) a call stays on the
// caller's goroutine, where waking the workers would cost more than it saves.
const minParallelFlops = 1 << 20

// Sgemm is Sgemm (see the package function) run on the pool's goroutines.
// It must not be called from inside a task of the same pool (that
// deadlocks): a parallel loop's own products call SgemmOn.
func (g *Parallel) Sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkArgs(tA, tB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	t := &g.task
	t.jb = job{tA: tA, tB: tB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc}
	t.jb.plan = makePlan(activeKernels(), tA, tB, m, n, k, ldb)
	threads := g.pool.Threads()
	if 2*m*n*k < minParallelFlops {
		threads = 1
	}
	t.cut = split(&t.jb.plan, m, n, k, threads)
	// Grain 1: one chunk of C per item. With one part, For runs it on the
	// caller.
	g.pool.For(t.cut.parts, 1, t)
	t.jb = job{} // drop the references to the caller's slices
}

// SgemmOn is Sgemm (the package function) run by goroutine w of the pool
// inside one of its parallel loops (in a parallel.Task's Run(w, ...)),
// in that goroutine's own packing workspace: the products of a loop's
// chunks (a recurrence's steps, a convolution's samples) neither take
// turns at the package's shared list of workspaces nor pack into buffers
// another core wrote last. The bits are Sgemm's. It runs on the caller.
// No Parallel.Sgemm on g can run meanwhile: Pool.For and Parallel.Sgemm
// both hold the pool for their whole call, so g must be built on the pool
// running the loop. With a nil Parallel, a Parallel on a nil pool (which
// a loop cannot hold), or w outside the pool's goroutines, it is the
// package Sgemm, on the shared workspaces.
func (g *Parallel) SgemmOn(w int, tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkArgs(tA, tB, m, n, k, a, lda, b, ldb, c, ldc)
	sgemmWS(g.own(w), tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// SgemmRowsOn is SgemmRows run by goroutine w of the pool inside one of
// its parallel loops, in that goroutine's own workspace, as SgemmOn.
func (g *Parallel) SgemmRowsOn(w int, tA bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, offs []int, beta float32, c []float32, ldc int) {
	checkRowsArgs(tA, m, n, k, a, lda, b, offs, c, ldc)
	sgemmRowsWS(g.own(w), tA, m, n, k, alpha, a, lda, b, offs, beta, c, ldc)
}

// own returns goroutine w's workspace, nil when there is none (a nil
// Parallel or pool, or w out of range): the caller then takes one from
// the free list.
func (g *Parallel) own(w int) *workspace {
	if g == nil || g.pool == nil || w < 0 || w >= len(g.task.ws) {
		return nil
	}
	return &g.task.ws[w]
}

// chunkTask runs chunks of one call's cut of C: chunk i is the rows or
// columns t.cut.bounds(i, ...), computed by goroutine w in its workspace.
type chunkTask struct {
	jb  job
	cut cut
	ws  []workspace // ws[0] is the caller's, ws[w] pool worker w's
}

func (t *chunkTask) Run(w, lo, hi int) {
	for i := lo; i < hi; i++ {
		if t.cut.alongM {
			r0, r1 := t.cut.bounds(i, t.jb.m)
			t.jb.run(&t.ws[w], r0, r1, 0, t.jb.n)
		} else {
			c0, c1 := t.cut.bounds(i, t.jb.n)
			t.jb.run(&t.ws[w], 0, t.jb.m, c0, c1)
		}
	}
}

// packCost is the cost of packing one element, in flops of kernel time
// (about half a nanosecond at 100 GFLOP/s).
const packCost = 64

// minChunkFlops keeps chunks big enough that claiming one and re-reading
// its operands stays small next to its work (about 5 microseconds).
const minChunkFlops = 1 << 19

// readCost is the cost of an element of an operand that every chunk of a
// dot-product call streams in full (all of B when C is cut along rows,
// all of A along columns), in flops of kernel time. Counting it makes
// the goroutines split the larger operand and share the smaller one:
// fewer bytes through the caches, and in a dense layer's forward pass
// (X W^T, W the larger) each goroutine reads only its rows of W, so that
// the optimizer's update of W later writes lines no other core holds.
const readCost = 16

// chunksPerThread: two chunks per goroutine let the others take over the
// work of one that starts late; more cost locality (each chunk re-reads
// its operands) for no measurable gain here.
const chunksPerThread = 2

// cut is how a Parallel call divides C: into parts chunks along rows (alongM)
// or columns, dealing units of unit rows or columns as evenly as possible
// (the first units%parts chunks get one more).
type cut struct {
	alongM             bool
	parts, unit, units int
}

// bounds returns the rows or columns [lo, hi) of chunk c, dim the rows or
// columns of C.
func (ct *cut) bounds(c, dim int) (lo, hi int) {
	q, r := ct.units/ct.parts, ct.units%ct.parts
	lo = (c*q + min(c, r)) * ct.unit
	hi = lo + (q+b2i(c < r))*ct.unit
	return lo, min(hi, dim)
}

// split cuts C for up to threads goroutines: along rows or columns, in
// about chunksPerThread chunks per goroutine (one, when that is more
// than a 32nd cheaper, or along rows when chunks would be shorter than
// two slivers) of as nearly equal sizes as whole units allow, and picks
// the direction and count with the smaller estimated time, counting
// what every chunk repeats: on the outer-product path the packing
// (cutting along columns makes each chunk pack its rows of A, if the
// plan packs A; along rows, its columns of B), on the dot-product path
// the reading of the operand it does not cut (readCost). Ties go to
// rows: each goroutine's part of C is then one contiguous block, as are
// the chunks of the element-wise loops that read it next (a gradient
// slab, an activation).
//
// A chunk may end inside a register tile: every kernel variant (fewer
// rows, masked columns) does the same operations per element, so the cut
// does not change the bits. The units follow what a chunk's edge costs:
// the dot-product kernel's tile (a partial one costs its fixed reduction);
// four rows on the outer-product path (a chunk's rows are dealt evenly
// into slivers, and the kernel's time is about proportional to the rows
// of a sliver); half a register tile of columns there (one vector, which
// costs the same masked or not).
func split(pl *plan, m, n, k, threads int) cut {
	if threads <= 1 {
		return cut{parts: 1, unit: n, units: 1}
	}
	um, un := min(4, pl.ks.mr), max(1, pl.ks.nr/2)
	if pl.dot {
		um, un = pl.ks.dmr, pl.ks.dnr
	}
	want := max(threads, min(threads*chunksPerThread, 2*m*n*k/minChunkFlops))
	try := func(alongM bool, dim, unit, other int, dup bool, want int) (cut, int) {
		if alongM && !pl.dot && dim < want*2*pl.ks.mr {
			// One chunk per goroutine when want chunks of rows would
			// be shorter than two slivers of mr rows: every sliver
			// streams the chunk's B, and shorter ones do fewer flops
			// per value of B they read.
			want = threads
		}
		units := (dim + unit - 1) / unit
		ct := cut{alongM: alongM, parts: min(want, units, parallel.MaxChunks), unit: unit, units: units}
		size := min((units+ct.parts-1)/ct.parts*unit, dim)
		per := 2 * size * other * k
		switch {
		case pl.dot:
			per += readCost * k * other
		case dup:
			per += packCost * k * other
		}
		return ct, (ct.parts + threads - 1) / threads * per
	}
	pick := func(want int) (cut, int) {
		cm, tm := try(true, m, um, n, pl.packB, want)
		cn, tn := try(false, n, un, m, pl.packA, want)
		if tm <= tn {
			return cm, tm
		}
		return cn, tn
	}
	best, bt := pick(want)
	// One chunk per goroutine instead when what every chunk repeats makes
	// that more than a 32nd cheaper (the MLP's second dense layer,
	// 64x128x256 A*B^T cut along columns: four chunks pack all of A four
	// times, two chunks twice; 1024^3, where four chunks pack all of B
	// four times, 5% of the work). Otherwise more chunks, which let the
	// others cover for a goroutine that starts late.
	if one, t := pick(threads); 32*t < 31*bt {
		best = one
	}
	return best
}
