package backprop

import (
	"math"
	"math/rand/v2"
	"testing"
)

// gradCase is one row of a layer kind's gradient-check table: a network
// of specs built by chain from the per-sample input, a loss and a batch.
type gradCase struct {
	name string
	in   []int
	fs   []func([]int) Spec
	loss string
	n    int
}

// runGradCases checks every parameter and the input of each case's
// float64 network against central differences (GradCheck), at gradTol.
func runGradCases(t *testing.T, cases []gradCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			net := NewNetwork[float64](tc.in, chain(tc.in, tc.fs...), tc.loss, tc.n)
			net.Init(rand.New(rand.NewPCG(1, 1)))
			x, tg := randomBatch(net, tc.n, 3)
			for i := range x {
				x[i] *= 2 // reach both sides of the kinks and the tails
			}
			for _, r := range GradCheck(net, x, tg, tc.n, CheckOptions{Input: true, Seed: 1}) {
				if r.MaxErr > gradTol || math.IsNaN(r.MaxErr) {
					t.Errorf("%s: max relative error %.3g at %d (analytic %.9g, numeric %.9g)", r.Tensor, r.MaxErr, r.WorstIdx, r.Analytic, r.Numeric)
				}
				if r.Checked == 0 {
					t.Errorf("%s: nothing checked", r.Tensor)
				}
			}
		})
	}
}

// denseTo returns a chain constructor of a dense layer of units.
func denseTo(units int) func([]int) Spec {
	return func(in []int) Spec { return denseS(in, units) }
}

// flat returns a chain constructor of flatten.
func flat(in []int) Spec { return FlattenSpec{in} }
