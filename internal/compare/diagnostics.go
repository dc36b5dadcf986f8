package compare

import (
	"math"

	"github.com/nettrain/nettrain/internal/backprop"
)

// diagEvery is how often (in steps) a trial measures its gradients: at
// steps k*diagEvery and the step after (a pair of consecutive batches at
// nearly the same weights).
const diagEvery = 16

// DiagEvery is diagEvery, for the pages that explain its absence.
const DiagEvery = diagEvery

// Diagnostics are a trial's cheap gradient measurements, taken on pairs of
// consecutive steps every diagEvery steps into buffers allocated once per
// trial, so a step still allocates nothing.
type Diagnostics struct {
	Pairs int `json:"pairs"` // measured pairs of steps
	// Sparsity is the fraction of exactly-zero gradient entries over the
	// whole parameter slab, averaged over the measured steps; Params
	// breaks it down per parameter tensor.
	Sparsity float64     `json:"sparsity"`
	Params   []ParamDiag `json:"params"`
	// NoiseScale is the gradient noise scale B_simple = B tr(Σ_B) / |G|²
	// (McCandlish et al. 2018, "An empirical model of large-batch
	// training"), in samples: B the batch size, tr(Σ_B) the variance of a
	// batch gradient about the mean gradient G. From two consecutive batch
	// gradients g1, g2 (independent batches at nearly the same weights),
	// |g1-g2|²/2 estimates tr(Σ_B) and g1·g2 estimates |G|²; each is
	// averaged over the pairs before the ratio. -1 when the mean gradient
	// is not measurably different from zero. A batch much smaller than
	// the noise scale gives a noisy gradient; much larger, little gain.
	NoiseScale float64 `json:"noise_scale"`
	// UpdateRatio is the mean over pairs of |Δw| / |w|: how far one
	// optimizer step moves the weights, relative to their size.
	UpdateRatio float64 `json:"update_ratio"`
	BatchSize   int     `json:"batch_size"`
}

// ParamDiag is one parameter tensor's gradient sparsity.
type ParamDiag struct {
	Name     string  `json:"name"` // e.g. "0.weight (dense)"
	Size     int     `json:"size"`
	Sparsity float64 `json:"sparsity"`
}

// gradProbe measures Diagnostics from a network's gradient and weight
// slabs. Its buffers are allocated by newGradProbe; observe allocates
// nothing.
type gradProbe[T backprop.Float] struct {
	params []probeParam
	prevG  []T // the first gradient of the pair
	prevW  []T // the weights after the first step of the pair
	// Running sums.
	zeros       []int64 // per parameter
	slabZeros   int64
	measured    int // gradients measured
	pairs       int
	diffSq, dot float64 // sums of |g1-g2|²/2 and g1·g2
	ratio       float64 // sum of |Δw|/|w|
	batch       int
	pending     bool // prevG and prevW hold a pair's first step
	due         bool // a pair is to start at the next full batch
}

type probeParam struct {
	name     string
	off, len int
}

func newGradProbe[T backprop.Float](net *backprop.Network[T]) *gradProbe[T] {
	p := &gradProbe[T]{prevG: make([]T, len(net.G)), prevW: make([]T, len(net.W))}
	for i, ps := range net.ByLayer {
		kind := net.Specs[i].Kind()
		for _, q := range ps {
			p.params = append(p.params, probeParam{name: q.Name + " (" + kind + ")", off: q.Offset, len: len(q.G)})
		}
	}
	p.zeros = make([]int64, len(p.params))
	return p
}

// observe is called after the update of step (1-based) with the step's
// gradient g (as the update used it) and the updated weights w, for a
// batch of n samples. Only pairs of full batches count (an epoch's last
// batch may be smaller): the largest n seen is the batch size.
//
// A pair starts at every diagEvery-th step, or at the first full batch
// after it when that step's batch is short (an epoch of diagEvery steps
// would otherwise never be measured).
func (p *gradProbe[T]) observe(step int64, g, w []T, n int) {
	p.batch = max(p.batch, n)
	due := p.due || step%diagEvery == 0
	switch {
	case n < p.batch:
		p.pending = false
		p.due = due
	case p.pending:
		p.pending = false
		p.due = step%diagEvery == 0 // a period begins here: its pair next
		p.countZeros(g)
		var dd, dot, dw, ww float64
		for i, x := range g {
			y := p.prevG[i]
			d := float64(x) - float64(y)
			dd += d * d
			dot += float64(x) * float64(y)
			u := float64(w[i]) - float64(p.prevW[i])
			dw += u * u
			ww += float64(p.prevW[i]) * float64(p.prevW[i])
		}
		p.diffSq += dd / 2
		p.dot += dot
		if ww > 0 {
			p.ratio += math.Sqrt(dw / ww)
		}
		p.pairs++
	case due:
		p.countZeros(g)
		copy(p.prevG, g)
		copy(p.prevW, w)
		p.pending, p.due = true, false
	}
}

func (p *gradProbe[T]) countZeros(g []T) {
	for k, q := range p.params {
		var z int64
		for _, x := range g[q.off : q.off+q.len] {
			if x == 0 {
				z++
			}
		}
		p.zeros[k] += z
		p.slabZeros += z
	}
	p.measured++
}

// result is the diagnostics measured so far (nil before any pair).
func (p *gradProbe[T]) result() *Diagnostics {
	if p.pairs == 0 {
		return nil
	}
	d := &Diagnostics{Pairs: p.pairs, BatchSize: p.batch, NoiseScale: -1,
		Sparsity:    float64(p.slabZeros) / float64(p.measured) / float64(max(1, len(p.prevG))),
		UpdateRatio: p.ratio / float64(p.pairs)}
	if p.dot > 0 {
		d.NoiseScale = float64(p.batch) * p.diffSq / p.dot
	}
	for k, q := range p.params {
		d.Params = append(d.Params, ParamDiag{Name: q.name, Size: q.len, Sparsity: float64(p.zeros[k]) / float64(p.measured) / float64(max(1, q.len))})
	}
	return d
}
