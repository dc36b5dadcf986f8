package compare

import (
	"strings"
	"testing"

	"github.com/nettrain/nettrain/internal/optim"
)

// TestDivergenceCauseDescribesTheStep: when every variant of a family
// diverged at its default rate, the finding describes that family's step
// as torch.optim takes it at its defaults (internal/optim's
// TestConstantGradientSteps holds these figures to torch): RMSprop's
// first step is 10 times its rate, not about the rate; AdaDelta's a small
// fraction of it; Nesterov's first SGD step 1.9 times plain SGD's.
func TestDivergenceCauseDescribesTheStep(t *testing.T) {
	tests := []struct {
		family string
		want   []string
		not    []string
	}{
		{"sgd", []string{"An sgd step is the learning rate times the gradient", "nesterov's first step is 1.9 times that"}, nil},
		{"rmsprop", []string{"by 10×, 3.2× and 1.3× the learning rate at steps 1, 10 and 100"}, []string{"about the learning rate whatever"}},
		{"adadelta", []string{"by 0.0032×, 0.0035× and 0.0047× the learning rate at steps 1, 10 and 100"}, []string{"about the learning rate whatever"}},
		{"adagrad", []string{"by 1×, 0.32× and 0.1× the learning rate at steps 1, 10 and 100"}, nil},
		{"adam", []string{"by 1× the learning rate at steps 1, 10 and 100 alike"}, nil},
		{"nadam", []string{"by 1.1×, 0.84× and 1× the learning rate at steps 1, 10 and 100"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.family, func(t *testing.T) {
			var recs []Record
			var names []string
			rec := func(phase Phase, opt string, lr float64, seed uint64, diverged bool) Record {
				r := Record{Key: Key{Phase: phase, Optimizer: opt, LR: lr, Seed: seed}}
				r.Steps, r.BestVal, r.FinalVal, r.Diverged = 100, 1, 1, diverged
				r.FirstLoss, r.FirstGradNorm, r.MaxGradNorm, r.WeightNorm = 2, 0.3, 1e6, 10
				return r
			}
			for _, v := range optim.Variants() {
				if v.Optimizer != tc.family {
					continue
				}
				names = append(names, v.Name)
				d := v.DefaultLR()
				recs = append(recs, rec(PhaseTune, v.Name, d/100, 1, false), rec(PhaseTune, v.Name, d, 1, true),
					rec(PhaseFinal, v.Name, d/100, 1, false), rec(PhaseFinal, v.Name, d/100, 2, false))
			}
			other := "adam"
			if tc.family == "adam" {
				other = "sgd"
			}
			names = append(names, other)
			v, _ := variant(other)
			recs = append(recs, rec(PhaseTune, other, v.DefaultLR(), 1, false), rec(PhaseFinal, other, v.DefaultLR(), 1, false), rec(PhaseFinal, other, v.DefaultLR(), 2, false))
			sum := &Summary{}
			for _, n := range names {
				sum.Optimizers = append(sum.Optimizers, summarise(n, recs))
			}
			f := strings.Join(familyFindings(sum), "\n")
			for _, w := range tc.want {
				if !strings.Contains(f, w) {
					t.Errorf("the finding lacks %q:\n%s", w, f)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(f, w) {
					t.Errorf("the finding says %q:\n%s", w, f)
				}
			}
		})
	}
}
