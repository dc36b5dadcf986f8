package backprop

import (
	"math"
	"testing"
)

// TestPointwiseActivations: the gradient check through elu, gelu (exact
// and tanh) and silu, on vectors and sequences, and values by hand.
func TestPointwiseActivations(t *testing.T) {
	kinds := map[string]func([]int) Spec{
		"elu":       func(in []int) Spec { return ELUSpec{In: in, Alpha: 1} },
		"elu 0.3":   func(in []int) Spec { return ELUSpec{In: in, Alpha: 0.3} },
		"gelu":      func(in []int) Spec { return GELUSpec{In: in} },
		"gelu tanh": func(in []int) Spec { return GELUSpec{In: in, Tanh: true} },
		"silu":      func(in []int) Spec { return SiLUSpec{In: in} },
	}
	var cases []gradCase
	for name, f := range kinds {
		cases = append(cases,
			gradCase{name + ", ce", []int{5}, []func([]int) Spec{denseTo(7), f, denseTo(4)}, CrossEntropy, 3},
			gradCase{name + ", sequence mse", []int{3, 4}, []func([]int) Spec{denseTo(6), f, denseTo(2)}, MSE, 2},
			gradCase{name + ", batch 1 half-sse", []int{4}, []func([]int) Spec{f}, HalfSSE, 1},
		)
	}
	runGradCases(t, cases)

	// Values by hand (torch.nn.functional.elu / gelu / silu and their
	// gradients at a few points).
	x := []float64{-2, -0.5, 0, 0.5, 3}
	for _, c := range []struct {
		spec      Spec
		want, dyx []float64
	}{
		{ELUSpec{In: []int{5}, Alpha: 1}, []float64{math.Exp(-2) - 1, math.Exp(-0.5) - 1, 0, 0.5, 3},
			[]float64{math.Exp(-2), math.Exp(-0.5), 1, 1, 1}},
		{GELUSpec{In: []int{5}}, []float64{-0.04550026389635842, -0.15426876936299344, 0, 0.34573123063700656, 2.99595030590511},
			[]float64{-0.08523180107819692, 0.13250487534383712, 0.5, 0.8674951246561629, 1.011945647204184}},
		{SiLUSpec{In: []int{5}}, []float64{-0.2384058440442351, -0.1887703343990727, 0, 0.3112296656009273, 2.8577223804672998},
			[]float64{-0.09078424878489547, 0.2600388126973482, 0.5, 0.7399611873026519, 1.0881041060151693}},
	} {
		l := newLayer[float64](c.spec, nil, 1)
		y := l.Forward(nil, x, 1)
		dx := l.Backward(nil, []float64{1, 1, 1, 1, 1}, 1, true)
		for i := range x {
			if math.Abs(y[i]-c.want[i]) > 1e-12 || math.Abs(dx[i]-c.dyx[i]) > 1e-8 {
				t.Errorf("%s at %v: y %.12g dy/dx %.10g, want %.12g %.10g", c.spec.Kind(), x[i], y[i], dx[i], c.want[i], c.dyx[i])
			}
		}
	}
}
