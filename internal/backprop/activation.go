package backprop

import (
	"fmt"
	"math"

	"github.com/nettrain/nettrain/internal/simd"
)

// ActivationSpec is a parameter-free element-wise nonlinearity (or softmax
// over the last axis). Output shape equals input shape. With y = f(x) and
// dy = dL/dy, each kind's backward is written in terms of y (the element-wise
// kinds run package simd's kernels; in float32, sigmoid and tanh are its
// approximations, within 3 ulp):
//
//	relu:    y = max(x, 0)                   dx = dy * [x > 0]   (0 at x = 0, as PyTorch)
//	sigmoid: y = 1 / (1 + exp(-x))           dx = dy * y * (1 - y)
//	tanh:    y = tanh(x)                     dx = dy * (1 - y^2)
//	softmax: y_i = exp(x_i) / sum_j exp(x_j) over the last axis
//	                                         dx_i = y_i * (dy_i - sum_j dy_j y_j)
type ActivationSpec struct {
	Fn ActivationFn
	In []int
}

// ActivationFn names an activation ActivationSpec computes.
type ActivationFn string

const (
	ReLU    ActivationFn = "relu"
	Sigmoid ActivationFn = "sigmoid"
	Tanh    ActivationFn = "tanh"
	Softmax ActivationFn = "softmax"
)

// Activations lists the activation kinds in config order.
var Activations = []ActivationFn{ReLU, Sigmoid, Tanh, Softmax}

func (s ActivationSpec) Kind() string        { return string(s.Fn) }
func (s ActivationSpec) InShape() []int      { return s.In }
func (s ActivationSpec) OutShape() []int     { return s.In }
func (s ActivationSpec) Params() []ParamSpec { return nil }
func (s ActivationSpec) FLOPs() int64        { return int64(Prod(s.In)) }

func (s ActivationSpec) new32(_ []*Param[float32], maxBatch int) Layer[float32] {
	return newActivation[float32](s, maxBatch)
}
func (s ActivationSpec) new64(_ []*Param[float64], maxBatch int) Layer[float64] {
	return newActivation[float64](s, maxBatch)
}

type activation[T Float] struct {
	fn    ActivationFn
	size  int // elements per sample
	last  int // length of the last axis (softmax)
	y, dx []T
	task  activationTask[T]
}

func newActivation[T Float](s ActivationSpec, maxBatch int) *activation[T] {
	size := Prod(s.In)
	l := &activation[T]{fn: s.Fn, size: size, last: s.In[len(s.In)-1],
		y: make([]T, maxBatch*size), dx: make([]T, maxBatch*size)}
	l.task.l = l
	return l
}

// softmaxGrain is the chunk, in rows, of the softmax loops: about
// ElemGrain/4 values (each costs an exp).
func (l *activation[T]) softmaxGrain() int { return max(1, ElemGrain/4/l.last) }

// run runs the forward (fwd, from x) or backward (from dy) map over
// n*size elements: in chunks of ElemGrain values, or of softmaxGrain rows
// for softmax.
func (l *activation[T]) run(ctx *Ctx, fwd bool, x, dy []T, n int) {
	m := n * l.size
	t := &l.task
	t.fwd, t.x, t.dy = fwd, x, dy
	if l.fn == Softmax {
		ctx.For(m/l.last, l.softmaxGrain(), t)
	} else {
		ctx.For(m, ElemGrain, t)
	}
	t.x, t.dy = nil, nil
}

func (l *activation[T]) Forward(ctx *Ctx, x []T, n int) []T {
	l.run(ctx, true, x[:n*l.size], nil, n)
	return l.y[:n*l.size]
}

func (l *activation[T]) Backward(ctx *Ctx, dy []T, n int, needDx bool) []T {
	if !needDx {
		return nil
	}
	l.run(ctx, false, nil, dy[:n*l.size], n)
	return l.dx[:n*l.size]
}

// activationTask is one chunk of an activation's forward map y = f(x)
// (fwd) or backward map dx = f'(y, dy): elements [lo, hi), or rows
// [lo, hi) of the last axis for softmax.
type activationTask[T Float] struct {
	l     *activation[T]
	fwd   bool
	x, dy []T
}

func (t *activationTask[T]) Run(_, lo, hi int) {
	l := t.l
	if l.fn == Softmax {
		lo, hi = lo*l.last, hi*l.last
	}
	y := l.y[lo:hi]
	if t.fwd {
		x := t.x[lo:hi]
		switch l.fn {
		case ReLU:
			simd.ReLU(y, x)
		case Sigmoid:
			simd.Sigmoid(y, x)
		case Tanh:
			simd.Tanh(y, x)
		case Softmax:
			for r := 0; r < len(x); r += l.last {
				softmaxRow(x[r:r+l.last], y[r:r+l.last])
			}
		}
		return
	}
	dy, dx := t.dy[lo:hi], l.dx[lo:hi]
	switch l.fn {
	case ReLU:
		simd.ReLUBackward(dx, dy, y)
	case Sigmoid:
		simd.SigmoidBackward(dx, dy, y)
	case Tanh:
		simd.TanhBackward(dx, dy, y)
	case Softmax:
		for r := 0; r < len(y); r += l.last {
			yr, dyr, dxr := y[r:r+l.last], dy[r:r+l.last], dx[r:r+l.last]
			var dot float64
			for j, v := range yr {
				dot += float64(dyr[j]) * float64(v)
			}
			for j, v := range yr {
				dxr[j] = T(float64(v) * (float64(dyr[j]) - dot))
			}
		}
	}
}

// softmaxRow writes softmax(x) into y, subtracting the maximum first so
// that exp never overflows.
func softmaxRow[T Float](x, y []T) {
	mx := x[0]
	for _, v := range x {
		mx = max(mx, v)
	}
	var sum float64
	for j, v := range x {
		e := math.Exp(float64(v - mx))
		y[j] = T(e)
		sum += e
	}
	inv := 1 / sum
	for j := range y {
		y[j] = T(float64(y[j]) * inv)
	}
}

// activationDerivative is dL/dz of each activation in terms of dL/dy,
// for trace.
var activationDerivative = map[ActivationFn]string{
	"relu":    "dL/dy * [z > 0]",
	"sigmoid": "dL/dy * y (1 - y)",
	"tanh":    "dL/dy * (1 - y^2)",
	"softmax": "y * (dL/dy - sum(dL/dy * y)) over the last axis",
}

// activationTrace names an activation's quantities: input z, output y.
func activationTrace(name, derivative string) TraceDoc {
	return TraceDoc{
		Out:     "y = " + name + "(z)",
		GradOut: "dL/dy (from above)",
		GradIn:  "dL/dz = " + derivative + " (delta, the textbook delta of the layer below; passed below)",
	}
}

func init() {
	for _, fn := range Activations {
		Register(string(fn), Kind{
			Build: func(_ any, in []int, _ *DataInfo) (Spec, error) {
				return ActivationSpec{Fn: fn, In: in}, nil
			},
			Doc:   fmt.Sprintf("%s activation", fn),
			Trace: activationTrace(string(fn), activationDerivative[fn]),
		})
	}
}
