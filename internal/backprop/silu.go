package backprop

import "math"

// SiLUSpec is PyTorch's nn.SiLU (swish): element-wise, output shape =
// input shape, no parameters, with sigma the logistic sigmoid:
//
//	y = x * sigma(x)        dy/dx = sigma(x) * (1 + x * (1 - sigma(x)))
type SiLUSpec struct{ In []int }

func (s SiLUSpec) Kind() string        { return "silu" }
func (s SiLUSpec) InShape() []int      { return s.In }
func (s SiLUSpec) OutShape() []int     { return s.In }
func (s SiLUSpec) Params() []ParamSpec { return nil }
func (s SiLUSpec) FLOPs() int64        { return 4 * int64(Prod(s.In)) }

func (s SiLUSpec) new32(_ []*Param[float32], maxBatch int) Layer[float32] {
	return newPointwise[float32](siluFn{}, s.In, maxBatch)
}
func (s SiLUSpec) new64(_ []*Param[float64], maxBatch int) Layer[float64] {
	return newPointwise[float64](siluFn{}, s.In, maxBatch)
}

type siluFn struct{}

func sigmoid64(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func (siluFn) value(x float64) float64 { return x * sigmoid64(x) }

func (siluFn) deriv(x float64) float64 {
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
