package parallel

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nettrain/nettrain/internal/allocs"
)

// countTask records which chunks ran, on which goroutine.
type countTask struct {
	grain   int
	hits    []atomic.Int32 // per item
	bad     atomic.Int32   // chunks with wrong bounds or worker index
	threads int
}

func (t *countTask) Run(w, lo, hi int) {
	if w < 0 || w >= t.threads || lo%t.grain != 0 || hi <= lo || hi-lo > t.grain || (hi-lo < t.grain && hi != len(t.hits)) {
		t.bad.Add(1)
	}
	for i := lo; i < hi; i++ {
		t.hits[i].Add(1)
	}
}

func TestForRunsEveryChunkOnce(t *testing.T) {
	pools := []*Pool{nil, NewPool(1), NewPool(2), NewPool(3), NewPool(4)}
	defer func() {
		for _, p := range pools[1:] {
			p.Close()
		}
	}()
	for _, p := range pools {
		for _, c := range []struct{ n, grain int }{{0, 1}, {1, 1}, {1, 5}, {7, 1}, {64, 4}, {65, 4}, {1000, 7}, {100000, 3}} {
			task := &countTask{grain: c.grain, hits: make([]atomic.Int32, c.n), threads: p.Threads()}
			for range 3 { // repeated calls reuse the workers
				p.For(c.n, c.grain, task)
			}
			if b := task.bad.Load(); b != 0 {
				t.Errorf("threads %d, n %d, grain %d: %d chunks with wrong bounds or goroutine", p.Threads(), c.n, c.grain, b)
			}
			for i := range task.hits {
				if h := task.hits[i].Load(); h != 3 {
					t.Fatalf("threads %d, n %d, grain %d: item %d ran %d times in 3 calls", p.Threads(), c.n, c.grain, i, h)
				}
			}
		}
	}
}

// orderTask records which goroutine ran each chunk of grain 1.
type orderTask struct{ by []atomic.Int32 }

func (t *orderTask) Run(w, lo, hi int) {
	for i := lo; i < hi; i++ {
		t.by[i].Store(int32(w))
	}
}

// TestForClaimsFromBothEnds checks the claiming order that keeps a
// goroutine on the same items call after call: the caller's chunks are a
// prefix, the workers' a suffix.
func TestForClaimsFromBothEnds(t *testing.T) {
	for _, threads := range []int{2, 3} {
		p := NewPool(threads)
		task := &orderTask{by: make([]atomic.Int32, 64)}
		for range 50 {
			p.For(len(task.by), 1, task)
			for i := 1; i < len(task.by); i++ {
				if task.by[i-1].Load() != 0 && task.by[i].Load() == 0 {
					t.Fatalf("threads %d: chunk %d ran on the caller after chunk %d on worker %d", threads, i, i-1, task.by[i-1].Load())
				}
			}
		}
		p.Close()
	}
}

// sumTask writes one partial sum per chunk.
type sumTask struct {
	x, part []float32
	grain   int
}

func (t *sumTask) Run(_, lo, hi int) {
	var s float32
	for _, v := range t.x[lo:hi] {
		s += v
	}
	t.part[lo/t.grain] = s
}

// TestForSameBitsAndNoAllocs repeats a loop of per-chunk partial sums and
// checks that it gives the same partials and does not allocate.
func TestForSameBitsAndNoAllocs(t *testing.T) {
	p := NewPool(3)
	defer p.Close()
	x := make([]float32, 1<<16)
	for i := range x {
		x[i] = float32(i%17) - 8
	}
	task := &sumTask{x: x, part: make([]float32, len(x)/256), grain: 256}
	run := func() { p.For(len(x), task.grain, task) }
	run()
	want := append([]float32(nil), task.part...)
	if n := testing.AllocsPerRun(20, run); n != 0 {
		t.Errorf("For: %v allocs per call", n)
	}
	for i := range want {
		if task.part[i] != want[i] {
			t.Fatalf("partial %d changed between calls: %v vs %v", i, task.part[i], want[i])
		}
	}
}

func TestCloseTwiceAndThreads(t *testing.T) {
	p := NewPool(3)
	if p.Threads() != 3 {
		t.Fatalf("Threads() = %d, want 3", p.Threads())
	}
	p.Close()
	p.Close()
	q := NewPool(0)
	defer q.Close()
	if q.Threads() < 1 {
		t.Fatal("NewPool(0) has no threads")
	}
	if (*Pool)(nil).Threads() != 1 {
		t.Fatal("a nil Pool does not report one thread")
	}
	defer func() {
		if r := recover(); r == nil {
			t.Fatal("For on a closed pool did not panic")
		}
	}()
	p.For(1, 1, &sumTask{x: []float32{1}, part: []float32{0}, grain: 1})
}

func TestForPanics(t *testing.T) {
	for _, c := range []struct{ n, grain int }{{10, 0}, {1 << 20, 1}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("For(%d, %d) did not panic", c.n, c.grain)
				}
			}()
			(*Pool)(nil).For(c.n, c.grain, &sumTask{})
		}()
	}
}

// slowTask keeps the workers busy for d in each of their chunks, and the
// caller for 50 microseconds in each of its own (so that a polling worker
// gets to claim one): the caller then waits for them past spinTime and
// parks.
type slowTask struct{ d time.Duration }

func (t *slowTask) Run(w, _, _ int) {
	if w != 0 {
		busy(t.d)
	} else {
		busy(50 * time.Microsecond)
	}
}

// busy keeps the goroutine running on its core for d, as work does
// (time.Sleep would park it).
func busy(d time.Duration) {
	for start := time.Now(); time.Since(start) < d; {
	}
}

// TestParkingAllocatesNothing: a goroutine that waits longer than spinTime
// parks (the caller for a worker's last chunk, a worker between loops), and
// parking allocates nothing either. Parking on a channel did: the Go
// runtime allocates a waiter record (a sudog) when its caches have none,
// until many parks have filled them, and again after each garbage
// collection (the loop below runs some); nettrain bench showed 0.04 to
// 0.07 allocations per step on the MNIST CNN at 2 threads, which parks in
// its convolutions' uneven tails. The test counts the allocations whose
// stack runs through the pool: a park in a system call may also make the
// scheduler start a thread (once; Go keeps it), which is not the pool's
// allocation.
func TestParkingAllocatesNothing(t *testing.T) {
	if runtime.GOOS != "linux" || runtime.NumCPU() < 2 {
		// Off Linux, or in a pool larger than the cores, goroutines park
		// on channels (parker).
		t.Skipf("parking allocates nothing only in futex(2), on Linux with 2 cores (%s, %d CPUs)", runtime.GOOS, runtime.NumCPU())
	}
	// On one P the caller never waits for the worker (it runs the
	// worker's chunk to the end before the caller runs again): give the
	// two goroutines a P each, which also works on one core.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0))))
	p := NewPool(2)
	defer p.Close()
	task := &slowTask{d: 2 * spinTime}
	// Loop until each goroutine has parked often enough (the timing of a
	// busy machine decides how often a call parks), or 20 seconds.
	const want = 50
	calls := 0
	loop := func() {
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); calls += 2 {
			if p.parks[0].Load() >= want && p.parks[1].Load() >= want {
				break
			}
			if calls%20 == 0 {
				runtime.GC() // empties the runtime's shared cache of waiter records
			}
			p.For(2, 1, task)  // the worker wakes: the caller likely runs both chunks
			p.For(2, 1, task)  // the worker, polling, takes one: the caller parks
			busy(2 * spinTime) // the worker parks
		}
	}
	a, where := allocs.Through(loop, "github.com/nettrain/nettrain/internal/parallel.(*Pool)", "github.com/nettrain/nettrain/internal/parallel.(*parker)")
	caller, workers := p.parks[0].Load(), p.parks[1].Load()
	if a != 0 {
		t.Errorf("%d calls in which the caller parked %d times and the worker %d allocated %d times:\n%s", calls, caller, workers, a, where)
	}
	if caller < want || workers < want {
		t.Errorf("%d calls in 20 s: the caller parked %d times, the worker %d; want at least %d each", calls, caller, workers, want)
	}
}

// TestParkingByFit: a pool parks in futex(2) (Linux) when its goroutines
// fit the cores, and on channels when they do not: each goroutine parked
// in a system call holds an OS thread, and waking dozens of them onto a
// few cores made 256 threads on 2 cores train 14 times slower.
func TestParkingByFit(t *testing.T) {
	for _, c := range []struct {
		threads  int
		wantChan bool
	}{
		{Cores(), runtime.GOOS != "linux"},
		{Cores() + 1, true},
		{4 * Cores(), true},
	} {
		p := NewPool(c.threads)
		for i := 1; i < c.threads; i++ {
			if got := p.workers[i].wake.ch.ch != nil; got != c.wantChan {
				t.Errorf("%d threads on %d cores: worker %d parks on a channel %v, want %v", c.threads, Cores(), i, got, c.wantChan)
			}
		}
		if got := p.done.ch.ch != nil; got != c.wantChan {
			t.Errorf("%d threads on %d cores: the caller parks on a channel %v, want %v", c.threads, Cores(), got, c.wantChan)
		}
		// A loop that parks on either runs every chunk.
		task := &countTask{grain: 1, hits: make([]atomic.Int32, 64), threads: c.threads}
		for range 3 {
			p.For(64, 1, task)
			busy(2 * spinTime)
		}
		for i := range task.hits {
			if h := task.hits[i].Load(); h != 3 {
				t.Fatalf("%d threads: item %d ran %d times in 3 calls", c.threads, i, h)
			}
		}
		p.Close()
	}
}
