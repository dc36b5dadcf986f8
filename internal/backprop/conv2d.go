package backprop

import (
	"fmt"
	"math"
)

// Conv2DSpec is a 2-D convolution over NCHW images, PyTorch's nn.Conv2d
// (cross-correlation, as every framework computes it):
//
//	y[s,f,i,j] = b[f] + sum_{c,u,v} W[f,c,u,v] * xp[s, c, i*SH + u, j*SW + v]
//
// where xp is x zero-padded by PadT/PadB rows and PadL/PadR columns. The
// output is (F, OH, OW) with OH = (H + PadT + PadB - KH)/SH + 1 (likewise OW).
//
// It is computed as one GEMM over the whole batch. im2col lays the input
// patches out as col (C*KH*KW, n*OH*OW); then
//
//	Y' = W col               W viewed as (F, C*KH*KW); Y' is (F, n*OH*OW)
//
// and Y' is scattered to (n, F, OH, OW) with the bias added. Backward, with
// dY' the output gradient gathered the same way:
//
//	dW   += dY' col^T        (F, C*KH*KW): the correlation of the input with the output gradient
//	db   += sum over s, i, j of dy[s, f, i, j]
//	dcol  = W^T dY'          (C*KH*KW, n*OH*OW)
//	dx    = col2im(dcol)     patches summed back into (n, C, H, W)
//
// Parameters "weight" (F, C, KH, KW) and "bias" (F), both U(-1/sqrt(fan_in),
// 1/sqrt(fan_in)) with fan_in = C*KH*KW, as PyTorch.
type Conv2DSpec struct {
	In                     []int // [C, H, W]
	Filters                int
	KH, KW                 int
	SH, SW                 int
	PadT, PadL, PadB, PadR int
	Bias                   bool
}

func (s Conv2DSpec) Kind() string   { return "conv2d" }
func (s Conv2DSpec) InShape() []int { return s.In }

// OutHW is the output height and width; they are < 1 when the kernel does
// not fit the padded input.
func (s Conv2DSpec) OutHW() (int, int) {
	return convOut(s.In[1], s.KH, s.SH, s.PadT+s.PadB), convOut(s.In[2], s.KW, s.SW, s.PadL+s.PadR)
}

func convOut(n, k, stride, pad int) int {
	if n+pad < k {
		return 0
	}
	return (n+pad-k)/stride + 1
}

func (s Conv2DSpec) OutShape() []int {
	oh, ow := s.OutHW()
	return []int{s.Filters, oh, ow}
}

func (s Conv2DSpec) fanIn() int { return s.In[0] * s.KH * s.KW }

func (s Conv2DSpec) Params() []ParamSpec {
	bound := 1 / math.Sqrt(float64(s.fanIn()))
	ps := []ParamSpec{{Name: "weight", Shape: []int{s.Filters, s.In[0], s.KH, s.KW}, Init: Uniform(bound)}}
	if s.Bias {
		ps = append(ps, ParamSpec{Name: "bias", Shape: []int{s.Filters}, Init: Uniform(bound)})
	}
	return ps
}

func (s Conv2DSpec) FLOPs() int64 {
	oh, ow := s.OutHW()
	return 2 * int64(s.Filters) * int64(oh*ow) * int64(s.fanIn())
}

func (s Conv2DSpec) String() string {
	return fmt.Sprintf("conv2d(%d, %dx%d, stride %dx%d, pad %d,%d,%d,%d)", s.Filters, s.KH, s.KW, s.SH, s.SW, s.PadT, s.PadL, s.PadB, s.PadR)
}

func (s Conv2DSpec) new32(p []*Param[float32], maxBatch int) Layer[float32] {
	return newConv2D(s, p, maxBatch)
}
func (s Conv2DSpec) new64(p []*Param[float64], maxBatch int) Layer[float64] {
	return newConv2D(s, p, maxBatch)
}

type conv2d[T Float] struct {
	s              Conv2DSpec
	c, h, w        int // input channels, height, width
	f, oh, ow      int // filters, output height, width
	kk, plane      int // C*KH*KW, OH*OW
	wt, b          *Param[T]
	x              []T
	col, yt, y, dx []T
}

func newConv2D[T Float](s Conv2DSpec, p []*Param[T], maxBatch int) *conv2d[T] {
	oh, ow := s.OutHW()
	l := &conv2d[T]{s: s, c: s.In[0], h: s.In[1], w: s.In[2], f: s.Filters, oh: oh, ow: ow,
		kk: s.fanIn(), plane: oh * ow, wt: p[0]}
	if s.Bias {
		l.b = p[1]
	}
	l.col = make([]T, l.kk*maxBatch*l.plane)
	l.yt = make([]T, l.f*maxBatch*l.plane)
	l.y = make([]T, maxBatch*l.f*l.plane)
	l.dx = make([]T, maxBatch*l.c*l.h*l.w)
	return l
}

func (l *conv2d[T]) Forward(ctx *Ctx, x []T, n int) []T {
	l.x = x[:n*l.c*l.h*l.w]
	np := n * l.plane
	col, yt := l.col[:l.kk*np], l.yt[:l.f*np]
	l.im2col(l.x, n, col)
	Gemm(ctx, false, false, l.f, np, l.kk, 1, l.wt.W, l.kk, col, np, 0, yt, np)
	// Scatter Y' (F, n*P) to y (n, F, P), adding the bias.
	y := l.y[:n*l.f*l.plane]
	for f := 0; f < l.f; f++ {
		var bias T
		if l.b != nil {
			bias = l.b.W[f]
		}
		for s := 0; s < n; s++ {
			src := yt[f*np+s*l.plane : f*np+(s+1)*l.plane]
			dst := y[(s*l.f+f)*l.plane : (s*l.f+f+1)*l.plane]
			for i, v := range src {
				dst[i] = v + bias
			}
		}
	}
	return y
}

func (l *conv2d[T]) Backward(ctx *Ctx, dy []T, n int, needDx bool) []T {
	np := n * l.plane
	col, yt := l.col[:l.kk*np], l.yt[:l.f*np]
	// Gather dy (n, F, P) into dY' (F, n*P); db[f] += sum of its row.
	for f := 0; f < l.f; f++ {
		var sum float64
		for s := 0; s < n; s++ {
			src := dy[(s*l.f+f)*l.plane : (s*l.f+f+1)*l.plane]
			copy(yt[f*np+s*l.plane:], src)
			for _, v := range src {
				sum += float64(v)
			}
		}
		if l.b != nil {
			l.b.G[f] += T(sum)
		}
	}
	// dW += dY' col^T
	Gemm(ctx, false, true, l.f, l.kk, np, 1, yt, np, col, np, 1, l.wt.G, l.kk)
	if !needDx {
		return nil
	}
	// dcol = W^T dY' (reusing the col buffer), then dx = col2im(dcol).
	Gemm(ctx, true, false, l.kk, np, l.f, 1, l.wt.W, l.kk, yt, np, 0, col, np)
	dx := l.dx[:n*l.c*l.h*l.w]
	clear(dx)
	l.col2im(col, n, dx)
	return dx
}

// span returns the output columns [lo, hi) whose input column
// o*stride - pad + k lies inside [0, size).
func span(out, stride, pad, k, size int) (lo, hi int) {
	// o*stride - pad + k >= 0  <=>  o >= (pad - k) / stride (rounded up)
	lo = 0
	if d := pad - k; d > 0 {
		lo = (d + stride - 1) / stride
	}
	// o*stride - pad + k <= size - 1
	top := size - 1 + pad - k
	if top < 0 {
		return lo, lo
	}
	hi = min(out, top/stride+1)
	return lo, max(lo, hi)
}

// im2col writes the patches of x (n, C, H, W) into col (C*KH*KW, n*OH*OW):
// row (c, u, v), column (s, i, j) holds xp[s, c, i*SH + u, j*SW + v].
func (l *conv2d[T]) im2col(x []T, n int, col []T) {
	s := l.s
	np := n * l.plane
	for c := 0; c < l.c; c++ {
		for u := 0; u < s.KH; u++ {
			iLo, iHi := span(l.oh, s.SH, s.PadT, u, l.h)
			for v := 0; v < s.KW; v++ {
				jLo, jHi := span(l.ow, s.SW, s.PadL, v, l.w)
				row := col[((c*s.KH+u)*s.KW+v)*np:][:np]
				for smp := 0; smp < n; smp++ {
					xc := x[(smp*l.c+c)*l.h*l.w:][:l.h*l.w]
					out := row[smp*l.plane:][:l.plane]
					clear(out[:iLo*l.ow])
					for i := iLo; i < iHi; i++ {
						o := out[i*l.ow:][:l.ow]
						xr := xc[(i*s.SH-s.PadT+u)*l.w:][:l.w]
						clear(o[:jLo])
						if s.SW == 1 {
							copy(o[jLo:jHi], xr[jLo-s.PadL+v:])
						} else {
							for j := jLo; j < jHi; j++ {
								o[j] = xr[j*s.SW-s.PadL+v]
							}
						}
						clear(o[jHi:])
					}
					clear(out[iHi*l.ow:])
				}
			}
		}
	}
}

// col2im adds the patches in col (C*KH*KW, n*OH*OW) back into dx
// (n, C, H, W), the adjoint of im2col.
func (l *conv2d[T]) col2im(col []T, n int, dx []T) {
	s := l.s
	np := n * l.plane
	for smp := 0; smp < n; smp++ {
		for c := 0; c < l.c; c++ {
			xc := dx[(smp*l.c+c)*l.h*l.w:][:l.h*l.w]
			for u := 0; u < s.KH; u++ {
				iLo, iHi := span(l.oh, s.SH, s.PadT, u, l.h)
				for v := 0; v < s.KW; v++ {
					jLo, jHi := span(l.ow, s.SW, s.PadL, v, l.w)
					in := col[((c*s.KH+u)*s.KW+v)*np+smp*l.plane:][:l.plane]
					for i := iLo; i < iHi; i++ {
						o := in[i*l.ow:][:l.ow]
						xr := xc[(i*s.SH-s.PadT+u)*l.w:][:l.w]
						if s.SW == 1 {
							off := -s.PadL + v
							dst := xr[jLo+off : jHi+off]
							for j, g := range o[jLo:jHi] {
								dst[j] += g
							}
						} else {
							for j := jLo; j < jHi; j++ {
								xr[j*s.SW-s.PadL+v] += o[j]
							}
						}
					}
				}
			}
		}
	}
}
