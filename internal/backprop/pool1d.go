package backprop

import (
	"fmt"
	"math"
)

// Pool1DSpec is 1-D max or average pooling over sequences (T, C), PyTorch's
// nn.MaxPool1d and nn.AvgPool1d (ceil_mode false; count_include_pad true)
// applied to the transposed (C, T) tensor. Each channel is pooled
// separately over windows of K steps moved by Stride, on the input padded
// by Pad steps at each end (at most half the window, as PyTorch):
//
//	max: y[s,t,c] = max over the window of x (padding never wins; the first
//	     maximum on ties, a NaN wins); dx[argmax] += dy[s,t,c]
//	avg: y[s,t,c] = (1/K) sum over the window of x (padding counts as 0);
//	     dx[p] += dy[s,t,c] / K for every input step p of the window
//
// The output is (T', C), T' = (T + 2 Pad - K)/Stride + 1. Samples run in
// parallel (Ctx.For); a sample's gradients are added in a fixed order.
type Pool1DSpec struct {
	Op     PoolOp
	In     []int // [T, C]
	K      int
	Stride int
	Pad    int
}

func (s Pool1DSpec) Kind() string        { return string(s.Op) + "pool1d" }
func (s Pool1DSpec) InShape() []int      { return s.In }
func (s Pool1DSpec) Params() []ParamSpec { return nil }

// OutLen is T' (< 1 when the window does not fit).
func (s Pool1DSpec) OutLen() int { return convOut(s.In[0], s.K, s.Stride, 2*s.Pad) }

func (s Pool1DSpec) OutShape() []int { return []int{s.OutLen(), s.In[1]} }
func (s Pool1DSpec) FLOPs() int64    { return int64(s.OutLen()*s.In[1]) * int64(s.K) }

func (s Pool1DSpec) String() string {
	return fmt.Sprintf("%spool1d(%d, stride %d, pad %d)", s.Op, s.K, s.Stride, s.Pad)
}

func (s Pool1DSpec) new32(_ []*Param[float32], maxBatch int) Layer[float32] {
	return newPool1D[float32](s, maxBatch)
}
func (s Pool1DSpec) new64(_ []*Param[float64], maxBatch int) Layer[float64] {
	return newPool1D[float64](s, maxBatch)
}

type pool1d[T Float] struct {
	s      Pool1DSpec
	max    bool
	t, c   int
	ot     int
	argmax []int32 // max: the input step of each output's maximum
	y, dx  []T

	// The current call, for the tasks.
	x, dy []T
	fwd   pool1dTask[T]
	bwd   pool1dTask[T]
}

func newPool1D[T Float](s Pool1DSpec, maxBatch int) *pool1d[T] {
	l := &pool1d[T]{s: s, max: s.Op == PoolMax, t: s.In[0], c: s.In[1], ot: s.OutLen()}
	out := maxBatch * l.ot * l.c
	l.y, l.dx = make([]T, out), make([]T, maxBatch*l.t*l.c)
	if l.max {
		l.argmax = make([]int32, out)
	}
	l.fwd = pool1dTask[T]{l: l, fwd: true}
	l.bwd = pool1dTask[T]{l: l}
	return l
}

// grain is the samples per chunk: about 8K input values.
func (l *pool1d[T]) grain() int { return max(1, (8<<10)/(l.t*l.c)) }

func (l *pool1d[T]) Forward(ctx *Ctx, x []T, n int) []T {
	l.x = x[:n*l.t*l.c]
	ctx.For(n, l.grain(), &l.fwd)
	l.x = nil
	return l.y[:n*l.ot*l.c]
}

func (l *pool1d[T]) Backward(ctx *Ctx, dy []T, n int, needDx bool) []T {
	if !needDx {
		return nil
	}
	l.dy = dy[:n*l.ot*l.c]
	ctx.For(n, l.grain(), &l.bwd)
	l.dy = nil
	return l.dx[:n*l.t*l.c]
}

// pool1dTask pools the samples [lo, hi) (fwd) or computes their dx.
type pool1dTask[T Float] struct {
	l   *pool1d[T]
	fwd bool
}

func (t *pool1dTask[T]) Run(_, lo, hi int) {
	l, s := t.l, t.l.s
	inv := 1 / T(s.K)
	for smp := lo; smp < hi; smp++ {
		in, out := smp*l.t*l.c, smp*l.ot*l.c
		if !t.fwd {
			clear(l.dx[in : in+l.t*l.c])
		}
		for o := range l.ot {
			p0 := o*s.Stride - s.Pad
			p1 := min(p0+s.K, l.t)
			p0 = max(p0, 0)
			for c := range l.c {
				q := out + o*l.c + c
				switch {
				case !t.fwd && l.max:
					l.dx[in+int(l.argmax[q])*l.c+c] += l.dy[q]
				case !t.fwd:
					g := l.dy[q] * inv
					for p := p0; p < p1; p++ {
						l.dx[in+p*l.c+c] += g
					}
				case l.max:
					best, at := T(math.Inf(-1)), p0
					for p := p0; p < p1; p++ {
						if v := l.x[in+p*l.c+c]; v > best || v != v {
							best, at = v, p
							if v != v {
								break
							}
						}
					}
					l.y[q], l.argmax[q] = best, int32(at)
				default:
					var sum T
					for p := p0; p < p1; p++ {
						sum += l.x[in+p*l.c+c]
					}
					l.y[q] = sum * inv
				}
			}
		}
	}
}

// Pool1DParams are the parameters of maxpool1d and avgpool1d.
type Pool1DParams struct {
	Size    *int `yaml:"size"`    // required
	Stride  *int `yaml:"stride"`  // default: the size
	Padding int  `yaml:"padding"` // default 0; at most half the size
}

func init() {
	for _, op := range []PoolOp{PoolMax, PoolAvg} {
		Register(string(op)+"pool1d", Kind{
			Trace:  poolTrace[op],
			Params: func() any { return &Pool1DParams{} },
			Build: func(p any, in []int, info *DataInfo) (Spec, error) {
				pp := p.(*Pool1DParams)
				if len(in) != 2 {
					return nil, needsSequence(in, info)
				}
				if pp.Size == nil {
					return nil, ParamErr("size", "required: the window length, e.g. 2")
				}
				if *pp.Size < 1 {
					return nil, ParamErr("size", "must be at least 1, got %d", *pp.Size)
				}
				stride := *pp.Size
				if pp.Stride != nil {
					stride = *pp.Stride
				}
				if stride < 1 {
					return nil, ParamErr("stride", "must be at least 1, got %d", stride)
				}
				if pp.Padding < 0 || 2*pp.Padding > *pp.Size {
					return nil, ParamErr("padding", "must be between 0 and half the window size (at most %d for a window of %d, as in PyTorch), got %d", *pp.Size/2, *pp.Size, pp.Padding)
				}
				s := Pool1DSpec{Op: op, In: in, K: *pp.Size, Stride: stride, Pad: pp.Padding}
				if s.OutLen() < 1 {
					return nil, fmt.Errorf("the window of %d steps does not fit the input %v padded to %d", s.K, in, in[0]+2*s.Pad)
				}
				return s, nil
			},
			Doc: string(op) + " pooling over windows of time steps of a (time, features) sequence",
		})
	}
}
