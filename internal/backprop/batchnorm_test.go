package backprop

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/nettrain/nettrain/internal/gemm"
	"github.com/nettrain/nettrain/internal/parallel"
)

func bn(in []int) BatchNormSpec { return BatchNormSpec{In: in, Momentum: 0.1, Eps: 1e-5, Affine: true} }

// randomizeBN moves batchnorm's affine parameters and running statistics
// away from their initial 1, 0, 0, 1, so that a check sees every term.
func randomizeBN[T Float](net *Network[T], seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 3))
	for i, s := range net.Specs {
		if _, ok := s.(BatchNormSpec); !ok {
			continue
		}
		for _, p := range net.ByLayer[i] {
			for k := range p.W {
				p.W[k] = T(0.5 + rng.Float64())
			}
		}
		for _, b := range net.BufByLayer[i] {
			if b.Int {
				continue
			}
			for k := range b.W {
				b.W[k] = T(0.3 + rng.Float64())
			}
		}
	}
}

func TestGradCheckBatchNorm(t *testing.T) {
	tests := []struct {
		name string
		in   []int
		fs   []func([]int) Spec
		loss string
		n    int
	}{
		{"2d", []int{3, 4, 5}, []func([]int) Spec{
			func(in []int) Spec { return conv(in, 4, 3, 3, 1, 1, 1, 1, 1, 1) },
			func(in []int) Spec { return bn(in) },
			func(in []int) Spec { return act("tanh", in) },
			func(in []int) Spec { return FlattenSpec{in} },
			func(in []int) Spec { return denseS(in, 3) },
		}, CrossEntropy, 3},
		{"2d-batch1", []int{2, 3, 3}, []func([]int) Spec{
			func(in []int) Spec { return bn(in) },
			func(in []int) Spec { return FlattenSpec{in} },
			func(in []int) Spec { return denseS(in, 3) },
		}, MSE, 1},
		{"1d-features", []int{5}, []func([]int) Spec{
			func(in []int) Spec { return denseS(in, 6) },
			func(in []int) Spec { return bn(in) },
			func(in []int) Spec { return act("sigmoid", in) },
			func(in []int) Spec { return denseS(in, 3) },
		}, CrossEntropy, 4},
		{"1d-sequence-no-affine", []int{3, 4}, []func([]int) Spec{
			func(in []int) Spec { b := bn(in); b.Affine = false; return b },
			func(in []int) Spec { return denseS(in, 2) },
		}, HalfSSE, 2},
	}
	for _, tc := range tests {
		for _, eval := range []bool{false, true} {
			name := tc.name + "-train"
			if eval {
				name = tc.name + "-eval"
			}
			t.Run(name, func(t *testing.T) {
				net := NewNetwork[float64](tc.in, chain(tc.in, tc.fs...), tc.loss, tc.n)
				net.Init(rand.New(rand.NewPCG(1, 1)))
				randomizeBN(net, 2)
				x, tg := randomBatch(net, tc.n, 3)
				for _, r := range GradCheck(net, x, tg, tc.n, CheckOptions{Input: true, Seed: 1, Eval: eval}) {
					if r.MaxErr > gradTol || math.IsNaN(r.MaxErr) {
						t.Errorf("%s: max relative error %.3g at %d (analytic %.9g, numeric %.9g)",
							r.Tensor, r.MaxErr, r.WorstIdx, r.Analytic, r.Numeric)
					}
					if r.Checked == 0 {
						t.Errorf("%s: nothing checked", r.Tensor)
					}
				}
			})
		}
	}
}

// TestBatchNormRunningStats checks the buffers against the definitions
// after one training forward: torch's momentum update with the unbiased
// variance, and num_batches_tracked counting.
func TestBatchNormRunningStats(t *testing.T) {
	in := []int{2, 3} // (T, F): statistics per feature over batch and time
	s := bn(in)
	s.Momentum = 0.25
	net := NewNetwork[float64](in, []Spec{s}, MSE, 4)
	net.Init(rand.New(rand.NewPCG(1, 1)))
	x, _ := randomBatch(net, 4, 5)
	net.Forward(&Ctx{Train: true}, x, 4)
	net.Forward(&Ctx{}, x, 4) // evaluation changes nothing
	for f := range 3 {
		var vals []float64
		for i := range 4 {
			for tt := range 2 {
				vals = append(vals, x[i*6+tt*3+f])
			}
		}
		var mean, ss float64
		for _, v := range vals {
			mean += v
		}
		mean /= float64(len(vals))
		for _, v := range vals {
			ss += (v - mean) * (v - mean)
		}
		wantM := 0.25 * mean
		wantV := 0.75 + 0.25*ss/float64(len(vals)-1)
		if got := net.Buffers[0].W[f]; math.Abs(got-wantM) > 1e-14 {
			t.Errorf("running_mean[%d] = %v, want %v", f, got, wantM)
		}
		if got := net.Buffers[1].W[f]; math.Abs(got-wantV) > 1e-14 {
			t.Errorf("running_var[%d] = %v, want %v", f, got, wantV)
		}
	}
	if nb := net.Buffers[2]; nb.Name != "0.num_batches_tracked" || !nb.Int || nb.W[0] != 1 || len(nb.Shape) != 0 {
		t.Errorf("num_batches_tracked: %+v", nb)
	}
	if len(net.W) != 6 || len(net.B) != 7 {
		t.Errorf("%d parameters and %d buffer values, want 6 and 7", len(net.W), len(net.B))
	}
}

func bnCNN() ([]int, []Spec) {
	in := []int{3, 9, 9}
	return in, chain(in,
		func(in []int) Spec { return conv(in, 8, 3, 3, 1, 1, 1, 1, 1, 1) },
		func(in []int) Spec { return bn(in) },
		func(in []int) Spec { return act("relu", in) },
		func(in []int) Spec { return pool("max", in, 2, 2, 0) },
		func(in []int) Spec { return FlattenSpec{in} },
		func(in []int) Spec { return denseS(in, 6) },
		func(in []int) Spec { return bn(in) },
		func(in []int) Spec { return denseS(in, 3) },
	)
}

// TestThreadsBitIdenticalBatchNorm: the weights, outputs and running
// statistics after a few steps are the same bits on 1 to 4 threads.
func TestThreadsBitIdenticalBatchNorm(t *testing.T) {
	in, specs := bnCNN()
	want := bnRun(in, specs, &Ctx{})
	for _, threads := range []int{1, 2, 3, 4} {
		pool := parallel.NewPool(threads)
		got := bnRun(in, specs, &Ctx{Pool: pool, Gemm: gemm.NewParallel(pool)})
		pool.Close()
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%d threads: value %d is %v, %v without a pool", threads, i, got[i], want[i])
			}
		}
	}
}

// bnRun trains 3 SGD steps and returns the weights, the buffers and an
// evaluation-mode output.
func bnRun(in []int, specs []Spec, ctx *Ctx) []float32 {
	const n = 37
	net := NewNetwork[float32](in, specs, CrossEntropy, n)
	net.Init(rand.New(rand.NewPCG(7, 7)))
	rng := rand.New(rand.NewPCG(8, 8))
	x := make([]float32, n*Prod(in))
	for i := range x {
		x[i] = float32(rng.Float64())
	}
	labels := make([]int32, n)
	for i := range labels {
		labels[i] = int32(rng.IntN(3))
	}
	for range 3 {
		ctx.Train = true
		net.ZeroGrad()
		y := net.Forward(ctx, x, n)
		net.Loss.Forward(y, Target[float32]{Labels: labels}, n)
		net.Backward(ctx, net.Loss.Grad(n), n, true)
		for i, g := range net.G {
			net.W[i] -= 0.05 * g
		}
	}
	ctx.Train = false
	y := net.Forward(ctx, x, n)
	out := append(append([]float32(nil), net.W...), net.B...)
	return append(out, y...)
}

func TestTrainStepAllocatesNothingBatchNorm(t *testing.T) {
	in, specs := bnCNN()
	for _, threads := range []int{0, 2} {
		var pool *parallel.Pool
		if threads > 0 {
			pool = parallel.NewPool(threads)
		}
		net := NewNetwork[float32](in, specs, CrossEntropy, 64)
		net.Init(rand.New(rand.NewPCG(1, 1)))
		x := make([]float32, 64*Prod(in))
		labels := make([]int32, 64)
		ctx := &Ctx{Train: true, Pool: pool, Gemm: gemm.NewParallel(pool)}
		step := func() {
			net.ZeroGrad()
			y := net.Forward(ctx, x, 64)
			net.Loss.Forward(y, Target[float32]{Labels: labels}, 64)
			net.Backward(ctx, net.Loss.Grad(64), 64, false)
		}
		step()
		if a := testing.AllocsPerRun(5, step); a != 0 {
			t.Errorf("threads %d: training step allocates %v times", threads, a)
		}
		if pool != nil {
			pool.Close()
		}
	}
}
