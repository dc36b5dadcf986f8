package optim

import "math"

// ConstantGradientSteps is how far the optimizer c moves one weight, in
// units of its learning rate, at each of the steps at (1-based,
// ascending) when every step's gradient is g and the weight starts at 0:
// |w_t - w_(t-1)| / lr through the float64 reference. It describes the
// rule as it runs (torch's, whose state starts at zero: RMSprop's first
// step is 1/sqrt(1-alpha) = 10 times the rate at alpha 0.99, Nesterov's
// (1+momentum) times SGD's), for the reports that explain a divergence.
// A rate of 0 gives NaNs.
func ConstantGradientSteps(c Config, g float64, at ...int) []float64 {
	o := New[float64](c, 1)
	w, grad := []float64{0}, []float64{g}
	lr := c.LearningRate()
	out := make([]float64, 0, len(at))
	for t := 1; len(out) < len(at); t++ {
		prev := w[0]
		Step(o, w, grad)
		if t == at[len(out)] {
			out = append(out, math.Abs(w[0]-prev)/lr)
		}
	}
	return out
}
