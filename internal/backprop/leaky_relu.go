package backprop

import "math"

// LeakyReLUSpec is PyTorch's nn.LeakyReLU: the identity for positive
// inputs and a small slope for the others. Element-wise, output shape =
// input shape, no parameters:
//
//	y  = x            (x > 0)        dx = dy               (x > 0)
//	y  = slope * x    (x <= 0)       dx = slope * dy       (x <= 0)
//
// As in PyTorch, the derivative at x = 0 is the slope's side.
type LeakyReLUSpec struct {
	In    []int
	Slope float64 // negative_slope
}

func (s LeakyReLUSpec) Kind() string        { return "leaky_relu" }
func (s LeakyReLUSpec) InShape() []int      { return s.In }
func (s LeakyReLUSpec) OutShape() []int     { return s.In }
func (s LeakyReLUSpec) Params() []ParamSpec { return nil }
func (s LeakyReLUSpec) FLOPs() int64        { return int64(Prod(s.In)) }

func (s LeakyReLUSpec) new32(_ []*Param[float32], maxBatch int) Layer[float32] {
	return newLeakyReLU[float32](s, maxBatch)
}
func (s LeakyReLUSpec) new64(_ []*Param[float64], maxBatch int) Layer[float64] {
	return newLeakyReLU[float64](s, maxBatch)
}

// leakyReLU holds the batch's output and input gradient, and the input of
// the last Forward (the sign of x decides the backward slope).
type leakyReLU[T Float] struct {
	slope T
	size  int // elements per sample
	x     []T // the last Forward's input (owned by the layer below)
	y, dx []T
	task  leakyReLUTask[T]
}

func newLeakyReLU[T Float](s LeakyReLUSpec, maxBatch int) *leakyReLU[T] {
	size := Prod(s.In)
	l := &leakyReLU[T]{slope: T(s.Slope), size: size, y: make([]T, maxBatch*size), dx: make([]T, maxBatch*size)}
	l.task.l = l
	return l
}

func (l *leakyReLU[T]) Forward(ctx *Ctx, x []T, n int) []T {
	m := n * l.size
	l.x = x[:m]
	l.task.fwd, l.task.dy = true, nil
	ctx.For(m, ElemGrain, &l.task)
	return l.y[:m]
}

func (l *leakyReLU[T]) Backward(ctx *Ctx, dy []T, n int, needDx bool) []T {
	if !needDx {
		return nil
	}
	m := n * l.size
	l.task.fwd, l.task.dy = false, dy[:m]
	ctx.For(m, ElemGrain, &l.task)
	l.task.dy = nil
	return l.dx[:m]
}

// leakyReLUTask is one chunk [lo, hi) of the forward map (fwd) or the
// backward map.
type leakyReLUTask[T Float] struct {
	l   *leakyReLU[T]
	fwd bool
	dy  []T
}

func (t *leakyReLUTask[T]) Run(_, lo, hi int) {
	l := t.l
	x := l.x[lo:hi]
	if t.fwd {
		y := l.y[lo:hi]
		for i, v := range x {
			if v > 0 {
				y[i] = v
			} else {
				y[i] = l.slope * v
			}
		}
		return
	}
	dy, dx := t.dy[lo:hi], l.dx[lo:hi]
	for i, v := range x {
		if v > 0 {
			dx[i] = dy[i]
		} else {
			dx[i] = l.slope * dy[i]
		}
	}
}

// LeakyReLUParams are the config parameters of leaky_relu.
type LeakyReLUParams struct {
	NegativeSlope *float64 `yaml:"negative_slope,omitempty"` // nil: 0.01, as torch
	// Slope is another name for negative_slope (Keras' and darknet's
	// word); set at most one of the two.
	Slope *float64 `yaml:"slope,omitempty"`
}

func init() {
	Register("leaky_relu", Kind{
		Trace:  activationTrace("leaky_relu", "dL/dy * (1 if z > 0, else negative_slope)"),
		Params: func() any { return &LeakyReLUParams{} },
		Build: func(p any, in []int, _ *DataInfo) (Spec, error) {
			lp := p.(*LeakyReLUParams)
			s := 0.01 // torch's default
			switch {
			case lp.Slope != nil && lp.NegativeSlope != nil:
				return nil, ParamErr("slope", "is another name for negative_slope: set one of them")
			case lp.Slope != nil:
				s = *lp.Slope
			case lp.NegativeSlope != nil:
				s = *lp.NegativeSlope
			}
			if math.IsNaN(s) || math.IsInf(s, 0) {
				return nil, ParamErr(map[bool]string{true: "slope", false: "negative_slope"}[lp.Slope != nil], "must be a finite number, got %g", s)
			}
			return LeakyReLUSpec{In: in, Slope: s}, nil
		},
		Doc: "leaky ReLU: x for x > 0, negative_slope * x otherwise (nn.LeakyReLU); slope is another name for negative_slope",
	})
}
