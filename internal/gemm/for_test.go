package gemm

import (
	"sync/atomic"
	"testing"
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

// TestForInterleavesWithSgemm alternates For and Sgemm on one pool, and
// checks that neither allocates.
func TestForInterleavesWithSgemm(t *testing.T) {
	p := NewPool(3)
	defer p.Close()
	x := make([]float32, 1<<16)
	for i := range x {
		x[i] = float32(i%17) - 8
	}
	task := &sumTask{x: x, part: make([]float32, len(x)/256), grain: 256}
	a, b, c := make([]float32, 128*128), make([]float32, 128*128), make([]float32, 128*128)
	run := func() {
		p.For(len(x), task.grain, task)
		p.Sgemm(false, false, 128, 128, 128, 1, a, 128, b, 128, 0, c, 128)
	}
	run()
	want := append([]float32(nil), task.part...)
	if n := testing.AllocsPerRun(20, run); n != 0 {
		t.Errorf("For + Sgemm: %v allocs per call", n)
	}
	for i := range want {
		if task.part[i] != want[i] {
			t.Fatalf("partial %d changed between calls: %v vs %v", i, task.part[i], want[i])
		}
	}
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
