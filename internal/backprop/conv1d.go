package backprop

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/nettrain/nettrain/internal/simd"
)

// Conv1DSpec is a 1-D convolution over sequences (T, C), PyTorch's
// nn.Conv1d applied to the transposed (C, T) tensor: nettrain's sequences
// are channels last, torch's channels first; the weight has torch's layout,
// so checkpoints load into nn.Conv1d. With xp the input zero-padded by PadL
// steps before and PadR after:
//
//	y[s,t,f] = b[f] + sum_{c,k} W[f,c,k] * xp[s, t*Stride + k*Dilation, c]
//
// The output is (T', F), T' = (T + PadL + PadR - Dilation*(K-1) - 1)/Stride + 1.
// It is one GEMM over the batch: the patches col (n*T', C*K), col[(s,t), c*K
// + k] = xp[s, t*Stride + k*Dilation, c] (im2col, in parallel over samples),
// so that with W viewed as (F, C*K):
//
//	Y = col W^T + b          (n*T', F)
//	dW += dY^T col           db += sum_rows dY
//	dcol = dY W, dx = col2im(dcol): each dcol entry added back to the input
//	position it was read from (per sample, in a fixed order)
//
// Parameters "weight" (F, C, K) and "bias" (F), both U(-1/sqrt(C*K),
// 1/sqrt(C*K)) as PyTorch.
type Conv1DSpec struct {
	In         []int // [T, C]
	Filters    int
	K          int
	Stride     int
	PadL, PadR int
	Dilation   int
	Bias       bool
}

func (s Conv1DSpec) Kind() string   { return "conv1d" }
func (s Conv1DSpec) InShape() []int { return s.In }

// OutLen is T' (< 1 when the dilated kernel does not fit the padded input).
func (s Conv1DSpec) OutLen() int {
	span := s.Dilation*(s.K-1) + 1
	if s.In[0]+s.PadL+s.PadR < span {
		return 0
	}
	return (s.In[0]+s.PadL+s.PadR-span)/s.Stride + 1
}

func (s Conv1DSpec) OutShape() []int { return []int{s.OutLen(), s.Filters} }
func (s Conv1DSpec) fanIn() int      { return s.In[1] * s.K }

func (s Conv1DSpec) Params() []ParamSpec {
	bound := 1 / math.Sqrt(float64(s.fanIn()))
	ps := []ParamSpec{{Name: "weight", Shape: []int{s.Filters, s.In[1], s.K}, Init: Uniform(bound)}}
	if s.Bias {
		ps = append(ps, ParamSpec{Name: "bias", Shape: []int{s.Filters}, Init: Uniform(bound)})
	}
	return ps
}

func (s Conv1DSpec) FLOPs() int64 {
	return 2 * int64(s.OutLen()) * int64(s.Filters) * int64(s.fanIn())
}

// WorkspaceElems is the patch matrix and its gradient, per sample.
func (s Conv1DSpec) WorkspaceElems() int64 { return 2 * int64(s.OutLen()) * int64(s.fanIn()) }

func (s Conv1DSpec) String() string {
	return fmt.Sprintf("conv1d(%d, kernel %d, stride %d, pad %d,%d, dilation %d)", s.Filters, s.K, s.Stride, s.PadL, s.PadR, s.Dilation)
}

func (s Conv1DSpec) new32(p []*Param[float32], maxBatch int) Layer[float32] {
	return newConv1D(s, p, maxBatch)
}
func (s Conv1DSpec) new64(p []*Param[float64], maxBatch int) Layer[float64] {
	return newConv1D(s, p, maxBatch)
}

type conv1d[T Float] struct {
	s           Conv1DSpec
	t, c, f, ot int // input steps, channels, filters, output steps
	ck          int // C*K
	w, b        *Param[T]
	col, dcol   []T // (n*T', C*K)
	y, dx       []T

	// The current call, for the tasks.
	x   []T
	fwd conv1dTask[T]
	bwd conv1dTask[T]
}

func newConv1D[T Float](s Conv1DSpec, p []*Param[T], maxBatch int) *conv1d[T] {
	l := &conv1d[T]{s: s, t: s.In[0], c: s.In[1], f: s.Filters, ot: s.OutLen(), ck: s.fanIn(), w: p[0]}
	if s.Bias {
		l.b = p[1]
	}
	rows := maxBatch * l.ot
	l.col, l.dcol = make([]T, rows*l.ck), make([]T, rows*l.ck)
	l.y, l.dx = make([]T, rows*l.f), make([]T, maxBatch*l.t*l.c)
	l.fwd = conv1dTask[T]{l: l, fwd: true}
	l.bwd = conv1dTask[T]{l: l}
	return l
}

// grain is the samples per chunk of im2col and col2im: about ElemGrain
// values of col.
func (l *conv1d[T]) grain() int { return max(1, ElemGrain/max(1, l.ot*l.ck)) }

func (l *conv1d[T]) Forward(ctx *Ctx, x []T, n int) []T {
	r := n * l.ot
	l.x = x[:n*l.t*l.c]
	ctx.For(n, l.grain(), &l.fwd) // col = im2col(x)
	l.x = nil
	y := l.y[:r*l.f]
	beta := T(0)
	if l.b != nil {
		for i := range r {
			copy(y[i*l.f:(i+1)*l.f], l.b.W)
		}
		beta = 1
	}
	// Y = col W^T (+ b)
	Gemm(ctx, false, true, r, l.f, l.ck, 1, l.col[:r*l.ck], l.ck, l.w.W, l.ck, beta, y, l.f)
	return y
}

func (l *conv1d[T]) Backward(ctx *Ctx, dy []T, n int, needDx bool) []T {
	r := n * l.ot
	dy = dy[:r*l.f]
	// dW += dY^T col
	Gemm(ctx, true, false, l.f, l.ck, r, 1, dy, l.f, l.col[:r*l.ck], l.ck, 1, l.w.G, l.ck)
	if l.b != nil {
		for i := range r {
			simd.Add(l.b.G, dy[i*l.f:(i+1)*l.f])
		}
	}
	if !needDx {
		return nil
	}
	// dcol = dY W, then dx = col2im(dcol).
	Gemm(ctx, false, false, r, l.ck, l.f, 1, dy, l.f, l.w.W, l.ck, 0, l.dcol[:r*l.ck], l.ck)
	ctx.For(n, l.grain(), &l.bwd)
	return l.dx[:n*l.t*l.c]
}

// conv1dTask is im2col (fwd) or col2im for the samples [lo, hi).
type conv1dTask[T Float] struct {
	l   *conv1d[T]
	fwd bool
}

func (t *conv1dTask[T]) Run(_, lo, hi int) {
	l, s := t.l, t.l.s
	for smp := lo; smp < hi; smp++ {
		var x []T
		if t.fwd {
			x = l.x[smp*l.t*l.c : (smp+1)*l.t*l.c]
		} else {
			x = l.dx[smp*l.t*l.c : (smp+1)*l.t*l.c]
			clear(x)
		}
		for o := range l.ot {
			q := smp*l.ot + o
			var row []T
			if t.fwd {
				row = l.col[q*l.ck : (q+1)*l.ck]
			} else {
				row = l.dcol[q*l.ck : (q+1)*l.ck]
			}
			for k := range s.K {
				p := o*s.Stride + k*s.Dilation - s.PadL
				inside := p >= 0 && p < l.t
				for c := range l.c {
					switch {
					case !t.fwd:
						if inside {
							x[p*l.c+c] += row[c*s.K+k]
						}
					case inside:
						row[c*s.K+k] = x[p*l.c+c]
					default:
						row[c*s.K+k] = 0
					}
				}
			}
		}
	}
}

// Padding1D is a 1-D convolution's zero padding: an integer (both ends),
// "same" (output length = input length at stride 1, an odd total's extra
// step at the end, as PyTorch) or "valid" (none).
type Padding1D struct {
	N    int
	Same bool
}

func (p *Padding1D) DecodeParam(n ParamNode) error {
	if s, ok := n.String(); ok {
		switch s {
		case "same":
			p.Same = true
			return nil
		case "valid":
			p.N = 0
			return nil
		}
		return n.Errorf("expected an integer, \"same\" or \"valid\", got %q", s)
	}
	if !n.IsInt() {
		return n.Errorf("expected an integer, \"same\" or \"valid\", got %s", n.Describe())
	}
	v, err := n.Int()
	p.N = v
	return err
}

func (p Padding1D) MarshalJSON() ([]byte, error) {
	if p.Same {
		return json.Marshal("same")
	}
	return json.Marshal(p.N)
}

// Conv1DParams are the config parameters of conv1d.
type Conv1DParams struct {
	Filters  int       `yaml:"filters"`
	Kernel   *int      `yaml:"kernel"`   // required
	Stride   int       `yaml:"stride"`   // default 1
	Padding  Padding1D `yaml:"padding"`  // default 0
	Dilation int       `yaml:"dilation"` // default 1
	Bias     bool      `yaml:"bias"`     // default true
}

func init() {
	Register("conv1d", Kind{
		Trace: TraceDoc{
			Out:     "z = W * x + b (pre-activation: one channel per filter, over time)",
			GradOut: "dL/dz = delta, the textbook delta (from above)",
			GradIn:  "dL/dx = delta convolved with the flipped filters over time (passed below)",
			Params:  map[string]string{"weight": "delta correlated with x over time", "bias": "delta summed over time and the batch"},
		},
		Params: func() any { return &Conv1DParams{Stride: 1, Dilation: 1, Bias: true} },
		Build: func(p any, in []int, info *DataInfo) (Spec, error) {
			cp := p.(*Conv1DParams)
			if len(in) != 2 {
				return nil, needsSequence(in, info)
			}
			if cp.Filters < 1 {
				return nil, ParamErr("filters", "must be at least 1, got %d%s", cp.Filters, required(cp.Filters, "the number of output channels, e.g. filters: 16"))
			}
			if cp.Kernel == nil {
				return nil, ParamErr("kernel", "required: the kernel length, e.g. 3")
			}
			if *cp.Kernel < 1 {
				return nil, ParamErr("kernel", "must be at least 1, got %d", *cp.Kernel)
			}
			if cp.Stride < 1 {
				return nil, ParamErr("stride", "must be at least 1, got %d", cp.Stride)
			}
			if cp.Dilation < 1 {
				return nil, ParamErr("dilation", "must be at least 1, got %d", cp.Dilation)
			}
			s := Conv1DSpec{In: in, Filters: cp.Filters, K: *cp.Kernel, Stride: cp.Stride, Dilation: cp.Dilation, Bias: cp.Bias}
			switch {
			case cp.Padding.Same:
				if cp.Stride != 1 {
					return nil, ParamErr("padding", "\"same\" needs stride 1, got stride %d", cp.Stride)
				}
				total := cp.Dilation * (*cp.Kernel - 1)
				s.PadL, s.PadR = total/2, total-total/2
			case cp.Padding.N < 0:
				return nil, ParamErr("padding", "must be at least 0, got %d", cp.Padding.N)
			default:
				s.PadL, s.PadR = cp.Padding.N, cp.Padding.N
			}
			if s.OutLen() < 1 {
				return nil, fmt.Errorf("kernel %d with dilation %d spans %d steps, more than the input %v padded to %d",
					s.K, s.Dilation, s.Dilation*(s.K-1)+1, in, in[0]+s.PadL+s.PadR)
			}
			return s, nil
		},
		Doc: "1-D convolution over a (time, features) sequence (nn.Conv1d on the transposed input)",
	})
}
