package backprop

import (
	"fmt"
	"math"

	"github.com/nettrain/nettrain/internal/simd"
)

// DenseSpec is a fully connected layer, PyTorch's nn.Linear: it maps the last
// axis of its input from In to Units features; leading axes (a sequence's
// time steps, say) are treated as extra batch rows.
//
//	y = x W^T + b      x is (rows, In), W is (Units, In), b is (Units), y is (rows, Units)
//
// Backward, with dy = dL/dy:
//
//	dW += dy^T x       (Units, In)
//	db += sum_rows dy  (Units)
//	dx  = dy W         (rows, In)
//
// Parameters "weight" (Units, In) and "bias" (Units), both initialised
// U(-1/sqrt(In), 1/sqrt(In)) as PyTorch does.
type DenseSpec struct {
	In    []int // input shape per sample; the last axis is the feature axis
	Units int
	Bias  bool
}

func (s DenseSpec) Kind() string       { return "dense" }
func (s DenseSpec) InShape() []int     { return s.In }
func (s DenseSpec) features() int      { return s.In[len(s.In)-1] }
func (s DenseSpec) rowsPerSample() int { return Prod(s.In[:len(s.In)-1]) }

func (s DenseSpec) OutShape() []int {
	out := append([]int(nil), s.In...)
	out[len(out)-1] = s.Units
	return out
}

func (s DenseSpec) Params() []ParamSpec {
	bound := 1 / math.Sqrt(float64(s.features()))
	ps := []ParamSpec{{Name: "weight", Shape: []int{s.Units, s.features()}, Init: Uniform(bound)}}
	if s.Bias {
		ps = append(ps, ParamSpec{Name: "bias", Shape: []int{s.Units}, Init: Uniform(bound)})
	}
	return ps
}

func (s DenseSpec) FLOPs() int64 {
	return 2 * int64(s.rowsPerSample()) * int64(s.features()) * int64(s.Units)
}

func (s DenseSpec) String() string { return fmt.Sprintf("dense(%d)", s.Units) }

func (s DenseSpec) new32(p []*Param[float32], maxBatch int) Layer[float32] {
	return newDense(s, p, maxBatch)
}
func (s DenseSpec) new64(p []*Param[float64], maxBatch int) Layer[float64] {
	return newDense(s, p, maxBatch)
}

type dense[T Float] struct {
	in, out, rows int // features in, features out, rows per sample
	w, b          *Param[T]
	x             []T // the input of the last Forward (not owned)
	y, dx         []T
}

func newDense[T Float](s DenseSpec, p []*Param[T], maxBatch int) *dense[T] {
	l := &dense[T]{in: s.features(), out: s.Units, rows: s.rowsPerSample(), w: p[0]}
	if s.Bias {
		l.b = p[1]
	}
	l.y = make([]T, maxBatch*l.rows*l.out)
	l.dx = make([]T, maxBatch*l.rows*l.in)
	return l
}

func (l *dense[T]) Forward(ctx *Ctx, x []T, n int) []T {
	r := n * l.rows
	l.x = x[:r*l.in]
	y := l.y[:r*l.out]
	beta := T(0)
	if l.b != nil {
		// y starts as the bias in every row, then y += x W^T.
		for i := 0; i < r; i++ {
			copy(y[i*l.out:(i+1)*l.out], l.b.W)
		}
		beta = 1
	}
	Gemm(ctx, false, true, r, l.out, l.in, 1, l.x, l.in, l.w.W, l.in, beta, y, l.out)
	return y
}

func (l *dense[T]) Backward(ctx *Ctx, dy []T, n int, needDx bool) []T {
	r := n * l.rows
	dy = dy[:r*l.out]
	// dW += dy^T x
	Gemm(ctx, true, false, l.out, l.in, r, 1, dy, l.out, l.x, l.in, 1, l.w.G, l.in)
	if l.b != nil {
		// db += sum over rows of dy
		for i := 0; i < r; i++ {
			simd.Add(l.b.G, dy[i*l.out:(i+1)*l.out])
		}
	}
	if !needDx {
		return nil
	}
	// dx = dy W
	dx := l.dx[:r*l.in]
	Gemm(ctx, false, false, r, l.in, l.out, 1, dy, l.out, l.w.W, l.in, 0, dx, l.in)
	return dx
}

// DenseParams are the config parameters of a dense (fully connected) layer.
type DenseParams struct {
	Units Units `yaml:"units"`
	Bias  bool  `yaml:"bias"` // default true
}

func init() {
	Register("dense", Kind{
		Trace: TraceDoc{
			Out:     "z = W x + b (pre-activation)",
			GradOut: "dL/dz = delta, the textbook delta (from above)",
			GradIn:  "dL/dx = W^T delta (passed below)",
			Params:  map[string]string{"weight": "delta x^T, summed over the batch", "bias": "delta, summed over the batch"},
		},
		Params: func() any { return &DenseParams{Bias: true} },
		Build: func(p any, in []int, info *DataInfo) (Spec, error) {
			dp := p.(*DenseParams)
			if len(in) > 2 {
				return nil, fmt.Errorf("input is %v; dense works on the last axis of a vector or a (time, features) sequence: add a flatten layer before it", in)
			}
			units, err := dp.Units.Resolve(info)
			if err != nil {
				return nil, err
			}
			if units < 1 {
				return nil, ParamErr("units", "must be at least 1, got %d", units)
			}
			return DenseSpec{In: in, Units: units, Bias: dp.Bias}, nil
		},
		Doc: "fully connected layer on the last axis: y = x W^T + b",
	})
}
