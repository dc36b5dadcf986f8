package optim

import (
	"math"

	"github.com/nettrain/nettrain/internal/backprop"
)

// NAdamConfig is NAdam (Dozat, 2016: Adam with Nesterov momentum) as
// torch.optim.NAdam, with the momentum schedule
// mu_t = b1 (1 - 0.5 * 0.96^(t psi)) (psi = momentum_decay) and
// M_t = mu_1 ... mu_t:
//
//	g = g + lambda w                                   (if lambda != 0)
//	m = b1 m + (1 - b1) g
//	v = b2 v + (1 - b2) g^2
//	denom = sqrt(v / (1 - b2^t)) + eps
//	w = w - lr (1 - mu_t) / (1 - M_t) g / denom
//	      - lr mu_{t+1} / (1 - M_t mu_{t+1}) m / denom
//
// Defaults as torch: lr 0.002, betas (0.9, 0.999), eps 1e-8,
// weight_decay 0, momentum_decay 0.004.
//
// This is the rule torch documents and computes since 2.0. Torch 1.13's
// default single-tensor code multiplied one extra mu_t into M_t mu_{t+1}
// (pytorch/pytorch#92699, fixed in 2.0); its foreach path, which the golden
// tests use as the 1.13 reference, follows the documented rule.
type NAdamConfig struct {
	Rate          `yaml:",inline"`
	Betas         [2]float64 `yaml:"betas"`
	Eps           float64    `yaml:"eps"`
	WeightDecay   float64    `yaml:"weight_decay"`
	MomentumDecay float64    `yaml:"momentum_decay"`
}

func init() {
	register("nadam", func() Config {
		return &NAdamConfig{Rate: Rate{2e-3}, Betas: [2]float64{0.9, 0.999}, Eps: 1e-8, MomentumDecay: 4e-3}
	}, Variant{Name: "nadam", Rank: 9, About: "NAdam"})
}

func (c *NAdamConfig) Validate() error {
	if err := checkLR(c.LR); err != nil {
		return err
	}
	if err := checkRange("betas[0]", c.Betas[0], 0, 1, true); err != nil {
		return err
	}
	if err := checkRange("betas[1]", c.Betas[1], 0, 1, true); err != nil {
		return err
	}
	if err := nonNegative(param{"eps", c.Eps}, param{"weight_decay", c.WeightDecay}, param{"momentum_decay", c.MomentumDecay}); err != nil {
		return err
	}
	return nil
}

func (c *NAdamConfig) new32(n int) Optimizer[float32] { return newNAdam[float32](*c, n) }
func (c *NAdamConfig) new64(n int) Optimizer[float64] { return newNAdam[float64](*c, n) }

type nadam[T backprop.Float] struct {
	cfg       NAdamConfig
	base              // learning rate and step count
	muProduct float64 // M_t, a function of the step count
	m, v      []T

	// The scalars of the step begun by Begin.
	c1, c2, bc2 T
}

func newNAdam[T backprop.Float](c NAdamConfig, n int) *nadam[T] {
	return &nadam[T]{cfg: c, base: base{lr: c.LR}, muProduct: 1, m: make([]T, n), v: make([]T, n)}
}

func (o *nadam[T]) mu(t int64) float64 {
	return o.cfg.Betas[0] * (1 - 0.5*math.Pow(0.96, float64(t)*o.cfg.MomentumDecay))
}

func (o *nadam[T]) Begin() {
	o.steps++
	t := o.steps
	b2 := o.cfg.Betas[1]
	o.bc2 = T(1 - math.Pow(b2, float64(t)))
	mu, muNext := o.mu(t), o.mu(t+1)
	o.muProduct *= mu
	muProductNext := o.muProduct * muNext
	o.c1 = T(-o.lr * (1 - mu) / (1 - o.muProduct))
	o.c2 = T(-o.lr * muNext / (1 - muProductNext))
}

func (o *nadam[T]) Update(w, g []T, lo, hi int) {
	b1, b2 := o.cfg.Betas[0], o.cfg.Betas[1]
	tb1, tb2, a1, a2 := T(b1), T(b2), T(1-b1), T(1-b2)
	eps, wd := T(o.cfg.Eps), T(o.cfg.WeightDecay)
	c1, c2, bc2 := o.c1, o.c2, o.bc2
	w, m, v := w[lo:hi], o.m[lo:hi], o.v[lo:hi]
	for i, gi := range g[lo:hi] {
		if wd != 0 {
			gi += wd * w[i]
		}
		m[i] = m[i]*tb1 + gi*a1
		v[i] = v[i]*tb2 + a2*gi*gi
		denom := T(math.Sqrt(float64(v[i]/bc2))) + eps
		w[i] += c1 * gi / denom
		w[i] += c2 * m[i] / denom
	}
}

// SetSteps restores the step count and recomputes M_t exactly as the steps
// did, so a resumed run continues bit-identically.
func (o *nadam[T]) SetSteps(n int64) {
	o.steps = n
	o.muProduct = 1
	for t := int64(1); t <= n; t++ {
		o.muProduct *= o.mu(t)
	}
}

func (o *nadam[T]) Slots() []Slot[T] { return []Slot[T]{{"exp_avg", o.m}, {"exp_avg_sq", o.v}} }
