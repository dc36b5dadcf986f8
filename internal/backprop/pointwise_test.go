package backprop

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/nettrain/nettrain/internal/simd"
)

// TestPointwiseActivations: the gradient check through elu, gelu (exact
// and tanh) and silu, on vectors and sequences, and values by hand.
func TestPointwiseActivations(t *testing.T) {
	kinds := map[string]func([]int) Spec{
		"elu":       func(in []int) Spec { return ELUSpec{In: in, Alpha: 1} },
		"elu 0.3":   func(in []int) Spec { return ELUSpec{In: in, Alpha: 0.3} },
		"gelu":      func(in []int) Spec { return GELUSpec{In: in} },
		"gelu tanh": func(in []int) Spec { return GELUSpec{In: in, Tanh: true} },
		"silu":      func(in []int) Spec { return SiLUSpec{In: in} },
	}
	var cases []gradCase
	for name, f := range kinds {
		cases = append(cases,
			gradCase{name + ", ce", []int{5}, []func([]int) Spec{denseTo(7), f, denseTo(4)}, CrossEntropy, 3},
			gradCase{name + ", sequence mse", []int{3, 4}, []func([]int) Spec{denseTo(6), f, denseTo(2)}, MSE, 2},
			gradCase{name + ", batch 1 half-sse", []int{4}, []func([]int) Spec{f}, HalfSSE, 1},
		)
	}
	runGradCases(t, cases)

	// Values by hand (torch.nn.functional.elu / gelu / silu and their
	// gradients at a few points).
	x := []float64{-2, -0.5, 0, 0.5, 3}
	for _, c := range []struct {
		spec      Spec
		want, dyx []float64
	}{
		{ELUSpec{In: []int{5}, Alpha: 1}, []float64{math.Exp(-2) - 1, math.Exp(-0.5) - 1, 0, 0.5, 3},
			[]float64{math.Exp(-2), math.Exp(-0.5), 1, 1, 1}},
		{GELUSpec{In: []int{5}}, []float64{-0.04550026389635842, -0.15426876936299344, 0, 0.34573123063700656, 2.99595030590511},
			[]float64{-0.08523180107819692, 0.13250487534383712, 0.5, 0.8674951246561629, 1.011945647204184}},
		{SiLUSpec{In: []int{5}}, []float64{-0.2384058440442351, -0.1887703343990727, 0, 0.3112296656009273, 2.8577223804672998},
			[]float64{-0.09078424878489547, 0.2600388126973482, 0.5, 0.7399611873026519, 1.0881041060151693}},
	} {
		l := newLayer[float64](c.spec, nil, 1)
		y := l.Forward(nil, x, 1)
		dx := l.Backward(nil, []float64{1, 1, 1, 1, 1}, 1, true)
		for i := range x {
			if math.Abs(y[i]-c.want[i]) > 1e-12 || math.Abs(dx[i]-c.dyx[i]) > 1e-8 {
				t.Errorf("%s at %v: y %.12g dy/dx %.10g, want %.12g %.10g", c.spec.Kind(), x[i], y[i], dx[i], c.want[i], c.dyx[i])
			}
		}
	}
}

// TestSiLUFloat32: in float32 silu runs on package simd's sigmoid
// approximation (its output is x times the kernel set's sigmoid, to the
// bit); on every kernel set this CPU has, its output and input gradient
// stay within a few float32 ulps of the float64 formulas, over a dense
// grid of inputs (saturation on both sides included), and NaN stays NaN.
func TestSiLUFloat32(t *testing.T) {
	var x, dy []float32
	for v := -100.0; v <= 100; v += 1.0 / 64 {
		x = append(x, float32(v))
		dy = append(dy, float32(1+math.Mod(v, 3)))
	}
	x = append(x, float32(math.NaN()))
	dy = append(dy, 1)
	n := len(x)
	const eps = 1.0 / (1 << 23) // float32 ulp at 1
	for _, set := range simd.KernelSets() {
		t.Run(set, func(t *testing.T) {
			defer simd.UseKernels(set)()
			l := newLayer[float32](SiLUSpec{In: []int{n}}, nil, 1)
			y := l.Forward(&Ctx{}, x, 1)
			dx := l.Backward(&Ctx{}, dy, 1, true)
			for i := range n - 1 {
				xv := float64(x[i])
				s := 1 / (1 + math.Exp(-xv))
				wy := xv * s
				wd := float64(dy[i]) * s * (1 + xv*(1-s))
				// Error bounds: a few ulps of the result; for the
				// gradient, a few ulps of sigma carried through
				// s (1 + x (1 - s)), whose derivative in s is at most
				// 1 + |x| (it passes through 0 near x = -1.28, and
				// 1 - s is all rounding error above x = 16); plus, below
				// x = -87 where sigma is below float32's normal range
				// (package simd's sigmoid gives 0 there), sigma's error
				// (up to 2^-126) times what multiplies it.
				sub := 0x1p-126 * (1 + math.Abs(xv))
				if e := math.Abs(float64(y[i]) - wy); e > 4*eps*math.Abs(wy)+sub {
					t.Fatalf("silu(%g) = %g, want %g", xv, y[i], wy)
				}
				scale := math.Abs(float64(dy[i])) * s * (1 + math.Abs(xv))
				if e := math.Abs(float64(dx[i]) - wd); e > 4*eps*scale+math.Abs(float64(dy[i]))*sub {
					t.Fatalf("silu'(%g) * %g = %g, want %g (%.2g ulp of %g)", xv, dy[i], dx[i], wd, e/(eps*scale), scale)
				}
			}
			// The layer runs the vector form: sigma from the kernel set,
			// the product in float64 rounded once (so, on the assembly
			// sets, not the bits of the exact float64 formula).
			sig := make([]float32, n)
			simd.Sigmoid(sig, x)
			for i := range n - 1 {
				if w := float32(float64(x[i]) * float64(sig[i])); math.Float32bits(y[i]) != math.Float32bits(w) {
					t.Fatalf("silu(%g) = %g, want %g: x times the kernel set's sigmoid", x[i], y[i], w)
				}
			}
			if !math.IsNaN(float64(y[n-1])) || !math.IsNaN(float64(dx[n-1])) {
				t.Errorf("silu(NaN) = %g, gradient %g: want NaN", y[n-1], dx[n-1])
			}
		})
	}
}

// activationInputs returns inputs for the float32 activation tests: a
// grid over [-100, 100] in steps of 1/64, each of extra and its negation,
// -0, 0, -Inf, +Inf and NaN last; and gradients from above, 1 to 3.
func activationInputs(extra ...float64) (x, dy []float32) {
	for v := -100.0; v <= 100; v += 1.0 / 64 {
		x = append(x, float32(v))
	}
	for _, v := range extra {
		x = append(x, float32(v), float32(-v))
	}
	x = append(x, float32(math.Copysign(0, -1)), 0, float32(math.Inf(-1)), float32(math.Inf(1)), float32(math.NaN()))
	for i := range x {
		dy = append(dy, float32(1+math.Mod(float64(i), 3)))
	}
	return x, dy
}

// TestELUFloat32: in float32 elu runs on package simd's tanh and exp; on
// every kernel set this CPU has, its output and input gradient stay within
// a few float32 ulps of the float64 formulas (math.Expm1, math.Exp), over
// a dense grid, values near 0 (where exp(x) - 1 would cancel), subnormals,
// -0, the infinities and NaN, for two alphas.
func TestELUFloat32(t *testing.T) {
	x, dy := activationInputs(1e-3, 1e-5, 1e-8, 1e-20, 1e-38, 1e-40, 1e-45, 0.3, 0.49, 0.51, 1.5, 17, 87, 89)
	n := len(x)
	const eps = 1.0 / (1 << 23) // float32 ulp at 1
	const sub = 0x1p-149 * 4    // below 2^-126: an absolute bound
	for _, alpha := range []float64{1, 0.3} {
		for _, set := range simd.KernelSets() {
			t.Run(fmt.Sprintf("alpha %g %s", alpha, set), func(t *testing.T) {
				defer simd.UseKernels(set)()
				l := newLayer[float32](ELUSpec{In: []int{n}, Alpha: alpha}, nil, 1)
				y := append([]float32(nil), l.Forward(&Ctx{}, x, 1)...)
				dx := l.Backward(&Ctx{}, dy, 1, true)
				f := eluFn{alpha}
				for i := range n - 1 {
					xv := float64(x[i])
					wy, wd := f.value(xv), float64(dy[i])*f.deriv(xv)
					if math.IsInf(wy, 0) {
						if float64(y[i]) != wy {
							t.Fatalf("elu(%g) = %g, want %g", xv, y[i], wy)
						}
						continue
					}
					if e := math.Abs(float64(y[i]) - wy); e > 4*eps*math.Abs(wy)+sub || math.Signbit(float64(y[i])) != math.Signbit(wy) {
						t.Fatalf("elu(%g) = %g, want %g (%.2g ulp)", xv, y[i], wy, e/(eps*math.Abs(wy)))
					}
					if e := math.Abs(float64(dx[i]) - wd); e > 4*eps*math.Abs(wd)+sub {
						t.Fatalf("elu'(%g) * %g = %g, want %g", xv, dy[i], dx[i], wd)
					}
				}
				if !math.IsNaN(float64(y[n-1])) || !math.IsNaN(float64(dx[n-1])) {
					t.Errorf("elu(NaN) = %g, gradient %g: want NaN", y[n-1], dx[n-1])
				}
			})
		}
	}
}

// TestGELUTanhFloat32: in float32 gelu's tanh form runs on package simd's
// sigmoid; on every kernel set this CPU has, its output and input gradient
// stay within a few float32 ulps of the formulas in float64, over a dense
// grid (both tails included), -0, the infinities and NaN. The reference
// is the sigmoid form, 1 + tanh(u) = 2 sigma(2u), with math.Exp: the tanh
// form in float64 (geluFn, as PyTorch computes it) cancels to 0 in the
// left tail, below x = -7.2, where the float32 form does not (down to
// about x = -10, below which package simd's sigmoid gives 0 for values
// under 2^-126: the absolute terms of the bounds).
func TestGELUTanhFloat32(t *testing.T) {
	x, dy := activationInputs(1e-3, 1e-8, 1e-30, 1e-40, 0.3, 5.5, 9.99, 10.1, 1e6, 1e13, 1e30)
	n := len(x)
	const eps = 1.0 / (1 << 23) // float32 ulp at 1
	// sigmoid(a) and m = min(sigmoid(a), 1 - sigmoid(a)), a = 2u.
	sig := func(xv float64) (s, m float64) {
		a := 2 * geluK * (xv + geluC*xv*xv*xv)
		m = 1 / (1 + math.Exp(math.Abs(a)))
		if a < 0 {
			return m, m
		}
		return 1 - m, m
	}
	f := geluFn{tanh: true}
	for _, set := range simd.KernelSets() {
		t.Run(set, func(t *testing.T) {
			defer simd.UseKernels(set)()
			l := newLayer[float32](GELUSpec{In: []int{n}, Tanh: true}, nil, 1)
			y := append([]float32(nil), l.Forward(&Ctx{}, x, 1)...)
			dx := l.Backward(&Ctx{}, dy, 1, true)
			for i := range n - 1 {
				xv := float64(x[i])
				s, m := sig(xv)
				wy, wd := xv*s, float64(dy[i])*(s+2*xv*m*(1-m)*geluK*(1+3*geluC*xv*xv))
				if math.IsInf(xv, 0) {
					wy, wd = f.value(xv), float64(dy[i])*f.deriv(xv)
				}
				if math.IsNaN(wy) || math.IsInf(wy, 0) {
					if !(math.IsNaN(wy) && math.IsNaN(float64(y[i]))) && float64(y[i]) != wy {
						t.Fatalf("gelu(%g) = %g, want %g", xv, y[i], wy)
					}
					continue
				}
				// Below 2^-126 (gelu's left tail, where sigma(2u)
				// leaves float32's normal range) an absolute bound.
				sub := 0x1p-126 * (1 + math.Abs(xv))
				if e := math.Abs(float64(y[i]) - wy); e > 4*eps*math.Abs(wy)+sub {
					t.Fatalf("gelu(%g) = %g, want %g (%.2g ulp)", xv, y[i], wy, e/(eps*math.Abs(wy)))
				}
				// The gradient passes through 0 (near x = -0.75): its
				// bound is on the size of its two terms.
				scale := math.Abs(float64(dy[i])) * (s + math.Abs(2*xv*m*(1-m)*geluK*(1+3*geluC*xv*xv)))
				if math.IsNaN(wd) || math.IsInf(wd, 0) {
					continue
				}
				// sigma below 2^-126: 0 in the assembly kernels, an
				// absolute error of up to 2^-126 times what multiplies it.
				subd := math.Abs(float64(dy[i])) * 0x1p-126 * (1 + math.Abs(2*xv*geluK*(1+3*geluC*xv*xv)))
				if e := math.Abs(float64(dx[i]) - wd); e > 4*eps*scale+subd {
					t.Fatalf("gelu'(%g) * %g = %g, want %g (%.2g ulp of %g)", xv, dy[i], dx[i], wd, e/(eps*scale), scale)
				}
			}
			if !math.IsNaN(float64(y[n-1])) || !math.IsNaN(float64(dx[n-1])) {
				t.Errorf("gelu(NaN) = %g, gradient %g: want NaN", y[n-1], dx[n-1])
			}
		})
	}
}

// TestGELUExactFloat32: in float32 gelu's exact form runs on package
// simd's normal tail and density; on every kernel set this CPU has, its
// output and input gradient stay within a few float32 ulps of x Phi(x)
// and Phi(x) + x phi(x) in float64, over a dense grid (both tails
// included), values near 0, -0, the infinities and NaN. The reference
// takes Phi from math.Erfc, which keeps its relative accuracy in the left
// tail: 1 + erf(x/sqrt 2) (geluFn in float64, as PyTorch computes it)
// loses it there. Below about x = -13 Phi(x) is under 2^-126, where the
// kernels underflow gradually to 0: the absolute terms of the bounds. The
// grid's values are multiples of 1/64, whose squares float32 holds
// exactly; random values in [-13, 13] and near 0 have inexact squares, so
// they exercise the exact split of x^2.
func TestGELUExactFloat32(t *testing.T) {
	x, dy := activationInputs(1e-3, 1e-8, 1e-30, 1e-40, 0.3, 0.75, 5.5, 12.9, 13.5, 1e6, 1e30)
	rng := rand.New(rand.NewPCG(9, 9))
	var extra []float32
	for i := range 4000 {
		extra = append(extra, float32(-13+26*rng.Float64()), float32(0.1*(rng.Float64()-0.5)))
		dy = append(dy, float32(1+i%3), float32(1+i%2))
	}
	nan := x[len(x)-1] // NaN stays last
	x = append(append(x[:len(x)-1], extra...), nan)
	dy = append(dy, 1)
	n := len(x)
	const eps = 1.0 / (1 << 23) // float32 ulp at 1
	f := geluFn{}
	for _, set := range simd.KernelSets() {
		t.Run(set, func(t *testing.T) {
			defer simd.UseKernels(set)()
			l := newLayer[float32](GELUSpec{In: []int{n}}, nil, 1)
			y := append([]float32(nil), l.Forward(&Ctx{}, x, 1)...)
			dx := l.Backward(&Ctx{}, dy, 1, true)
			worstY, worstD := 0.0, 0.0
			for i := range n - 1 {
				xv := float64(x[i])
				cdf := 0.5 * math.Erfc(-xv/math.Sqrt2)
				pdf := math.Exp(-0.5*xv*xv) / math.Sqrt(2*math.Pi)
				wy, wd := xv*cdf, float64(dy[i])*(cdf+xv*pdf)
				if math.IsInf(xv, 0) {
					wy, wd = f.value(xv), float64(dy[i])*f.deriv(xv)
				}
				if math.IsNaN(wy) || math.IsInf(wy, 0) {
					if !(math.IsNaN(wy) && math.IsNaN(float64(y[i]))) && float64(y[i]) != wy {
						t.Fatalf("gelu(%g) = %g, want %g", xv, y[i], wy)
					}
				} else {
					sub := 0x1p-126 * (1 + math.Abs(xv))
					e := math.Abs(float64(y[i]) - wy)
					if e > 4*eps*math.Abs(wy)+sub {
						t.Fatalf("gelu(%g) = %g, want %g (%.2g ulp)", xv, y[i], wy, e/(eps*math.Abs(wy)))
					}
					if e > sub {
						worstY = max(worstY, e/(eps*math.Abs(wy)))
					}
				}
				if math.IsNaN(wd) || math.IsInf(wd, 0) {
					if !(math.IsNaN(wd) && math.IsNaN(float64(dx[i]))) && float64(dx[i]) != wd {
						t.Fatalf("gelu'(%g) * %g = %g, want %g", xv, dy[i], dx[i], wd)
					}
					continue
				}
				// The gradient passes through 0 (near x = -0.75): its
				// bound is on the size of its two terms.
				scale := math.Abs(float64(dy[i])) * (cdf + math.Abs(xv*pdf))
				subd := math.Abs(float64(dy[i])) * 0x1p-126 * (1 + math.Abs(xv))
				e := math.Abs(float64(dx[i]) - wd)
				if e > 4*eps*scale+subd {
					t.Fatalf("gelu'(%g) * %g = %g, want %g (%.2g ulp of %g)", xv, dy[i], dx[i], wd, e/(eps*scale), scale)
				}
				if e > subd {
					worstD = max(worstD, e/(eps*scale))
				}
			}
			t.Logf("worst: output %.2f, gradient %.2f (units of 2^-23 relative)", worstY, worstD)
			if !math.IsNaN(float64(y[n-1])) || !math.IsNaN(float64(dx[n-1])) {
				t.Errorf("gelu(NaN) = %g, gradient %g: want NaN", y[n-1], dx[n-1])
			}
		})
	}
}
