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
// A call splits C into blocks of whole register tiles (rows or columns,
// whichever balances better) and gives each goroutine one block over the
// full depth k. Every element of C is thus computed by one goroutine with
// the same operations as on one thread: results are bit-identical for any
// thread count. Calls on one Pool are serialised; the zero Pool is not
// usable, use NewPool.
//
// Hand-off: the caller publishes the job and bumps a generation counter;
// workers spin on that counter for a short while after each job (GEMMs in a
// training step come back to back) and then park on a channel. The caller
// runs its own block and spins until the workers are done.
type Pool struct {
	threads int
	mu      sync.Mutex // serialises Sgemm calls
	workers []poolWorker
	ws      []workspace // ws[0] is the caller's, ws[i] worker i's
	jb      job

	gen     atomic.Uint64 // bumped once per job (and by Close)
	pending atomic.Int32  // blocks of the current job not finished yet
	closing atomic.Bool
	closed  bool
	exited  sync.WaitGroup
}

// poolWorker is the mailbox of one worker goroutine.
type poolWorker struct {
	task   task          // written by the caller before gen is bumped
	parked atomic.Bool   // the worker is (about to be) blocked on wake
	wake   chan struct{} // capacity 1: a token means "look at gen again"
	_      [64]byte      // keep mailboxes on separate cache lines
}

// task is the block C[i0:i1, j0:j1] of the current job; an empty task
// (i0 == i1) means "nothing for you this time".
type task struct{ i0, i1, j0, j1 int }

// spinTime is how long an idle worker polls for the next job before it
// parks. Waking a parked goroutine costs tens of microseconds here, as much
// as a whole small GEMM.
const spinTime = 50 * time.Microsecond

// NewPool starts a pool of threads goroutines (GOMAXPROCS when threads < 1).
func NewPool(threads int) *Pool {
	if threads < 1 {
		threads = runtime.GOMAXPROCS(0)
	}
	p := &Pool{threads: threads, workers: make([]poolWorker, threads), ws: make([]workspace, threads)}
	for i := 1; i < threads; i++ {
		p.workers[i].wake = make(chan struct{}, 1)
		p.exited.Add(1)
		go p.work(i)
	}
	return p
}

func (p *Pool) work(id int) {
	defer p.exited.Done()
	w := &p.workers[id]
	var seen uint64 // gen is 0 until the first job, which may be published before this goroutine runs
	for {
		seen = p.waitGen(w, seen)
		if p.closing.Load() {
			return
		}
		if t := w.task; t.i0 < t.i1 {
			p.jb.run(&p.ws[id], t.i0, t.i1, t.j0, t.j1)
		}
		p.pending.Add(-1)
	}
}

// waitGen returns once the generation differs from seen: it spins for
// spinTime, then parks until the caller sends a wake token.
func (p *Pool) waitGen(w *poolWorker, seen uint64) uint64 {
	var start time.Time
	for i := 0; ; i++ {
		if g := p.gen.Load(); g != seen {
			return g
		}
		if i%64 != 63 {
			continue
		}
		if start.IsZero() {
			start = time.Now()
			continue
		}
		if time.Since(start) < spinTime {
			runtime.Gosched()
			continue
		}
		w.parked.Store(true)
		if g := p.gen.Load(); g != seen { // re-check: the caller may have missed parked
			w.parked.Store(false)
			return g
		}
		<-w.wake
		w.parked.Store(false)
		start = time.Time{}
	}
}

// publish bumps the generation and wakes the parked workers.
func (p *Pool) publish() {
	p.gen.Add(1)
	for i := 1; i < p.threads; i++ {
		w := &p.workers[i]
		if w.parked.Load() {
			select {
			case w.wake <- struct{}{}:
			default:
			}
		}
	}
}

// Threads returns the number of goroutines a call may use.
func (p *Pool) Threads() int { return p.threads }

// Close stops the workers. The Pool must not be used afterwards.
func (p *Pool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	p.closing.Store(true)
	p.publish()
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
	parts, alongM, step := split(&p.jb.plan, m, n, threads)
	if parts > 1 {
		for t := 1; t < p.threads; t++ {
			p.workers[t].task = task{}
			if t < parts {
				p.workers[t].task = p.block(t, alongM, step)
			}
		}
		p.pending.Store(int32(p.threads - 1))
		p.publish()
	}
	t0 := p.block(0, alongM, step)
	p.jb.run(&p.ws[0], t0.i0, t0.i1, t0.j0, t0.j1)
	if parts > 1 {
		for i := 0; p.pending.Load() != 0; i++ {
			if i%64 == 63 {
				runtime.Gosched()
			}
		}
	}
	p.jb = job{} // drop the references to the caller's slices
}

// block returns part t of the split: rows [t*step, (t+1)*step) of C when
// alongM, else columns.
func (p *Pool) block(t int, alongM bool, step int) task {
	if alongM {
		return task{i0: t * step, i1: min((t+1)*step, p.jb.m), j0: 0, j1: p.jb.n}
	}
	return task{i0: 0, i1: p.jb.m, j0: t * step, j1: min((t+1)*step, p.jb.n)}
}

// split chooses how to cut C between up to threads goroutines: along rows
// or columns, in steps that are whole register tiles of the plan's kernel,
// minimising the largest block (ties go to columns). It returns the number
// of parts, the direction and the step.
func split(pl *plan, m, n, threads int) (parts int, alongM bool, step int) {
	mu, nu := pl.ks.mr, pl.ks.nr
	if pl.dot {
		mu, nu = pl.ks.dmr, pl.ks.dnr
	}
	if threads <= 1 {
		return 1, false, n
	}
	tilesM, tilesN := (m+mu-1)/mu, (n+nu-1)/nu
	stepM := (tilesM + threads - 1) / threads * mu
	stepN := (tilesN + threads - 1) / threads * nu
	workM := min(stepM, m) * n
	workN := min(stepN, n) * m
	if workM < workN {
		return (m + stepM - 1) / stepM, true, stepM
	}
	return (n + stepN - 1) / stepN, false, stepN
}
