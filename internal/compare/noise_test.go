package compare

import (
	"strings"
	"testing"
)

// TestNoiseFindingStatesItsBasis: the finding on the gradient noise scale
// says how many measurements it rests on (pairs per run, runs that gave an
// estimate) and their spread, and interprets the figure (accurate, noisy,
// comparable) only from at least minNoisePairs pairs per run and an
// estimate in at least half of the final runs (and minNoiseRuns).
func TestNoiseFindingStatesItsBasis(t *testing.T) {
	interpretations := []string{"batch gradients are accurate", "mostly noise", "comparable to its signal"}
	tests := []struct {
		name      string
		pairs     int
		noise     []float64 // per final run; -1: no estimate
		interpret bool
		want      []string
	}{
		{"one pair per run, as 24 steps give (iris)", 1, []float64{4.8, -1, 2870, 102, 152, 1224, 22.6, 8.8, 10},
			false, []string{"about 62 samples", "median over the 8 of 9 final runs that gave an estimate", "range 4.8 to 2900", "1 pair of consecutive batches per run", "too few pairs per run to interpret"}},
		{"enough pairs, every run estimated", 20, []float64{400, 350, 500, 380, 420, 390},
			true, []string{"about 400 samples", "median over the 6 final runs", "range 350 to 500", "20 pairs of consecutive batches per run", "mostly noise"}},
		{"enough pairs, most runs without an estimate", 30, []float64{-1, -1, 250, -1, 300, -1},
			false, []string{"median over the 2 of 6 final runs that gave an estimate", "not interpreted, since most final runs gave no estimate"}},
		{"no run gave an estimate", 30, []float64{-1, -1, -1},
			false, []string{"could not be estimated", "none of the 3 final runs"}},
		{"three pairs per run", 3, []float64{7, 8, 9, 6},
			false, []string{"3 pairs of consecutive batches per run", "too few pairs per run to interpret (at least 8 are needed: from few pairs,"}},
		{"enough pairs, two runs", 10, []float64{300, 500},
			false, []string{"median over the 2 final runs", "too few runs to interpret"}},
		{"enough pairs, accurate batches", 8, []float64{5, 6, 7, -1},
			true, []string{"about 6 samples", "3 of 4 final runs", "batch gradients are accurate"}},
	}
	opts := []string{"sgd", "momentum", "adam"}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var recs []Record
			for i, n := range tc.noise {
				r := Record{Key: Key{Phase: PhaseFinal, Optimizer: opts[i%len(opts)], LR: 0.1, Seed: uint64(1 + i/len(opts))}}
				r.BestVal, r.FinalVal, r.Steps = 1, 1, int64(16*tc.pairs+8)
				r.Grad = &Diagnostics{Pairs: tc.pairs, NoiseScale: n, UpdateRatio: 0.01, BatchSize: 16,
					Params: []ParamDiag{{Name: "0.weight (dense)", Size: 100, Sparsity: 0.01}}}
				recs = append(recs, r)
			}
			sum := &Summary{}
			for _, n := range opts {
				sum.Optimizers = append(sum.Optimizers, summarise(n, recs))
			}
			shape, _ := whyFindings(sum)
			var line string
			for _, l := range shape {
				if strings.Contains(l, "noise scale") {
					line = l
				}
			}
			for _, w := range tc.want {
				if !strings.Contains(line, w) {
					t.Errorf("the noise finding lacks %q:\n%s", w, line)
				}
			}
			for _, w := range interpretations {
				if strings.Contains(line, w) && !tc.interpret {
					t.Errorf("the noise finding interprets too few measurements (%q):\n%s", w, line)
				}
			}
		})
	}
}
