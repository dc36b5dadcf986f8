package backprop

import (
	"math"

	"github.com/nettrain/nettrain/internal/simd"
)

// SiLUSpec is PyTorch's nn.SiLU (swish): element-wise, output shape =
// input shape, no parameters, with sigma the logistic sigmoid:
//
//	y = x * sigma(x)        dy/dx = sigma(x) * (1 + x * (1 - sigma(x)))
//
// sigma is package simd's Sigmoid: in float32 its vector approximation
// (within 3 ulp; see package simd), in float64 1/(1+exp(-x)) with package
// math. The rest of each formula is computed in float64 and rounded once
// to the element type, element by element, in the pointwise layer's
// chunks of ElemGrain, so the bits never depend on the thread count.
// Backward recomputes sigma(x) rather than keeping it: one more vector
// pass, no buffer.
type SiLUSpec struct{ In []int }

func (s SiLUSpec) Kind() string        { return "silu" }
func (s SiLUSpec) InShape() []int      { return s.In }
func (s SiLUSpec) OutShape() []int     { return s.In }
func (s SiLUSpec) Params() []ParamSpec { return nil }
func (s SiLUSpec) FLOPs() int64        { return 4 * int64(Prod(s.In)) }

func (s SiLUSpec) new32(_ []*Param[float32], maxBatch int) Layer[float32] {
	return newPointwise[float32](siluFn[float32]{}, s.In, maxBatch)
}
func (s SiLUSpec) new64(_ []*Param[float64], maxBatch int) Layer[float64] {
	return newPointwise[float64](siluFn[float64]{}, s.In, maxBatch)
}

// siluFn computes silu a chunk at a time (chunkFn), writing sigma(x)
// where its result goes, then the formula over it. value and deriv are
// the formulas one element at a time in float64 with math.Exp (the
// scalarFn the pointwise layer is built on; the layer runs the chunk
// form, which in float32 differs from them by simd's approximation of
// sigma).
type siluFn[T Float] struct{}

func (siluFn[T]) forwardChunk(y, x []T) {
	simd.Sigmoid(y, x)
	for i, v := range x {
		y[i] = T(float64(v) * float64(y[i]))
	}
}

func (siluFn[T]) backwardChunk(dx, dy, x []T) {
	simd.Sigmoid(dx, x)
	for i, v := range x {
		s, xv := float64(dx[i]), float64(v)
		dx[i] = T(float64(dy[i]) * (s * (1 + xv*(1-s))))
	}
}

func sigmoid64(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func (siluFn[T]) value(x float64) float64 { return x * sigmoid64(x) }

func (siluFn[T]) deriv(x float64) float64 {
	s := sigmoid64(x)
	return s * (1 + x*(1-s))
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
