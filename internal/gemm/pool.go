package gemm

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Pool runs GEMMs on up to Threads goroutines: the caller plus Threads-1
// persistent workers started by NewPool. Each of them owns its packing
// buffers, so a call in steady state allocates nothing.
//
// A call cuts C into chunks of about equal size (rows or columns,
// whichever costs less) and the goroutines claim chunks from a shared
// word until none is left (the caller from the front, the workers from
// the back), each chunk over the full depth k. Every
// element of C is thus computed by one goroutine with the same operations
// as on one thread: the bits of the result depend neither on the number
// of threads nor on which goroutine ran which chunk. Claiming (rather than
// one fixed block per goroutine) lets the running goroutines take the work
// of one that has not started yet, as when the OS has descheduled its
// thread on a busy machine.
//
// Besides GEMMs, a Pool runs parallel loops (For) on the same goroutines.
//
// Calls on one Pool (Sgemm and For) are serialised; the zero Pool is not
// usable, use NewPool. A nil *Pool runs For on the caller and reports one
// thread.
type Pool struct {
	threads int
	mu      sync.Mutex // serialises Sgemm calls
	workers []poolWorker
	ws      []workspace // ws[0] is the caller's, ws[i] worker i's

	// The current job and its cut; written by the caller before it
	// publishes the job in state, read by whoever claims a chunk. When
	// task is set the job is a For loop over [0, forN) in chunks of step
	// items, and jb is unused.
	jb   job
	cut  cut
	step int
	task Task
	forN int

	// state is gen<<32 | back<<16 | front: the job generation and the
	// unclaimed chunks [front, back), in one word so that a claim (a CAS)
	// can never mix two jobs. The caller claims front, the workers back-1.
	state        atomic.Uint64
	remaining    atomic.Int32 // chunks of the current job not finished
	callerParked atomic.Bool  // the caller is (about to be) blocked on done
	done         chan struct{}
	closing      atomic.Bool
	closed       bool
	exited       sync.WaitGroup
}

// poolWorker is the parking place of one worker goroutine.
type poolWorker struct {
	parked atomic.Bool   // the worker is (about to be) blocked on wake
	wake   chan struct{} // capacity 1: a token means "look at state again"
	_      [64]byte      // keep workers on separate cache lines
}

// spinTime is how long a goroutine with nothing to do polls before it
// parks: idle workers between jobs (GEMMs and parallel loops in a training
// step come back to back, with serial stretches of a few hundred
// microseconds between them: an element-wise layer, the optimizer), and
// the caller waiting for the last chunks. Waking a parked goroutine costs
// tens of microseconds here, as much as a small GEMM. Measured on the MNIST
// CNN step with 2 threads: 50us 9.2 ms, 200us 9.1 ms, 500us 8.7 ms, 2ms
// 8.9 ms.
const spinTime = 500 * time.Microsecond

// NewPool starts a pool of threads goroutines (GOMAXPROCS when threads < 1).
func NewPool(threads int) *Pool {
	if threads < 1 {
		threads = runtime.GOMAXPROCS(0)
	}
	p := &Pool{threads: threads, workers: make([]poolWorker, threads), ws: make([]workspace, threads), done: make(chan struct{}, 1)}
	for i := 1; i < threads; i++ {
		p.workers[i].wake = make(chan struct{}, 1)
		p.exited.Add(1)
		go p.work(i)
	}
	return p
}

// Threads returns the number of goroutines a call may use (1 for a nil
// Pool).
func (p *Pool) Threads() int {
	if p == nil {
		return 1
	}
	return p.threads
}

// Close stops the workers. The Pool must not be used afterwards.
func (p *Pool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	p.closing.Store(true)
	p.publish(0)
	p.exited.Wait()
}

// minParallelFlops: below this many flops (2mnk) a call stays on the
// caller's goroutine, where waking the workers would cost more than it saves.
const minParallelFlops = 1 << 20

// Sgemm is Sgemm (see the package function) run on the pool's goroutines.
func (p *Pool) Sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkArgs(tA, tB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		panic("gemm: Sgemm on a closed Pool")
	}
	p.jb = job{tA: tA, tB: tB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc}
	p.jb.plan = makePlan(activeKernels(), tA, tB, m, n, k)
	threads := p.threads
	if 2*m*n*k < minParallelFlops {
		threads = 1
	}
	p.cut = split(&p.jb.plan, m, n, k, threads)
	if chunks := p.cut.parts; chunks == 1 {
		p.jb.run(&p.ws[0], 0, m, 0, n)
	} else {
		p.remaining.Store(int32(chunks))
		gen := p.publish(chunks)
		p.claim(gen, 0)
		p.waitDone()
	}
	p.jb = job{} // drop the references to the caller's slices
}

// Task is the body of a parallel loop run by Pool.For. Run(w, lo, hi)
// processes the items [lo, hi) on goroutine w of the pool (0 <= w <
// Threads(); 0 is the caller), so that a task can keep scratch space per
// goroutine. Run must not call the pool (Sgemm or For): that deadlocks.
//
// A task is usually a small struct stored in the object that runs the loop
// (a layer), its fields set before each call: passing a pointer to it as a
// Task does not allocate, unlike a closure.
type Task interface {
	Run(w, lo, hi int)
}

// maxChunks is the most chunks one call can have (they are counted in 16
// bits of the pool's state word).
const maxChunks = MaxChunks

// MaxChunks is the most chunks For accepts in one call.
const MaxChunks = 0xffff

// For runs t over the items [0, n) cut into chunks of grain items: [0,
// grain), [grain, 2*grain), ..., the last one possibly shorter; each chunk
// is one call of t.Run. The chunks depend only on n and grain, never on the
// number of threads, and every chunk runs exactly once: a task whose chunks
// write disjoint outputs, or reduce into per-chunk slots combined in chunk
// order afterwards, gives bit-identical results for any thread count. The
// order in which chunks run, and which goroutine runs which, is not
// specified. For returns when every chunk is done. It panics if grain < 1
// or n/grain exceeds 65535 chunks.
//
// With one thread, one chunk, or a nil Pool, the chunks run in order on the
// caller. Nothing in For allocates.
func (p *Pool) For(n, grain int, t Task) {
	if grain < 1 {
		panic("gemm: For with grain < 1")
	}
	if n <= 0 {
		return
	}
	chunks := (n + grain - 1) / grain
	if chunks > maxChunks {
		panic("gemm: For with more than 65535 chunks")
	}
	if p == nil || p.threads == 1 || chunks == 1 {
		if p != nil {
			p.mu.Lock()
			defer p.mu.Unlock()
		}
		for lo := 0; lo < n; lo += grain {
			t.Run(0, lo, min(lo+grain, n))
		}
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		panic("gemm: For on a closed Pool")
	}
	p.task, p.forN, p.step = t, n, grain
	p.remaining.Store(int32(chunks))
	gen := p.publish(chunks)
	p.claim(gen, 0)
	p.waitDone()
	p.task = nil // drop the reference to the caller's task
}

// publish starts a new generation with the given number of chunks and
// wakes the parked workers. It returns the generation.
func (p *Pool) publish(chunks int) uint32 {
	gen := uint32(p.state.Load()>>32) + 1
	p.state.Store(uint64(gen)<<32 | uint64(chunks)<<16)
	for i := 1; i < p.threads; i++ {
		w := &p.workers[i]
		if w.parked.Load() {
			select {
			case w.wake <- struct{}{}:
			default:
			}
		}
	}
	return gen
}

// claim runs chunks of generation gen on goroutine id until none is left
// to claim: the caller (id 0) takes them from the first up, the workers
// from the last down. Which goroutine runs which chunk does not change the
// result; claiming from both ends gives each goroutine about the same
// part of every call from one call to the next, so that what it writes
// tends to be in its own cache already, not in another core's.
func (p *Pool) claim(gen uint32, id int) {
	for {
		s := p.state.Load()
		front, back := int(s&0xffff), int(s>>16&0xffff)
		if uint32(s>>32) != gen || front >= back {
			return
		}
		next, claimed := front, s+1
		if id > 0 {
			next, claimed = back-1, s-1<<16
		}
		if !p.state.CompareAndSwap(s, claimed) {
			continue
		}
		// The claim succeeded, so the job is current and unfinished: its
		// fields are stable until remaining reaches 0.
		switch {
		case p.task != nil:
			p.task.Run(id, next*p.step, min((next+1)*p.step, p.forN))
		case p.cut.alongM:
			lo, hi := p.cut.bounds(next, p.jb.m)
			p.jb.run(&p.ws[id], lo, hi, 0, p.jb.n)
		default:
			lo, hi := p.cut.bounds(next, p.jb.n)
			p.jb.run(&p.ws[id], 0, p.jb.m, lo, hi)
		}
		if p.remaining.Add(-1) == 0 && p.callerParked.Load() {
			select {
			case p.done <- struct{}{}:
			default:
			}
		}
	}
}

// waitDone returns once every chunk of the current job is finished: it
// spins for spinTime, then parks until the last worker sends a token.
func (p *Pool) waitDone() {
	var sp spinner
	for p.remaining.Load() != 0 {
		if sp.spin() {
			continue
		}
		p.callerParked.Store(true)
		if p.remaining.Load() != 0 { // re-check: the last worker may have missed callerParked
			<-p.done
		}
		p.callerParked.Store(false)
		sp = spinner{}
	}
}

func (p *Pool) work(id int) {
	defer p.exited.Done()
	w := &p.workers[id]
	var seen uint32 // generation 0 is no job: the first job may be published before this goroutine runs
	for {
		seen = p.waitGen(w, seen)
		if p.closing.Load() {
			return
		}
		p.claim(seen, id)
	}
}

// waitGen returns the generation once it differs from seen: it spins for
// spinTime, then parks until publish sends a wake token.
func (p *Pool) waitGen(w *poolWorker, seen uint32) uint32 {
	var sp spinner
	for {
		if g := uint32(p.state.Load() >> 32); g != seen {
			return g
		}
		if sp.spin() {
			continue
		}
		w.parked.Store(true)
		if g := uint32(p.state.Load() >> 32); g != seen { // re-check: publish may have missed parked
			w.parked.Store(false)
			return g
		}
		<-w.wake
		w.parked.Store(false)
		sp = spinner{}
	}
}

// spinner bounds a polling loop to spinTime, yielding to other goroutines
// every 64 polls.
type spinner struct {
	n     int
	start time.Time
}

// spin reports whether to keep polling.
func (s *spinner) spin() bool {
	s.n++
	if s.n%64 != 0 {
		return true
	}
	if s.start.IsZero() {
		s.start = time.Now()
		return true
	}
	if time.Since(s.start) < spinTime {
		runtime.Gosched()
		return true
	}
	return false
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

// cut is how a Pool call divides C: into parts chunks along rows (alongM)
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
// about chunksPerThread chunks per goroutine of as nearly equal sizes as
// whole units allow, and picks the direction with the smaller estimated
// time, counting what every chunk repeats: on the outer-product path the
// packing (cutting along columns makes each chunk pack its rows of A, if
// the plan packs A; along rows, its columns of B), on the dot-product
// path the reading of the operand it does not cut (readCost). Ties go to
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
	try := func(alongM bool, dim, unit, other int, dup bool) (cut, int) {
		units := (dim + unit - 1) / unit
		ct := cut{alongM: alongM, parts: min(want, units, maxChunks), unit: unit, units: units}
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
	cm, tm := try(true, m, um, n, pl.packB)
	cn, tn := try(false, n, un, m, pl.packA)
	if tm <= tn {
		return cm
	}
	return cn
}
