package gemm

import (
	"testing"

	"github.com/nettrain/nettrain/internal/parallel"
)

// newParallel starts a pool of threads goroutines and a Parallel on it;
// stop closes the pool.
func newParallel(threads int) (g *Parallel, stop func()) {
	p := parallel.NewPool(threads)
	return NewParallel(p), p.Close
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

// TestForInterleavesWithSgemm alternates a parallel loop and a Parallel
// GEMM on one pool, and checks that neither allocates.
func TestForInterleavesWithSgemm(t *testing.T) {
	p := parallel.NewPool(3)
	defer p.Close()
	g := NewParallel(p)
	x := make([]float32, 1<<16)
	for i := range x {
		x[i] = float32(i%17) - 8
	}
	task := &sumTask{x: x, part: make([]float32, len(x)/256), grain: 256}
	a, b, c := make([]float32, 128*128), make([]float32, 128*128), make([]float32, 128*128)
	run := func() {
		p.For(len(x), task.grain, task)
		g.Sgemm(false, false, 128, 128, 128, 1, a, 128, b, 128, 0, c, 128)
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

// TestParallelOnClosedPool: a GEMM on a closed pool panics, even one
// small enough to stay on the caller.
func TestParallelOnClosedPool(t *testing.T) {
	g, stop := newParallel(3)
	stop()
	defer func() {
		if r := recover(); r == nil {
			t.Fatal("Sgemm on a closed pool did not panic")
		}
	}()
	c := make([]float32, 1)
	g.Sgemm(false, false, 1, 1, 1, 1, []float32{1}, 1, []float32{1}, 1, 0, c, 1)
}

// TestParallelOnNilPool: a Parallel without a pool runs on the caller.
func TestParallelOnNilPool(t *testing.T) {
	g := NewParallel(nil)
	a, b, c := []float32{1, 2, 3, 4}, []float32{5, 6, 7, 8}, make([]float32, 4)
	g.Sgemm(false, false, 2, 2, 2, 1, a, 2, b, 2, 0, c, 2)
	if want := []float32{19, 22, 43, 50}; c[0] != want[0] || c[1] != want[1] || c[2] != want[2] || c[3] != want[3] {
		t.Fatalf("C = %v, want %v", c, want)
	}
}
