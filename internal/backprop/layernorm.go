package backprop

import (
	"fmt"
	"math"

	"github.com/nettrain/nettrain/internal/simd"
)

// LayerNormSpec is PyTorch's nn.LayerNorm(normalized_shape=D) over the last
// axis (D values): each row of D values (a vector sample, or each step of a
// (T, D) sequence) is normalised by its own mean and biased variance, then
// scaled and shifted per feature:
//
//	mu = (1/D) sum_j x_j        var = (1/D) sum_j (x_j - mu)^2
//	rstd = 1 / sqrt(var + eps)  xhat_j = (x_j - mu) * rstd
//	y_j = w_j * xhat_j + b_j    (y_j = xhat_j without Affine)
//
// Backward, with dy = dL/dy and g_j = dy_j * w_j (g = dy without Affine):
//
//	dw_j += sum_rows dy_j * xhat_j      db_j += sum_rows dy_j
//	dx_j  = rstd * (g_j - mean(g) - xhat_j * mean(g * xhat))
//
// Rows are independent, so the loops run over chunks of rows (Ctx.For, the
// chunks fixed by the row count); dw and db are summed per chunk in float64
// and the chunks' sums added in chunk order: the same bits on any number of
// threads. Statistics are computed in float64, the sums in 32 lanes
// (element j of a row to lane j mod 32, the lanes added in a fixed tree:
// simd.LaneSums, simd.LNBackSums), and each row's passes run on package
// simd's vector kernels (simd.LNNormalize, simd.LNBackDx), float32 widened
// to float64, with the bits of their Go references on every kernel set.
//
// Parameters "weight" (D), initialised to 1, and "bias" (D), initialised to
// 0, as PyTorch (none without Affine).
type LayerNormSpec struct {
	In     []int
	Eps    float64
	Affine bool
}

func (s LayerNormSpec) Kind() string    { return "layernorm" }
func (s LayerNormSpec) InShape() []int  { return s.In }
func (s LayerNormSpec) OutShape() []int { return s.In }
func (s LayerNormSpec) features() int   { return s.In[len(s.In)-1] }

func (s LayerNormSpec) Params() []ParamSpec {
	if !s.Affine {
		return nil
	}
	d := s.features()
	return []ParamSpec{
		{Name: "weight", Shape: []int{d}, Init: Constant(1)},
		{Name: "bias", Shape: []int{d}, Init: Constant(0)},
	}
}

func (s LayerNormSpec) FLOPs() int64 { return 8 * int64(Prod(s.In)) }

// WorkspaceElems is xhat, kept for backward.
func (s LayerNormSpec) WorkspaceElems() int64 { return int64(Prod(s.In)) }

func (s LayerNormSpec) String() string {
	return fmt.Sprintf("layernorm(%d, eps %g)", s.features(), s.Eps)
}

func (s LayerNormSpec) new32(p []*Param[float32], maxBatch int) Layer[float32] {
	return newLayerNorm(s, p, maxBatch)
}
func (s LayerNormSpec) new64(p []*Param[float64], maxBatch int) Layer[float64] {
	return newLayerNorm(s, p, maxBatch)
}

type layerNorm[T Float] struct {
	d, rows  int // features, rows per sample
	eps      float64
	w, b     *Param[T] // nil without Affine
	grain    int       // rows per chunk
	xhat     []T       // (rows, D) of the last Forward
	rstd     []float64 // (rows)
	y, dx    []T
	part     []float64 // (chunks, 2D): each chunk's sum of dy*xhat, then of dy
	ones     []T       // (D) without Affine: the weight the kernels take
	zeros    []T       // (D) without Affine: the bias
	x, dy    []T       // the current call
	fwd, bwd lnTask[T]
}

func newLayerNorm[T Float](s LayerNormSpec, p []*Param[T], maxBatch int) *layerNorm[T] {
	d := s.features()
	rows := maxBatch * Prod(s.In[:len(s.In)-1])
	l := &layerNorm[T]{d: d, rows: Prod(s.In[:len(s.In)-1]), eps: s.Eps,
		grain: max(1, ElemGrain/(4*d)),
		xhat:  make([]T, rows*d), rstd: make([]float64, rows),
		y: make([]T, rows*d), dx: make([]T, rows*d)}
	l.part = make([]float64, (rows+l.grain-1)/l.grain*2*d)
	if s.Affine {
		l.w, l.b = p[0], p[1]
	} else {
		l.ones, l.zeros = make([]T, d), make([]T, d)
		fill(l.ones, 1)
	}
	l.fwd = lnTask[T]{l: l, fwd: true}
	l.bwd = lnTask[T]{l: l}
	return l
}

func (l *layerNorm[T]) Forward(ctx *Ctx, x []T, n int) []T {
	r := n * l.rows
	l.x = x[:r*l.d]
	ctx.For(r, l.grain, &l.fwd)
	l.x = nil
	return l.y[:r*l.d]
}

func (l *layerNorm[T]) Backward(ctx *Ctx, dy []T, n int, needDx bool) []T {
	r := n * l.rows
	l.dy = dy[:r*l.d]
	l.bwd.needDx = needDx
	ctx.For(r, l.grain, &l.bwd)
	l.dy = nil
	if l.w != nil {
		// dw, db += the chunks' sums, in chunk order.
		d := l.d
		for c := range (r + l.grain - 1) / l.grain {
			p := l.part[c*2*d : (c+1)*2*d]
			for j := range d {
				l.w.G[j] += T(p[j])
				l.b.G[j] += T(p[d+j])
			}
		}
	}
	if !needDx {
		return nil
	}
	return l.dx[:r*l.d]
}

// lnTask is the forward (fwd) or backward pass over the rows [lo, hi).
type lnTask[T Float] struct {
	l      *layerNorm[T]
	fwd    bool
	needDx bool
}

func (t *lnTask[T]) Run(_, lo, hi int) {
	l, d := t.l, t.l.d
	w, b := l.ones, l.zeros
	if l.w != nil {
		w, b = l.w.W, l.b.W
	}
	var lanes [64]float64
	if t.fwd {
		for r := lo; r < hi; r++ {
			x, xh, y := l.x[r*d:(r+1)*d], l.xhat[r*d:(r+1)*d], l.y[r*d:(r+1)*d]
			lanes = [64]float64{}
			simd.LaneSums(&lanes, x, x, 0, 0)
			mu := simd.FoldLanes((*[32]float64)(lanes[:32])) / float64(d)
			lanes = [64]float64{}
			simd.LaneSums(&lanes, x, x, mu, mu)
			rstd := 1 / math.Sqrt(simd.FoldLanes((*[32]float64)(lanes[32:]))/float64(d)+l.eps)
			l.rstd[r] = rstd
			simd.LNNormalize(y, xh, x, w, b, mu, rstd)
			if l.w == nil {
				copy(y, xh) // y = T(h) exactly, -0 included
			}
		}
		return
	}
	c := lo / l.grain
	part := l.part[c*2*d : (c+1)*2*d]
	clear(part)
	for r := lo; r < hi; r++ {
		dy, xh := l.dy[r*d:(r+1)*d], l.xhat[r*d:(r+1)*d]
		lanes = [64]float64{}
		simd.LNBackSums(&lanes, part[:d], part[d:], dy, xh, w)
		if !t.needDx {
			continue
		}
		mg := simd.FoldLanes((*[32]float64)(lanes[:32])) / float64(d)
		mgx := simd.FoldLanes((*[32]float64)(lanes[32:])) / float64(d)
		simd.LNBackDx(l.dx[r*d:(r+1)*d], dy, xh, w, l.rstd[r], mg, mgx)
	}
}

// LayerNormParams are the config parameters of layernorm.
type LayerNormParams struct {
	Eps    float64 `yaml:"eps"`    // default 1e-5, as torch
	Affine bool    `yaml:"affine"` // default true: learned weight and bias (torch's elementwise_affine)
}

func init() {
	Register("layernorm", Kind{
		Trace: TraceDoc{
			Out:     "y = weight * (x - mean) / sqrt(var + eps) + bias, over the last axis",
			GradOut: "dL/dy (from above)",
			GradIn:  "dL/dx = (g - mean(g) - x_hat mean(g x_hat)) / sqrt(var + eps), g = dL/dy * weight, x_hat the normalised x (passed below)",
			Params:  map[string]string{"weight": "dL/dy * x_hat summed over the batch", "bias": "dL/dy summed over the batch"},
		},
		Params: func() any { return &LayerNormParams{Eps: 1e-5, Affine: true} },
		Build: func(p any, in []int, _ *DataInfo) (Spec, error) {
			lp := p.(*LayerNormParams)
			if !(lp.Eps > 0) || math.IsInf(lp.Eps, 0) {
				return nil, ParamErr("eps", "must be a positive number, got %g", lp.Eps)
			}
			return LayerNormSpec{In: in, Eps: lp.Eps, Affine: lp.Affine}, nil
		},
		Doc: "layer normalisation over the last axis (nn.LayerNorm)",
	})
}
