package backprop

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/nettrain/nettrain/internal/gemm"
	"github.com/nettrain/nettrain/internal/parallel"
)

// kindNets are networks through the layer kinds that have no other
// thread and allocation test, large enough that their parallel loops run
// several chunks, ending in one output row per sample: each trains to the same bits on any thread count and
// allocates nothing per step.
var kindNets = []struct {
	name string
	in   []int
	fs   []func([]int) Spec
	n    int
}{
	{"elu gelu silu", []int{40, 30}, []func([]int) Spec{
		denseTo(64),
		func(in []int) Spec { return ELUSpec{In: in, Alpha: 0.8} },
		denseTo(48),
		func(in []int) Spec { return GELUSpec{In: in} },
		denseTo(40),
		func(in []int) Spec { return GELUSpec{In: in, Tanh: true} },
		func(in []int) Spec { return SiLUSpec{In: in} },
		flat, denseTo(5),
	}, 19},
	{"layernorm", []int{60, 40}, []func([]int) Spec{
		denseTo(32),
		func(in []int) Spec { return LayerNormSpec{In: in, Eps: 1e-5, Affine: true} },
		denseTo(24),
		func(in []int) Spec { return LayerNormSpec{In: in, Eps: 1e-3} },
		flat, denseTo(5),
	}, 21},
	{"global_maxpool", []int{3, 30, 30}, []func([]int) Spec{
		func(in []int) Spec { return conv(in, 6, 3, 3, 1, 1, 1, 1, 1, 1) },
		func(in []int) Spec { return GlobalMaxPoolSpec{in} },
		denseTo(4),
	}, 23},
	{"conv1d maxpool1d avgpool1d", []int{50, 6}, []func([]int) Spec{
		conv1(nil, 16, 5, 1, 2, 2, 1, true),
		func(in []int) Spec { return act("relu", in) },
		pool1(PoolMax, 3, 2, 1),
		conv1(nil, 8, 3, 2, 1, 1, 2, false),
		pool1(PoolAvg, 2, 1, 0),
		flat, denseTo(3),
	}, 37},
	{"gru", []int{12, 5}, []func([]int) Spec{
		gruS(24, 2, true),
		gruS(16, 1, false),
		denseTo(3),
	}, 45},
}

// checkThreadsBitIdentical trains the network of specs for 3 steps at
// batch n on 1 to 4 threads and fails unless its weights and outputs are
// the bits of the run without a pool.
func checkThreadsBitIdentical(t *testing.T, in []int, specs []Spec, n int) {
	t.Helper()
	wantW, wantY := trainSteps[float32](in, specs, &Ctx{}, n, 3)
	for _, threads := range []int{1, 2, 3, 4} {
		pool := parallel.NewPool(threads)
		w, y := trainSteps[float32](in, specs, &Ctx{Pool: pool, Gemm: gemm.NewParallel(pool)}, n, 3)
		pool.Close()
		for i := range wantW {
			if math.Float32bits(w[i]) != math.Float32bits(wantW[i]) {
				t.Fatalf("%d threads: weight %d is %v, %v without a pool", threads, i, w[i], wantW[i])
			}
		}
		for i := range wantY {
			if math.Float32bits(y[i]) != math.Float32bits(wantY[i]) {
				t.Fatalf("%d threads: output %d is %v, %v without a pool", threads, i, y[i], wantY[i])
			}
		}
	}
}

func TestThreadsBitIdenticalLayerKinds(t *testing.T) {
	for _, tc := range kindNets {
		t.Run(tc.name, func(t *testing.T) { checkThreadsBitIdentical(t, tc.in, chain(tc.in, tc.fs...), tc.n) })
	}
}

func TestTrainStepAllocatesNothingLayerKinds(t *testing.T) {
	for _, tc := range kindNets {
		t.Run(tc.name, func(t *testing.T) {
			specs := chain(tc.in, tc.fs...)
			for _, threads := range []int{0, 2} {
				var pool *parallel.Pool
				if threads > 0 {
					pool = parallel.NewPool(threads)
				}
				n := tc.n
				net := NewNetwork[float32](tc.in, specs, CrossEntropy, n)
				net.Init(rand.New(rand.NewPCG(1, 1)))
				x := make([]float32, n*Prod(tc.in))
				for i := range x {
					x[i] = float32(i%7) - 3
				}
				labels := make([]int32, n*net.Loss.Positions())
				ctx := &Ctx{Train: true, Pool: pool, Gemm: gemm.NewParallel(pool)}
				step := func() {
					net.ZeroGradCtx(ctx)
					y := net.Forward(ctx, x, n)
					net.Loss.ForwardCtx(ctx, y, Target[float32]{Labels: labels}, n)
					net.Backward(ctx, net.Loss.Grad(n), n, true)
				}
				for range 3 {
					step()
				}
				if a := testing.AllocsPerRun(5, step); a != 0 {
					t.Errorf("threads %d: training step allocates %v times", threads, a)
				}
				if pool != nil {
					pool.Close()
				}
			}
		})
	}
}
