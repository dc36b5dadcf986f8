package backprop

import "math"

// ELUSpec is PyTorch's nn.ELU, the exponential linear unit. Element-wise,
// output shape = input shape, no parameters:
//
//	y = x                       (x > 0)     dy/dx = 1                 (x > 0)
//	y = alpha * (exp(x) - 1)    (x <= 0)    dy/dx = alpha * exp(x)    (x <= 0)
//
// As in PyTorch, the derivative at x = 0 is the exponential side's (alpha).
type ELUSpec struct {
	In    []int
	Alpha float64
}

func (s ELUSpec) Kind() string        { return "elu" }
func (s ELUSpec) InShape() []int      { return s.In }
func (s ELUSpec) OutShape() []int     { return s.In }
func (s ELUSpec) Params() []ParamSpec { return nil }
func (s ELUSpec) FLOPs() int64        { return 2 * int64(Prod(s.In)) }

func (s ELUSpec) new32(_ []*Param[float32], maxBatch int) Layer[float32] {
	return newPointwise[float32](eluFn{s.Alpha}, s.In, maxBatch)
}
func (s ELUSpec) new64(_ []*Param[float64], maxBatch int) Layer[float64] {
	return newPointwise[float64](eluFn{s.Alpha}, s.In, maxBatch)
}

type eluFn struct{ alpha float64 }

func (f eluFn) value(x float64) float64 {
	if x > 0 {
		return x
	}
	return f.alpha * math.Expm1(x)
}

func (f eluFn) deriv(x float64) float64 {
	if x > 0 {
		return 1
	}
	return f.alpha * math.Exp(x)
}

// ELUParams are the config parameters of elu.
type ELUParams struct {
	Alpha float64 `yaml:"alpha"` // default 1.0, as torch
}

func init() {
	Register("elu", Kind{
		Trace:  activationTrace("elu", "dL/dy * (1 if z > 0, else alpha exp(z))"),
		Params: func() any { return &ELUParams{Alpha: 1} },
		Build: func(p any, in []int, _ *DataInfo) (Spec, error) {
			a := p.(*ELUParams).Alpha
			if math.IsNaN(a) || math.IsInf(a, 0) {
				return nil, ParamErr("alpha", "must be a finite number, got %g", a)
			}
			return ELUSpec{In: in, Alpha: a}, nil
		},
		Doc: "ELU: x for x > 0, alpha * (exp(x) - 1) otherwise (nn.ELU)",
	})
}
