package compare

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// GradSummary is an optimizer's gradient diagnostics: medians over its
// final runs at the chosen rate.
type GradSummary struct {
	Sparsity    float64 `json:"sparsity"`
	NoiseScale  float64 `json:"noise_scale"` // samples; -1: no run gave an estimate
	UpdateRatio float64 `json:"update_ratio"`
	BatchSize   int     `json:"batch_size"`
	// Runs counts the runs with diagnostics, NoiseRuns those of them that
	// gave a noise scale (NoiseScale is the median over these, NoiseMin
	// and NoiseMax their range, -1 when there are none); PairsMin and
	// PairsMax are the fewest and most pairs a run measured.
	Runs      int         `json:"runs"`
	NoiseRuns int         `json:"noise_scale_runs"`
	NoiseMin  float64     `json:"noise_scale_min"`
	NoiseMax  float64     `json:"noise_scale_max"`
	PairsMin  int         `json:"pairs_min"`
	PairsMax  int         `json:"pairs_max"`
	Params    []ParamDiag `json:"params"`
}

// gradSummary is the medians of the records' diagnostics (nil: none).
func gradSummary(recs []Record) *GradSummary {
	var sp, ns, ur []float64
	var params [][]ParamDiag
	batch := 0
	g := &GradSummary{NoiseScale: -1, NoiseMin: -1, NoiseMax: -1}
	for _, r := range recs {
		d := r.Grad
		if d == nil {
			continue
		}
		sp = append(sp, d.Sparsity)
		if d.NoiseScale >= 0 {
			ns = append(ns, d.NoiseScale)
		}
		ur = append(ur, d.UpdateRatio)
		params = append(params, d.Params)
		batch = d.BatchSize
		if g.Runs == 0 || d.Pairs < g.PairsMin {
			g.PairsMin = d.Pairs
		}
		g.PairsMax = max(g.PairsMax, d.Pairs)
		g.Runs++
	}
	if len(sp) == 0 {
		return nil
	}
	g.Sparsity, g.UpdateRatio, g.BatchSize = median(sp), median(ur), batch
	if g.NoiseRuns = len(ns); len(ns) > 0 {
		g.NoiseScale, g.NoiseMin, g.NoiseMax = median(ns), slices.Min(ns), slices.Max(ns)
	}
	for k, p := range params[0] {
		var v []float64
		for _, ps := range params {
			if k < len(ps) {
				v = append(v, ps[k].Sparsity)
			}
		}
		p.Sparsity = median(v)
		g.Params = append(g.Params, p)
	}
	return g
}

// sig2 formats v with 2 significant digits, without an exponent: the
// noise scale is no more precise than that.
func sig2(v float64) string {
	if v == 0 || !finite(v) {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	e := math.Pow(10, 1-math.Floor(math.Log10(math.Abs(v))))
	return strconv.FormatFloat(math.Round(v*e)/e, 'f', -1, 64)
}

// Thresholds of the plain-words findings.
const (
	sparseGrad    = 0.5  // a parameter whose gradient is this fraction zeros is "sparse"
	denseGrad     = 0.05 // below this in every parameter, gradients are "dense"
	noisyBatch    = 4    // noise scale above this many batches: "mostly noise"
	stalledMotion = 0.1  // total relative weight motion below this: "barely moved"
	// The noise scale is interpreted (noiseFinding) only when it rests
	// on at least minNoisePairs pairs in every run and on an estimate
	// from at least half of the runs, and from minNoiseRuns or more. From
	// a single pair, g1·g2 is a noisy estimate of |G|² that can come out
	// near zero (a huge noise scale) or negative (none): in a comparison on
	// iris of 24 steps (one pair per run), the 18 final runs gave
	// estimates from 4.8 to 2900, and none in 7 of them. Averaging k pairs divides the noise of g1·g2 by
	// about √k; runs without an estimate are left out of the median, so
	// when they are most of them the median describes the few others.
	minNoisePairs = 8
	minNoiseRuns  = 3
)

// whyFindings relate the ranking to the gradient diagnostics in plain
// words, stating what was measured and which optimizers ranked where:
// shape about the gradients (sparsity, noise scale), steps about the
// optimizers' step sizes and how far they moved the weights
// (motionFindings).
func whyFindings(sum *Summary) (shape, steps []string) {
	rank := map[string]int{}
	var withGrad []OptimizerSummary
	var all []Record
	for i, s := range sum.Optimizers {
		if s.Seeds > 0 {
			rank[s.Name] = i + 1
		}
		if s.Grad != nil {
			withGrad = append(withGrad, s)
		}
		all = append(all, s.finalRecords...)
	}
	if len(rank) == 0 {
		return nil, nil
	}
	steps = motionFindings(sum, withGrad)
	prob := gradSummary(all)
	if prob == nil {
		return nil, steps
	}
	shape = whyShape(sum, prob, rank)
	return shape, steps
}

// whyShape is whyFindings' part about the gradients themselves: prob is
// the diagnostics of every final run, rank each optimizer's rank.
func whyShape(sum *Summary, prob *GradSummary, rank map[string]int) []string {
	var f []string
	bestOf := func(adaptive bool) (OptimizerSummary, int) {
		for i, s := range sum.Optimizers {
			if s.Seeds > 0 && (family(s.Name) != "sgd") == adaptive {
				return s, i + 1
			}
		}
		return OptimizerSummary{}, 0
	}
	a, ar := bestOf(true)
	sg, sr := bestOf(false)
	versus := ""
	if ar > 0 && sr > 0 {
		versus = fmt.Sprintf(" Here the best adaptive optimizer, %s, ranked %d and the best SGD variant, %s, ranked %d", a.Name, ar, sg.Name, sr)
		switch {
		case a.Seeds < 2 || sg.Seeds < 2 || math.Abs(a.BestMean-sg.BestMean) <= a.BestStd+sg.BestStd:
			versus += ", within the seed spread of each other: these runs do not show an advantage either way."
		case ar < sr:
			versus += ", apart by more than the seed spread, consistent with that."
		default:
			versus += ", apart by more than the seed spread: the advantage did not show within this budget."
		}
	}
	// Sparsity.
	ps := slices.Clone(prob.Params)
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Sparsity > ps[j].Sparsity })
	switch {
	case len(ps) > 0 && ps[0].Sparsity >= sparseGrad:
		f = append(f, fmt.Sprintf("Gradients are sparse: %s of the gradient of %s (%d values) are exact zeros, %s over all weights, so in a given batch most of those weights get no signal. Per-parameter adaptive rates (adagrad, rmsprop, adam and its kin) scale each weight's step by its own gradient history, so rarely-updated weights still take full steps when they do get one.%s",
			pct(ps[0].Sparsity), ps[0].Name, ps[0].Size, pct(prob.Sparsity), versus))
	case len(ps) > 0 && ps[0].Sparsity < denseGrad:
		f = append(f, fmt.Sprintf("Gradients are dense (at most %s zeros in any parameter, in %s): sparsity gives per-parameter rates no particular advantage here.", pct(ps[0].Sparsity), ps[0].Name))
	case len(ps) > 0:
		f = append(f, fmt.Sprintf("Gradients are partly sparse: %s zeros in %s, %s over all weights.", pct(ps[0].Sparsity), ps[0].Name, pct(prob.Sparsity)))
	}
	// Noise.
	if b := prob.BatchSize; b > 0 {
		f = append(f, noiseFinding(prob, rank))
	}
	return f
}

// noiseFinding states the gradient noise scale of every final run
// (prob): the figure, how many runs and pairs it rests on, its range, and
// only when they are enough what it means.
func noiseFinding(prob *GradSummary, rank map[string]int) string {
	pairs := fmt.Sprintf("%d pair", prob.PairsMin)
	if prob.PairsMin != 1 {
		pairs += "s"
	}
	if prob.PairsMax != prob.PairsMin {
		pairs = fmt.Sprintf("%d to %d pairs", prob.PairsMin, prob.PairsMax)
	}
	pairs += " of consecutive batches per run"
	if prob.NoiseRuns == 0 {
		return fmt.Sprintf("The gradient noise scale could not be estimated: in none of the %d final runs did consecutive batch gradients agree on average (%s).", prob.Runs, pairs)
	}
	runs := fmt.Sprintf("the %d final runs", prob.Runs)
	if prob.NoiseRuns < prob.Runs {
		runs = fmt.Sprintf("the %d of %d final runs that gave an estimate", prob.NoiseRuns, prob.Runs)
	}
	n, b := prob.NoiseScale, float64(prob.BatchSize)
	spread := fmt.Sprintf("range %s to %s", sig2(prob.NoiseMin), sig2(prob.NoiseMax))
	if sig2(prob.NoiseMin) == sig2(prob.NoiseMax) {
		spread = "each " + sig2(prob.NoiseMin)
	}
	line := fmt.Sprintf("The gradient noise scale is about %s samples against a batch of %d (median over %s, %s; %s)",
		sig2(n), prob.BatchSize, runs, spread, pairs)
	switch {
	case prob.PairsMin < minNoisePairs:
		return line + fmt.Sprintf(": too few pairs per run to interpret (at least %d are needed: from few pairs, the estimate of the mean gradient's size can come out near zero or negative).", minNoisePairs)
	case 2*prob.NoiseRuns < prob.Runs:
		return line + ": not interpreted, since most final runs gave no estimate (their consecutive gradients did not agree on average) and the others need not describe them; an interpretation needs an estimate from at least half of the final runs."
	case prob.NoiseRuns < minNoiseRuns:
		return line + fmt.Sprintf(": too few runs to interpret (at least %d are needed).", minNoiseRuns)
	}
	switch {
	case n > noisyBatch*b:
		line += fmt.Sprintf(", %.0f times the batch: each batch gradient is mostly noise, which favours averaging over steps (momentum, Adam's first moment) or smaller rates.", n/b)
	case n < b:
		line += ": batch gradients are accurate, so progress is limited by the step size and the curvature rather than by noise."
	default:
		line += ": the noise in a batch gradient is comparable to its signal."
	}
	if m, ok := rank["momentum"]; ok {
		if s, ok := rank["sgd"]; ok {
			line += fmt.Sprintf(" Momentum ranked %d, plain sgd %d.", m, s)
		}
	}
	return line
}

// motionFindings are the findings on how far the optimizers moved the
// weights: the size of one step (withGrad, the optimizers with gradient
// diagnostics), and the optimizers whose final runs ended within
// stalledMotion of the initial weights, as measured when they ended
// (records without that measurement get no such finding).
func motionFindings(sum *Summary, withGrad []OptimizerSummary) []string {
	var f []string
	if len(withGrad) > 0 {
		var parts []string
		for _, s := range withGrad {
			parts = append(parts, fmt.Sprintf("%s %s", s.Name, g4(s.Grad.UpdateRatio)))
		}
		f = append(f, fmt.Sprintf("Step size relative to the weights, |Δw|/|w| of one step at the chosen rate, averaged over the measured steps (every %dth; in ranking order): %s.", diagEvery, strings.Join(parts, ", ")))
	}
	var stalled []string
	for _, s := range sum.Optimizers {
		if s.Displacement == nil || *s.Displacement >= stalledMotion {
			continue
		}
		var steps []float64
		for _, r := range s.finalRecords {
			if !r.Diverged && finite(r.BestVal) {
				steps = append(steps, float64(r.Steps))
			}
		}
		stalled = append(stalled, fmt.Sprintf("%s (%s after %.0f steps)", s.Name, pct(*s.Displacement), median(steps)))
	}
	if len(stalled) > 0 {
		f = append(f, fmt.Sprintf("Measured at the end of the final runs, these optimizers left the weights less than %s of their initial norm away from where they started (|w_end − w_0|/|w_0|, median over seeds), i.e. they barely left the initial weights, which alone can explain a low rank: %s.", pct(stalledMotion), strings.Join(stalled, ", ")))
	}
	return f
}

// pct formats a fraction as a percentage.
func pct(v float64) string {
	switch {
	case v >= 0.995 && v < 1:
		return fmt.Sprintf("%.1f%%", 100*v)
	case v < 0.01 && v > 0:
		return fmt.Sprintf("%.2g%%", 100*v)
	}
	return fmt.Sprintf("%.0f%%", 100*v)
}
