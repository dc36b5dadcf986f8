package optim

import (
	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/simd"
)

// AdagradConfig is AdaGrad (Duchi, Hazan and Singer, 2011) as
// torch.optim.Adagrad. The accumulator s starts at
// initial_accumulator_value; at step t:
//
//	g   = g + lambda w                      (if lambda != 0)
//	clr = lr / (1 + (t - 1) lr_decay)
//	s   = s + g^2
//	w   = w - clr g / (sqrt(s) + eps)
//
// Defaults as torch: lr 0.01, lr_decay 0, weight_decay 0,
// initial_accumulator_value 0, eps 1e-10.
type AdagradConfig struct {
	Rate                    `yaml:",inline"`
	LRDecay                 float64 `yaml:"lr_decay"`
	WeightDecay             float64 `yaml:"weight_decay"`
	InitialAccumulatorValue float64 `yaml:"initial_accumulator_value"`
	Eps                     float64 `yaml:"eps"`
}

func init() {
	register("adagrad", func() Config { return &AdagradConfig{Rate: Rate{1e-2}, Eps: 1e-10} },
		Variant{Name: "adagrad", Rank: 4, About: "AdaGrad"})
}

func (c *AdagradConfig) Validate() error {
	if err := checkLR(c.LR); err != nil {
		return err
	}
	if err := nonNegative(param{"lr_decay", c.LRDecay}, param{"weight_decay", c.WeightDecay}, param{"initial_accumulator_value", c.InitialAccumulatorValue}, param{"eps", c.Eps}); err != nil {
		return err
	}
	return nil
}

func (c *AdagradConfig) new32(n int) Optimizer[float32] { return newAdagrad[float32](*c, n) }
func (c *AdagradConfig) new64(n int) Optimizer[float64] { return newAdagrad[float64](*c, n) }

type adagrad[T backprop.Float] struct {
	cfg  AdagradConfig
	base // learning rate and step count
	sum  []T

	// The scalars of the step begun by Begin, for the reference and (in
	// float32) the SIMD kernel.
	p adagradParams[T]
	k simd.AdagradParams
}

func newAdagrad[T backprop.Float](c AdagradConfig, n int) *adagrad[T] {
	o := &adagrad[T]{cfg: c, base: base{lr: c.LR}, sum: make([]T, n)}
	for i := range o.sum {
		o.sum[i] = T(c.InitialAccumulatorValue)
	}
	return o
}

func (o *adagrad[T]) Begin() {
	o.steps++
	o.p = adagradParams[T]{CLR: T(-o.lr / (1 + float64(o.steps-1)*o.cfg.LRDecay)),
		WeightDecay: T(o.cfg.WeightDecay), Eps: T(o.cfg.Eps)}
	o.k = simd.AdagradParams{CLR: float32(o.p.CLR), WeightDecay: float32(o.p.WeightDecay), Eps: float32(o.p.Eps)}
}

func (o *adagrad[T]) Update(w, g []T, lo, hi int) {
	w, g, sum := w[lo:hi], g[lo:hi], o.sum[lo:hi]
	if !backprop.Is32[T]() || !simd.Adagrad(f32(w), f32(g), f32(sum), &o.k) {
		adagradRef(w, g, sum, &o.p)
	}
}

// adagradParams are the scalars of one AdaGrad step, rounded to T.
type adagradParams[T backprop.Float] struct {
	CLR         T // -lr / (1 + (t-1) lr_decay)
	WeightDecay T
	Eps         T
}

// adagradRef is one AdaGrad step of every element (torch.optim.Adagrad):
//
//	g = g + wd w                        (WeightDecay != 0)
//	s = s + g g
//	w = w + (clr g) / (sqrt(s) + eps)
//
// It is the float64 path, the float32 path without SIMD, and the
// specification of simd.Adagrad, which gives its bits.
func adagradRef[T backprop.Float](w, g, sum []T, p *adagradParams[T]) {
	for i := range w {
		gi := g[i]
		if p.WeightDecay != 0 {
			gi = gi + T(p.WeightDecay*w[i])
		}
		s := sum[i] + T(gi*gi)
		sum[i] = s
		w[i] = w[i] + T(p.CLR*gi)/(sqrt(s)+p.Eps)
	}
}

func (o *adagrad[T]) Slots() []Slot[T] { return []Slot[T]{{"sum", o.sum}} }
