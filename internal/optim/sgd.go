package optim

import (
	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/simd"
)

// SGDConfig is stochastic gradient descent with optional momentum, as
// torch.optim.SGD (Sutskever et al., 2013, for Nesterov momentum). With
// parameters w, gradient g, momentum mu, dampening tau, weight decay lambda
// and learning rate lr, one step is
//
//	g = g + lambda w                      (if lambda != 0)
//	if mu != 0:
//	    b = g                             (first step)
//	    b = mu b + (1 - tau) g            (later steps)
//	    g = g + mu b   if nesterov, else  g = b
//	w = w - lr g
//
// Defaults as torch: lr 0.001, momentum 0, dampening 0, weight_decay 0,
// nesterov false. Nesterov needs momentum > 0 and dampening 0.
type SGDConfig struct {
	Rate        `yaml:",inline"`
	Momentum    float64 `yaml:"momentum"`
	Dampening   float64 `yaml:"dampening"`
	WeightDecay float64 `yaml:"weight_decay"`
	Nesterov    bool    `yaml:"nesterov"`
}

func init() {
	register("sgd", func() Config { return &SGDConfig{Rate: Rate{1e-3}} },
		Variant{Name: "sgd", Rank: 1, About: "plain stochastic gradient descent"},
		Variant{Name: "momentum", Rank: 2, About: "SGD with momentum 0.9", Set: func(c Config) { c.(*SGDConfig).Momentum = 0.9 }},
		Variant{Name: "nesterov", Rank: 3, About: "SGD with Nesterov momentum 0.9", Set: func(c Config) {
			s := c.(*SGDConfig)
			s.Momentum, s.Nesterov = 0.9, true
		}})
}

func (c *SGDConfig) Validate() error {
	if err := checkLR(c.LR); err != nil {
		return err
	}
	if err := nonNegative(param{"momentum", c.Momentum}, param{"weight_decay", c.WeightDecay}); err != nil {
		return err
	}
	if err := checkRange("dampening", c.Dampening, 0, 1, false); err != nil {
		return err
	}
	if c.Nesterov && (c.Momentum <= 0 || c.Dampening != 0) {
		return errKey("nesterov", "needs momentum > 0 and dampening 0 (as torch.optim.SGD)")
	}
	return nil
}

func (c *SGDConfig) new32(n int) Optimizer[float32] { return newSGD[float32](*c, n) }
func (c *SGDConfig) new64(n int) Optimizer[float64] { return newSGD[float64](*c, n) }

type sgd[T backprop.Float] struct {
	cfg  SGDConfig
	base     // learning rate and step count
	buf  []T // momentum buffer (nil without momentum)

	// The step begun by Begin: its scalars (for the reference and, in
	// float32, the SIMD kernel), and whether it is the first.
	p     sgdParams[T]
	k     simd.SGDParams
	first bool
}

func newSGD[T backprop.Float](c SGDConfig, n int) *sgd[T] {
	o := &sgd[T]{cfg: c, base: base{lr: c.LR}}
	if c.Momentum != 0 {
		o.buf = make([]T, n)
	}
	return o
}

func (o *sgd[T]) Begin() {
	o.p = sgdParams[T]{LR: T(o.lr), WeightDecay: T(o.cfg.WeightDecay),
		Momentum: T(o.cfg.Momentum), Damp: T(1 - o.cfg.Dampening)}
	o.k = simd.SGDParams{LR: float32(o.p.LR), WeightDecay: float32(o.p.WeightDecay),
		Momentum: float32(o.p.Momentum), Damp: float32(o.p.Damp)}
	o.first = o.steps == 0
	o.steps++
}

func (o *sgd[T]) Update(w, g []T, lo, hi int) {
	var buf []T
	if o.buf != nil {
		buf = o.buf[lo:hi]
	}
	w, g = w[lo:hi], g[lo:hi]
	if !backprop.Is32[T]() || !simd.SGD(f32(w), f32(g), f32(buf), &o.k, o.cfg.Nesterov, o.first) {
		sgdRef(w, g, buf, &o.p, o.cfg.Nesterov, o.first)
	}
}

// sgdParams are the scalars of one SGD step, rounded to T.
type sgdParams[T backprop.Float] struct {
	LR          T
	WeightDecay T // 0 for none
	Momentum    T
	Damp        T // 1 - dampening
}

// sgdRef is one SGD step of every element (torch.optim.SGD):
//
//	g = g + wd w                                      (WeightDecay != 0)
//	b = g (first step), else b = mu b + damp g        (buf != nil)
//	g = g + mu b (nesterov), else g = b               (buf != nil)
//	w = w - lr g
//
// buf is the momentum buffer (nil without momentum). It is the float64
// path, the float32 path without SIMD, and the specification of simd.SGD,
// which gives its bits.
func sgdRef[T backprop.Float](w, g, buf []T, p *sgdParams[T], nesterov, first bool) {
	for i := range w {
		gi := g[i]
		if p.WeightDecay != 0 {
			gi = gi + T(p.WeightDecay*w[i])
		}
		if buf != nil {
			b := gi
			if !first {
				b = T(p.Momentum*buf[i]) + T(p.Damp*gi)
			}
			buf[i] = b
			if nesterov {
				gi = gi + T(p.Momentum*b)
			} else {
				gi = b
			}
		}
		w[i] = w[i] - T(p.LR*gi)
	}
}

func (o *sgd[T]) Slots() []Slot[T] {
	if o.buf == nil {
		return nil
	}
	return []Slot[T]{{"momentum_buffer", o.buf}}
}
