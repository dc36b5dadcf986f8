package gemm

import (
	"math/rand/v2"
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

// onTask runs, per chunk, one product of its own with SgemmOn and one
// with SgemmRowsOn on the goroutine that claimed the chunk.
type onTask struct {
	g          *Parallel
	a, b, rowB []float32
	offs       []int
	c, cr      [][]float32
	m, n, k    int
	tA, tB     bool
	only       int // 1: SgemmOn only, 2: SgemmRowsOn only, 0: both
}

func (t *onTask) Run(w, lo, hi int) {
	for i := lo; i < hi; i++ {
		ldb := t.n
		if t.tB {
			ldb = t.k
		}
		lda := t.k
		if t.tA {
			lda = t.m
		}
		if t.only != 2 {
			t.g.SgemmOn(w, t.tA, t.tB, t.m, t.n, t.k, 0.5, t.a, lda, t.b, ldb, 1, t.c[i], t.n)
		}
		if t.only != 1 {
			t.g.SgemmRowsOn(w, t.tA, t.m, t.n, t.k, 0.5, t.a, lda, t.rowB, t.offs, 0, t.cr[i], t.n)
		}
	}
}

// TestSgemmOn: products inside a parallel loop on each goroutine's own
// workspace (SgemmOn, SgemmRowsOn) give Sgemm's and SgemmRows's bits, on
// every kernel set and on packing and non-packing plans, allocate nothing
// once the workspaces have grown, and fall back to the shared workspaces
// for a nil Parallel, a Parallel without a pool (whose Sgemm would share
// goroutine 0's workspace with no pool to keep them apart) or a goroutine
// index outside the pool.
func TestSgemmOn(t *testing.T) {
	if ws := NewParallel(nil).own(0); ws != nil {
		t.Error("a Parallel on a nil pool hands out its caller's workspace to SgemmOn")
	}
	for _, set := range []string{"avx512", "avx2", "generic"} {
		restore, ok := useKernels(set)
		if !ok {
			continue
		}
		t.Run(set, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(9, 9))
			for _, c := range []struct {
				tA, tB  bool
				m, n, k int
			}{
				{false, false, 16, 512, 128}, // an LSTM step: A packed
				{false, true, 8, 96, 32},     // a GRU step: the dot path
				{true, false, 96, 32, 88},    // a chunk's dW_hh
				{false, false, 300, 70, 260}, // two k-blocks
			} {
				const chunks = 6
				b := randMatrix(rng, c.k, c.n, c.n)
				if c.tB {
					b = randMatrix(rng, c.n, c.k, c.k)
				}
				task := &onTask{g: nil, a: randMatrix(rng, c.m, c.k, c.k), b: b, rowB: randMatrix(rng, 1, c.k+c.n, c.k+c.n),
					offs: make([]int, c.k), m: c.m, n: c.n, k: c.k, tA: c.tA, tB: c.tB}
				for p := range task.offs {
					task.offs[p] = rng.IntN(c.k + 1)
				}
				c0 := randMatrix(rng, c.m, c.n, c.n)
				fresh := func() {
					task.c, task.cr = make([][]float32, chunks), make([][]float32, chunks)
					for i := range chunks {
						task.c[i], task.cr[i] = append([]float32(nil), c0...), make([]float32, c.m*c.n)
					}
				}
				// The reference: a nil Parallel (the package functions) on
				// the caller.
				fresh()
				task.Run(0, 0, chunks)
				want, wantR := task.c[0], task.cr[0]
				for _, threads := range []int{1, 2, 3} {
					p := parallel.NewPool(threads)
					task.g = NewParallel(p)
					for _, w := range []int{-1, 0, threads} { // threads: out of range on the caller
						fresh()
						if w == 0 {
							p.For(chunks, 1, task)
						} else {
							task.Run(w, 0, chunks)
						}
						for i := range chunks {
							for j := range want {
								if task.c[i][j] != want[j] || task.cr[i][j] != wantR[j] {
									t.Fatalf("%+v, %d threads, w %d: chunk %d C[%d] = %v, %v; want %v, %v", c, threads, w, i, j, task.c[i][j], task.cr[i][j], want[j], wantR[j])
								}
							}
						}
					}
					if a := testing.AllocsPerRun(5, func() { p.For(chunks, 1, task) }); a != 0 {
						t.Errorf("%+v, %d threads: %v allocations per loop", c, threads, a)
					}
					p.Close()
				}
				// On one thread a loop runs on the caller, goroutine 0: each
				// function's products that pack must pack in its workspace.
				ldb := c.n
				if c.tB {
					ldb = c.k
				}
				pl := makePlan(activeKernels(), c.tA, c.tB, c.m, c.n, c.k, ldb)
				for only, packs := range map[int]bool{1: pl.packs(), 2: !c.tA} { // SgemmRowsOn packs A unless tA
					p := parallel.NewPool(1)
					task.g, task.only = NewParallel(p), only
					fresh()
					p.For(chunks, 1, task)
					if ws := &task.g.task.ws[0]; packs && len(ws.a)+len(ws.b) == 0 {
						t.Errorf("%+v: the loop's products (only %d) packed outside goroutine 0's workspace", c, only)
					}
					task.only = 0
					p.Close()
				}
			}
		})
		restore()
	}
}

// packOnce runs one packing product with SgemmOn on the goroutine that
// claims its single chunk (the caller: a loop of one chunk runs there).
type packOnce struct {
	g       *Parallel
	a, b, c []float32
	n       int
}

func (t *packOnce) Run(w, _, _ int) {
	t.g.SgemmOn(w, false, false, t.n, t.n, t.n, 1, t.a, t.n, t.b, t.n, 0, t.c, t.n)
}

// TestFirstPackSizesEveryWorkspace: the first product that packs, on any
// goroutine, sizes every goroutine's workspace, so that a worker packing
// for the first time later (which goroutine runs which chunk depends on
// timing) allocates nothing in the middle of training. Before, each
// workspace was sized by its own first packing product: on a busy CI
// machine TestTrainerStepAllocatesNothing saw 2 allocations (the two
// buffers) in 20 steps of the shapes CNN on 2 threads.
func TestFirstPackSizesEveryWorkspace(t *testing.T) {
	p := parallel.NewPool(3)
	defer p.Close()
	n := 300
	task := &packOnce{g: NewParallel(p), a: make([]float32, n*n), b: make([]float32, n*n), c: make([]float32, n*n), n: n}
	if pl := makePlan(activeKernels(), false, false, n, n, n, n); !pl.packs() {
		t.Fatalf("a %d^3 product does not pack with %s: pick a shape that does", n, activeKernels().name)
	}
	p.For(1, 1, task)
	for w := range task.g.task.ws {
		if ws := &task.g.task.ws[w]; len(ws.a) == 0 || len(ws.b) == 0 {
			t.Errorf("goroutine %d's workspace is not sized after goroutine 0 packed (a %d, b %d values)", w, len(ws.a), len(ws.b))
		}
	}
}
