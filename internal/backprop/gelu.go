package backprop

import (
	"math"

	"github.com/nettrain/nettrain/internal/simd"
)

// GELUSpec is PyTorch's nn.GELU, the Gaussian error linear unit, in its
// exact form (approximate "none") or torch's tanh approximation
// (approximate "tanh"). Element-wise, output shape = input shape, no
// parameters. With Phi and phi the standard normal CDF and density:
//
//	none: y = x * Phi(x) = x/2 * (1 + erf(x / sqrt 2))
//	      dy/dx = Phi(x) + x * phi(x),  phi(x) = exp(-x^2/2) / sqrt(2 pi)
//	tanh: u = sqrt(2/pi) * (x + 0.044715 x^3),  y = x/2 * (1 + tanh(u))
//	      dy/dx = (1 + tanh(u))/2 + x/2 * (1 - tanh^2(u)) * sqrt(2/pi) * (1 + 3 * 0.044715 x^2)
//
// float64 computes each element with package math (Erf, Exp, Tanh), as
// torch does. In float32 the exact form runs on package simd's normal tail
// and density (geluExact32), within a few float32 ulps of x Phi(x) with
// Phi from math.Erfc, which stays accurate in the left tail where 1 +
// erf(x/sqrt 2) cancels (TestGELUExactFloat32); the tanh form runs on the
// vector sigmoid (geluTanh32), within a few float32 ulps of its sigmoid
// form in float64 (TestGELUTanhFloat32), down to about x = -10, where the
// vector sigmoid flushes values below 2^-126 to 0.
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
	if s.Tanh {
		return newPointwise[float32](geluTanh32{geluFn{true}}, s.In, maxBatch)
	}
	return newPointwise[float32](geluExact32{geluFn{}}, s.In, maxBatch)
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

// geluTanh32 is the tanh form's float32 chunk form (chunkFn). With a = 2u,
// (1 + tanh(u))/2 = sigma(a) and (1 - tanh^2(u))/4 = sigma(a) (1 -
// sigma(a)), sigma the logistic sigmoid. It takes m = sigma(-|a|), the
// smaller of sigma(a) and 1 - sigma(a), from simd.Sigmoid (which is
// accurate where it is small, as 1 - sigma(a) near 1 is not), and the
// other as 1 - m; -|a| is rounded to float32 for the vector sigmoid and
// the rounding's first-order effect, lo * m (1 - m), put back in float64.
// Each element's result depends on that element alone.
type geluTanh32 struct{ geluFn }

// geluArg returns -|a| for x (a = 2u), no lower than -200 (sigmoid is 0 in
// float32 below -103.3, and in package simd's kernels below -88.7),
// rounded to float32, and the rounding error.
func geluArg(x float32) (hi float32, lo float64) {
	xv := float64(x)
	a := -math.Abs(2 * geluK * (xv + float64(geluC*xv*xv*xv)))
	if a < -200 { // NaN stays NaN
		a = -200
	}
	hi = float32(a)
	return hi, a - float64(hi)
}

// geluSigma returns sigma(a) and m = sigma(-|a|) for x, from sig =
// simd.Sigmoid(hi) and lo (geluArg's).
func geluSigma(x, sig float32, lo float64) (s, m float64) {
	m = float64(sig)
	m += lo * m * (1 - m)
	neg := float64(math.Float32bits(x) >> 31) // a has x's sign
	return m + (1-neg)*(1-2*m), m
}

// The chunk forms run in blocks of geluBlock elements, with what they keep
// between the vector kernel and the rest (geluArg's lo; NormalTail's
// second output) in an array on the stack.
const geluBlock = 256

func (f geluTanh32) forwardChunk(y, x []float32) {
	var lo [geluBlock]float64
	for b := 0; b < len(x); b += geluBlock {
		xs := x[b:min(b+geluBlock, len(x))]
		ys, ls := y[b:b+len(xs)], lo[:len(xs)]
		for i, v := range xs {
			ys[i], ls[i] = geluArg(v)
		}
		simd.Sigmoid(ys, ys)
		for i, v := range xs {
			s, _ := geluSigma(v, ys[i], ls[i])
			ys[i] = float32(float64(v) * s)
		}
	}
}

func (f geluTanh32) backwardChunk(dx, dy, x []float32) {
	var lo [geluBlock]float64
	for b := 0; b < len(x); b += geluBlock {
		xs := x[b:min(b+geluBlock, len(x))]
		ds, dys, ls := dx[b:b+len(xs)], dy[b:b+len(xs)], lo[:len(xs)]
		for i, v := range xs {
			ds[i], ls[i] = geluArg(v)
		}
		simd.Sigmoid(ds, ds)
		for i, v := range xs {
			s, m := geluSigma(v, ds[i], ls[i])
			xv := float64(v)
			d := s + 2*xv*m*(1-m)*geluK*(1+3*geluC*xv*xv)
			ds[i] = float32(float64(dys[i]) * d)
		}
	}
}

// geluExact32 is the exact form's float32 chunk form (chunkFn), on
// simd.NormalTail: q = Phi(-|x|) and phi(x), in blocks of geluBlock. Phi(x) is q
// for x < 0 and 1 - q otherwise (normalCDF), in float64. Each element's
// result depends on that element alone.
type geluExact32 struct{ geluFn }

// normalCDF returns Phi(x) from q = Phi(-|x|): q if x's sign bit is set,
// else 1 - q (without a branch, which the signs would mispredict).
func normalCDF(x, q float32) float64 {
	qv := float64(q)
	pos := float64(1 - math.Float32bits(x)>>31)
	return qv + pos*(1-2*qv)
}

func (f geluExact32) forwardChunk(y, x []float32) {
	var d [geluBlock]float32
	for lo := 0; lo < len(x); lo += geluBlock {
		xs := x[lo:min(lo+geluBlock, len(x))]
		ys := y[lo : lo+len(xs)]
		simd.NormalTail(ys, d[:len(xs)], xs)
		for i, v := range xs {
			ys[i] = float32(float64(v) * normalCDF(v, ys[i]))
		}
	}
}

func (f geluExact32) backwardChunk(dx, dy, x []float32) {
	var q [geluBlock]float32
	for lo := 0; lo < len(x); lo += geluBlock {
		xs := x[lo:min(lo+geluBlock, len(x))]
		ds, dys := dx[lo:lo+len(xs)], dy[lo:lo+len(xs)]
		simd.NormalTail(q[:len(xs)], ds, xs)
		for i, v := range xs {
			xv := float64(v)
			ds[i] = float32(float64(dys[i]) * (normalCDF(v, q[i]) + xv*float64(ds[i])))
		}
	}
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
