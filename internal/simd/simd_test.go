package simd

import (
	"github.com/nettrain/nettrain/internal/simd/simdtest"

	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// Tolerances of the float32 approximations against float64 package math,
// rounded once to float32. ulp(y) is the spacing of float32 numbers at y;
// results below 2^-126 (subnormal) are held to an absolute 2^-149 * 4.
const (
	expULP     = 2 // exp: Cephes' polynomial with FMA
	sigmoidULP = 3 // 1/(1+exp(-x)): exp, an add and a division
	tanhULP    = 2 // odd polynomial below 0.625, else 1 - 2/(exp(2|x|)+1)
	// normal tail and density: a fitted polynomial, two divisions and exp
	// (5.02 and 2.47 over every float32 input; unlike the three above,
	// the tail is not monotone to the last ulp: it steps back by 1 ulp
	// near x = -0.65)
	normtailULP = 6
)

// normalTail64 and normalDensity64 are NormalTail's outputs in float64.
func normalTail64(v float64) float64    { return 0.5 * math.Erfc(math.Abs(v)/math.Sqrt2) }
func normalDensity64(v float64) float64 { return math.Exp(-0.5*v*v) / math.Sqrt(2*math.Pi) }

// normalTailQ and normalTailD are NormalTail's two outputs as unary maps.
func normalTailQ(q, x []float32) { NormalTail(q, make([]float32, len(x)), x) }
func normalTailD(d, x []float32) { NormalTail(make([]float32, len(x)), d, x) }

// forEachSet runs f once per kernel set this CPU supports.
func forEachSet(t *testing.T, f func(t *testing.T)) {
	for _, s := range supportedKernels() {
		t.Run(s.name, func(t *testing.T) {
			defer UseKernels(s.name)()
			f(t)
		})
	}
}

func TestMapsMatchReference(t *testing.T) {
	type unary struct {
		name     string
		fast     func(y, x []float32)
		ref      func(y, x []float32)
		lo, hi   float64
		binary   bool // (dx, dy, y)
		fast2    func(dx, dy, y []float32)
		ref2     func(dx, dy, y []float32)
		inplaceX bool
	}
	cases := []unary{
		{name: "relu", fast: ReLU[float32], ref: reluRef[float32], lo: -1, hi: 1},
		{name: "relub", binary: true, fast2: ReLUBackward[float32], ref2: reluBackwardRef[float32], lo: -1, hi: 1},
		{name: "sigmoidb", binary: true, fast2: SigmoidBackward[float32], ref2: sigmoidBackwardRef[float32], lo: 0, hi: 1},
		{name: "tanhb", binary: true, fast2: TanhBackward[float32], ref2: tanhBackwardRef[float32], lo: -1, hi: 1},
		{name: "scale", fast: func(y, x []float32) { copy(y, x); Scale(y, 0.37) }, ref: func(y, x []float32) {
			for i, v := range x {
				y[i] = v * 0.37
			}
		}, lo: -3, hi: 3},
		{name: "axpy", fast: func(y, x []float32) { Axpy(y, -1.7, x) }, ref: func(y, x []float32) {
			for i, v := range x {
				y[i] = y[i] + float32(-1.7*v)
			}
		}, lo: -3, hi: 3},
		{name: "affine", fast: func(y, x []float32) { Affine(y, x, 1.3, -0.7) }, ref: func(y, x []float32) {
			for i, v := range x {
				y[i] = float32(v*1.3) + -0.7
			}
		}, lo: -3, hi: 3},
		{name: "affine2", binary: true, fast2: func(y, u, v []float32) { Affine2(y, u, v, 1.3, -0.45, 0.2) }, ref2: func(y, u, v []float32) {
			for i := range y {
				y[i] = float32(float32(u[i]*1.3)+float32(v[i]*-0.45)) + 0.2
			}
		}, lo: -3, hi: 3},
		{name: "add", fast: func(y, x []float32) { Add(y, x) }, ref: func(y, x []float32) {
			for i, v := range x {
				y[i] += v
			}
		}, lo: -3, hi: 3},
	}
	forEachSet(t, func(t *testing.T) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				rng := rand.New(rand.NewPCG(3, 4))
				for _, n := range simdtest.Lengths {
					x, y0 := simdtest.RandSlice(rng, n, c.lo, c.hi), simdtest.RandSlice(rng, n, c.lo, c.hi)
					if n > 4 {
						x[1], x[3] = 0, float32(math.Copysign(0, -1))
						y0[2] = 0
					}
					want, got := simdtest.Clone(y0), simdtest.Clone(y0)
					got, buf := simdtest.Offset(got, 5)
					if c.binary {
						dy := simdtest.RandSlice(rng, n, -2, 2)
						c.ref2(want, dy, x)
						c.fast2(got, dy, x)
					} else {
						c.ref(want, x)
						c.fast(got, x)
					}
					simdtest.CheckBits(t, fmt.Sprintf("n=%d", n), got, want)
					simdtest.CheckGuard(t, buf, n, 5)
				}
			})
		}
	})
}

func TestReLUSpecialValues(t *testing.T) {
	x := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.Copysign(0, -1)), 0, -1e-45, 1e-45}
	forEachSet(t, func(t *testing.T) {
		y := make([]float32, len(x))
		ReLU(y, x)
		if !math.IsNaN(float64(y[0])) || !math.IsInf(float64(y[1]), 1) || y[2] != 0 || math.Signbit(float64(y[3])) || y[5] != 0 || y[6] != 1e-45 {
			t.Errorf("relu(%v) = %v", x, y)
		}
	})
}

// ulps is the distance from got to the float64 value want in units of
// float32 spacing at want (subnormals count from 2^-149).
func ulps(got float32, want float64) float64 {
	if math.IsNaN(want) {
		if got != got {
			return 0
		}
		return math.Inf(1)
	}
	if math.IsInf(want, 0) || math.Abs(want) > math.MaxFloat32 {
		if float64(got) == float64(float32(want)) {
			return 0
		}
		return math.Inf(1)
	}
	w := float32(want)
	ulp := math.Abs(float64(math.Nextafter32(w, float32(math.Inf(1))) - w))
	if a := math.Abs(want); a < 0x1p-126 {
		ulp = 0x1p-149
	} else if d := float64(w) - float64(math.Nextafter32(w, 0)); d < ulp && d > 0 {
		ulp = d
	}
	return math.Abs(float64(got)-want) / ulp
}

// sweep returns test inputs: a dense grid over [lo, hi], random values,
// and special values.
func sweep(lo, hi float64) []float32 {
	var x []float32
	const steps = 200000
	for i := 0; i <= steps; i++ {
		x = append(x, float32(lo+(hi-lo)*float64(i)/steps))
	}
	rng := rand.New(rand.NewPCG(7, 7))
	for i := 0; i < 100000; i++ {
		x = append(x, float32(lo+(hi-lo)*rng.Float64()))
	}
	// Around 0 at every scale.
	for e := -40; e <= 0; e++ {
		for _, m := range []float64{1, 1.37, 1.9} {
			v := m * math.Pow(2, float64(e))
			x = append(x, float32(v), float32(-v))
		}
	}
	return x
}

func TestTranscendentalAccuracy(t *testing.T) {
	cases := []struct {
		name   string
		f      func(y, x []float32)
		want   func(float64) float64
		lo, hi float64
		ulps   float64
	}{
		{"exp", Exp[float32], math.Exp, -110, 95, expULP},
		{"sigmoid", Sigmoid[float32], sigmoid64, -95, 95, sigmoidULP},
		{"tanh", Tanh[float32], math.Tanh, -20, 20, tanhULP},
		{"normal tail", normalTailQ, normalTail64, -20, 20, normtailULP},
		{"normal density", normalTailD, normalDensity64, -20, 20, normtailULP},
	}
	forEachSet(t, func(t *testing.T) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				x := sweep(c.lo, c.hi)
				y := make([]float32, len(x))
				c.f(y, x)
				worst, at := 0.0, 0
				for i, v := range x {
					want := c.want(float64(v))
					if c.name == "sigmoid" && want < 0x1p-126 {
						// Documented: 1/(1+exp(-x)) flushes to 0 where exp(-x) overflows.
						if y[i] > 0x1p-126 {
							t.Fatalf("sigmoid(%v) = %v, want below 2^-126", v, y[i])
						}
						continue
					}
					if u := ulps(y[i], want); u > worst {
						worst, at = u, i
					}
				}
				t.Logf("max error %.2f ulp at x = %v (got %v, want %v)", worst, x[at], y[at], c.want(float64(x[at])))
				if worst > c.ulps {
					t.Errorf("max error %.2f ulp at x = %v (got %v, want %v), tolerance %g", worst, x[at], y[at], c.want(float64(x[at])), c.ulps)
				}
			})
		}
	})
}

// TestNormalTailNearZero scans NormalTail's worst region, just below q =
// 0.5 where the float32 ulp halves: every 8th float32 in [2^-7, 2^-4),
// and the worst input a scan of every float32 found (5.02 ulp).
func TestNormalTailNearZero(t *testing.T) {
	var x []float32
	for v := float32(0x1p-7); v < 0x1p-4; v = math.Float32frombits(math.Float32bits(v) + 8) {
		x = append(x, v, -v)
	}
	x = append(x, 0.018275844)
	q, d := make([]float32, len(x)), make([]float32, len(x))
	forEachSet(t, func(t *testing.T) {
		NormalTail(q, d, x)
		worst, at := 0.0, 0
		for i, v := range x {
			if u := max(ulps(q[i], normalTail64(float64(v))), ulps(d[i], normalDensity64(float64(v)))); u > worst {
				worst, at = u, i
			}
		}
		t.Logf("max error %.2f ulp at x = %v", worst, x[at])
		if worst > normtailULP {
			t.Errorf("max error %.2f ulp at x = %v, tolerance %d", worst, x[at], normtailULP)
		}
	})
}

func TestTranscendentalSpecialValues(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	x := []float32{nan, inf, -inf, 0, float32(math.Copysign(0, -1)), 88.7, 88.8, 200, -87, -104, -200, 9.5, -9.5, 17.5, -17.5, 1e-30, -1e-30}
	forEachSet(t, func(t *testing.T) {
		e, s, th := make([]float32, len(x)), make([]float32, len(x)), make([]float32, len(x))
		Exp(e, x)
		Sigmoid(s, x)
		Tanh(th, x)
		for i, v := range x {
			we, ws, wt := math.Exp(float64(v)), sigmoid64(float64(v)), math.Tanh(float64(v))
			if v != v {
				if e[i] == e[i] || s[i] == s[i] || th[i] == th[i] {
					t.Errorf("NaN in: exp %v sigmoid %v tanh %v", e[i], s[i], th[i])
				}
				continue
			}
			if ulps(e[i], we) > expULP && !(we < 0x1p-140 && e[i] < 0x1p-140) {
				t.Errorf("exp(%v) = %v, want %v", v, e[i], we)
			}
			if ulps(s[i], ws) > sigmoidULP && !(ws < 0x1p-126 && s[i] < 0x1p-126) {
				t.Errorf("sigmoid(%v) = %v, want %v", v, s[i], ws)
			}
			if ulps(th[i], wt) > tanhULP {
				t.Errorf("tanh(%v) = %v, want %v", v, th[i], wt)
			}
		}
		// Saturation is exact.
		if th[1] != 1 || th[2] != -1 || th[11] != 1 || th[12] != -1 || s[1] != 1 || s[2] != 0 || s[13] != 1 {
			t.Errorf("saturation: tanh %v sigmoid %v", th, s)
		}
		if math.Signbit(float64(th[4])) != true || th[4] != 0 {
			t.Errorf("tanh(-0) = %v", th[4])
		}
	})
}

// TestTranscendentalMonotonic checks that the approximations never
// decrease along a dense sorted grid, across the tanh branch point and
// the range-reduction boundaries of exp.
func TestTranscendentalMonotonic(t *testing.T) {
	var x []float32
	for v := float32(-30); v < 30; v = math.Nextafter32(v, 100) + float32(math.Abs(float64(v)))*1e-5 {
		x = append(x, v)
	}
	for v := float32(0.6); v < 0.65; v = math.Nextafter32(v, 1) {
		x = append(x, v, -v)
	}
	for v := float32(0.345); v < 0.349; v = math.Nextafter32(v, 1) {
		x = append(x, v)
	}
	slices.Sort(x)
	forEachSet(t, func(t *testing.T) {
		for _, c := range []struct {
			name string
			f    func(y, x []float32)
		}{{"exp", Exp[float32]}, {"sigmoid", Sigmoid[float32]}, {"tanh", Tanh[float32]}} {
			y := make([]float32, len(x))
			c.f(y, x)
			for i := 1; i < len(x); i++ {
				if y[i] < y[i-1] {
					t.Errorf("%s decreases: f(%v) = %v > f(%v) = %v", c.name, x[i-1], y[i-1], x[i], y[i])
					break
				}
			}
		}
	})
}

// TestAssemblySetsAgree checks that the AVX-512 and AVX2 kernels give
// the same bits for the approximations too (they run the same
// instructions), so results do not depend on which of them a CPU runs.
func TestAssemblySetsAgree(t *testing.T) {
	sets := supportedKernels()
	if len(sets) < 3 {
		t.Skip("needs both assembly kernel sets")
	}
	x := sweep(-100, 100)
	run := func(name string) [][]float32 {
		defer UseKernels(name)()
		var out [][]float32
		for _, f := range []func(y, x []float32){Exp[float32], Sigmoid[float32], Tanh[float32], normalTailQ, normalTailD} {
			y := make([]float32, len(x))
			f(y, x)
			out = append(out, y)
		}
		z, c, tc, h := lstmInputs(1000, 5)
		LSTMForward(z, c[:1000], c[1000:], tc, h)
		return append(out, z, c, tc, h)
	}
	a, b := run(sets[0].name), run(sets[1].name)
	for k := range a {
		simdtest.CheckBits(t, fmt.Sprintf("output %d", k), b[k], a[k])
	}
}

// TestNormalTail checks NormalTail's special values, and that at every
// length (full vectors and a partial last one) each element gets the bits
// it gets in a long slice and nothing past the end is written.
func TestNormalTail(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	negz := float32(math.Copysign(0, -1))
	forEachSet(t, func(t *testing.T) {
		x := []float32{nan, inf, -inf, 0, negz, 16, -16, 1e30, -1e-30, 13, -13.5}
		q, d := make([]float32, len(x)), make([]float32, len(x))
		NormalTail(q, d, x)
		if q[0] == q[0] || d[0] == d[0] {
			t.Errorf("NaN gives q %v, d %v", q[0], d[0])
		}
		for i := 1; i < len(x); i++ {
			wq, wd := normalTail64(float64(x[i])), normalDensity64(float64(x[i]))
			if ulps(q[i], wq) > normtailULP || ulps(d[i], wd) > normtailULP {
				t.Errorf("x = %v: q %v, d %v; want %v, %v", x[i], q[i], d[i], wq, wd)
			}
		}
		if q[1] != 0 || q[2] != 0 || d[1] != 0 || d[2] != 0 || q[5] != 0 || d[6] != 0 {
			t.Errorf("x = ±Inf, ±16: q %v, d %v, want 0", q, d)
		}
		rng := rand.New(rand.NewPCG(5, 6))
		long := simdtest.RandSlice(rng, 1000, -15, 15)
		lq, ld := make([]float32, len(long)), make([]float32, len(long))
		NormalTail(lq, ld, long)
		for _, n := range simdtest.Lengths {
			if n > len(long) {
				continue
			}
			q, qbuf := simdtest.Offset(make([]float32, n), 3)
			d, dbuf := simdtest.Offset(make([]float32, n), 3)
			NormalTail(q, d, long[:n])
			simdtest.CheckBits(t, fmt.Sprintf("q n=%d", n), q, lq[:n])
			simdtest.CheckBits(t, fmt.Sprintf("d n=%d", n), d, ld[:n])
			simdtest.CheckGuard(t, qbuf, n, 3)
			simdtest.CheckGuard(t, dbuf, n, 3)
		}
	})
}

func lstmInputs(h int, seed uint64) (z, c, tc, hs []float32) {
	rng := rand.New(rand.NewPCG(seed, seed))
	z = simdtest.RandSlice(rng, 4*h, -6, 6)
	c = append(simdtest.RandSlice(rng, h, -3, 3), make([]float32, h)...) // cprev, c
	return z, c, make([]float32, h), make([]float32, h)
}

// TestLSTMForward checks each activation against float64 math, and c, h
// exactly against the formulas applied to the kernel's own activations
// (c = f cprev + i g cancels, so errors of the activations are amplified
// in it; that is the formula's conditioning, not the kernel's).
func TestLSTMForward(t *testing.T) {
	forEachSet(t, func(t *testing.T) {
		for _, n := range simdtest.Lengths {
			z, c, tc, h := lstmInputs(n, uint64(n)+1)
			z0 := simdtest.Clone(z)
			LSTMForward(z, c[:n], c[n:], tc, h)
			for j := 0; j < 4*n; j++ {
				want, tol := sigmoid64(float64(z0[j])), float64(sigmoidULP)
				if j/n == 2 {
					want, tol = math.Tanh(float64(z0[j])), tanhULP
				}
				if u := ulps(z[j], want); u > tol {
					t.Fatalf("n=%d gate %d [%d]: %v, want %v (%.1f ulp)", n, j/n, j%n, z[j], want, u)
				}
			}
			for j := 0; j < n; j++ {
				i, f, g, o := z[j], z[n+j], z[2*n+j], z[3*n+j]
				if cv := float32(f*c[j]) + float32(i*g); !simdtest.BitsEqual(c[n+j], cv) {
					t.Fatalf("n=%d c[%d] = %v, want %v", n, j, c[n+j], cv)
				}
				if u := ulps(tc[j], math.Tanh(float64(c[n+j]))); u > tanhULP {
					t.Fatalf("n=%d tanh(c)[%d] = %v (%.1f ulp)", n, j, tc[j], u)
				}
				if !simdtest.BitsEqual(h[j], o*tc[j]) {
					t.Fatalf("n=%d h[%d] = %v, want %v", n, j, h[j], o*tc[j])
				}
			}
		}
	})
}

func TestLSTMBackwardMatchesReference(t *testing.T) {
	forEachSet(t, func(t *testing.T) {
		for _, n := range simdtest.Lengths {
			rng := rand.New(rand.NewPCG(uint64(n), 9))
			a := simdtest.RandSlice(rng, 4*n, 0, 1)
			for j := 2 * n; j < 3*n; j++ {
				a[j] = 2*a[j] - 1 // g in (-1, 1)
			}
			tc, dy, dh := simdtest.RandSlice(rng, n, -1, 1), simdtest.RandSlice(rng, n, -1, 1), simdtest.RandSlice(rng, n, -1, 1)
			dc, cprev := simdtest.RandSlice(rng, n, -1, 1), simdtest.RandSlice(rng, n, -2, 2)
			dz, dzr := make([]float32, 4*n), make([]float32, 4*n)
			dcr, dc0 := simdtest.Clone(dc), simdtest.Clone(dc)
			dz, buf := simdtest.Offset(dz, 9)
			lstmBackwardRef(dzr, a, tc, dy, dh, dcr, cprev)
			LSTMBackward(dz, a, tc, dy, dh, dc, cprev)
			simdtest.CheckBits(t, fmt.Sprintf("n=%d dz", n), dz, dzr)
			simdtest.CheckBits(t, fmt.Sprintf("n=%d dc", n), dc, dcr)
			simdtest.CheckGuard(t, buf, 4*n, 9)
			// In place, as the LSTM layer calls it: dz over the gates.
			inPlace := simdtest.Clone(a)
			LSTMBackward(inPlace, inPlace, tc, dy, dh, dc0, cprev)
			simdtest.CheckBits(t, fmt.Sprintf("n=%d dz in place", n), inPlace, dzr)
			simdtest.CheckBits(t, fmt.Sprintf("n=%d dc in place", n), dc0, dcr)
		}
	})
}

func TestSumSquares(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	x := simdtest.RandSlice(rng, 10007, -3, 3)
	for _, n := range append(simdtest.Lengths, 10007) {
		var want []uint64
		forEachSet(t, func(t *testing.T) {
			got := SumSquares(x[:n])
			// The same bits on every kernel set and on repeated calls.
			want = append(want, math.Float64bits(got))
			if got2 := SumSquares(x[:n]); got2 != got {
				t.Fatalf("n=%d: %v then %v", n, got, got2)
			}
			var exact float64
			for _, v := range x[:n] {
				exact += float64(v) * float64(v)
			}
			if math.Abs(got-exact) > 1e-12*exact {
				t.Fatalf("n=%d: %v, sequential sum %v", n, got, exact)
			}
		})
		for _, w := range want {
			if w != want[0] {
				t.Fatalf("n=%d: kernel sets disagree: %x", n, want)
			}
		}
	}
	// float64 follows the same order.
	x64 := make([]float64, 100)
	for i := range x64 {
		x64[i] = float64(x[i])
	}
	if a, b := SumSquares(x64), SumSquares(x[:100]); a != b {
		t.Errorf("float64 %v, float32 %v", a, b)
	}
}

// TestLaneSums checks LaneSums against a sequential sum and for the same
// bits on every kernel set, starting from lanes that already hold sums,
// for both uses (sums of x - s and (x - s)^2; of g and g (x - s)), at every
// length; and that float64 follows the same order.
func TestLaneSums(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 12))
	a := simdtest.RandSlice(rng, 10007, 3, 5)
	b := simdtest.RandSlice(rng, 10007, -2, 2)
	for _, n := range append(simdtest.Lengths, 10007) {
		for _, c := range []struct {
			name   string
			a, b   []float32
			su, sv float64
		}{{"shifted squares", a, a, 3.7, 3.7}, {"products", b, a, 0, 4.1}} {
			var want [][64]float64
			forEachSet(t, func(t *testing.T) {
				var l [64]float64
				for j := range l {
					l[j] = float64(j) / 7
				}
				LaneSums(&l, c.a[:n], c.b[:n], c.su, c.sv)
				want = append(want, l)
				var s1, s2 float64
				for i := range n {
					u := float64(c.a[i]) - c.su
					s1 += u
					s2 += u * (float64(c.b[i]) - c.sv)
				}
				var lo, hi [32]float64
				copy(lo[:], l[:32])
				copy(hi[:], l[32:])
				base := 0.0
				for j := range 32 {
					base += float64(j) / 7
				}
				g1, g2 := FoldLanes(&lo)-base, FoldLanes(&hi)-(base+32*32/7.0)
				if math.Abs(g1-s1) > 1e-9 || math.Abs(g2-s2) > 1e-9 {
					t.Fatalf("%s n=%d: sums %v, %v; sequential %v, %v", c.name, n, g1, g2, s1, s2)
				}
			})
			for k := range want {
				if want[k] != want[0] {
					t.Fatalf("%s n=%d: kernel sets disagree:\n%v\n%v", c.name, n, want[0], want[k])
				}
			}
		}
	}
	a64, b64 := make([]float64, 100), make([]float64, 100)
	for i := range a64 {
		a64[i], b64[i] = float64(a[i]), float64(b[i])
	}
	var l32, l64 [64]float64
	LaneSums(&l32, b[:100], a[:100], 0.5, 3)
	LaneSums(&l64, b64, a64, 0.5, 3)
	if l32 != l64 {
		t.Errorf("float64 %v, float32 %v", l64, l32)
	}
}

func TestAddWiden(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 12))
	forEachSet(t, func(t *testing.T) {
		for _, n := range simdtest.Lengths {
			x := simdtest.RandSlice(rng, n, -3, 3)
			d := make([]float64, n)
			for i := range d {
				d[i] = rng.Float64()
			}
			want := append([]float64(nil), d...)
			for i := range want {
				want[i] += float64(x[i])
			}
			AddWiden(d, x)
			for i := range d {
				if d[i] != want[i] {
					t.Fatalf("n=%d [%d] = %v, want %v", n, i, d[i], want[i])
				}
			}
		}
	})
}

// TestBytesAffine: every kernel set gives the bits of the Go expression,
// for every byte value, at every length (whole vectors and tails), for the
// normalisations FillBatch uses (unit: 1/255; none: 0 and 1; a mean and a
// standard deviation), for parameters that round, and for -0, infinities
// and NaN; nothing is written past the slice.
func TestBytesAffine(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 13))
	params := []struct{ off, scale float64 }{
		{0, 1.0 / 255},
		{0, 1},
		{33.3184, 1 / 78.5675},
		{127.5, -1 / 3.0},
		{1e-300, 1e300},
		{0, 1e40}, // beyond float32: +Inf
		{math.Copysign(0, -1), -1},
		{math.Inf(1), 1},
		{0, math.Inf(-1)},
		{math.NaN(), 1},
	}
	forEachSet(t, func(t *testing.T) {
		for _, pr := range params {
			for _, n := range append([]int{256}, simdtest.Lengths...) {
				src := make([]uint8, n)
				for i := range src {
					src[i] = uint8(rng.IntN(256))
				}
				if n == 256 {
					for i := range src {
						src[i] = uint8(i)
					}
				}
				// A guard value after the slice: nothing is written past n.
				dst := make([]float32, n+1)
				dst[n] = 7
				BytesAffine(dst[:n], src, pr.off, pr.scale)
				dst64 := make([]float64, n)
				BytesAffine(dst64, src, pr.off, pr.scale)
				if dst[n] != 7 {
					t.Fatalf("off %v scale %v n=%d: wrote past the end", pr.off, pr.scale, n)
				}
				for i, v := range src {
					want := (float64(v) - pr.off) * pr.scale
					if math.Float32bits(dst[i]) != math.Float32bits(float32(want)) || math.Float64bits(dst64[i]) != math.Float64bits(want) {
						t.Fatalf("off %v scale %v n=%d: byte %d gives %v and %v, want %v", pr.off, pr.scale, n, v, dst[i], dst64[i], want)
					}
				}
			}
		}
	})
}

// TestFloat64IsReference checks that the float64 instantiations run the
// reference (there is no float64 assembly).
func TestFloat64IsReference(t *testing.T) {
	x := []float64{-1, 0.5, 2}
	y := make([]float64, 3)
	Tanh(y, x)
	for i, v := range x {
		if y[i] != math.Tanh(v) {
			t.Errorf("tanh(%v) = %v", v, y[i])
		}
	}
}

func TestNoAllocations(t *testing.T) {
	w, g, m, v, vm := make([]float32, 100), make([]float32, 100), make([]float32, 100), make([]float32, 100), make([]float32, 100)
	z, c, tc, h := lstmInputs(25, 1)
	pg, pb := make([]float64, 100), make([]float64, 100)
	dz := make([]float32, 100)
	forEachSet(t, func(t *testing.T) {
		allocs := testing.AllocsPerRun(10, func() {
			Adam(w, g, m, v, vm, &AdamParams{B1: 0.9, WeightDecay: 1})
			SGD(w, g, m, &SGDParams{LR: 0.1}, true, false)
			Adagrad(w, g, m, &AdagradParams{CLR: -0.1})
			RMSprop(w, g, m, v, vm, &RMSpropParams{Alpha: 0.9})
			Adadelta(w, g, m, v, &AdadeltaParams{Rho: 0.9})
			_ = SumSquares(g)
			Scale(g, 0.5)
			Axpy(g, 0.5, w)
			Sigmoid(w, g)
			NormalTail(w, m, g)
			Affine(w, g, 0.5, 1)
			Affine2(w, g, m, 0.5, 1, 2)
			var l [64]float64
			LaneSums(&l, w, g, 0.5, 1)
			LNNormalize(w, m, g, v, vm, 0.5, 2)
			LNBackSums(&l, pg, pb, w, g, m)
			LNBackDx(w, g, m, v, 2, 0.1, 0.2)
			GatherRows(w, 10, g, 20, 4, 7, 2)
			LSTMForward(z, c[:25], c[25:], tc, h)
			LSTMBackward(dz, z, tc, tc, tc, h, c[:25])
		})
		if allocs != 0 {
			t.Errorf("%v allocations per run", allocs)
		}
	})
}

// TestOptimizerKernelsReport checks that the optimizer kernels report
// whether they ran (not on the generic set: the caller's reference runs
// there) and that they check simdtest.Lengths on every set. Their arithmetic is
// tested against the references in package optim.
func TestOptimizerKernelsReport(t *testing.T) {
	w, g, s := []float32{1, 2, 3}, []float32{0.1, 0.2, 0.3}, []float32{0, 0, 0}
	forEachSet(t, func(t *testing.T) {
		want := Kernels() != "generic"
		w0 := simdtest.Clone(w)
		if got := SGD(w0, g, nil, &SGDParams{LR: 1}, false, true); got != want {
			t.Fatalf("SGD reported %v", got)
		}
		if !want && (w0[0] != w[0] || w0[1] != w[1] || w0[2] != w[2]) {
			t.Fatalf("SGD wrote w without a kernel: %v", w0)
		}
		for name, call := range map[string]func(){
			"Adam":     func() { Adam(w, g, s, s[:2], nil, &AdamParams{}) },
			"SGD":      func() { SGD(w, g, s[:1], &SGDParams{}, false, false) },
			"Adagrad":  func() { Adagrad(w, g[:2], s, &AdagradParams{}) },
			"RMSprop":  func() { RMSprop(w, g, s, nil, s[:2], &RMSpropParams{}) },
			"Adadelta": func() { Adadelta(w, g, s, s[:1], &AdadeltaParams{}) },
		} {
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("%s with slices of different simdtest.Lengths did not panic", name)
					}
				}()
				call()
			}()
		}
	})
}

// TestLayerNormKernels: LNNormalize, LNBackSums and LNBackDx give the
// bits of their pure-Go references on every kernel set and length
// (LNBackSums from lanes and parts that already hold sums).
func TestLayerNormKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 13))
	const max = 1043
	x := simdtest.RandSlice(rng, max, -3, 5)
	w := simdtest.RandSlice(rng, max, -2, 2)
	b := simdtest.RandSlice(rng, max, -1, 1)
	dy := simdtest.RandSlice(rng, max, -1, 1)
	mu, rstd, mg, mgx := 0.73, 1.9, -0.031, 0.47
	forEachSet(t, func(t *testing.T) {
		for _, n := range append(simdtest.Lengths, 31, 32, 33, 64, 95, 256, max) {
			y, xh := make([]float32, n), make([]float32, n)
			wy, wxh := make([]float32, n), make([]float32, n)
			LNNormalize(y, xh, x[:n], w[:n], b[:n], mu, rstd)
			lnNormalizeRef(wy, wxh, x[:n], w[:n], b[:n], mu, rstd)
			for i := range n {
				if math.Float32bits(y[i]) != math.Float32bits(wy[i]) || math.Float32bits(xh[i]) != math.Float32bits(wxh[i]) {
					t.Fatalf("LNNormalize n=%d [%d]: y %v xh %v, want %v %v", n, i, y[i], xh[i], wy[i], wxh[i])
				}
			}

			var l, wl [64]float64
			pg, pb := make([]float64, n), make([]float64, n)
			for j := range l {
				l[j] = float64(j) / 7
			}
			for i := range pg {
				pg[i], pb[i] = float64(i)/3, -float64(i)/5
			}
			wl = l
			wpg, wpb := append([]float64(nil), pg...), append([]float64(nil), pb...)
			LNBackSums(&l, pg, pb, dy[:n], xh, w[:n])
			lnBackSumsRef(&wl, wpg, wpb, dy[:n], xh, w[:n], 0)
			if l != wl {
				t.Fatalf("LNBackSums n=%d: lanes\n%v\nwant\n%v", n, l, wl)
			}
			for i := range n {
				if pg[i] != wpg[i] || pb[i] != wpb[i] {
					t.Fatalf("LNBackSums n=%d [%d]: parts %v %v, want %v %v", n, i, pg[i], pb[i], wpg[i], wpb[i])
				}
			}

			dx, wdx := make([]float32, n), make([]float32, n)
			LNBackDx(dx, dy[:n], xh, w[:n], rstd, mg, mgx)
			lnBackDxRef(wdx, dy[:n], xh, w[:n], rstd, mg, mgx)
			for i := range n {
				if math.Float32bits(dx[i]) != math.Float32bits(wdx[i]) {
					t.Fatalf("LNBackDx n=%d [%d]: %v, want %v", n, i, dx[i], wdx[i])
				}
			}
		}
	})
}
