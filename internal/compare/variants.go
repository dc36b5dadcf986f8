package compare

import (
	"math"

	"github.com/nettrain/nettrain/internal/optim"
)

// Variant is an optimizer as the comparison names it: a torch.optim
// optimizer with torch's defaults, plus settings for the classic variants
// (SGD with momentum, with Nesterov momentum).
type Variant struct {
	Name      string
	Optimizer string
	Momentum  float64
	Nesterov  bool
	About     string
}

// Variants are the optimizers compared by default, in report order.
var Variants = []Variant{
	{Name: "sgd", Optimizer: "sgd", About: "plain stochastic gradient descent"},
	{Name: "momentum", Optimizer: "sgd", Momentum: 0.9, About: "SGD with momentum 0.9"},
	{Name: "nesterov", Optimizer: "sgd", Momentum: 0.9, Nesterov: true, About: "SGD with Nesterov momentum 0.9"},
	{Name: "adagrad", Optimizer: "adagrad", About: "AdaGrad"},
	{Name: "adadelta", Optimizer: "adadelta", About: "AdaDelta"},
	{Name: "rmsprop", Optimizer: "rmsprop", About: "RMSProp"},
	{Name: "adam", Optimizer: "adam", About: "Adam"},
	{Name: "adamw", Optimizer: "adamw", About: "AdamW (decoupled weight decay 0.01)"},
	{Name: "nadam", Optimizer: "nadam", About: "NAdam"},
}

// VariantNames lists the variant names.
func VariantNames() []string {
	var n []string
	for _, v := range Variants {
		n = append(n, v.Name)
	}
	return n
}

func variant(name string) (Variant, bool) {
	for _, v := range Variants {
		if v.Name == name {
			return v, true
		}
	}
	return Variant{}, false
}

// config returns the variant's optimizer config at learning rate lr.
func (v Variant) config(lr float64) optim.Config {
	c, _ := optim.Defaults(v.Optimizer)
	c.SetLearningRate(lr)
	if s, ok := c.(*optim.SGDConfig); ok {
		s.Momentum, s.Nesterov = v.Momentum, v.Nesterov
	}
	return c
}

// DefaultLR is the variant's torch default learning rate.
func (v Variant) DefaultLR() float64 {
	c, _ := optim.Defaults(v.Optimizer)
	return c.LearningRate()
}

// Grid is n learning rates log-spaced over two decades either side of
// center: center * 10^(-2 + 4k/(n-1)), k = 0..n-1 (just center when n = 1).
func Grid(center float64, n int) []float64 {
	if n == 1 {
		return []float64{center}
	}
	g := make([]float64, n)
	for k := range g {
		g[k] = roundSig(center * math.Pow(10, -2+4*float64(k)/float64(n-1)))
	}
	return g
}

// roundSig rounds to 6 significant digits, so grid points print and
// compare cleanly.
func roundSig(v float64) float64 {
	if v == 0 {
		return 0
	}
	e := math.Pow(10, 5-math.Floor(math.Log10(math.Abs(v))))
	return math.Round(v*e) / e
}
