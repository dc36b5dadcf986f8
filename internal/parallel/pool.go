package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Pool runs parallel loops (For) on up to Threads goroutines: the caller
// plus Threads-1 persistent workers started by NewPool.
//
// A call cuts its items into chunks fixed by the caller (never by the
// thread count) and the goroutines claim chunks from a shared word until
// none is left (the caller from the front, the workers from the back).
// Claiming (rather than one fixed block per goroutine) lets the running
// goroutines take the work of one that has not started yet, as when the
// OS has descheduled its thread on a busy machine.
//
// Calls on one Pool are serialised; the zero Pool is not usable, use
// NewPool. A nil *Pool runs For on the caller and reports one thread.
type Pool struct {
	threads int
	mu      sync.Mutex // serialises For calls
	workers []poolWorker

	// The current loop: written by the caller before it publishes the
	// job in state, read by whoever claims a chunk. Chunk c is the items
	// [c*step, min((c+1)*step, n)).
	task Task
	n    int
	step int

	// state is gen<<32 | back<<16 | front: the job generation and the
	// unclaimed chunks [front, back), in one word so that a claim (a CAS)
	// can never mix two jobs. The caller claims front, the workers back-1.
	state        atomic.Uint64
	remaining    atomic.Int32 // chunks of the current job not finished
	callerParked atomic.Bool  // the caller is (about to be) parked on done
	done         parker
	closing      atomic.Bool
	closed       bool
	exited       sync.WaitGroup

	// parks counts the times the caller (0) and the workers (1) went to
	// park (a park may return at once on a token left from before): the
	// tests look.
	parks [2]atomic.Uint64
}

// poolWorker is the parking place of one worker goroutine.
type poolWorker struct {
	parked atomic.Bool // the worker is (about to be) parked on wake
	wake   parker      // a token means "look at state again"
	_      [64]byte    // keep workers on separate cache lines
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

// Cores is the number of cores the process may use: GOMAXPROCS (the
// GOMAXPROCS environment variable, else the CPU affinity mask lowered to
// a container's CPU limit, to 1 under a limit of one CPU or less once
// FitQuota has run), and no more than the affinity mask's CPUs
// (runtime.NumCPU) when GOMAXPROCS was set above them. It is the default
// thread count of a run, and a pool of at most that many goroutines parks
// in futex(2).
func Cores() int { return min(runtime.GOMAXPROCS(0), runtime.NumCPU()) }

// NewPool starts a pool of threads goroutines (Cores() when threads < 1).
func NewPool(threads int) *Pool {
	if threads < 1 {
		threads = Cores()
	}
	p := &Pool{threads: threads, workers: make([]poolWorker, threads)}
	fits := threads <= Cores()
	p.done.init(fits)
	for i := 1; i < threads; i++ {
		p.workers[i].wake.init(fits)
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

// Task is the body of a parallel loop run by Pool.For. Run(w, lo, hi)
// processes the items [lo, hi) on goroutine w of the pool (0 <= w <
// Threads(); 0 is the caller), so that a task can keep scratch space per
// goroutine. Run must not call the pool (For, or a GEMM on it): that
// deadlocks. A product inside Run goes through gemm.Parallel.SgemmOn with
// Run's w, which runs it on the calling goroutine.
//
// A task is usually a small struct stored in the object that runs the loop
// (a layer), its fields set before each call: passing a pointer to it as a
// Task does not allocate, unlike a closure.
type Task interface {
	Run(w, lo, hi int)
}

// MaxChunks is the most chunks For accepts in one call (they are counted
// in 16 bits of the pool's state word).
const MaxChunks = 0xffff

// For runs t over the items [0, n) cut into chunks of grain items: [0,
// grain), [grain, 2*grain), ..., the last one possibly shorter; each chunk
// is one call of t.Run. The chunks depend only on n and grain, never on the
// number of threads, and every chunk runs exactly once: a task whose chunks
// write disjoint outputs, or reduce into per-chunk slots combined in chunk
// order afterwards, gives bit-identical results for any thread count.
// Which goroutine runs which chunk, and in what order, changes no result:
// the caller claims chunks from the first up and the workers from the last
// down, so that a goroutine tends to get the same items call after call
// (and its cache keeps what it last wrote there). For returns when every
// chunk is done. It panics if grain < 1 or n/grain exceeds MaxChunks.
//
// With one thread, one chunk, or a nil Pool, the chunks run in order on the
// caller. Nothing in For allocates. For on a closed Pool panics.
func (p *Pool) For(n, grain int, t Task) {
	if grain < 1 {
		panic("parallel: For with grain < 1")
	}
	if n <= 0 {
		return
	}
	chunks := (n + grain - 1) / grain
	if chunks > MaxChunks {
		panic("parallel: For with more than 65535 chunks")
	}
	if p != nil {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.closed {
			panic("parallel: For on a closed Pool")
		}
	}
	if p == nil || p.threads == 1 || chunks == 1 {
		for lo := 0; lo < n; lo += grain {
			t.Run(0, lo, min(lo+grain, n))
		}
		return
	}
	p.task, p.n, p.step = t, n, grain
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
			w.wake.unpark()
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
		p.task.Run(id, next*p.step, min((next+1)*p.step, p.n))
		if p.remaining.Add(-1) == 0 && p.callerParked.Load() {
			p.done.unpark()
		}
	}
}

// waitDone returns once every chunk of the current job is finished: it
// spins for spinTime, then parks until the last worker unparks it.
func (p *Pool) waitDone() {
	var sp spinner
	for p.remaining.Load() != 0 {
		if sp.spin() {
			continue
		}
		p.callerParked.Store(true)
		if p.remaining.Load() != 0 { // re-check: the last worker may have missed callerParked
			p.parks[0].Add(1)
			p.done.park()
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
// spinTime, then parks until publish unparks it.
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
		p.parks[1].Add(1)
		w.wake.park()
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
