package inspect

import "fmt"

// ProjectCores is the core count Scale projects each part's speed-up to.
const ProjectCores = 16

// Scaling is how a training step's parts speed up with threads: runs of
// Bench at several thread counts, the first the baseline.
type Scaling struct {
	Threads []int         `json:"threads"`
	Parts   []ScalingPart `json:"parts"`
}

// ScalingPart is one part of the step (a layer's forward and backward, the
// batch fill, the loss, the optimizer, or the whole step).
type ScalingPart struct {
	Index string `json:"index"` // the layer's index; "" for the other parts
	Name  string `json:"name"`
	// Speedup[i] is the part's time at Threads[0] over its time at
	// Threads[i+1].
	Speedup []float64 `json:"speedup"`
	// ParallelFraction is p of Amdahl's law, speed-up = 1/((1-p) + p/n)
	// for n times the baseline's threads, fitted to the largest thread
	// count (clamped to [0, 1]); Projected is what it predicts at
	// ProjectCores cores. Nil when the part takes no measurable time.
	ParallelFraction *float64 `json:"parallel_fraction,omitempty"`
	Projected        *float64 `json:"projected_speedup,omitempty"`
}

// Scale compares runs of the same config at increasing thread counts.
func Scale(rs []*BenchResult) *Scaling {
	sc := &Scaling{}
	for _, r := range rs {
		sc.Threads = append(sc.Threads, r.Threads)
	}
	part := func(index, name string, ms func(r *BenchResult) float64) {
		p := ScalingPart{Index: index, Name: name}
		base := ms(rs[0])
		for _, r := range rs[1:] {
			sp := 0.0
			if t := ms(r); t > 0 {
				sp = base / t
			}
			p.Speedup = append(p.Speedup, sp)
		}
		last := rs[len(rs)-1]
		n := float64(last.Threads) / float64(rs[0].Threads)
		if sp := p.Speedup[len(p.Speedup)-1]; base > 0 && sp > 0 && n > 1 {
			// 1/s = (1-p) + p/n  =>  p = (1 - 1/s) / (1 - 1/n)
			f := min(1, max(0, (1-1/sp)/(1-1/n)))
			cores := float64(ProjectCores) / float64(rs[0].Threads)
			proj := 1 / ((1 - f) + f/cores)
			p.ParallelFraction, p.Projected = &f, &proj
		}
		sc.Parts = append(sc.Parts, p)
	}
	for i, l := range rs[0].Layers {
		if l.InNext {
			continue // no time of its own: the next layer's includes it
		}
		part(fmt.Sprint(i), l.Kind, func(r *BenchResult) float64 { return r.Layers[i].ForwardMS + r.Layers[i].BackwardMS })
	}
	part("", "batch fill", func(r *BenchResult) float64 { return r.DataMS })
	part("", "loss", func(r *BenchResult) float64 { return r.LossMS })
	part("", "optimizer", func(r *BenchResult) float64 { return r.OptimizerMS })
	part("", "whole step", func(r *BenchResult) float64 { return r.StepMS })
	return sc
}
