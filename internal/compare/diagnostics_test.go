package compare

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestDiagnosticsOfASyntheticProblem feeds the probe batch gradients of a
// problem whose figures are known: a 1000-value slab in two tensors, 600
// of the first tensor's 800 entries always exactly zero (a sparse input),
// the other 400 entries the mean gradient 1 plus per-sample noise of
// standard deviation 10 averaged over a batch of 32. The noise scale is
// then tr(Σ_1)/|G|² = 400·100/400 = 100 samples; the weights move by 0.1%
// of their norm per step.
func TestDiagnosticsOfASyntheticProblem(t *testing.T) {
	const (
		n, batch = 1000, 32
		sigma    = 10.0
	)
	p := &gradProbe[float64]{prevG: make([]float64, n), prevW: make([]float64, n),
		params: []probeParam{{name: "emb", off: 0, len: 800}, {name: "out", off: 800, len: 200}}}
	p.zeros = make([]int64, 2)
	rng := rand.New(rand.NewPCG(1, 2))
	g := make([]float64, n)
	w := make([]float64, n)
	for i := range w {
		w[i] = 1
	}
	for step := int64(1); step <= 400*diagEvery+1; step++ {
		for i := range g {
			if i < 600 {
				g[i] = 0
				continue
			}
			g[i] = 1 + sigma/math.Sqrt(batch)*rng.NormFloat64()
		}
		for i := range w {
			w[i] *= 1.001 // |Δw| = 0.001 |w|
		}
		p.observe(step, g, w, batch)
	}
	d := p.result()
	if d.Pairs != 400 || d.BatchSize != batch {
		t.Fatalf("pairs %d, batch %d", d.Pairs, d.BatchSize)
	}
	if math.Abs(d.Params[0].Sparsity-0.75) > 1e-12 || d.Params[1].Sparsity != 0 || math.Abs(d.Sparsity-0.6) > 1e-12 {
		t.Errorf("sparsity %g overall, %+v", d.Sparsity, d.Params)
	}
	if math.Abs(d.NoiseScale-100)/100 > 0.1 {
		t.Errorf("noise scale %g, want 100 within 10%%", d.NoiseScale)
	}
	if math.Abs(d.UpdateRatio-0.001)/0.001 > 0.01 {
		t.Errorf("update ratio %g, want 0.001", d.UpdateRatio)
	}
	// Noise-free gradients: a noise scale of 0.
	q := &gradProbe[float64]{prevG: make([]float64, 2), prevW: make([]float64, 2), params: []probeParam{{name: "a", len: 2}}, zeros: make([]int64, 1)}
	for step := int64(1); step <= 4*diagEvery; step++ {
		q.observe(step, []float64{1, 2}, []float64{1, 1}, 8)
	}
	if d := q.result(); d.NoiseScale != 0 || d.Sparsity != 0 || d.UpdateRatio != 0 {
		t.Errorf("noise-free: %+v", d)
	}
}

// TestProbeEpochsOfDiagEverySteps: when every diagEvery-th step is an
// epoch's short last batch, the pairs start at the next full batch rather
// than never (a text LSTM at stride 32 had no gradient numbers).
func TestProbeEpochsOfDiagEverySteps(t *testing.T) {
	p := &gradProbe[float64]{prevG: make([]float64, 2), prevW: make([]float64, 2), params: []probeParam{{name: "a", len: 2}}, zeros: make([]int64, 1)}
	for step := int64(1); step <= 10*diagEvery; step++ {
		n := 8
		if step%diagEvery == 0 {
			n = 3 // the epoch's last batch
		}
		p.observe(step, []float64{1, float64(step % 3)}, []float64{1, 1}, n)
	}
	// Steps 17-18, 33-34, ...: one pair per epoch after the first.
	if d := p.result(); d.Pairs != 9 {
		t.Errorf("%d pairs, want 9", d.Pairs)
	}
}

// TestProbeAllocatesNothing: measuring gradients keeps a step free of
// allocations.
func TestProbeAllocatesNothing(t *testing.T) {
	p := &gradProbe[float32]{prevG: make([]float32, 100), prevW: make([]float32, 100), params: []probeParam{{name: "a", len: 100}}, zeros: make([]int64, 1)}
	g, w := make([]float32, 100), make([]float32, 100)
	step := int64(0)
	if a := testing.AllocsPerRun(200, func() {
		step++
		p.observe(step, g, w, 4)
	}); a != 0 {
		t.Errorf("%g allocations per step", a)
	}
}

// TestWhyFindings: the report relates the ranking to the measured
// gradients in plain words.
func TestWhyFindings(t *testing.T) {
	final := func(opt string, sparsity, noise, ratio, moved float64) Record {
		r := Record{Key: Key{Phase: PhaseFinal, Optimizer: opt, LR: 0.1, Seed: 1}}
		r.BestVal, r.FinalVal, r.Steps, r.Displacement = 1, 1, 100, &moved
		r.Grad = &Diagnostics{Pairs: 10, Sparsity: sparsity, NoiseScale: noise, UpdateRatio: ratio, BatchSize: 32,
			Params: []ParamDiag{{Name: "0.weight (dense)", Size: 5000, Sparsity: 0.97}, {Name: "0.bias (dense)", Size: 50, Sparsity: 0}}}
		return r
	}
	recs := []Record{final("adagrad", 0.9, 1000, 1e-3, 0.5), final("momentum", 0.9, 1000, 2e-3, 0.8), final("sgd", 0.9, 1000, 1e-5, 1e-3)}
	sum := &Summary{}
	for _, n := range []string{"adagrad", "momentum", "sgd"} {
		sum.Optimizers = append(sum.Optimizers, summarise(n, recs))
	}
	shape, steps := whyFindings(sum)
	f := strings.Join(append(shape, steps...), "\n")
	for _, want := range []string{
		"Gradients are sparse: 97% of the gradient of 0.weight (dense) (5000 values) are exact zeros, 90% over all weights",
		"Here the best adaptive optimizer, adagrad, ranked 1 and the best SGD variant, momentum, ranked 2, within the seed spread of each other",
		"The gradient noise scale is about 1000 samples against a batch of 32 (median over the 3 final runs, each 1000; 10 pairs of consecutive batches per run), 31 times the batch: each batch gradient is mostly noise",
		"Momentum ranked 2, plain sgd 3.",
		"adagrad 0.001, momentum 0.002, sgd 1e-05.",
		"barely left the initial weights, which alone can explain a low rank: sgd (0.1% after 100 steps).",
	} {
		if !strings.Contains(f, want) {
			t.Errorf("findings lack %q:\n%s", want, f)
		}
	}
	// The findings the guide quotes under "What the gradients say": those
	// on the gradients themselves, in the report's order, and not the
	// step sizes.
	all, grad := findings(sum)
	if len(grad) != 2 || !strings.HasPrefix(grad[0], "Gradients are sparse") || !strings.HasPrefix(grad[1], "The gradient noise scale") {
		t.Errorf("gradient findings %q, want the sparsity and the noise scale", grad)
	}
	if i := slices.Index(all, grad[0]); i < 0 || len(all) < i+2 || all[i+1] != grad[1] {
		t.Errorf("gradient findings %q are not in the findings %q in order", grad, all)
	}
}

// TestStepBudgetPlotsSteps: with a budget in steps, the curves' x axis is
// in steps, and every record carries gradient diagnostics.
func TestStepBudgetPlotsSteps(t *testing.T) {
	dir := t.TempDir()
	writeBlobs(t, dir)
	cfg := config(t, dir)
	o := options(cfg, filepath.Join(dir, "out"))
	o.Optimizers, o.Seeds, o.Epochs = []string{"sgd", "adam"}, 1, 100
	steps := 40
	o.Steps = &steps
	if _, err := Run(cfg, o); err != nil {
		t.Fatal(err)
	}
	svg, err := os.ReadFile(filepath.Join(o.OutDir, "curves.svg"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(svg), ">step<") || strings.Contains(string(svg), ">epoch<") {
		t.Error("the curves of a step budget are not against steps")
	}
	recs, _ := readRecords(o.OutDir)
	for _, r := range recs {
		if r.Grad == nil || r.Grad.Pairs != 2 || r.Steps != 40 {
			t.Errorf("%v: %d steps, diagnostics %+v", r.Key, r.Steps, r.Grad)
		}
	}
}
