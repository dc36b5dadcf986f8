package optim

import (
	"github.com/nettrain/nettrain/internal/simd/simdtest"

	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/nettrain/nettrain/internal/simd"
)

// The float32 SIMD kernels of package simd against the references here,
// bit for bit, for every variant of every optimizer, on every kernel set
// this CPU runs (moved from package simd with the references).

// forEachSIMDSet runs f once per SIMD kernel set this CPU supports (none
// on a CPU without AVX2 and FMA, or in a purego build).
func forEachSIMDSet(t *testing.T, f func(t *testing.T)) {
	ran := false
	for _, name := range simd.KernelSets() {
		if name == "generic" {
			continue
		}
		ran = true
		t.Run(name, func(t *testing.T) {
			defer simd.UseKernels(name)()
			f(t)
		})
	}
	if !ran {
		t.Skip("no SIMD kernel set on this CPU or build")
	}
}

func TestSIMDMatchesReference(t *testing.T) {
	type opt struct {
		name  string
		slots int
		run   func(w, g []float32, s [][]float32, ref bool) bool
	}
	adam := func(wd float32, ams bool) func(w, g []float32, s [][]float32, ref bool) bool {
		p := simd.AdamParams{B1: 0.9, C1: 0.1, B2: 0.999, C2: 1 - 0.999, StepSize: -0.0123, BC2Sqrt: 0.0447, Eps: 1e-8, WeightDecay: wd}
		rp := adamParams[float32](p)
		return func(w, g []float32, s [][]float32, ref bool) bool {
			var vmax []float32
			if ams {
				vmax = s[2]
			}
			if ref {
				adamRef(w, g, s[0], s[1], vmax, &rp)
				return true
			}
			return simd.Adam(w, g, s[0], s[1], vmax, &p)
		}
	}
	sgd := func(wd float32, mom, nest, first bool) func(w, g []float32, s [][]float32, ref bool) bool {
		p := simd.SGDParams{LR: 0.05, WeightDecay: wd, Momentum: 0.9, Damp: 0.7}
		rp := sgdParams[float32](p)
		return func(w, g []float32, s [][]float32, ref bool) bool {
			var buf []float32
			if mom {
				buf = s[0]
			}
			if ref {
				sgdRef(w, g, buf, &rp, nest, first)
				return true
			}
			return simd.SGD(w, g, buf, &p, nest, first)
		}
	}
	rms := func(wd float32, centered, mom bool) func(w, g []float32, s [][]float32, ref bool) bool {
		p := simd.RMSpropParams{Alpha: 0.99, C1: 1 - 0.99, Eps: 1e-8, WeightDecay: wd, NegLR: -0.01, Momentum: 0.9}
		rp := rmspropParams[float32](p)
		return func(w, g []float32, s [][]float32, ref bool) bool {
			var m, b []float32
			if centered {
				m = s[1]
			}
			if mom {
				b = s[2]
			}
			if ref {
				rmspropRef(w, g, s[0], m, b, &rp)
				return true
			}
			return simd.RMSprop(w, g, s[0], m, b, &p)
		}
	}
	var opts []opt
	for _, wd := range []float32{0, 0.01} {
		for _, ams := range []bool{false, true} {
			opts = append(opts, opt{fmt.Sprintf("adam/wd=%g/amsgrad=%v", wd, ams), 3, adam(wd, ams)})
			if wd == 0 && !ams {
				// The update's operations one by one: w + 1*m / (sqrt(0*v +
				// 0)/1 + 1000) divides the moment, subnormal or not, by 1000.
				p := simd.AdamParams{B1: 1, C1: 0, B2: 0, C2: 0, StepSize: 1, BC2Sqrt: 1, Eps: 1000}
				rp := adamParams[float32](p)
				opts = append(opts, opt{"adam/identity", 2, func(w, g []float32, s [][]float32, ref bool) bool {
					if ref {
						adamRef(w, g, s[0], s[1], nil, &rp)
						return true
					}
					return simd.Adam(w, g, s[0], s[1], nil, &p)
				}})
			}
		}
		for _, m := range []struct{ mom, nest, first bool }{{false, false, false}, {true, false, true}, {true, false, false}, {true, true, true}, {true, true, false}} {
			opts = append(opts, opt{fmt.Sprintf("sgd/wd=%g/%+v", wd, m), 1, sgd(wd, m.mom, m.nest, m.first)})
		}
		for _, c := range []bool{false, true} {
			for _, mom := range []bool{false, true} {
				opts = append(opts, opt{fmt.Sprintf("rmsprop/wd=%g/centered=%v/momentum=%v", wd, c, mom), 3, rms(wd, c, mom)})
			}
		}
		pa := simd.AdagradParams{CLR: -0.01, WeightDecay: wd, Eps: 1e-10}
		rpa := adagradParams[float32](pa)
		opts = append(opts, opt{fmt.Sprintf("adagrad/wd=%g", wd), 1, func(w, g []float32, s [][]float32, ref bool) bool {
			if ref {
				adagradRef(w, g, s[0], &rpa)
				return true
			}
			return simd.Adagrad(w, g, s[0], &pa)
		}})
		pd := simd.AdadeltaParams{Rho: 0.9, C1: 0.1, Eps: 1e-6, WeightDecay: wd, NegLR: -1}
		rpd := adadeltaParams[float32](pd)
		opts = append(opts, opt{fmt.Sprintf("adadelta/wd=%g", wd), 2, func(w, g []float32, s [][]float32, ref bool) bool {
			if ref {
				adadeltaRef(w, g, s[0], s[1], &rpd)
				return true
			}
			return simd.Adadelta(w, g, s[0], s[1], &pd)
		}})
	}
	// The inputs: random values; values near the bottom of float32's
	// range (subnormal state, which sends a vector to an exact pass, and
	// zero or tiny gradients whose products underflow and subnormal
	// weights, which the probe does not check), mixed lane by lane with
	// ordinary ones; and whole vectors where one state slot alone is
	// small, so that each exact pass, the primary stream's included, runs
	// on full vectors and on the masked tail.
	type inputs func(rng *rand.Rand, n, slots int) (w, g []float32, s [][]float32)
	random := func(rng *rand.Rand, n, slots int) ([]float32, []float32, [][]float32) {
		w, g := simdtest.RandSlice(rng, n, -1, 1), simdtest.RandSlice(rng, n, -0.1, 0.1)
		var s [][]float32
		for k := 0; k < slots; k++ {
			s = append(s, simdtest.RandSlice(rng, n, 0, 0.01))
		}
		return w, g, s
	}
	// Lanes near the bottom of float32's range in about half of the
	// blocks of 8 (so that vectors of the fast and the exact pass follow
	// each other), the others random.
	subnormal := func(rng *rand.Rand, n, slots int) ([]float32, []float32, [][]float32) {
		w, g, s := random(rng, n, slots)
		sub := func() float32 { return math.Float32frombits(1 + rng.Uint32N(0x7fffff)) }
		inject := false
		for i := range n {
			if i%8 == 0 {
				inject = rng.IntN(2) == 0
			}
			if !inject {
				continue
			}
			switch rng.IntN(7) {
			case 0, 1: // a state decayed below 2^-126, its gradient zero
				g[i] = 0
				for k := range s {
					s[k][i] = sub()
				}
			case 2: // one slot subnormal
				if len(s) > 0 {
					s[rng.IntN(len(s))][i] = sub()
				}
			case 3: // a gradient so small that its square and products underflow
				g[i] = float32(rng.Float64()-0.5) * 1e-20
			case 4: // a subnormal gradient, and weight
				g[i], w[i] = -sub(), sub()
			case 6: // the first slot alone decayed below 2^-126, its gradient
				// zero (Adam's first moment; its second stays normal)
				g[i] = 0
				if len(s) > 0 {
					s[0][i] = sub()
				}
			case 5: // a zero weight, so that a subnormal update is the result
				w[i], g[i] = 0, 0
				for k := range s {
					s[k][i] = float32(0.01 + 100*rng.Float64())
				}
				if len(s) > 0 {
					s[0][i] = sub()
				}
			}
		}
		return w, g, s
	}
	// One slot small in whole blocks of 16 (a vector of either width),
	// its gradient zero: subnormal, or in [2^-126, 2^-100), where the
	// probe sends a vector to an exact pass too.
	oneSlot := func(rng *rand.Rand, n, slots int) ([]float32, []float32, [][]float32) {
		w, g, s := random(rng, n, slots)
		small := func() float32 {
			if rng.IntN(2) == 0 {
				return math.Float32frombits(1 + rng.Uint32N(0x7fffff))
			}
			return math.Float32frombits(0x00800000 + rng.Uint32N(0x0d800000-0x00800000))
		}
		for b := 0; b < n; b += 16 {
			k := rng.IntN(slots + 2) // slots and 1: a random block
			if k >= slots {
				continue
			}
			for i := b; i < min(b+16, n); i++ {
				g[i], s[k][i] = 0, small()
			}
		}
		return w, g, s
	}
	forEachSIMDSet(t, func(t *testing.T) {
		for _, o := range opts {
			for _, in := range []struct {
				name string
				gen  inputs
			}{{"random", random}, {"subnormal", subnormal}, {"one-slot", oneSlot}} {
				t.Run(o.name+"/"+in.name, func(t *testing.T) {
					rng := rand.New(rand.NewPCG(1, 2))
					for _, n := range simdtest.Lengths {
						w0, g, s0 := in.gen(rng, n, o.slots)
						// Three steps, so the state evolves (and vmax sees both cases).
						wr, wk := simdtest.Clone(w0), simdtest.Clone(w0)
						wk, wbuf := simdtest.Offset(wk, -7)
						var sr, sk [][]float32
						for _, s := range s0 {
							sr = append(sr, simdtest.Clone(s))
							sk = append(sk, simdtest.Clone(s))
						}
						for step := 0; step < 3; step++ {
							o.run(wr, g, sr, true)
							if !o.run(wk, g, sk, false) {
								t.Fatal("the kernel reported that it did not run")
							}
							_, g, _ = in.gen(rng, n, 0)
						}
						simdtest.CheckBits(t, fmt.Sprintf("n=%d w", n), wk, wr)
						simdtest.CheckGuard(t, wbuf, n, -7)
						for k := range sr {
							simdtest.CheckBits(t, fmt.Sprintf("n=%d slot %d", n, k), sk[k], sr[k])
						}
					}
				})
			}
		}
	})
}

// TestAdamRefFloat64 checks one float64 step of the reference against the
// formula (float64 never runs a kernel).
func TestAdamRefFloat64(t *testing.T) {
	w, g, m, v := []float64{1}, []float64{0.5}, []float64{0}, []float64{0}
	adamRef(w, g, m, v, nil, &adamParams[float64]{B1: 0.9, C1: 0.1, B2: 0.999, C2: 0.001, StepSize: -0.01, BC2Sqrt: math.Sqrt(0.001), Eps: 1e-8})
	if want := 1 - 0.01*0.05/(math.Sqrt(0.001*0.25)/math.Sqrt(0.001)+1e-8); math.Abs(w[0]-want) > 1e-15 {
		t.Errorf("adam float64: %v, want %v", w[0], want)
	}
}

// TestUpdateAllocatesNothing runs Begin and Update of every optimizer in
// both precisions and on every kernel set, and counts allocations.
func TestUpdateAllocatesNothing(t *testing.T) {
	const n = 1000
	var cfgs []Config
	for _, name := range Names() {
		c, _ := Defaults(name)
		cfgs = append(cfgs, c)
	}
	cfgs = append(cfgs, &AdamConfig{Rate: Rate{3e-3}, Betas: [2]float64{0.9, 0.999}, Eps: 1e-8, WeightDecay: 0.01, AMSGrad: true},
		&RMSpropConfig{Rate: Rate{1e-2}, Alpha: 0.99, Eps: 1e-8, Momentum: 0.5, Centered: true})
	for _, set := range simd.KernelSets() {
		restore := simd.UseKernels(set)
		for _, c := range cfgs {
			o32, o64 := New[float32](c, n), New[float64](c, n)
			w32, g32 := make([]float32, n), make([]float32, n)
			w64, g64 := make([]float64, n), make([]float64, n)
			if a := testing.AllocsPerRun(5, func() {
				o32.Begin()
				o32.Update(w32, g32, 0, n/2)
				o32.Update(w32, g32, n/2, n)
				o64.Begin()
				o64.Update(w64, g64, 0, n)
			}); a != 0 {
				t.Errorf("%T on %s: %v allocations per step", c, set, a)
			}
		}
		restore()
	}
}
