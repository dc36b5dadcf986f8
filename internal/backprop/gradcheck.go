package backprop

import (
	"math"
	"math/rand/v2"
	"slices"
)

// CheckOptions controls GradCheck.
type CheckOptions struct {
	// Eps is the central-difference step: dL/dw ~ (L(w+eps) - L(w-eps)) / 2eps.
	// Default 1e-5: rounding error ~1e-16/eps, truncation error ~eps^2.
	Eps float64
	// MaxPerTensor caps the entries checked per tensor: tensors with more
	// entries are checked on a seeded random subset of this size (0: all).
	MaxPerTensor int
	// Seed picks the subset and seeds the RNG of stochastic layers (every
	// loss evaluation reuses the same RNG state, so dropout masks agree).
	Seed uint64
	// Input also checks dL/dx of the network input.
	Input bool
	// Eval checks the evaluation-mode network (batchnorm on its running
	// statistics, dropout off); by default the training mode's.
	Eval bool
	// KinkTol: an entry whose difference quotients with steps eps and eps/2
	// disagree by more than KinkTol (relative, as the error) straddles a
	// point where the loss is not differentiable (a ReLU at 0, a tie in max
	// pooling) and is skipped rather than judged. Default 1e-5.
	KinkTol float64
}

// CheckResult is the agreement of analytic and numeric gradients for one
// tensor. The error of an entry is
//
//	|analytic - numeric| / max(|analytic|, |numeric|, 1e-3 * max(1, |L|))
//
// relative for every gradient that is not tiny; below the floor (where the
// numeric derivative's rounding error, ~1e-16 |L| / eps, would dominate a
// relative measure) the difference is judged against the floor.
type CheckResult struct {
	Layer    int     `json:"layer"`          // layer index, -1 for the network input
	Kind     string  `json:"kind"`           // layer kind, "input" for the network input
	Tensor   string  `json:"tensor"`         // state_dict name, or "input"
	Checked  int     `json:"checked"`        // entries compared
	Skipped  int     `json:"skipped"`        // entries skipped as non-differentiable points (see KinkTol)
	Total    int     `json:"total"`          // entries in the tensor
	MaxErr   float64 `json:"max_rel_error"`  // the largest error (see above)
	MaxAbs   float64 `json:"max_abs_error"`  // largest |analytic - numeric|
	WorstIdx int     `json:"worst_index"`    // entry with the largest error
	Analytic float64 `json:"worst_analytic"` // at WorstIdx
	Numeric  float64 `json:"worst_numeric"`  // at WorstIdx
}

// GradCheck compares the analytic gradients of net (computed by Backward) on
// one batch with central finite differences of the loss, for every
// parameter tensor and, optionally, the input. The network should be float64
// for the differences to be meaningful. Parameters and x are restored.
func GradCheck(net *Network[float64], x []float64, t Target[float64], n int, opt CheckOptions) []CheckResult {
	if opt.Eps == 0 {
		opt.Eps = 1e-5
	}
	if opt.KinkTol == 0 {
		opt.KinkTol = 1e-5
	}
	ctx := &Ctx{Train: !opt.Eval}
	loss := func() float64 {
		ctx.RNG = rand.New(rand.NewPCG(opt.Seed, 0x9e3779b97f4a7c15))
		y := net.Forward(ctx, x, n)
		m, _, _ := net.Loss.Forward(y, t, n)
		return m
	}
	net.ZeroGrad()
	l0 := loss()
	floor := 1e-3 * math.Max(1, math.Abs(l0))
	dx := net.Backward(ctx, net.Loss.Grad(n), n, opt.Input)
	grad := append([]float64(nil), net.G...)
	var dxCopy []float64
	if DiscreteInput(net.Specs) {
		opt.Input = false // token ids have no gradient
	}
	if opt.Input {
		dxCopy = append([]float64(nil), dx...)
	}
	pick := rand.New(rand.NewPCG(opt.Seed, 1))
	diff := func(vals []float64, i int, h float64) float64 {
		old := vals[i]
		vals[i] = old + h
		lp := loss()
		vals[i] = old - h
		lm := loss()
		vals[i] = old
		return (lp - lm) / (2 * h)
	}
	check := func(vals, analytic []float64) CheckResult {
		r := CheckResult{Total: len(vals)}
		for _, i := range pickEntries(len(vals), opt.MaxPerTensor, pick) {
			num := diff(vals, i, opt.Eps)
			half := diff(vals, i, opt.Eps/2)
			a := analytic[i]
			denom := math.Max(math.Max(math.Abs(a), math.Abs(num)), floor)
			if math.Abs(num-half)/denom > opt.KinkTol {
				r.Skipped++
				continue
			}
			abs := math.Abs(a - num)
			e := abs / denom
			if e > r.MaxErr || math.IsNaN(e) || r.Checked == 0 {
				r.MaxErr, r.WorstIdx, r.Analytic, r.Numeric = e, i, a, num
			}
			r.MaxAbs = math.Max(r.MaxAbs, abs)
			r.Checked++
		}
		return r
	}
	var res []CheckResult
	if opt.Input {
		r := check(x[:n*Prod(net.In)], dxCopy)
		r.Layer, r.Kind, r.Tensor = -1, "input", "input"
		res = append(res, r)
	}
	for li, ps := range net.ByLayer {
		for _, p := range ps {
			r := check(p.W, grad[p.Offset:p.Offset+len(p.W)])
			r.Layer, r.Kind, r.Tensor = li, net.Specs[li].Kind(), p.Name
			res = append(res, r)
		}
	}
	// Leave the network with the analytic gradients of the unperturbed batch.
	copy(net.G, grad)
	return res
}

// pickEntries returns all indexes of a tensor of size n, or a sorted seeded
// random subset of k of them when 0 < k < n.
func pickEntries(n, k int, rng *rand.Rand) []int {
	if k <= 0 || k >= n {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	perm := rng.Perm(n)[:k]
	slices.Sort(perm)
	return perm
}
