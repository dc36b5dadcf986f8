package backprop

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestLeakyReLU: the gradient check through leaky_relu (positive, negative
// and zero slopes, vectors and sequences), and its values at the kink.
func TestLeakyReLU(t *testing.T) {
	tests := []struct {
		name  string
		in    []int
		slope float64
		loss  string
		n     int
	}{
		{"default slope, ce", []int{5}, 0.01, CrossEntropy, 4},
		{"slope 0.2, mse", []int{6}, 0.2, MSE, 3},
		{"negative slope, half-sse", []int{4}, -0.5, HalfSSE, 2},
		{"slope 0 (relu)", []int{4}, 0, MSE, 3},
		{"sequence", []int{3, 4}, 0.1, CrossEntropy, 2},
		{"batch 1", []int{3}, 0.3, HalfSSE, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			last := tc.in[len(tc.in)-1]
			hidden := append(append([]int{}, tc.in[:len(tc.in)-1]...), 7)
			specs := []Spec{denseS(tc.in, 7), LeakyReLUSpec{In: hidden, Slope: tc.slope}, denseS(hidden, last)}
			net := NewNetwork[float64](tc.in, specs, tc.loss, tc.n)
			net.Init(rand.New(rand.NewPCG(1, 1)))
			x, tg := randomBatch(net, tc.n, 3)
			for _, r := range GradCheck(net, x, tg, tc.n, CheckOptions{Input: true, Seed: 1}) {
				if r.MaxErr > gradTol || math.IsNaN(r.MaxErr) {
					t.Errorf("%s: max relative error %.3g at %d (analytic %.9g, numeric %.9g)", r.Tensor, r.MaxErr, r.WorstIdx, r.Analytic, r.Numeric)
				}
				if r.Checked == 0 {
					t.Errorf("%s: nothing checked", r.Tensor)
				}
			}
		})
	}
	// Values by hand, as torch.nn.functional.leaky_relu(x, 0.1) and its
	// gradient (the slope's side at 0, as torch).
	l := newLeakyReLU[float64](LeakyReLUSpec{In: []int{5}, Slope: 0.1}, 1)
	y := l.Forward(nil, []float64{-2, -0.5, 0, 0.5, 3}, 1)
	dx := l.Backward(nil, []float64{1, 1, 1, 1, 2}, 1, true)
	wantY, wantDx := []float64{-0.2, -0.05, 0, 0.5, 3}, []float64{0.1, 0.1, 0.1, 1, 2}
	for i := range wantY {
		if math.Abs(y[i]-wantY[i]) > 1e-15 || dx[i] != wantDx[i] {
			t.Errorf("x[%d]: y %v dx %v, want %v %v", i, y[i], dx[i], wantY[i], wantDx[i])
		}
	}
}

// TestLeakyReLUSlopeNames: slope is another name for negative_slope; the
// default is torch's 0.01; setting both is an error naming slope.
func TestLeakyReLUSlopeNames(t *testing.T) {
	v := func(x float64) *float64 { return &x }
	for _, tc := range []struct {
		name    string
		p       LeakyReLUParams
		want    float64
		wantErr string
	}{
		{"default", LeakyReLUParams{}, 0.01, ""},
		{"negative_slope", LeakyReLUParams{NegativeSlope: v(0.2)}, 0.2, ""},
		{"slope", LeakyReLUParams{Slope: v(0.3)}, 0.3, ""},
		{"both", LeakyReLUParams{NegativeSlope: v(0.2), Slope: v(0.3)}, 0, "slope: is another name for negative_slope"},
		{"infinite", LeakyReLUParams{Slope: v(math.Inf(1))}, 0, "slope: must be a finite number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, _ := LookupKind("leaky_relu")
			p := tc.p
			s, err := k.Build(&p, []int{3}, nil)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || s.(LeakyReLUSpec).Slope != tc.want {
				t.Fatalf("spec %+v, error %v; want slope %v", s, err, tc.want)
			}
		})
	}
}
