package backprop

import (
	"math"
	"math/rand/v2"
	"testing"
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
