package backprop

import (
	"fmt"
	"math"
)

// Pool2DSpec is 2-D max or average pooling over NCHW images, PyTorch's
// nn.MaxPool2d and nn.AvgPool2d (ceil_mode false; count_include_pad true).
// Each channel is pooled separately over KH x KW windows moved by SH, SW,
// on the input padded by PH rows and PW columns on each side (PyTorch allows
// at most half the window). Windows may overlap (stride < size).
//
//	max: y[s,c,i,j] = max over the window of x (padding never wins);
//	     the position of the maximum (the first one on ties, NaN wins, as
//	     PyTorch) is recorded, and backward routes dy there:
//	     dx[argmax] += dy[s,c,i,j] (gradients of overlapping windows add up)
//	avg: y[s,c,i,j] = (1/(KH*KW)) * sum over the window of x (padding counts as 0)
//	     dx[p] += dy[s,c,i,j] / (KH*KW) for every input p of the window
type Pool2DSpec struct {
	Op     string // "max" or "avg"
	In     []int  // [C, H, W]
	KH, KW int
	SH, SW int
	PH, PW int
}

func (s Pool2DSpec) Kind() string        { return s.Op + "pool2d" }
func (s Pool2DSpec) InShape() []int      { return s.In }
func (s Pool2DSpec) Params() []ParamSpec { return nil }

// OutHW is the output height and width (< 1 when the window does not fit).
func (s Pool2DSpec) OutHW() (int, int) {
	return convOut(s.In[1], s.KH, s.SH, 2*s.PH), convOut(s.In[2], s.KW, s.SW, 2*s.PW)
}

func (s Pool2DSpec) OutShape() []int {
	oh, ow := s.OutHW()
	return []int{s.In[0], oh, ow}
}

func (s Pool2DSpec) FLOPs() int64 {
	oh, ow := s.OutHW()
	return int64(s.In[0]*oh*ow) * int64(s.KH*s.KW)
}

func (s Pool2DSpec) String() string {
	return fmt.Sprintf("%spool2d(%dx%d, stride %dx%d, pad %dx%d)", s.Op, s.KH, s.KW, s.SH, s.SW, s.PH, s.PW)
}

func (s Pool2DSpec) new32(_ []*Param[float32], maxBatch int) Layer[float32] {
	return newPool2D[float32](s, maxBatch)
}
func (s Pool2DSpec) new64(_ []*Param[float64], maxBatch int) Layer[float64] {
	return newPool2D[float64](s, maxBatch)
}

type pool2d[T Float] struct {
	s       Pool2DSpec
	max     bool
	c, h, w int
	oh, ow  int
	argmax  []int32 // max: flat index in the input plane of each output's maximum
	y, dx   []T
}

func newPool2D[T Float](s Pool2DSpec, maxBatch int) *pool2d[T] {
	oh, ow := s.OutHW()
	l := &pool2d[T]{s: s, max: s.Op == "max", c: s.In[0], h: s.In[1], w: s.In[2], oh: oh, ow: ow}
	out := maxBatch * l.c * oh * ow
	l.y = make([]T, out)
	l.dx = make([]T, maxBatch*l.c*l.h*l.w)
	if l.max {
		l.argmax = make([]int32, out)
	}
	return l
}

// window returns the rows [i0, i1) and columns [j0, j1) of the input that
// output (i, j)'s window covers, clipped to the unpadded input.
func (l *pool2d[T]) window(i, j int) (i0, i1, j0, j1 int) {
	s := l.s
	i0, j0 = i*s.SH-s.PH, j*s.SW-s.PW
	i1, j1 = min(i0+s.KH, l.h), min(j0+s.KW, l.w)
	return max(i0, 0), i1, max(j0, 0), j1
}

func (l *pool2d[T]) Forward(_ *Ctx, x []T, n int) []T {
	planes := n * l.c
	in, out := l.h*l.w, l.oh*l.ow
	y := l.y[:planes*out]
	inv := 1 / T(l.s.KH*l.s.KW)
	for p := 0; p < planes; p++ {
		xp := x[p*in : (p+1)*in]
		yp := y[p*out : (p+1)*out]
		for i := 0; i < l.oh; i++ {
			for j := 0; j < l.ow; j++ {
				i0, i1, j0, j1 := l.window(i, j)
				if l.max {
					best, at := T(math.Inf(-1)), int32(i0*l.w+j0)
					for a := i0; a < i1; a++ {
						for b := j0; b < j1; b++ {
							if v := xp[a*l.w+b]; v > best || v != v {
								best, at = v, int32(a*l.w+b)
								if v != v {
									goto done
								}
							}
						}
					}
				done:
					yp[i*l.ow+j] = best
					l.argmax[p*out+i*l.ow+j] = at
				} else {
					var sum T
					for a := i0; a < i1; a++ {
						for _, v := range xp[a*l.w+j0 : a*l.w+j1] {
							sum += v
						}
					}
					yp[i*l.ow+j] = sum * inv
				}
			}
		}
	}
	return y
}

func (l *pool2d[T]) Backward(_ *Ctx, dy []T, n int, needDx bool) []T {
	if !needDx {
		return nil
	}
	planes := n * l.c
	in, out := l.h*l.w, l.oh*l.ow
	dx := l.dx[:planes*in]
	clear(dx)
	inv := 1 / T(l.s.KH*l.s.KW)
	for p := 0; p < planes; p++ {
		dxp := dx[p*in : (p+1)*in]
		dyp := dy[p*out : (p+1)*out]
		if l.max {
			for o, g := range dyp {
				dxp[l.argmax[p*out+o]] += g
			}
			continue
		}
		for i := 0; i < l.oh; i++ {
			for j := 0; j < l.ow; j++ {
				g := dyp[i*l.ow+j] * inv
				i0, i1, j0, j1 := l.window(i, j)
				for a := i0; a < i1; a++ {
					row := dxp[a*l.w+j0 : a*l.w+j1]
					for b := range row {
						row[b] += g
					}
				}
			}
		}
	}
	return dx
}

// GlobalAvgPoolSpec averages each channel of (C, H, W) over all positions,
// giving (C): y[s,c] = (1/(H*W)) sum_{i,j} x[s,c,i,j], dx = dy / (H*W).
// Like nn.AdaptiveAvgPool2d(1) followed by a flatten.
type GlobalAvgPoolSpec struct{ In []int }

func (s GlobalAvgPoolSpec) Kind() string        { return "global_avgpool" }
func (s GlobalAvgPoolSpec) InShape() []int      { return s.In }
func (s GlobalAvgPoolSpec) OutShape() []int     { return []int{s.In[0]} }
func (s GlobalAvgPoolSpec) Params() []ParamSpec { return nil }
func (s GlobalAvgPoolSpec) FLOPs() int64        { return int64(Prod(s.In)) }
func (s GlobalAvgPoolSpec) new32(_ []*Param[float32], maxBatch int) Layer[float32] {
	return newGlobalAvg[float32](s, maxBatch)
}
func (s GlobalAvgPoolSpec) new64(_ []*Param[float64], maxBatch int) Layer[float64] {
	return newGlobalAvg[float64](s, maxBatch)
}

type globalAvg[T Float] struct {
	c, hw int
	y, dx []T
}

func newGlobalAvg[T Float](s GlobalAvgPoolSpec, maxBatch int) *globalAvg[T] {
	c, hw := s.In[0], Prod(s.In[1:])
	return &globalAvg[T]{c: c, hw: hw, y: make([]T, maxBatch*c), dx: make([]T, maxBatch*c*hw)}
}

func (l *globalAvg[T]) Forward(_ *Ctx, x []T, n int) []T {
	y := l.y[:n*l.c]
	for p := range y {
		var sum float64
		for _, v := range x[p*l.hw : (p+1)*l.hw] {
			sum += float64(v)
		}
		y[p] = T(sum / float64(l.hw))
	}
	return y
}

func (l *globalAvg[T]) Backward(_ *Ctx, dy []T, n int, needDx bool) []T {
	if !needDx {
		return nil
	}
	dx := l.dx[:n*l.c*l.hw]
	inv := 1 / T(l.hw)
	for p, g := range dy[:n*l.c] {
		g *= inv
		row := dx[p*l.hw : (p+1)*l.hw]
		for i := range row {
			row[i] = g
		}
	}
	return dx
}
