package optim

import (
	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/simd"
)

// RMSpropConfig is RMSProp (Hinton, Lecture 6e of "Neural Networks for
// Machine Learning", 2012; centered as Graves, 2013) as torch.optim.RMSprop:
//
//	g   = g + lambda w                       (if lambda != 0)
//	v   = alpha v + (1 - alpha) g^2
//	m   = alpha m + (1 - alpha) g            (centered)
//	avg = sqrt(v - m^2) + eps   (centered)   or   sqrt(v) + eps
//	b   = mu b + g / avg;  w = w - lr b      (momentum mu > 0)
//	w   = w - lr g / avg                     (otherwise)
//
// Defaults as torch: lr 0.01, alpha 0.99, eps 1e-8, weight_decay 0,
// momentum 0, centered false.
type RMSpropConfig struct {
	Rate        `yaml:",inline"`
	Alpha       float64 `yaml:"alpha"`
	Eps         float64 `yaml:"eps"`
	WeightDecay float64 `yaml:"weight_decay"`
	Momentum    float64 `yaml:"momentum"`
	Centered    bool    `yaml:"centered"`
}

func init() {
	register("rmsprop", func() Config { return &RMSpropConfig{Rate: Rate{1e-2}, Alpha: 0.99, Eps: 1e-8} },
		Variant{Name: "rmsprop", Rank: 6, About: "RMSProp"})
}

func (c *RMSpropConfig) Validate() error {
	if err := checkLR(c.LR); err != nil {
		return err
	}
	if err := checkRange("alpha", c.Alpha, 0, 1, false); err != nil {
		return err
	}
	if err := nonNegative(param{"eps", c.Eps}, param{"weight_decay", c.WeightDecay}, param{"momentum", c.Momentum}); err != nil {
		return err
	}
	return nil
}

func (c *RMSpropConfig) new32(n int) Optimizer[float32] { return newRMSprop[float32](*c, n) }
func (c *RMSpropConfig) new64(n int) Optimizer[float64] { return newRMSprop[float64](*c, n) }

type rmsprop[T backprop.Float] struct {
	cfg     RMSpropConfig
	base    // learning rate and step count
	v, m, b []T

	// The scalars of the step begun by Begin, for the reference and (in
	// float32) the SIMD kernel.
	p rmspropParams[T]
	k simd.RMSpropParams
}

func newRMSprop[T backprop.Float](c RMSpropConfig, n int) *rmsprop[T] {
	o := &rmsprop[T]{cfg: c, base: base{lr: c.LR}, v: make([]T, n)}
	if c.Centered {
		o.m = make([]T, n)
	}
	if c.Momentum > 0 {
		o.b = make([]T, n)
	}
	return o
}

func (o *rmsprop[T]) Begin() {
	o.steps++
	o.p = rmspropParams[T]{Alpha: T(o.cfg.Alpha), C1: T(1 - o.cfg.Alpha), Eps: T(o.cfg.Eps),
		WeightDecay: T(o.cfg.WeightDecay), NegLR: -T(o.lr), Momentum: T(o.cfg.Momentum)}
	o.k = simd.RMSpropParams{Alpha: float32(o.p.Alpha), C1: float32(o.p.C1), Eps: float32(o.p.Eps),
		WeightDecay: float32(o.p.WeightDecay), NegLR: float32(o.p.NegLR), Momentum: float32(o.p.Momentum)}
}

func (o *rmsprop[T]) Update(w, g []T, lo, hi int) {
	var m, b []T
	if o.m != nil {
		m = o.m[lo:hi]
	}
	if o.b != nil {
		b = o.b[lo:hi]
	}
	w, g, v := w[lo:hi], g[lo:hi], o.v[lo:hi]
	if !backprop.Is32[T]() || !simd.RMSprop(f32(w), f32(g), f32(v), f32(m), f32(b), &o.k) {
		rmspropRef(w, g, v, m, b, &o.p)
	}
}

// rmspropParams are the scalars of one RMSprop step, rounded to T.
type rmspropParams[T backprop.Float] struct {
	Alpha, C1   T // alpha and 1 - alpha
	Eps         T
	WeightDecay T
	NegLR       T // -lr
	Momentum    T
}

// rmspropRef is one RMSprop step of every element (torch.optim.RMSprop):
//
//	g = g + wd w                                       (WeightDecay != 0)
//	v = v alpha + (c1 g) g
//	m = m alpha + g c1;  avg = sqrt(v - m m) + eps     (m != nil: centered)
//	                     avg = sqrt(v) + eps           (otherwise)
//	b = b mu + g/avg;    w = w + (-lr) b               (b != nil: momentum)
//	                     w = w + ((-lr) g) / avg       (otherwise)
//
// It is the float64 path, the float32 path without SIMD, and the
// specification of simd.RMSprop, which gives its bits.
func rmspropRef[T backprop.Float](w, g, v, m, b []T, p *rmspropParams[T]) {
	for i := range w {
		gi := g[i]
		if p.WeightDecay != 0 {
			gi = gi + T(p.WeightDecay*w[i])
		}
		sq := T(v[i]*p.Alpha) + T(T(p.C1*gi)*gi)
		v[i] = sq
		var avg T
		if m != nil {
			mi := T(m[i]*p.Alpha) + T(gi*p.C1)
			m[i] = mi
			avg = sqrt(sq - T(mi*mi))
		} else {
			avg = sqrt(sq)
		}
		avg = avg + p.Eps
		if b != nil {
			bi := T(b[i]*p.Momentum) + gi/avg
			b[i] = bi
			w[i] = w[i] + T(p.NegLR*bi)
		} else {
			w[i] = w[i] + T(p.NegLR*gi)/avg
		}
	}
}

func (o *rmsprop[T]) Slots() []Slot[T] {
	s := []Slot[T]{{"square_avg", o.v}}
	if o.b != nil {
		s = append(s, Slot[T]{"momentum_buffer", o.b})
	}
	if o.m != nil {
		s = append(s, Slot[T]{"grad_avg", o.m})
	}
	return s
}
