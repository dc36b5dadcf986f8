package backprop

import "math"

// GELUSpec is PyTorch's nn.GELU, the Gaussian error linear unit, in its
// exact form (approximate "none") or torch's tanh approximation
// (approximate "tanh"). Element-wise, output shape = input shape, no
// parameters. With Phi and phi the standard normal CDF and density:
//
//	none: y = x * Phi(x) = x/2 * (1 + erf(x / sqrt 2))
//	      dy/dx = Phi(x) + x * phi(x),  phi(x) = exp(-x^2/2) / sqrt(2 pi)
//	tanh: u = sqrt(2/pi) * (x + 0.044715 x^3),  y = x/2 * (1 + tanh(u))
//	      dy/dx = (1 + tanh(u))/2 + x/2 * (1 - tanh^2(u)) * sqrt(2/pi) * (1 + 3 * 0.044715 x^2)
type GELUSpec struct {
	In   []int
	Tanh bool // approximate: tanh
}

func (s GELUSpec) Kind() string        { return "gelu" }
func (s GELUSpec) InShape() []int      { return s.In }
func (s GELUSpec) OutShape() []int     { return s.In }
func (s GELUSpec) Params() []ParamSpec { return nil }
func (s GELUSpec) FLOPs() int64        { return 8 * int64(Prod(s.In)) }

func (s GELUSpec) new32(_ []*Param[float32], maxBatch int) Layer[float32] {
	return newPointwise[float32](geluFn{s.Tanh}, s.In, maxBatch)
}
func (s GELUSpec) new64(_ []*Param[float64], maxBatch int) Layer[float64] {
	return newPointwise[float64](geluFn{s.Tanh}, s.In, maxBatch)
}

type geluFn struct{ tanh bool }

const (
	geluK = 0.7978845608028654 // sqrt(2/pi)
	geluC = 0.044715
)

func (f geluFn) value(x float64) float64 {
	if f.tanh {
		return 0.5 * x * (1 + math.Tanh(geluK*(x+geluC*x*x*x)))
	}
	return 0.5 * x * (1 + math.Erf(x/math.Sqrt2))
}

func (f geluFn) deriv(x float64) float64 {
	if f.tanh {
		t := math.Tanh(geluK * (x + geluC*x*x*x))
		return 0.5*(1+t) + 0.5*x*(1-t*t)*geluK*(1+3*geluC*x*x)
	}
	return 0.5*(1+math.Erf(x/math.Sqrt2)) + x*math.Exp(-0.5*x*x)/math.Sqrt(2*math.Pi)
}

// GELUParams are the config parameters of gelu.
type GELUParams struct {
	Approximate string `yaml:"approximate"` // none (default, as torch) | tanh
}

func init() {
	Register("gelu", Kind{
		Trace:  activationTrace("gelu", "dL/dy * (Phi(z) + z phi(z)), Phi and phi the normal CDF and density (or the derivative of the tanh form)"),
		Params: func() any { return &GELUParams{Approximate: "none"} },
		Build: func(p any, in []int, _ *DataInfo) (Spec, error) {
			switch a := p.(*GELUParams).Approximate; a {
			case "none":
				return GELUSpec{In: in}, nil
			case "tanh":
				return GELUSpec{In: in, Tanh: true}, nil
			default:
				return nil, ParamErr("approximate", "must be none (the exact erf form) or tanh, got %q", a)
			}
		},
		Doc: "GELU: x * Phi(x), exact or tanh approximation (nn.GELU)",
	})
}
