package inspect

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/nettrain/nettrain/internal/testutil"
)

// TestScale: the speed-ups and Amdahl fractions of synthetic runs: a part
// that halves with 2 threads is fully parallel (16x at 16 cores), one that
// does not change is serial, one that takes 3/4 of its time is half
// parallel (1/(0.5 + 0.5/16) = 1.88 at 16 cores).
func TestScale(t *testing.T) {
	run := func(threads int, a, b, c float64) *BenchResult {
		return &BenchResult{Threads: threads, StepMS: a + b + c, Layers: []LayerTime{
			{Kind: "dense", ForwardMS: a / 2, BackwardMS: a / 2}, {Kind: "relu", ForwardMS: b}, {Kind: "dense", BackwardMS: c}}}
	}
	sc := Scale([]*BenchResult{run(1, 4, 2, 4), run(2, 2, 2, 3)})
	want := []struct {
		speedup, frac, proj float64
	}{{2, 1, 16}, {1, 0, 1}, {4.0 / 3, 0.5, 1 / (0.5 + 0.5/16)}}
	for i, w := range want {
		p := sc.Parts[i]
		if math.Abs(p.Speedup[0]-w.speedup) > 1e-12 || math.Abs(*p.ParallelFraction-w.frac) > 1e-12 || math.Abs(*p.Projected-w.proj) > 1e-12 {
			t.Errorf("part %d (%s): speed-up %v, fraction %v, projected %v; want %+v", i, p.Name, p.Speedup, *p.ParallelFraction, *p.Projected, w)
		}
	}
	if last := sc.Parts[len(sc.Parts)-1]; last.Name != "whole step" || math.Abs(last.Speedup[0]-10.0/7) > 1e-12 {
		t.Errorf("whole step: %+v", last)
	}
	// Parts that take no time have no fraction.
	if p := sc.Parts[3]; p.Name != "batch fill" || p.ParallelFraction != nil {
		t.Errorf("batch fill: %+v", p)
	}
}

// TestBenchInference: predictions are timed on the config's samples, at
// the batch asked for.
func TestBenchInference(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "d.csv"), []byte("a,b,y\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n"), 0o644)
	cfg := testutil.LoadConfig(t, dir, `name: inf
data: {train: d.csv, validation_split: 0}
model: {layers: [{dense: {units: 3}}, relu, {dense: {units: 2}}]}
loss: cross_entropy
optimizer: {name: sgd, lr: 0.1}
training: {epochs: 1, batch_size: 2}
`)
	r, err := BenchInference(cfg, InferenceOptions{Batch: 3, Batches: 20, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if r.Batch != 3 || r.Batches != 20 || r.Threads != 1 || !(r.SamplesPerS > 0) || !(r.LatencyMS > 0) || r.LatencyP90MS < r.LatencyMS {
		t.Errorf("result %+v", r)
	}
}
