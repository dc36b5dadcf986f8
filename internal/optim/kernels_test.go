package optim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The scalar loops the optimizers ran before their updates became SIMD
// kernels, kept as the specification of the order of operations: the
// float32 optimizers (kernel or reference) must reproduce them to the bit.

func scalarAdam(c AdamConfig, decoupled bool, steps int64, lr float64, w, g, m, v, vmax []float32) {
	t := float64(steps)
	b1, b2 := c.Betas[0], c.Betas[1]
	bc1 := 1 - math.Pow(b1, t)
	bc2sqrt := float32(math.Sqrt(1 - math.Pow(b2, t)))
	stepSize := float32(-lr / bc1)
	tb1, tb2, c1, c2 := float32(b1), float32(b2), float32(1-b1), float32(1-b2)
	eps, wd := float32(c.Eps), float32(c.WeightDecay)
	if decoupled {
		if c.WeightDecay != 0 {
			decay := float32(1 - lr*c.WeightDecay)
			for i := range w {
				w[i] *= decay
			}
		}
		wd = 0
	}
	for i, gi := range g {
		if wd != 0 {
			gi += float32(wd * w[i])
		}
		m[i] = float32(m[i]*tb1) + float32(gi*c1)
		v[i] = float32(v[i]*tb2) + float32(float32(c2*gi)*gi)
		vi := v[i]
		if vmax != nil {
			vmax[i] = max(vmax[i], vi)
			vi = vmax[i]
		}
		denom := float32(float32(math.Sqrt(float64(vi)))/bc2sqrt) + eps
		w[i] += float32(stepSize*m[i]) / denom
	}
}

func scalarSGD(c SGDConfig, first bool, lr float64, w, g, buf []float32) {
	lr32, wd := float32(lr), float32(c.WeightDecay)
	mu, damp := float32(c.Momentum), float32(1-c.Dampening)
	for i, gi := range g {
		if wd != 0 {
			gi += float32(wd * w[i])
		}
		if buf != nil {
			b := gi
			if !first {
				b = float32(mu*buf[i]) + float32(damp*gi)
			}
			buf[i] = b
			if c.Nesterov {
				gi += float32(mu * b)
			} else {
				gi = b
			}
		}
		w[i] -= float32(lr32 * gi)
	}
}

func TestKernelsMatchScalarLoops(t *testing.T) {
	const n, steps = 1001, 5
	type run struct {
		name   string
		cfg    Config
		scalar func(step int64, w, g []float32, slots [][]float32)
	}
	var runs []run
	for _, wd := range []float64{0, 0.01} {
		for _, ams := range []bool{false, true} {
			for _, dec := range []bool{false, true} {
				c := AdamConfig{Rate: Rate{3e-3}, Betas: [2]float64{0.9, 0.999}, Eps: 1e-8, WeightDecay: wd, AMSGrad: ams}
				var cfg Config = &c
				if dec {
					cfg = &AdamWConfig{c}
				}
				runs = append(runs, run{fmt.Sprintf("%T/wd=%g/amsgrad=%v", cfg, wd, ams), cfg, func(step int64, w, g []float32, s [][]float32) {
					var vmax []float32
					if ams {
						vmax = s[2]
					}
					scalarAdam(c, dec, step, c.LR, w, g, s[0], s[1], vmax)
				}})
			}
		}
		for _, m := range []struct {
			mu   float64
			nest bool
		}{{0, false}, {0.9, false}, {0.9, true}} {
			c := SGDConfig{Rate: Rate{0.05}, Momentum: m.mu, WeightDecay: wd, Nesterov: m.nest}
			if !m.nest && m.mu != 0 {
				c.Dampening = 0.3
			}
			runs = append(runs, run{fmt.Sprintf("sgd/wd=%g/momentum=%g/nesterov=%v", wd, m.mu, m.nest), &c, func(step int64, w, g []float32, s [][]float32) {
				var buf []float32
				if len(s) > 0 {
					buf = s[0]
				}
				scalarSGD(c, step == 1, c.LR, w, g, buf)
			}})
		}
	}
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 1))
			w := make([]float32, n)
			for i := range w {
				w[i] = float32(rng.NormFloat64())
			}
			ws := append([]float32(nil), w...)
			opt := New[float32](r.cfg, n)
			var slots [][]float32
			for range opt.Slots() {
				slots = append(slots, make([]float32, n))
			}
			for step := int64(1); step <= steps; step++ {
				g := make([]float32, n)
				for i := range g {
					g[i] = float32(0.1 * rng.NormFloat64())
				}
				Step(opt, w, g)
				r.scalar(step, ws, g, slots)
			}
			for i := range w {
				if math.Float32bits(w[i]) != math.Float32bits(ws[i]) {
					t.Fatalf("w[%d] = %v, scalar loop %v", i, w[i], ws[i])
				}
			}
			for k, s := range opt.Slots() {
				for i := range s.Data {
					if s.Data[i] != slots[k][i] {
						t.Fatalf("%s[%d] = %v, scalar loop %v", s.Name, i, s.Data[i], slots[k][i])
					}
				}
			}
		})
	}
}

// TestUpdateInRangesMatchesStep runs every optimizer once through Step and
// once through Begin and Update over uneven ranges in scrambled order, and
// compares weights and slots bit for bit.
func TestUpdateInRangesMatchesStep(t *testing.T) {
	const n, steps = 1001, 4
	var cfgs []Config
	for _, name := range Names() {
		c, _ := Defaults(name)
		cfgs = append(cfgs, c)
	}
	cfgs = append(cfgs,
		&SGDConfig{Rate: Rate{0.05}, Momentum: 0.9, Nesterov: true, WeightDecay: 0.01},
		&SGDConfig{Rate: Rate{0.05}, Momentum: 0.9, Dampening: 0.3},
		&AdamConfig{Rate: Rate{3e-3}, Betas: [2]float64{0.9, 0.999}, Eps: 1e-8, WeightDecay: 0.01, AMSGrad: true},
		&RMSpropConfig{Rate: Rate{1e-2}, Alpha: 0.99, Eps: 1e-8, Momentum: 0.5, Centered: true},
	)
	for i, c := range cfgs {
		for _, dtype := range []string{"float32", "float64"} {
			t.Run(fmt.Sprintf("%d-%T/%s", i, c, dtype), func(t *testing.T) {
				if dtype == "float32" {
					testUpdateInRanges[float32](t, c, n, steps)
				} else {
					testUpdateInRanges[float64](t, c, n, steps)
				}
			})
		}
	}
}

func testUpdateInRanges[T float32 | float64](t *testing.T, c Config, n, steps int) {
	rng := rand.New(rand.NewPCG(3, 3))
	w1 := make([]T, n)
	for i := range w1 {
		w1[i] = T(rng.NormFloat64())
	}
	w2 := append([]T(nil), w1...)
	o1, o2 := New[T](c, n), New[T](c, n)
	cuts := []int{0, 1, 33, 34, 500, 511, 1000, n}
	order := []int{3, 0, 6, 2, 5, 1, 4}
	for range steps {
		g := make([]T, n)
		for i := range g {
			g[i] = T(0.1 * rng.NormFloat64())
		}
		Step(o1, w1, g)
		o2.Begin()
		for _, k := range order {
			o2.Update(w2, g, cuts[k], cuts[k+1])
		}
	}
	for i := range w1 {
		if w1[i] != w2[i] {
			t.Fatalf("w[%d] = %v in ranges, %v by Step", i, w2[i], w1[i])
		}
	}
	s1, s2 := o1.Slots(), o2.Slots()
	for k := range s1 {
		for i := range s1[k].Data {
			if s1[k].Data[i] != s2[k].Data[i] {
				t.Fatalf("%s[%d] = %v in ranges, %v by Step", s1[k].Name, i, s2[k].Data[i], s1[k].Data[i])
			}
		}
	}
}
