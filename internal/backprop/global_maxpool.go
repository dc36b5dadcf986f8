package backprop

import "math"

// GlobalMaxPoolSpec takes the maximum of each channel of (C, H, W) over all
// positions, giving (C), like nn.AdaptiveMaxPool2d(1) followed by a
// flatten:
//
//	y[s,c] = max_{i,j} x[s,c,i,j]       dx[s,c,argmax] = dy[s,c], 0 elsewhere
//
// The position of the maximum is recorded in Forward: the first one in
// row-major order on ties, a NaN wins (as maxpool2d and PyTorch).
type GlobalMaxPoolSpec struct{ In []int }

func (s GlobalMaxPoolSpec) Kind() string        { return "global_maxpool" }
func (s GlobalMaxPoolSpec) InShape() []int      { return s.In }
func (s GlobalMaxPoolSpec) OutShape() []int     { return []int{s.In[0]} }
func (s GlobalMaxPoolSpec) Params() []ParamSpec { return nil }
func (s GlobalMaxPoolSpec) FLOPs() int64        { return int64(Prod(s.In)) }
func (s GlobalMaxPoolSpec) new32(_ []*Param[float32], maxBatch int) Layer[float32] {
	return newGlobalMax[float32](s, maxBatch)
}
func (s GlobalMaxPoolSpec) new64(_ []*Param[float64], maxBatch int) Layer[float64] {
	return newGlobalMax[float64](s, maxBatch)
}

type globalMax[T Float] struct {
	c, hw  int
	argmax []int32 // (n, C): position of each plane's maximum
	y, dx  []T

	// The current call, for the tasks.
	x, dy []T
	fwd   globalMaxTask[T]
	bwd   globalMaxTask[T]
}

func newGlobalMax[T Float](s GlobalMaxPoolSpec, maxBatch int) *globalMax[T] {
	c, hw := s.In[0], Prod(s.In[1:])
	l := &globalMax[T]{c: c, hw: hw, argmax: make([]int32, maxBatch*c), y: make([]T, maxBatch*c), dx: make([]T, maxBatch*c*hw)}
	l.fwd = globalMaxTask[T]{l: l, fwd: true}
	l.bwd = globalMaxTask[T]{l: l}
	return l
}

// grain is the planes per chunk of the parallel loops: 8K values or more.
func (l *globalMax[T]) grain() int { return max(1, (8<<10)/l.hw) }

func (l *globalMax[T]) Forward(ctx *Ctx, x []T, n int) []T {
	l.x = x[:n*l.c*l.hw]
	ctx.For(n*l.c, l.grain(), &l.fwd)
	l.x = nil
	return l.y[:n*l.c]
}

func (l *globalMax[T]) Backward(ctx *Ctx, dy []T, n int, needDx bool) []T {
	if !needDx {
		return nil
	}
	l.dy = dy[:n*l.c]
	ctx.For(n*l.c, l.grain(), &l.bwd)
	l.dy = nil
	return l.dx[:n*l.c*l.hw]
}

// globalMaxTask takes the maxima of the planes [lo, hi) (fwd), or routes
// their gradients to them.
type globalMaxTask[T Float] struct {
	l   *globalMax[T]
	fwd bool
}

func (t *globalMaxTask[T]) Run(_, lo, hi int) {
	l := t.l
	for p := lo; p < hi; p++ {
		if !t.fwd {
			row := l.dx[p*l.hw : (p+1)*l.hw]
			clear(row)
			row[l.argmax[p]] = l.dy[p]
			continue
		}
		best, at := T(math.Inf(-1)), 0
		for i, v := range l.x[p*l.hw : (p+1)*l.hw] {
			if v > best || v != v {
				best, at = v, i
				if v != v {
					break
				}
			}
		}
		l.y[p], l.argmax[p] = best, int32(at)
	}
}

func init() {
	Register("global_maxpool", Kind{
		Trace: TraceDoc{Out: "y = the maximum of each channel's map", GradOut: "dL/dy (from above)",
			GradIn: "dL/dx = each channel's dL/dy routed to the position of its maximum, 0 elsewhere (passed below)"},
		Build: func(_ any, in []int, _ *DataInfo) (Spec, error) {
			if err := need3D(in, ""); err != nil {
				return nil, err
			}
			return GlobalMaxPoolSpec{In: in}, nil
		},
		Doc: "maximum of each channel over all positions: (C, H, W) -> (C)",
	})
}
