package optim

import (
	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/simd"
)

// AdadeltaConfig is AdaDelta (Zeiler, 2012) as torch.optim.Adadelta, with
// running averages v (squared gradients) and u (squared updates):
//
//	g  = g + lambda w                         (if lambda != 0)
//	v  = rho v + (1 - rho) g^2
//	dx = sqrt(u + eps) / sqrt(v + eps) * g
//	u  = rho u + (1 - rho) dx^2
//	w  = w - lr dx
//
// Defaults as torch: lr 1.0, rho 0.9, eps 1e-6, weight_decay 0.
type AdadeltaConfig struct {
	Rate        `yaml:",inline"`
	Rho         float64 `yaml:"rho"`
	Eps         float64 `yaml:"eps"`
	WeightDecay float64 `yaml:"weight_decay"`
}

func init() {
	register("adadelta", func() Config { return &AdadeltaConfig{Rate: Rate{1.0}, Rho: 0.9, Eps: 1e-6} },
		Variant{Name: "adadelta", Rank: 5, About: "AdaDelta"})
}

func (c *AdadeltaConfig) Validate() error {
	if err := checkLR(c.LR); err != nil {
		return err
	}
	if err := checkRange("rho", c.Rho, 0, 1, false); err != nil {
		return err
	}
	if err := nonNegative(param{"eps", c.Eps}, param{"weight_decay", c.WeightDecay}); err != nil {
		return err
	}
	return nil
}

func (c *AdadeltaConfig) new32(n int) Optimizer[float32] { return newAdadelta[float32](*c, n) }
func (c *AdadeltaConfig) new64(n int) Optimizer[float64] { return newAdadelta[float64](*c, n) }

type adadelta[T backprop.Float] struct {
	cfg  AdadeltaConfig
	base // learning rate and step count
	v, u []T

	// The scalars of the step begun by Begin, for the reference and (in
	// float32) the SIMD kernel.
	p adadeltaParams[T]
	k simd.AdadeltaParams
}

func newAdadelta[T backprop.Float](c AdadeltaConfig, n int) *adadelta[T] {
	return &adadelta[T]{cfg: c, base: base{lr: c.LR}, v: make([]T, n), u: make([]T, n)}
}

func (o *adadelta[T]) Begin() {
	o.steps++
	o.p = adadeltaParams[T]{Rho: T(o.cfg.Rho), C1: T(1 - o.cfg.Rho), Eps: T(o.cfg.Eps),
		WeightDecay: T(o.cfg.WeightDecay), NegLR: -T(o.lr)}
	o.k = simd.AdadeltaParams{Rho: float32(o.p.Rho), C1: float32(o.p.C1), Eps: float32(o.p.Eps),
		WeightDecay: float32(o.p.WeightDecay), NegLR: float32(o.p.NegLR)}
}

func (o *adadelta[T]) Update(w, g []T, lo, hi int) {
	w, g, v, u := w[lo:hi], g[lo:hi], o.v[lo:hi], o.u[lo:hi]
	if !backprop.Is32[T]() || !simd.Adadelta(f32(w), f32(g), f32(v), f32(u), &o.k) {
		adadeltaRef(w, g, v, u, &o.p)
	}
}

// adadeltaParams are the scalars of one AdaDelta step, rounded to T.
type adadeltaParams[T backprop.Float] struct {
	Rho, C1     T // rho and 1 - rho
	Eps         T
	WeightDecay T
	NegLR       T // -lr
}

// adadeltaRef is one AdaDelta step of every element (torch.optim.Adadelta):
//
//	g  = g + wd w                          (WeightDecay != 0)
//	v  = v rho + (c1 g) g
//	dx = (sqrt(u + eps) / sqrt(v + eps)) g
//	u  = u rho + (c1 dx) dx
//	w  = w + (-lr) dx
//
// It is the float64 path, the float32 path without SIMD, and the
// specification of simd.Adadelta, which gives its bits.
func adadeltaRef[T backprop.Float](w, g, v, u []T, p *adadeltaParams[T]) {
	for i := range w {
		gi := g[i]
		if p.WeightDecay != 0 {
			gi = gi + T(p.WeightDecay*w[i])
		}
		sq := T(v[i]*p.Rho) + T(T(p.C1*gi)*gi)
		v[i] = sq
		std := sqrt(sq + p.Eps)
		dx := T(sqrt(u[i]+p.Eps)/std) * gi
		u[i] = T(u[i]*p.Rho) + T(T(p.C1*dx)*dx)
		w[i] = w[i] + T(p.NegLR*dx)
	}
}

func (o *adadelta[T]) Slots() []Slot[T] {
	return []Slot[T]{{"square_avg", o.v}, {"acc_delta", o.u}}
}
