package backprop

import (
	"math"

	"github.com/nettrain/nettrain/internal/simd"
)

// ELUSpec is PyTorch's nn.ELU, the exponential linear unit. Element-wise,
// output shape = input shape, no parameters:
//
//	y = x                       (x > 0)     dy/dx = 1                 (x > 0)
//	y = alpha * (exp(x) - 1)    (x <= 0)    dy/dx = alpha * exp(x)    (x <= 0)
//
// As in PyTorch, the derivative at x = 0 is the exponential side's (alpha).
//
// float64 computes both with package math (Expm1, Exp), element by
// element. float32 runs package simd's vector approximations (elu32): the
// forward map as alpha * 2t / (1 - t) with t = tanh(x/2), which is
// exp(x) - 1 without the cancellation that subtracting 1 from exp(x) has
// near 0, and the derivative on exp(x); the rest in float64, rounded once,
// within a few float32 ulps of the float64 formulas (TestELUFloat32).
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
	return newPointwise[float32](elu32{eluFn{s.Alpha}}, s.In, maxBatch)
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

// elu32 is eluFn with a float32 chunk form (chunkFn) on simd.Tanh and
// simd.Exp. Each element's result depends on that element alone.
type elu32 struct{ eluFn }

func (f elu32) forwardChunk(y, x []float32) {
	for i, v := range x {
		y[i] = v * 0.5 // exact but below 2^-125
	}
	simd.Tanh(y, y)
	y = y[:len(x)]
	for i, v := range x {
		t := float64(y[i])
		e := math.Float32bits(float32(f.alpha * (2 * t / (1 - t)))) // NaN stays NaN
		y[i] = math.Float32frombits(pick(v, math.Float32bits(v), e))
	}
}

func (f elu32) backwardChunk(dx, dy, x []float32) {
	simd.Exp(dx, x)
	dx, dy = dx[:len(x)], dy[:len(x)]
	for i, v := range x {
		d := dy[i]
		e := math.Float32bits(float32(float64(d) * (f.alpha * float64(dx[i]))))
		dx[i] = math.Float32frombits(pick(v, math.Float32bits(d), e))
	}
}

// pick returns a if v > 0, else b, comparing v's bits as integers: a
// conditional move rather than a branch, which the signs of activations
// would mispredict about half the time.
func pick(v float32, a, b uint32) uint32 {
	r := b
	if math.Float32bits(v)-1 < 0x7f800000 { // bits 1 to +Inf's: v > 0 (NaN not)
		r = a
	}
	return r
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
