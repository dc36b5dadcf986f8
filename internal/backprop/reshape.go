package backprop

import "math"

// FlattenSpec views each sample's (d1, d2, ...) as one axis of
// d1*d2*... values in row-major order (for images, C then H then W, as
// torch.flatten(x, 1)). It copies nothing: forward returns its input and
// backward its output gradient.
type FlattenSpec struct{ In []int }

func (s FlattenSpec) Kind() string        { return "flatten" }
func (s FlattenSpec) InShape() []int      { return s.In }
func (s FlattenSpec) OutShape() []int     { return []int{Prod(s.In)} }
func (s FlattenSpec) Params() []ParamSpec { return nil }
func (s FlattenSpec) FLOPs() int64        { return 0 }
func (s FlattenSpec) new32(_ []*Param[float32], _ int) Layer[float32] {
	return flatten[float32]{size: Prod(s.In)}
}
func (s FlattenSpec) new64(_ []*Param[float64], _ int) Layer[float64] {
	return flatten[float64]{size: Prod(s.In)}
}

type flatten[T Float] struct{ size int }

func (l flatten[T]) Forward(_ *Ctx, x []T, n int) []T { return x[:n*l.size] }
func (l flatten[T]) Backward(_ *Ctx, dy []T, n int, needDx bool) []T {
	if !needDx {
		return nil
	}
	return dy[:n*l.size]
}

// DropoutSpec is inverted dropout, PyTorch's nn.Dropout: in training each
// element is zeroed with probability P and the survivors scaled by 1/(1-P),
// so evaluation (where it is the identity) needs no rescaling:
//
//	y = x * m,  m_k = 0 with probability P, else 1/(1-P);   dx = dy * m
//
// The mask comes from the context's RNG (seeded by the config's seed).
type DropoutSpec struct {
	In []int
	P  float64
}

func (s DropoutSpec) Kind() string        { return "dropout" }
func (s DropoutSpec) InShape() []int      { return s.In }
func (s DropoutSpec) OutShape() []int     { return s.In }
func (s DropoutSpec) Params() []ParamSpec { return nil }
func (s DropoutSpec) FLOPs() int64        { return int64(Prod(s.In)) }
func (s DropoutSpec) new32(_ []*Param[float32], maxBatch int) Layer[float32] {
	return newDropout[float32](s, maxBatch)
}
func (s DropoutSpec) new64(_ []*Param[float64], maxBatch int) Layer[float64] {
	return newDropout[float64](s, maxBatch)
}

type dropout[T Float] struct {
	p           float64
	size        int
	train       bool // whether the last Forward dropped anything
	mask, y, dx []T
	bwd         mulTask[T]
}

// mulTask is the element-wise product z = x * m of a parallel loop.
type mulTask[T Float] struct{ z, x, m []T }

func (t *mulTask[T]) Run(_, lo, hi int) {
	z, x, m := t.z[lo:hi], t.x[lo:hi], t.m[lo:hi]
	for i, v := range x {
		z[i] = v * m[i]
	}
}

func newDropout[T Float](s DropoutSpec, maxBatch int) *dropout[T] {
	m := maxBatch * Prod(s.In)
	return &dropout[T]{p: s.P, size: Prod(s.In), mask: make([]T, m), y: make([]T, m), dx: make([]T, m)}
}

// Forward draws the mask in order from the context's RNG (the stream must
// not depend on the thread count), so it runs on the caller.
func (l *dropout[T]) Forward(ctx *Ctx, x []T, n int) []T {
	m := n * l.size
	l.train = ctx != nil && ctx.Train && l.p > 0
	if !l.train {
		return x[:m]
	}
	keep := T(1 / (1 - l.p))
	if l.p >= 1 || math.IsInf(float64(keep), 0) {
		keep = 0
	}
	mask, y := l.mask[:m], l.y[:m]
	for i := range mask {
		if ctx.RNG.Float64() < l.p {
			mask[i] = 0
		} else {
			mask[i] = keep
		}
		y[i] = x[i] * mask[i]
	}
	return y
}

func (l *dropout[T]) Backward(ctx *Ctx, dy []T, n int, needDx bool) []T {
	if !needDx {
		return nil
	}
	m := n * l.size
	if !l.train {
		return dy[:m]
	}
	dx := l.dx[:m]
	l.bwd = mulTask[T]{z: dx, x: dy[:m], m: l.mask[:m]}
	ctx.For(m, ElemGrain, &l.bwd)
	l.bwd = mulTask[T]{}
	return dx
}

// DropoutParams are the parameters of dropout.
type DropoutParams struct {
	P float64 `yaml:"p"` // drop probability, default 0.5 (as torch.nn.Dropout)
}

func init() {
	Register("flatten", Kind{
		Trace: TraceDoc{Out: "y = x viewed as one vector per sample", GradIn: "dL/dx = dL/dy viewed in the input's shape (passed below)"},
		Build: func(_ any, in []int, _ *DataInfo) (Spec, error) {
			return FlattenSpec{In: in}, nil
		},
		Doc: "view each sample as one axis (C*H*W values, NCHW order)",
	})
	Register("dropout", Kind{
		Trace: TraceDoc{Out: "y = x * mask / (1 - p) in training, x in evaluation", GradOut: "dL/dy (from above)",
			GradIn: "dL/dx = dL/dy * mask / (1 - p) in training, dL/dy in evaluation (passed below)"},
		Params: func() any { return &DropoutParams{P: 0.5} },
		Build: func(p any, in []int, _ *DataInfo) (Spec, error) {
			dp := p.(*DropoutParams)
			if dp.P < 0 || dp.P >= 1 {
				return nil, ParamErr("p", "must be in [0, 1), got %g", dp.P)
			}
			return DropoutSpec{In: in, P: dp.P}, nil
		},
		Doc: "inverted dropout (training only)",
	})
}
