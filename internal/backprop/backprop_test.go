package backprop

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/nettrain/nettrain/internal/gemm"
	"github.com/nettrain/nettrain/internal/parallel"
)

// Tolerances for central-difference checks in float64.
const gradTol = 1e-6

func denseS(in []int, units int) DenseSpec         { return DenseSpec{In: in, Units: units, Bias: true} }
func act(fn ActivationFn, in []int) ActivationSpec { return ActivationSpec{Fn: fn, In: in} }

// randomBatch fills x with values in [-1, 1) and makes targets for the loss.
func randomBatch(net *Network[float64], n int, seed uint64) ([]float64, Target[float64]) {
	rng := rand.New(rand.NewPCG(seed, 2))
	x := make([]float64, n*Prod(net.In))
	for i := range x {
		x[i] = 2*rng.Float64() - 1
	}
	var t Target[float64]
	out := net.OutShape()
	if net.Loss.Kind == CrossEntropy {
		t.Labels = make([]int32, n*net.Loss.Positions())
		for i := range t.Labels {
			t.Labels[i] = int32(rng.IntN(out[len(out)-1]))
		}
	} else {
		t.Values = make([]float64, n*Prod(out))
		for i := range t.Values {
			t.Values[i] = 2*rng.Float64() - 1
		}
	}
	return x, t
}

func TestGradCheckMLP(t *testing.T) {
	tests := []struct {
		name  string
		in    []int
		specs func(in []int) []Spec
		loss  string
		n     int
	}{
		{"dense-ce", []int{5}, func(in []int) []Spec { return []Spec{denseS(in, 3)} }, CrossEntropy, 4},
		{"dense-relu-dense-ce", []int{6}, func(in []int) []Spec {
			return []Spec{denseS(in, 7), act("relu", []int{7}), denseS([]int{7}, 4)}
		}, CrossEntropy, 5},
		{"sigmoid-mse", []int{4}, func(in []int) []Spec {
			return []Spec{denseS(in, 5), act("sigmoid", []int{5}), denseS([]int{5}, 2)}
		}, MSE, 3},
		{"tanh-half-sse", []int{3}, func(in []int) []Spec {
			return []Spec{denseS(in, 4), act("tanh", []int{4}), denseS([]int{4}, 3)}
		}, HalfSSE, 2},
		{"softmax-mse", []int{4}, func(in []int) []Spec {
			return []Spec{denseS(in, 5), act("softmax", []int{5})}
		}, MSE, 3},
		{"no-bias", []int{4}, func(in []int) []Spec {
			return []Spec{DenseSpec{In: in, Units: 3}}
		}, CrossEntropy, 2},
		{"sequence-dense", []int{3, 4}, func(in []int) []Spec {
			return []Spec{denseS(in, 5), act("tanh", []int{3, 5}), denseS([]int{3, 5}, 2)}
		}, CrossEntropy, 2},
		{"batch-1", []int{3}, func(in []int) []Spec { return []Spec{denseS(in, 2), act("sigmoid", []int{2})} }, HalfSSE, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			net := NewNetwork[float64](tc.in, tc.specs(tc.in), tc.loss, tc.n)
			net.Init(rand.New(rand.NewPCG(1, 1)))
			x, tg := randomBatch(net, tc.n, 3)
			for _, r := range GradCheck(net, x, tg, tc.n, CheckOptions{Input: true, Seed: 1}) {
				if r.MaxErr > gradTol || math.IsNaN(r.MaxErr) {
					t.Errorf("%s: max relative error %.3g at %d (analytic %.9g, numeric %.9g)",
						r.Tensor, r.MaxErr, r.WorstIdx, r.Analytic, r.Numeric)
				}
				if r.Checked == 0 || r.Skipped > 0 {
					t.Errorf("%s: %d entries checked, %d skipped as non-differentiable", r.Tensor, r.Checked, r.Skipped)
				}
			}
		})
	}
}

// TestGradCheckCatchesWrongGradient makes sure the checker is not vacuous:
// a corrupted analytic gradient must be reported.
func TestGradCheckCatchesWrongGradient(t *testing.T) {
	in := []int{3}
	net := NewNetwork[float64](in, []Spec{denseS(in, 2)}, MSE, 2)
	net.Init(rand.New(rand.NewPCG(1, 1)))
	x, tg := randomBatch(net, 2, 1)
	net.Layers[0] = &scaledBackward{net.Layers[0]}
	bad := false
	for _, r := range GradCheck(net, x, tg, 2, CheckOptions{Input: true}) {
		if r.Tensor == "input" && r.MaxErr > 0.1 {
			bad = true
		}
	}
	if !bad {
		t.Fatal("a doubled input gradient went unnoticed")
	}
}

type scaledBackward struct{ Layer[float64] }

func (s *scaledBackward) Backward(ctx *Ctx, dy []float64, n int, needDx bool) []float64 {
	dx := s.Layer.Backward(ctx, dy, n, needDx)
	for i := range dx {
		dx[i] *= 2
	}
	return dx
}

// naiveDense is y = x W^T + b written as loops, the obvious reference.
func naiveDense(x, w, b []float64, n, in, out int) []float64 {
	y := make([]float64, n*out)
	for i := 0; i < n; i++ {
		for o := 0; o < out; o++ {
			s := b[o]
			for k := 0; k < in; k++ {
				s += x[i*in+k] * w[o*in+k]
			}
			y[i*out+o] = s
		}
	}
	return y
}

func TestDenseMatchesNaive(t *testing.T) {
	in, out, n := 7, 5, 4
	net := NewNetwork[float64]([]int{in}, []Spec{denseS([]int{in}, out)}, MSE, n)
	net.Init(rand.New(rand.NewPCG(2, 2)))
	x, _ := randomBatch(net, n, 5)
	got := net.Forward(nil, x, n)
	want := naiveDense(x, net.Params[0].W, net.Params[1].W, n, in, out)
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Fatalf("y[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	// A smaller batch than the network was built for uses a prefix of the buffers.
	got = net.Forward(nil, x[:in], 1)
	for i := 0; i < out; i++ {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Fatalf("batch 1: y[%d] = %v, want %v", i, got[i], want[i])
		}
	}
}

func TestLossValues(t *testing.T) {
	// Hand-computed: logits (1, 2, 3), label 2: L = log(e^1+e^2+e^3) - 3.
	ce := NewLoss[float64](CrossEntropy, []int{3}, 1)
	m, _, _ := ce.Forward([]float64{1, 2, 3}, Target[float64]{Labels: []int32{2}}, 1)
	want := math.Log(math.Exp(1)+math.Exp(2)+math.Exp(3)) - 3
	if math.Abs(m-want) > 1e-12 {
		t.Errorf("cross_entropy = %v, want %v", m, want)
	}
	// Huge logits must not overflow.
	m, _, _ = ce.Forward([]float64{1000, 0, -1000}, Target[float64]{Labels: []int32{0}}, 1)
	if m != 0 || math.IsNaN(ce.Grad(1)[0]) {
		t.Errorf("cross_entropy on huge logits = %v, grad %v", m, ce.Grad(1))
	}
	// mse: mean over all elements; half_sse: half the per-sample sum, averaged over samples.
	y := []float64{1, 2, 3, 4}
	tv := Target[float64]{Values: []float64{0, 0, 0, 0}}
	mse := NewLoss[float64](MSE, []int{2}, 2)
	if m, _, _ := mse.Forward(y, tv, 2); m != 30.0/4 {
		t.Errorf("mse = %v, want 7.5", m)
	}
	if g := mse.Grad(2); g[3] != 2*4.0/4 {
		t.Errorf("mse grad = %v", g)
	}
	hs := NewLoss[float64](HalfSSE, []int{2}, 2)
	if m, _, _ := hs.Forward(y, tv, 2); m != 30.0/2/2 {
		t.Errorf("half_sse = %v, want 7.5", m)
	}
	if g := hs.Grad(2); g[3] != 4.0/2 {
		t.Errorf("half_sse grad = %v, want (y-t)/n", g)
	}
	// Labels as targets of mse are one-hot.
	if m, _, _ := mse.Forward([]float64{0, 1, 1, 0}, Target[float64]{Labels: []int32{1, 0}}, 2); m != 0 {
		t.Errorf("mse against one-hot labels = %v, want 0", m)
	}
}

func TestTrainStepAllocatesNothing(t *testing.T) {
	in := []int{784}
	specs := []Spec{denseS(in, 256), act("relu", []int{256}), denseS([]int{256}, 128), act("relu", []int{128}), denseS([]int{128}, 10)}
	for _, threads := range []int{0, 2} {
		var pool *parallel.Pool
		if threads > 0 {
			pool = parallel.NewPool(threads)
		}
		net := NewNetwork[float32](in, specs, CrossEntropy, 64)
		net.Init(rand.New(rand.NewPCG(1, 1)))
		x := make([]float32, 64*784)
		labels := make([]int32, 64)
		ctx := &Ctx{Train: true, Pool: pool, Gemm: gemm.NewParallel(pool)}
		step := func() {
			net.ZeroGradCtx(ctx)
			y := net.Forward(ctx, x, 64)
			net.Loss.ForwardCtx(ctx, y, Target[float32]{Labels: labels}, 64)
			net.Backward(ctx, net.Loss.Grad(64), 64, false)
			_ = net.GradNormCtx(ctx)
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
}
