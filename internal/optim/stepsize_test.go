package optim

import (
	"math"
	"testing"
)

// TestConstantGradientSteps: one weight's steps under a constant gradient
// at torch's defaults, against torch.optim (1.13, float64: a weight of 0,
// p.grad = g before each o.step(), |Δw| / lr at steps 1, 10 and 100;
// NAdam with foreach=True, the reference of the golden tests, see
// nadam.go).
func TestConstantGradientSteps(t *testing.T) {
	tests := []struct {
		variant string
		g       float64
		want    [3]float64
	}{
		{"sgd", 1, [3]float64{1, 1, 1}},
		{"sgd", 1000, [3]float64{1000, 1000, 1000}},
		{"momentum", 1, [3]float64{1, 6.513, 10}},
		{"nesterov", 1, [3]float64{1.9, 6.862, 10}},
		{"nesterov", 1000, [3]float64{1900, 6862, 1e4}},
		{"adagrad", 1, [3]float64{1, 0.3162, 0.1}},
		{"adagrad", 1000, [3]float64{1, 0.3162, 0.1}},
		{"adadelta", 1, [3]float64{0.003162, 0.003511, 0.004659}},
		{"adadelta", 1000, [3]float64{0.003162, 0.003511, 0.004659}},
		{"rmsprop", 1, [3]float64{10, 3.234, 1.256}},
		{"rmsprop", 1000, [3]float64{10, 3.234, 1.256}},
		{"adam", 1000, [3]float64{1, 1, 1}},
		{"adamw", 1, [3]float64{1, 0.9999, 0.999}},
		{"nadam", 1, [3]float64{1.056, 0.8431, 1}},
	}
	for _, tc := range tests {
		var v Variant
		for _, x := range Variants() {
			if x.Name == tc.variant {
				v = x
			}
		}
		got := ConstantGradientSteps(v.Config(v.DefaultLR()), tc.g, 1, 10, 100)
		for i, w := range tc.want {
			if math.Abs(got[i]-w) > 5e-4*w {
				t.Errorf("%s, gradient %g: steps 1, 10, 100 are %.4g times the rate, torch %.4g", tc.variant, tc.g, got, tc.want)
				break
			}
		}
	}
}
