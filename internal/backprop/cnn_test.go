package backprop

import (
	"math"
	"math/rand/v2"
	"testing"
)

func conv(in []int, f, kh, kw, sh, sw, pt, pl, pb, pr int) Conv2DSpec {
	return Conv2DSpec{In: in, Filters: f, KH: kh, KW: kw, SH: sh, SW: sw, PadT: pt, PadL: pl, PadB: pb, PadR: pr, Bias: true}
}

func pool(op PoolOp, in []int, k, s, p int) Pool2DSpec {
	return Pool2DSpec{Op: op, In: in, KH: k, KW: k, SH: s, SW: s, PH: p, PW: p}
}

// chain builds specs where each constructor receives the previous output shape.
func chain(in []int, fs ...func([]int) Spec) []Spec {
	var specs []Spec
	for _, f := range fs {
		s := f(in)
		specs = append(specs, s)
		in = s.OutShape()
	}
	return specs
}

func TestGradCheckCNN(t *testing.T) {
	tests := []struct {
		name string
		in   []int
		fs   []func([]int) Spec
		loss string
		n    int
	}{
		{"conv-1ch", []int{1, 5, 5}, []func([]int) Spec{
			func(in []int) Spec { return conv(in, 2, 3, 3, 1, 1, 0, 0, 0, 0) },
			func(in []int) Spec { return FlattenSpec{in} },
		}, MSE, 2},
		{"conv-multichannel-stride2-pad", []int{3, 7, 6}, []func([]int) Spec{
			func(in []int) Spec { return conv(in, 4, 3, 2, 2, 2, 1, 1, 1, 1) },
			func(in []int) Spec { return act("tanh", in) },
			func(in []int) Spec { return FlattenSpec{in} },
			func(in []int) Spec { return denseS(in, 3) },
		}, CrossEntropy, 3},
		{"conv-asymmetric-same-pad-no-bias", []int{2, 4, 5}, []func([]int) Spec{
			func(in []int) Spec {
				c := conv(in, 3, 2, 4, 1, 1, 0, 1, 1, 2)
				c.Bias = false
				return c
			},
			func(in []int) Spec { return FlattenSpec{in} },
		}, HalfSSE, 2},
		{"conv-stride3-rect", []int{2, 8, 9}, []func([]int) Spec{
			func(in []int) Spec { return conv(in, 2, 3, 2, 3, 2, 0, 1, 0, 1) },
			func(in []int) Spec { return FlattenSpec{in} },
		}, MSE, 2},
		{"maxpool-2x2", []int{2, 4, 4}, []func([]int) Spec{
			func(in []int) Spec { return pool("max", in, 2, 2, 0) },
			func(in []int) Spec { return FlattenSpec{in} },
		}, MSE, 2},
		{"maxpool-overlapping", []int{2, 5, 5}, []func([]int) Spec{
			func(in []int) Spec { return pool("max", in, 3, 1, 0) },
			func(in []int) Spec { return FlattenSpec{in} },
		}, MSE, 2},
		{"maxpool-padding-stride2-overlap", []int{1, 6, 5}, []func([]int) Spec{
			func(in []int) Spec { return pool("max", in, 3, 2, 1) },
			func(in []int) Spec { return FlattenSpec{in} },
		}, HalfSSE, 3},
		{"avgpool-2x2", []int{3, 4, 6}, []func([]int) Spec{
			func(in []int) Spec { return pool("avg", in, 2, 2, 0) },
			func(in []int) Spec { return FlattenSpec{in} },
		}, MSE, 2},
		{"avgpool-overlap-pad", []int{2, 5, 5}, []func([]int) Spec{
			func(in []int) Spec { return pool("avg", in, 3, 2, 1) },
			func(in []int) Spec { return FlattenSpec{in} },
		}, MSE, 2},
		{"global-avgpool", []int{3, 4, 5}, []func([]int) Spec{
			func(in []int) Spec { return GlobalAvgPoolSpec{in} },
			func(in []int) Spec { return denseS(in, 2) },
		}, CrossEntropy, 2},
		{"dropout", []int{6}, []func([]int) Spec{
			func(in []int) Spec { return denseS(in, 8) },
			func(in []int) Spec { return DropoutSpec{In: in, P: 0.4} },
			func(in []int) Spec { return denseS(in, 3) },
		}, CrossEntropy, 4},
		{"small-cnn", []int{1, 8, 8}, []func([]int) Spec{
			func(in []int) Spec { return conv(in, 3, 3, 3, 1, 1, 1, 1, 1, 1) },
			func(in []int) Spec { return act("relu", in) },
			func(in []int) Spec { return pool("max", in, 2, 2, 0) },
			func(in []int) Spec { return conv(in, 4, 3, 3, 1, 1, 1, 1, 1, 1) },
			func(in []int) Spec { return act("sigmoid", in) },
			func(in []int) Spec { return pool("avg", in, 2, 2, 0) },
			func(in []int) Spec { return FlattenSpec{in} },
			func(in []int) Spec { return denseS(in, 5) },
		}, CrossEntropy, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			net := NewNetwork[float64](tc.in, chain(tc.in, tc.fs...), tc.loss, tc.n)
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

// naiveConv is the convolution written directly from its definition.
func naiveConv(s Conv2DSpec, x, w, b []float64, n int) []float64 {
	c, h, wd := s.In[0], s.In[1], s.In[2]
	oh, ow := s.OutHW()
	y := make([]float64, n*s.Filters*oh*ow)
	for smp := 0; smp < n; smp++ {
		for f := 0; f < s.Filters; f++ {
			for i := 0; i < oh; i++ {
				for j := 0; j < ow; j++ {
					sum := 0.0
					if b != nil {
						sum = b[f]
					}
					for ch := 0; ch < c; ch++ {
						for u := 0; u < s.KH; u++ {
							for v := 0; v < s.KW; v++ {
								r, q := i*s.SH-s.PadT+u, j*s.SW-s.PadL+v
								if r < 0 || r >= h || q < 0 || q >= wd {
									continue
								}
								sum += w[((f*c+ch)*s.KH+u)*s.KW+v] * x[((smp*c+ch)*h+r)*wd+q]
							}
						}
					}
					y[((smp*s.Filters+f)*oh+i)*ow+j] = sum
				}
			}
		}
	}
	return y
}

func TestConvMatchesNaive(t *testing.T) {
	for _, s := range []Conv2DSpec{
		conv([]int{1, 5, 5}, 1, 2, 2, 1, 1, 0, 0, 0, 0),
		conv([]int{3, 9, 7}, 4, 3, 3, 2, 1, 1, 0, 2, 1),
		conv([]int{2, 6, 6}, 5, 1, 1, 1, 1, 0, 0, 0, 0),
		conv([]int{2, 6, 8}, 3, 5, 3, 3, 3, 2, 2, 2, 2),
	} {
		n := 3
		net := NewNetwork[float64](s.In, []Spec{s}, MSE, n)
		net.Init(rand.New(rand.NewPCG(4, 4)))
		x, _ := randomBatch(net, n, 6)
		got := net.Forward(nil, x, n)
		want := naiveConv(s, x, net.Params[0].W, net.Params[1].W, n)
		for i := range want {
			if math.Abs(got[i]-want[i]) > 1e-12 {
				t.Fatalf("%v: y[%d] = %v, want %v", s, i, got[i], want[i])
			}
		}
	}
}

func TestMaxPoolTiesAndRouting(t *testing.T) {
	// One 4x4 plane with ties in the first window; 2x2 windows, stride 2.
	x := []float64{
		1, 1, 0, 2,
		0, 1, 3, 3,
		5, 4, 7, 6,
		4, 5, 6, 7,
	}
	s := pool("max", []int{1, 4, 4}, 2, 2, 0)
	net := NewNetwork[float64](s.In, []Spec{s}, MSE, 1)
	y := net.Forward(nil, x, 1)
	if want := []float64{1, 3, 5, 7}; !equal(y, want) {
		t.Fatalf("y = %v, want %v", y, want)
	}
	dx := net.Backward(nil, []float64{10, 20, 30, 40}, 1, true)
	want := []float64{ // the first maximum of each window gets the gradient
		10, 0, 0, 0,
		0, 0, 20, 0,
		30, 0, 40, 0,
		0, 0, 0, 0,
	}
	if !equal(dx, want) {
		t.Fatalf("dx = %v, want %v", dx, want)
	}
	// Overlapping windows (3x3, stride 1) that share their maximum add up.
	s = pool("max", []int{1, 4, 4}, 3, 1, 0)
	net = NewNetwork[float64](s.In, []Spec{s}, MSE, 1)
	x = []float64{
		0, 0, 0, 0,
		0, 9, 0, 0,
		0, 0, 0, 0,
		0, 0, 0, 10,
	}
	net.Forward(nil, x, 1)
	dx = net.Backward(nil, []float64{1, 2, 3, 4}, 1, true)
	if dx[5] != 1+2+3 || dx[15] != 4 {
		t.Fatalf("overlapping routing: dx = %v", dx)
	}
}

func equal(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestDropoutEval(t *testing.T) {
	s := DropoutSpec{In: []int{1000}, P: 0.3}
	net := NewNetwork[float64](s.In, []Spec{s}, MSE, 1)
	x := make([]float64, 1000)
	for i := range x {
		x[i] = 1
	}
	if y := net.Forward(&Ctx{}, x, 1); !equal(y, x) {
		t.Fatal("dropout changed values in evaluation mode")
	}
	y := net.Forward(&Ctx{Train: true, RNG: rand.New(rand.NewPCG(1, 2))}, x, 1)
	zeros, sum := 0, 0.0
	for _, v := range y {
		if v == 0 {
			zeros++
		} else if math.Abs(v-1/0.7) > 1e-12 {
			t.Fatalf("kept value %v, want 1/0.7", v)
		}
		sum += v
	}
	if zeros < 240 || zeros > 360 {
		t.Errorf("dropped %d of 1000 at p=0.3", zeros)
	}
}
