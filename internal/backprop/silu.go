package backprop

import "github.com/nettrain/nettrain/internal/simd"

// SiLUSpec is PyTorch's nn.SiLU (swish): element-wise, output shape =
// input shape, no parameters, with sigma the logistic sigmoid:
//
//	y = x * sigma(x)        dy/dx = sigma(x) * (1 + x * (1 - sigma(x)))
//
// sigma is package simd's Sigmoid: in float32 its vector approximation
// (within 3 ulp; see package simd), in float64 1/(1+exp(-x)) with package
// math. The rest of each formula is computed in float64 and rounded once
// to the element type, element by element, in chunks of ElemGrain, so the
// bits never depend on the thread count. Backward recomputes sigma(x)
// rather than keeping it: one more vector pass, no buffer.
type SiLUSpec struct{ In []int }

func (s SiLUSpec) Kind() string        { return "silu" }
func (s SiLUSpec) InShape() []int      { return s.In }
func (s SiLUSpec) OutShape() []int     { return s.In }
func (s SiLUSpec) Params() []ParamSpec { return nil }
func (s SiLUSpec) FLOPs() int64        { return 4 * int64(Prod(s.In)) }

func (s SiLUSpec) new32(_ []*Param[float32], maxBatch int) Layer[float32] {
	return newSiLU[float32](s.In, maxBatch)
}
func (s SiLUSpec) new64(_ []*Param[float64], maxBatch int) Layer[float64] {
	return newSiLU[float64](s.In, maxBatch)
}

type silu[T Float] struct {
	size  int // elements per sample
	x     []T // the last Forward's input (not owned)
	y, dx []T
	task  siluTask[T]
}

func newSiLU[T Float](in []int, maxBatch int) *silu[T] {
	size := Prod(in)
	l := &silu[T]{size: size, y: make([]T, maxBatch*size), dx: make([]T, maxBatch*size)}
	l.task.l = l
	return l
}

func (l *silu[T]) Forward(ctx *Ctx, x []T, n int) []T {
	m := n * l.size
	l.x = x[:m]
	l.task.dy = nil
	ctx.For(m, ElemGrain, &l.task)
	return l.y[:m]
}

func (l *silu[T]) Backward(ctx *Ctx, dy []T, n int, needDx bool) []T {
	if !needDx {
		return nil
	}
	m := n * l.size
	l.task.dy = dy[:m]
	ctx.For(m, ElemGrain, &l.task)
	l.task.dy = nil
	return l.dx[:m]
}

// siluTask is one chunk [lo, hi) of the forward map (dy nil) or of the
// backward map. Each writes sigma(x) where its result goes, then the
// formula over it.
type siluTask[T Float] struct {
	l  *silu[T]
	dy []T
}

func (t *siluTask[T]) Run(_, lo, hi int) {
	l := t.l
	x := l.x[lo:hi]
	if t.dy == nil {
		y := l.y[lo:hi]
		simd.Sigmoid(y, x)
		for i, v := range x {
			y[i] = T(float64(v) * float64(y[i]))
		}
		return
	}
	dy, dx := t.dy[lo:hi], l.dx[lo:hi]
	simd.Sigmoid(dx, x)
	for i, v := range x {
		s, xv := float64(dx[i]), float64(v)
		dx[i] = T(float64(dy[i]) * (s * (1 + xv*(1-s))))
	}
}

func init() {
	Register("silu", Kind{
		Trace: activationTrace("silu", "dL/dy * s(z) (1 + z (1 - s(z))), s the sigmoid"),
		Build: func(_ any, in []int, _ *DataInfo) (Spec, error) {
			return SiLUSpec{In: in}, nil
		},
		Doc: "SiLU (swish): x * sigmoid(x) (nn.SiLU)",
	})
}
