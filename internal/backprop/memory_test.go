package backprop

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/nettrain/nettrain/internal/gemm"
	"github.com/nettrain/nettrain/internal/parallel"
)

// allocatedBytes is what building net and running one training step on
// threads goroutines allocates on the heap.
func allocatedBytes[T Float](in []int, specs []Spec, batch, threads int) int64 {
	pool := parallel.NewPool(threads)
	defer pool.Close()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	net := NewNetwork[T](in, specs, CrossEntropy, batch)
	x := make([]T, batch*Prod(in))
	for i := range x {
		x[i] = T(i%7) * 0.1
	}
	labels := make([]int32, batch)
	ctx := &Ctx{Train: true, Pool: pool, Gemm: gemm.NewParallel(pool)}
	y := net.Forward(ctx, x, batch)
	net.Loss.ForwardCtx(ctx, y, Target[T]{Labels: labels}, batch)
	net.Backward(ctx, net.Loss.Grad(batch), batch, true)
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(net)
	return int64(after.TotalAlloc - before.TotalAlloc)
}

// TestEstimateBytesCoversAllocations: what a network allocates, built and
// run for a step, stays within EstimateBytes (and the estimate is not
// wildly above it), for every layer kind with buffers of its own,
// including shapes whose per-thread and per-chunk buffers dominate (a
// convolution with a kernel as large as its input).
func TestEstimateBytesCoversAllocations(t *testing.T) {
	conv := func(in []int, f, k, s, p int) Conv2DSpec {
		return Conv2DSpec{In: in, Filters: f, KH: k, KW: k, SH: s, SW: s, PadT: p, PadL: p, PadB: p, PadR: p, Bias: true}
	}
	head := func(in []int) []Spec { return []Spec{FlattenSpec{In: in}, denseS([]int{Prod(in)}, 3)} }
	cases := []struct {
		name  string
		in    []int
		specs []Spec
		batch int
	}{
		{"mlp", []int{784}, []Spec{denseS([]int{784}, 256), act("relu", []int{256}), denseS([]int{256}, 3)}, 64},
		{"conv 3x3 same", []int{1, 28, 28}, append([]Spec{conv([]int{1, 28, 28}, 16, 3, 1, 1)}, head([]int{16, 28, 28})...), 32},
		{"conv 5x5 valid", []int{3, 32, 32}, append([]Spec{conv([]int{3, 32, 32}, 32, 5, 1, 0)}, head([]int{32, 28, 28})...), 16},
		{"conv stride 2", []int{8, 16, 16}, append([]Spec{conv([]int{8, 16, 16}, 16, 3, 2, 1)}, head([]int{16, 8, 8})...), 16},
		{"conv kernel of the whole image", []int{1, 28, 28}, append([]Spec{conv([]int{1, 28, 28}, 300, 28, 1, 0)}, head([]int{300, 1, 1})...), 16},
		{"conv many filters", []int{16, 12, 12}, append([]Spec{conv([]int{16, 12, 12}, 512, 7, 1, 3)}, head([]int{512, 12, 12})...), 8},
		{"lstm", []int{20, 8}, append([]Spec{LSTMSpec{In: []int{20, 8}, Units: 64, Layers: 2}}, head([]int{64})...), 32},
		{"gru", []int{20, 8}, append([]Spec{GRUSpec{In: []int{20, 8}, Units: 64, Layers: 2, ReturnSequences: true}}, head([]int{20, 64})...), 32},
		{"conv1d", []int{50, 4}, append([]Spec{Conv1DSpec{In: []int{50, 4}, Filters: 32, K: 5, Stride: 1, PadL: 2, PadR: 2, Dilation: 1, Bias: true}}, head([]int{50, 32})...), 32},
	}
	for _, tc := range cases {
		for _, threads := range []int{1, 2} {
			for _, f64 := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/threads=%d/float64=%v", tc.name, threads, f64), func(t *testing.T) {
					var got, est int64
					if f64 {
						got = allocatedBytes[float64](tc.in, tc.specs, tc.batch, threads)
						est = EstimateBytes(tc.in, tc.specs, tc.batch, 8, 0, threads)
					} else {
						got = allocatedBytes[float32](tc.in, tc.specs, tc.batch, threads)
						est = EstimateBytes(tc.in, tc.specs, tc.batch, 4, 0, threads)
					}
					t.Logf("allocated %d, estimated %d (%.2fx)", got, est, float64(est)/float64(got))
					// Small bookkeeping (task structs, the pool) and
					// gonum's float64 GEMM's short-lived buffers (about
					// 170 KB a call) are not counted: 256 KiB of slack.
					if got > est+256<<10 {
						t.Errorf("allocated %d bytes, more than the estimate %d (%.2fx)", got, est, float64(got)/float64(est))
					}
					if est > 2*got+256<<10 {
						t.Errorf("estimated %d bytes, more than twice the %d allocated", est, got)
					}
				})
			}
		}
	}
}

// TestGemmRowsInColumnBlocks: the float64 gemmRows gives the same bits
// whether its materialised B holds every column or a block of them (a
// large kernel's transposed convolution would otherwise need k*n values).
func TestGemmRowsInColumnBlocks(t *testing.T) {
	const m, n, k, ld = 5, 23, 7, 40
	a := make([]float64, k*m)
	b := make([]float64, k*ld+n)
	for i := range a {
		a[i] = float64(i%11) - 4.5
	}
	for i := range b {
		b[i] = float64(i%13)*0.37 - 1
	}
	offs := make([]int, k)
	for p := range offs {
		offs[p] = p*ld + p%3
	}
	want := make([]float64, m*n)
	gemmRows(&Ctx{}, 0, m, n, k, a, m, b, offs, want, n, make([]float64, k*n))
	for _, nb := range []int{1, 2, 5, 22} {
		got := make([]float64, m*n)
		gemmRows(&Ctx{}, 0, m, n, k, a, m, b, offs, got, n, make([]float64, k*nb))
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("blocks of %d columns: c[%d] = %v, want %v", nb, i, got[i], want[i])
			}
		}
	}
	if rowsTmp(1<<19, 10) != 1<<20 || rowsTmp(100, 10) != 1000 || rowsTmp(1000, 5000) != 1000*1048 {
		t.Errorf("rowsTmp: %d %d %d", rowsTmp(1<<19, 10), rowsTmp(100, 10), rowsTmp(1000, 5000))
	}
}
