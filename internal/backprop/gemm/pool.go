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
// A call cuts C into chunks of whole register tiles (rows or columns,
// whichever costs less) and the goroutines claim chunks from a shared
// counter until none is left, each chunk over the full depth k. Every
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
	jb     job
	alongM bool
	step   int
	task   Task
	forN   int

	// state is gen<<32 | chunks<<16 | next: the job generation, its
	// number of chunks and the next chunk to claim, in one word so that a
	// claim (a CAS) can never mix two jobs.
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
	var chunks int
	chunks, p.alongM, p.step = split(&p.jb.plan, m, n, k, threads)
	if chunks == 1 {
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
const maxChunks = 0xffff

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
// to claim.
func (p *Pool) claim(gen uint32, id int) {
	for {
		s := p.state.Load()
		next, chunks := int(s&0xffff), int(s>>16&0xffff)
		if uint32(s>>32) != gen || next >= chunks {
			return
		}
		if !p.state.CompareAndSwap(s, s+1) {
			continue
		}
		// The claim succeeded, so the job is current and unfinished: its
		// fields are stable until remaining reaches 0.
		lo, hi := next*p.step, (next+1)*p.step
		switch {
		case p.task != nil:
			p.task.Run(id, lo, min(hi, p.forN))
		case p.alongM:
			p.jb.run(&p.ws[id], lo, min(hi, p.jb.m), 0, p.jb.n)
		default:
			p.jb.run(&p.ws[id], 0, p.jb.m, lo, min(hi, p.jb.n))
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

// chunksPerThread: two chunks per goroutine let the others take over the
// work of one that starts late; more cost locality (each chunk re-reads
// its operands) for no measurable gain here.
const chunksPerThread = 2

// split cuts C for up to threads goroutines: along rows or columns, in
// chunks of whole register tiles of the plan's kernel, about
// chunksPerThread per goroutine. It picks the direction with the smaller
// estimated time, counting the packing that every chunk repeats (cutting
// along columns makes each chunk pack its rows of A, if the plan packs A;
// along rows, its columns of B); ties go to columns. It returns the number
// of chunks, the direction and the step (rows or columns per chunk).
func split(pl *plan, m, n, k, threads int) (chunks int, alongM bool, step int) {
	if threads <= 1 {
		return 1, false, n
	}
	mu, nu := pl.ks.mr, pl.ks.nr
	if pl.dot {
		mu, nu = pl.ks.dmr, pl.ks.dnr
	}
	want := max(threads, min(threads*chunksPerThread, 2*m*n*k/minChunkFlops))
	cut := func(dim, unit, other int, dup bool) (parts, step, cost int) {
		tiles := (dim + unit - 1) / unit
		parts = min(want, tiles, 0xffff)
		step = (tiles + parts - 1) / parts * unit
		parts = (dim + step - 1) / step
		per := 2 * min(step, dim) * other * k
		if dup {
			per += packCost * k * other
		}
		return parts, step, (parts + threads - 1) / threads * per
	}
	pm, sm, cm := cut(m, mu, n, !pl.dot && pl.packB)
	pn, sn, cn := cut(n, nu, m, !pl.dot && pl.packA)
	if cm < cn {
		return pm, true, sm
	}
	return pn, false, sn
}
