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
		// 6x7 = 42 values per channel and sample: channelSums' lanes.
		{"2d-wide", []int{2, 6, 7}, []func([]int) Spec{
			func(in []int) Spec { return conv(in, 3, 3, 3, 1, 1, 1, 1, 1, 1) },
			func(in []int) Spec { return bn(in) },
			func(in []int) Spec { return act("tanh", in) },
			func(in []int) Spec { return FlattenSpec{in} },
			func(in []int) Spec { return denseS(in, 3) },
		}, CrossEntropy, 2},
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

func residualS(in []int, proj string, fs ...func([]int) Spec) ResidualSpec {
	s := ResidualSpec{In: in, Body: chain(in, fs...)}
	out := s.OutShape()
	switch proj {
	case "conv":
		st := (in[1] + out[1] - 1) / out[1]
		s.Projection = Conv2DSpec{In: in, Filters: out[0], KH: 1, KW: 1, SH: st, SW: st, Bias: true}
	case "dense":
		s.Projection = denseS(in, out[len(out)-1])
	}
	return s
}

// resCNN is a small ResNet: a stem, an identity block and a strided block
// with a 1x1 conv projection, batchnorm inside both.
func resCNN() ([]int, []Spec) {
	in := []int{2, 8, 8}
	return in, chain(in,
		func(in []int) Spec { return conv(in, 4, 3, 3, 1, 1, 1, 1, 1, 1) },
		func(in []int) Spec {
			return residualS(in, "",
				func(in []int) Spec { return conv(in, 4, 3, 3, 1, 1, 1, 1, 1, 1) },
				func(in []int) Spec { return bn(in) },
				func(in []int) Spec { return act("tanh", in) },
				func(in []int) Spec { return conv(in, 4, 3, 3, 1, 1, 1, 1, 1, 1) },
			)
		},
		func(in []int) Spec { return act("tanh", in) },
		func(in []int) Spec {
			return residualS(in, "conv",
				func(in []int) Spec { return conv(in, 6, 3, 3, 2, 2, 1, 1, 1, 1) },
				func(in []int) Spec { return bn(in) },
			)
		},
		func(in []int) Spec { return GlobalAvgPoolSpec{in} },
		func(in []int) Spec { return denseS(in, 3) },
	)
}

func TestGradCheckResidual(t *testing.T) {
	mlpIn := []int{5}
	mlp := chain(mlpIn,
		func(in []int) Spec {
			return residualS(in, "dense", func(in []int) Spec { return denseS(in, 4) }, func(in []int) Spec { return act("sigmoid", in) })
		},
		func(in []int) Spec { return residualS(in, "", func(in []int) Spec { return denseS(in, 4) }) },
		func(in []int) Spec { return denseS(in, 3) },
	)
	cnnIn, cnn := resCNN()
	for _, tc := range []struct {
		name  string
		in    []int
		specs []Spec
		n     int
	}{{"mlp-dense-projection", mlpIn, mlp, 3}, {"cnn-conv-projection-bn", cnnIn, cnn, 3}} {
		for _, eval := range []bool{false, true} {
			t.Run(tc.name, func(t *testing.T) {
				net := NewNetwork[float64](tc.in, tc.specs, CrossEntropy, tc.n)
				net.Init(rand.New(rand.NewPCG(1, 1)))
				x, tg := randomBatch(net, tc.n, 3)
				for _, r := range GradCheck(net, x, tg, tc.n, CheckOptions{Input: true, Seed: 1, Eval: eval}) {
					if r.MaxErr > gradTol || math.IsNaN(r.MaxErr) || r.Checked == 0 {
						t.Errorf("eval %v: %s: max relative error %.3g at %d of %d checked", eval, r.Tensor, r.MaxErr, r.WorstIdx, r.Checked)
					}
				}
			})
		}
	}
	if p := NewNetwork[float32](cnnIn, cnn, CrossEntropy, 1).Params[8].Name; p != "3.body.0.weight" {
		t.Errorf("parameter 8 is %s, want 3.body.0.weight", p)
	}
}

// TestThreadsBitIdenticalResidual and the step's allocations, for the
// residual CNN.
func TestThreadsBitIdenticalResidual(t *testing.T) {
	in, specs := resCNN()
	want := bnRun(in, specs, &Ctx{})
	for _, threads := range []int{1, 2, 3} {
		pool := parallel.NewPool(threads)
		got := bnRun(in, specs, &Ctx{Pool: pool, Gemm: gemm.NewParallel(pool)})
		pool.Close()
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%d threads: value %d is %v, %v without a pool", threads, i, got[i], want[i])
			}
		}
	}
	net := NewNetwork[float32](in, specs, CrossEntropy, 16)
	net.Init(rand.New(rand.NewPCG(1, 1)))
	x := make([]float32, 16*Prod(in))
	labels := make([]int32, 16)
	pool := parallel.NewPool(2)
	defer pool.Close()
	ctx := &Ctx{Train: true, Pool: pool, Gemm: gemm.NewParallel(pool)}
	step := func() {
		net.ZeroGrad()
		y := net.Forward(ctx, x, 16)
		net.Loss.Forward(y, Target[float32]{Labels: labels}, 16)
		net.Backward(ctx, net.Loss.Grad(16), 16, false)
	}
	step()
	if a := testing.AllocsPerRun(5, step); a != 0 {
		t.Errorf("training step allocates %v times", a)
	}
}
