package optim

import (
	"math"

	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/simd"
)

// AdamConfig is Adam (Kingma and Ba, 2015) as torch.optim.Adam. With
// gradient g, step t (counted from 1), betas (b1, b2), weight decay lambda
// (L2, added to the gradient; see adamw for the decoupled form):
//
//	g  = g + lambda w                       (if lambda != 0)
//	m  = b1 m + (1 - b1) g
//	v  = b2 v + (1 - b2) g^2
//	vmax = max(vmax, v)                     (amsgrad; on the raw v, before bias correction)
//	denom = sqrt(v or vmax) / sqrt(1 - b2^t) + eps
//	w  = w - (lr / (1 - b1^t)) m / denom
//
// in torch's order of operations. Defaults as torch: lr 0.001, betas
// (0.9, 0.999), eps 1e-8, weight_decay 0, amsgrad false.
type AdamConfig struct {
	Rate        `yaml:",inline"`
	Betas       [2]float64 `yaml:"betas"`
	Eps         float64    `yaml:"eps"`
	WeightDecay float64    `yaml:"weight_decay"`
	AMSGrad     bool       `yaml:"amsgrad"`
}

func init() {
	register("adam", func() Config { return &AdamConfig{Rate: Rate{1e-3}, Betas: [2]float64{0.9, 0.999}, Eps: 1e-8} },
		Variant{Name: "adam", Rank: 7, About: "Adam"})
}

func (c *AdamConfig) Validate() error {
	if err := checkLR(c.LR); err != nil {
		return err
	}
	if err := checkRange("betas[0]", c.Betas[0], 0, 1, true); err != nil {
		return err
	}
	if err := checkRange("betas[1]", c.Betas[1], 0, 1, true); err != nil {
		return err
	}
	if err := nonNegative(param{"eps", c.Eps}, param{"weight_decay", c.WeightDecay}); err != nil {
		return err
	}
	return nil
}

func (c *AdamConfig) new32(n int) Optimizer[float32] { return newAdam[float32](*c, n) }
func (c *AdamConfig) new64(n int) Optimizer[float64] { return newAdam[float64](*c, n) }

type adam[T backprop.Float] struct {
	cfg        AdamConfig
	decoupled  bool // AdamW: weight decay applied to w, not added to g
	base            // learning rate and step count
	m, v, vmax []T

	// The scalars of the step begun by Begin, for the reference and (in
	// float32) the SIMD kernel.
	p     adamParams[T]
	k     simd.AdamParams
	decay T // AdamW: w is first scaled by decay (when scale)
	scale bool
}

func newAdam[T backprop.Float](c AdamConfig, n int) *adam[T] {
	o := &adam[T]{cfg: c, base: base{lr: c.LR}, m: make([]T, n), v: make([]T, n)}
	if c.AMSGrad {
		o.vmax = make([]T, n)
	}
	return o
}

func (o *adam[T]) Begin() {
	o.steps++
	t := float64(o.steps)
	b1, b2 := o.cfg.Betas[0], o.cfg.Betas[1]
	bc1 := 1 - math.Pow(b1, t)
	bc2sqrt := T(math.Sqrt(1 - math.Pow(b2, t)))
	stepSize := T(-o.lr / bc1)
	o.p = adamParams[T]{B1: T(b1), C1: T(1 - b1), B2: T(b2), C2: T(1 - b2),
		StepSize: stepSize, BC2Sqrt: bc2sqrt, Eps: T(o.cfg.Eps), WeightDecay: T(o.cfg.WeightDecay)}
	o.scale = false
	if o.decoupled {
		if o.cfg.WeightDecay != 0 {
			o.scale, o.decay = true, T(1-o.lr*o.cfg.WeightDecay)
		}
		o.p.WeightDecay = 0
	}
	p := &o.p
	o.k = simd.AdamParams{B1: float32(p.B1), C1: float32(p.C1), B2: float32(p.B2), C2: float32(p.C2),
		StepSize: float32(p.StepSize), BC2Sqrt: float32(p.BC2Sqrt), Eps: float32(p.Eps), WeightDecay: float32(p.WeightDecay)}
}

func (o *adam[T]) Update(w, g []T, lo, hi int) {
	w = w[lo:hi]
	if o.scale {
		simd.Scale(w, o.decay)
	}
	var vmax []T
	if o.vmax != nil {
		vmax = o.vmax[lo:hi]
	}
	g, m, v := g[lo:hi], o.m[lo:hi], o.v[lo:hi]
	if !backprop.Is32[T]() || !simd.Adam(f32(w), f32(g), f32(m), f32(v), f32(vmax), &o.k) {
		adamRef(w, g, m, v, vmax, &o.p)
	}
}

// adamParams are the scalars of one Adam step, computed in float64 by
// Begin and rounded to T.
type adamParams[T backprop.Float] struct {
	B1, C1      T // beta1 and 1 - beta1
	B2, C2      T // beta2 and 1 - beta2
	StepSize    T // -lr / (1 - beta1^t)
	BC2Sqrt     T // sqrt(1 - beta2^t)
	Eps         T
	WeightDecay T // L2 term added to the gradient; 0 for none (and for adamw)
}

// adamRef is one Adam update of every element, in torch.optim.Adam's
// single-tensor order of operations:
//
//	g    = g + wd w                          (WeightDecay != 0)
//	m    = m b1 + g c1
//	v    = v b2 + (c2 g) g
//	vmax = max(vmax, v);  v' = vmax          (vmax != nil: AMSGrad), else v' = v
//	w    = w + (step m) / (sqrt(v')/bc2sqrt + eps)
//
// with step = -lr / (1 - b1^t) and bc2sqrt = sqrt(1 - b2^t). max is x86's
// (v when either is NaN), as in the kernel. It is the float64 path, the
// float32 path without SIMD, and the specification of simd.Adam, which
// gives its bits. m, v and vmax (may be nil) are updated; g is read only.
func adamRef[T backprop.Float](w, g, m, v, vmax []T, p *adamParams[T]) {
	for i := range w {
		wi, gi := w[i], g[i]
		if p.WeightDecay != 0 {
			gi = gi + T(p.WeightDecay*wi)
		}
		mi := T(m[i]*p.B1) + T(gi*p.C1)
		vi := T(v[i]*p.B2) + T(T(p.C2*gi)*gi)
		m[i], v[i] = mi, vi
		if vmax != nil {
			vi = maxNaN(vmax[i], vi)
			vmax[i] = vi
		}
		denom := T(sqrt(vi)/p.BC2Sqrt) + p.Eps
		w[i] = wi + T(p.StepSize*mi)/denom
	}
}

// maxNaN is x86's max: a > b ? a : b (so b when either is NaN).
func maxNaN[T backprop.Float](a, b T) T {
	if a > b {
		return a
	}
	return b
}

func (o *adam[T]) Slots() []Slot[T] {
	s := []Slot[T]{{"exp_avg", o.m}, {"exp_avg_sq", o.v}}
	if o.vmax != nil {
		s = append(s, Slot[T]{"max_exp_avg_sq", o.vmax})
	}
	return s
}

// AdamWConfig is AdamW (Loshchilov and Hutter, 2019) as torch.optim.AdamW:
// Adam with decoupled weight decay, applied to the weights before the Adam
// update instead of being added to the gradient:
//
//	w = w (1 - lr lambda)
//	then the Adam update of w with g (no L2 term)
//
// Defaults as torch: lr 0.001, betas (0.9, 0.999), eps 1e-8,
// weight_decay 0.01, amsgrad false.
type AdamWConfig struct {
	AdamConfig `yaml:",inline"`
}

func init() {
	register("adamw", func() Config {
		return &AdamWConfig{AdamConfig{Rate: Rate{1e-3}, Betas: [2]float64{0.9, 0.999}, Eps: 1e-8, WeightDecay: 1e-2}}
	}, Variant{Name: "adamw", Rank: 8, About: "AdamW (decoupled weight decay 0.01)"})
}

func (c *AdamWConfig) new32(n int) Optimizer[float32] {
	o := newAdam[float32](c.AdamConfig, n)
	o.decoupled = true
	return o
}

func (c *AdamWConfig) new64(n int) Optimizer[float64] {
	o := newAdam[float64](c.AdamConfig, n)
	o.decoupled = true
	return o
}
