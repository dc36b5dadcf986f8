package backprop

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/nettrain/nettrain/internal/gemm"
	"github.com/nettrain/nettrain/internal/parallel"
)

func TestGradCheckLSTM(t *testing.T) {
	fb := 1.0
	tests := []struct {
		name     string
		in       []int
		fs       []func([]int) Spec
		loss     string
		n        int
		tokens   int // > 0: the input holds token ids below this
		noParams bool
	}{
		{"many-to-one", []int{4, 3}, []func([]int) Spec{
			func(in []int) Spec { return LSTMSpec{In: in, Units: 5, Layers: 1} },
			func(in []int) Spec { return denseS(in, 3) },
		}, CrossEntropy, 3, 0, false},
		{"two-layers", []int{3, 2}, []func([]int) Spec{
			func(in []int) Spec { return LSTMSpec{In: in, Units: 4, Layers: 2} },
			func(in []int) Spec { return denseS(in, 2) },
		}, MSE, 2, 0, false},
		{"many-to-many", []int{5, 3}, []func([]int) Spec{
			func(in []int) Spec { return LSTMSpec{In: in, Units: 4, Layers: 1, ReturnSequences: true} },
			func(in []int) Spec { return denseS(in, 3) },
		}, CrossEntropy, 2, 0, false},
		{"two-layers-many-to-many", []int{4, 2}, []func([]int) Spec{
			func(in []int) Spec { return LSTMSpec{In: in, Units: 3, Layers: 2, ReturnSequences: true} },
			func(in []int) Spec { return denseS(in, 2) },
		}, HalfSSE, 2, 0, false},
		{"T=1", []int{1, 3}, []func([]int) Spec{
			func(in []int) Spec { return LSTMSpec{In: in, Units: 4, Layers: 1} },
			func(in []int) Spec { return denseS(in, 2) },
		}, MSE, 3, 0, false},
		{"forget-bias", []int{3, 2}, []func([]int) Spec{
			func(in []int) Spec { return LSTMSpec{In: in, Units: 3, Layers: 1, ForgetBias: &fb} },
			func(in []int) Spec { return denseS(in, 2) },
		}, MSE, 2, 0, false},
		{"stacked-lstm-layers", []int{3, 2}, []func([]int) Spec{
			func(in []int) Spec { return LSTMSpec{In: in, Units: 3, Layers: 1, ReturnSequences: true} },
			func(in []int) Spec { return act("tanh", in) },
			func(in []int) Spec { return LSTMSpec{In: in, Units: 4, Layers: 1} },
			func(in []int) Spec { return denseS(in, 2) },
		}, MSE, 2, 0, false},
		{"embedding", []int{4}, []func([]int) Spec{
			func(in []int) Spec { return EmbeddingSpec{In: in, Vocab: 6, Dim: 3} },
			func(in []int) Spec { return LSTMSpec{In: in, Units: 4, Layers: 1} },
			func(in []int) Spec { return denseS(in, 6) },
		}, CrossEntropy, 3, 6, false},
		{"onehot", []int{4}, []func([]int) Spec{
			func(in []int) Spec { return OneHotSpec{In: in, Vocab: 5} },
			func(in []int) Spec { return LSTMSpec{In: in, Units: 3, Layers: 1, ReturnSequences: true} },
			func(in []int) Spec { return denseS(in, 5) },
		}, CrossEntropy, 2, 5, false},
		// The one-hot fast path (gather and scatter-add of W_ih columns), as
		// package model builds it after a onehot layer.
		{"onehot-gather", []int{4}, []func([]int) Spec{
			func(in []int) Spec { return OneHotSpec{In: in, Vocab: 5} },
			func(in []int) Spec { return LSTMSpec{In: in, Units: 3, Layers: 1, ReturnSequences: true, OneHot: true} },
			func(in []int) Spec { return denseS(in, 5) },
		}, CrossEntropy, 2, 5, false},
		{"onehot-gather-two-layers", []int{3}, []func([]int) Spec{
			func(in []int) Spec { return OneHotSpec{In: in, Vocab: 4} },
			func(in []int) Spec { return LSTMSpec{In: in, Units: 3, Layers: 2, OneHot: true} },
			func(in []int) Spec { return denseS(in, 4) },
		}, CrossEntropy, 3, 4, false},
		// 21 samples: the recurrence's parts are 8, 8 and 5 samples (the
		// buffers hold each part's rows together, each part sums its own
		// dW_hh, db and one-hot dW_ih), the last one short.
		{"parts-two-layers-many-to-many", []int{3, 2}, []func([]int) Spec{
			func(in []int) Spec { return LSTMSpec{In: in, Units: 3, Layers: 2, ReturnSequences: true} },
			func(in []int) Spec { return denseS(in, 2) },
		}, MSE, 21, 0, false},
		{"parts-onehot-gather-two-layers", []int{3}, []func([]int) Spec{
			func(in []int) Spec { return OneHotSpec{In: in, Vocab: 4} },
			func(in []int) Spec { return LSTMSpec{In: in, Units: 3, Layers: 2, OneHot: true} },
			func(in []int) Spec { return denseS(in, 4) },
		}, CrossEntropy, 21, 4, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			net := NewNetwork[float64](tc.in, chain(tc.in, tc.fs...), tc.loss, tc.n)
			net.Init(rand.New(rand.NewPCG(1, 1)))
			x, tg := randomBatch(net, tc.n, 3)
			if tc.tokens > 0 {
				rng := rand.New(rand.NewPCG(5, 5))
				for i := range x {
					x[i] = float64(rng.IntN(tc.tokens))
				}
			}
			res := GradCheck(net, x, tg, tc.n, CheckOptions{Input: true, Seed: 1})
			for _, r := range res {
				if r.MaxErr > gradTol || math.IsNaN(r.MaxErr) {
					t.Errorf("%s: max relative error %.3g at %d (analytic %.9g, numeric %.9g)",
						r.Tensor, r.MaxErr, r.WorstIdx, r.Analytic, r.Numeric)
				}
				if r.Checked == 0 || r.Skipped > 0 {
					t.Errorf("%s: %d entries checked, %d skipped", r.Tensor, r.Checked, r.Skipped)
				}
			}
			if (tc.tokens > 0) == (res[0].Tensor == "input") {
				t.Errorf("input checked: %v, token input: %v", res[0].Tensor == "input", tc.tokens > 0)
			}
		})
	}
}

func TestLSTMForgetBiasInit(t *testing.T) {
	fb := 1.0
	s := LSTMSpec{In: []int{2, 3}, Units: 4, Layers: 1, ForgetBias: &fb}
	net := NewNetwork[float64](s.In, []Spec{s}, MSE, 1)
	net.Init(rand.New(rand.NewPCG(1, 1)))
	bih, bhh := net.Param("0.bias_ih_l0").W, net.Param("0.bias_hh_l0").W
	for j := 4; j < 8; j++ {
		if bih[j] != 1 || bhh[j] != 0 {
			t.Fatalf("forget bias: ih %v hh %v", bih[4:8], bhh[4:8])
		}
	}
	if bih[0] == 0 || bih[0] == 1 {
		t.Fatalf("input-gate bias not drawn: %v", bih)
	}
}

// TestLSTMOneHotMatchesDense runs the same network with the one-hot fast
// path and with the dense input GEMM: the forward pass is the same bits
// (a GEMM with one-hot rows adds exact zeros), the gradients agree to
// rounding (the scatter-add sums dW_ih in another order), and the fast
// path returns no input gradient.
func TestLSTMOneHotMatchesDense(t *testing.T) {
	t.Run("float64", func(t *testing.T) { testOneHotMatchesDense[float64](t, 1e-13) })
	t.Run("float32", func(t *testing.T) { testOneHotMatchesDense[float32](t, 1e-5) })
}

func testOneHotMatchesDense[T Float](t *testing.T, tol float64) {
	const vocab, steps, n = 7, 6, 5
	build := func(oneHot bool) *Network[T] {
		in := []int{steps}
		specs := chain(in,
			func(in []int) Spec { return OneHotSpec{In: in, Vocab: vocab} },
			func(in []int) Spec {
				return LSTMSpec{In: in, Units: 9, Layers: 2, ReturnSequences: true, OneHot: oneHot}
			},
			func(in []int) Spec { return denseS(in, vocab) },
		)
		net := NewNetwork[T](in, specs, CrossEntropy, n)
		net.Init(rand.New(rand.NewPCG(3, 3)))
		return net
	}
	rng := rand.New(rand.NewPCG(4, 4))
	x := make([]T, n*steps)
	labels := make([]int32, n*steps)
	for i := range x {
		x[i] = T(rng.IntN(vocab))
		labels[i] = int32(rng.IntN(vocab))
	}
	var outs [2][]T
	var grads [2][]T
	var dxs [2][]T
	for k, oneHot := range []bool{false, true} {
		net := build(oneHot)
		ctx := &Ctx{Train: true}
		y := net.Forward(ctx, x, n)
		net.Loss.Forward(y, Target[T]{Labels: labels}, n)
		net.ZeroGrad()
		net.Backward(ctx, net.Loss.Grad(n), n, true)
		outs[k] = append([]T(nil), y...)
		grads[k] = append([]T(nil), net.G...)
		dxs[k] = net.Dx[1]
	}
	for i := range outs[0] {
		if outs[0][i] != outs[1][i] {
			t.Fatalf("output %d: dense %v, one-hot %v", i, outs[0][i], outs[1][i])
		}
	}
	for i := range grads[0] {
		a, b := float64(grads[0][i]), float64(grads[1][i])
		if math.Abs(a-b) > tol*math.Max(1, math.Abs(a)) {
			t.Fatalf("gradient %d: dense %v, one-hot %v", i, a, b)
		}
	}
	if dxs[0] == nil || dxs[1] != nil {
		t.Errorf("lstm input gradient: dense %d values, one-hot %d (want none)", len(dxs[0]), len(dxs[1]))
	}
}

func TestLSTMOneHotRejectsOtherRows(t *testing.T) {
	s := LSTMSpec{In: []int{2, 3}, Units: 2, Layers: 1, OneHot: true}
	net := NewNetwork[float32](s.In, []Spec{s}, MSE, 1)
	defer func() {
		if recover() == nil {
			t.Error("no panic on a row that is not one-hot")
		}
	}()
	net.Forward(nil, []float32{0, 1, 0, 0.5, 0, 0}, 1)
}

// TestLSTMStepAllocatesNothing is TestTrainStepAllocatesNothing for the
// text model: onehot, lstm (one-hot path), dense, with the gradient norm.
func TestLSTMStepAllocatesNothing(t *testing.T) {
	in := []int{8}
	specs := chain(in,
		func(in []int) Spec { return OneHotSpec{In: in, Vocab: 11} },
		func(in []int) Spec { return LSTMSpec{In: in, Units: 16, Layers: 1, OneHot: true} },
		func(in []int) Spec { return denseS(in, 11) },
	)
	for _, threads := range []int{0, 2} {
		var pool *parallel.Pool
		if threads > 0 {
			pool = parallel.NewPool(threads)
		}
		const n = 20
		net := NewNetwork[float32](in, specs, CrossEntropy, n)
		net.Init(rand.New(rand.NewPCG(1, 1)))
		x := make([]float32, n*8)
		labels := make([]int32, n)
		ctx := &Ctx{Train: true, Pool: pool, Gemm: gemm.NewParallel(pool)}
		step := func() {
			net.ZeroGradCtx(ctx)
			y := net.Forward(ctx, x, n)
			net.Loss.ForwardCtx(ctx, y, Target[float32]{Labels: labels}, n)
			net.Backward(ctx, net.Loss.Grad(n), n, false)
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

// TestLSTMOneHotWithoutParts is TestLSTMOneHotMatchesDense with the
// one-hot weight gradient summed per chunk of gate columns, the path of
// vocabularies too large for per-chunk parts.
func TestLSTMOneHotWithoutParts(t *testing.T) {
	defer func(m int) { lstmMaxPart = m }(lstmMaxPart)
	lstmMaxPart = 0
	t.Run("float64", func(t *testing.T) { testOneHotMatchesDense[float64](t, 1e-13) })
	t.Run("float32", func(t *testing.T) { testOneHotMatchesDense[float32](t, 1e-5) })
}

// TestTransposeBlock checks transposeBlock, setting and adding, against
// the definition dst[j*ldd+i] (+)= src[i*lds+j] on blocks with and
// without a remainder of the eight-row loop, and that nothing outside the
// block is written.
func TestTransposeBlock(t *testing.T) {
	for _, c := range []struct{ rows, cols, i0, i1, j0, j1 int }{
		{1, 1, 0, 1, 0, 1},
		{8, 3, 0, 8, 0, 3},
		{13, 7, 0, 13, 0, 7},
		{76, 512, 0, 76, 64, 128},
		{512, 76, 40, 93, 0, 76},
		{9, 9, 2, 2, 0, 9},
	} {
		for _, add := range []bool{false, true} {
			lds, ldd := c.cols+1, c.rows+2
			src := make([]float64, c.rows*lds)
			for i := range src {
				src[i] = float64(i + 1)
			}
			dst := make([]float64, c.cols*ldd)
			want := make([]float64, len(dst))
			for i := range dst {
				dst[i], want[i] = -float64(i), -float64(i)
			}
			for i := c.i0; i < c.i1; i++ {
				for j := c.j0; j < c.j1; j++ {
					if add {
						want[j*ldd+i] += src[i*lds+j]
					} else {
						want[j*ldd+i] = src[i*lds+j]
					}
				}
			}
			transposeBlock(dst, ldd, src, lds, c.i0, c.i1, c.j0, c.j1, add)
			if !slices.Equal(dst, want) {
				t.Errorf("%+v add=%v: got %v, want %v", c, add, dst, want)
			}
		}
	}
}

// TestLSTMFixedWorkspaceElems: the batch-independent buffers an LSTM
// allocates are what FixedWorkspaceElems (and so EstimateBytes) counts,
// with per-chunk parts and without (lstmMaxPart exceeded).
func TestLSTMFixedWorkspaceElems(t *testing.T) {
	defer func(m int) { lstmMaxPart = m }(lstmMaxPart)
	for _, maxPart := range []int{lstmMaxPart, 0} {
		lstmMaxPart = maxPart
		for _, s := range []LSTMSpec{
			{In: []int{5, 7}, Units: 6, Layers: 2, OneHot: true},
			{In: []int{5, 7}, Units: 6, Layers: 3, ReturnSequences: true},
		} {
			l := newLSTM(s, NewNetwork[float32](s.In, []Spec{s}, MSE, 1).Params[0:4*s.Layers], 9)
			var got int64
			for _, ly := range l.layers {
				got += int64(len(ly.whhT) + len(ly.bias) + 2*len(ly.dbPart) + len(ly.dwhhPart) +
					len(ly.wihT) + len(ly.dwihT) + len(ly.dwPart))
			}
			if want := s.FixedWorkspaceElems(); got != want {
				t.Errorf("%+v, lstmMaxPart %d: %d elements allocated, FixedWorkspaceElems %d", s, maxPart, got, want)
			}
		}
	}
}
