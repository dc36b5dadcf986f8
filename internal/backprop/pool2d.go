package backprop

import (
	"fmt"
	"math"

	"github.com/nettrain/nettrain/internal/simd"
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
//
// PoolOp is what a pooling window computes.
type PoolOp string

const (
	PoolMax PoolOp = "max" // the window's maximum (maxpool2d)
	PoolAvg PoolOp = "avg" // the window's mean (avgpool2d)
)

// dx[p] += dy[s,c,i,j] / (KH*KW) for every input p of the window
type Pool2DSpec struct {
	Op     PoolOp
	In     []int // [C, H, W]
	KH, KW int
	SH, SW int
	PH, PW int
}

func (s Pool2DSpec) Kind() string        { return string(s.Op) + "pool2d" }
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
	fast    bool // max, 2x2 windows, stride 2, no padding
	tiles   bool // fast, and the windows cover the input exactly
	c, h, w int
	oh, ow  int
	grain   int     // planes per chunk of the parallel loops
	argmax  []int32 // max: flat index in the input plane of each output's maximum
	y, dx   []T
	gm      []T // tiles: dy masked by a fused ReLU (backwardReLU)

	// The current call, for the tasks.
	x, dy []T
	fwd   poolForward[T]
	bwd   poolBackward[T]
}

func newPool2D[T Float](s Pool2DSpec, maxBatch int) *pool2d[T] {
	oh, ow := s.OutHW()
	l := &pool2d[T]{s: s, max: s.Op == PoolMax, c: s.In[0], h: s.In[1], w: s.In[2], oh: oh, ow: ow}
	l.fast = l.max && s.KH == 2 && s.KW == 2 && s.SH == 2 && s.SW == 2 && s.PH == 0 && s.PW == 0
	l.tiles = l.fast && l.h == 2*oh && l.w == 2*ow
	out := maxBatch * l.c * oh * ow
	l.y = make([]T, out)
	l.dx = make([]T, maxBatch*l.c*l.h*l.w)
	if l.max {
		l.argmax = make([]int32, out)
	}
	if l.tiles {
		l.gm = make([]T, out)
	}
	// Chunks of at least 8K input values.
	l.grain = max(1, (8<<10)/(l.h*l.w))
	l.fwd.l, l.bwd.l = l, l
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

func (l *pool2d[T]) Forward(ctx *Ctx, x []T, n int) []T { return l.forward(ctx, x, n, false) }

// forward pools x, then applies a ReLU to the output when relu is set.
func (l *pool2d[T]) forward(ctx *Ctx, x []T, n int, relu bool) []T {
	planes := n * l.c
	l.x, l.fwd.relu = x[:planes*l.h*l.w], relu
	ctx.For(planes, l.grain, &l.fwd)
	l.x, l.fwd.relu = nil, false
	return l.y[:planes*l.oh*l.ow]
}

// forwardReLU is a ReLU followed by this pooling, which must be a max
// pooling whose 2x2 windows of stride 2 tile its input (tiles), in one
// pass for training (Network.Forward): it pools x, the ReLU's input, and
// applies the ReLU to its own output, 4 times smaller. The output has the
// same bits as the two layers' (the maximum of ReLUs is the ReLU of the
// maximum, NaNs included), and where it is positive the window's maximum
// is at the same position; where it is not, backwardReLU routes no
// gradient, as the ReLU's backward would not.
func (l *pool2d[T]) forwardReLU(ctx *Ctx, x []T, n int) []T { return l.forward(ctx, x, n, true) }

// backwardReLU is this pooling's backward pass followed by the fused
// ReLU's (see forwardReLU): dy, zeroed where the pooled output is not
// positive (simd.ReLUBackward on the pooled values), goes to each
// window's maximum. It returns the ReLU's input gradient, with the bits of
// the two layers' Backward.
func (l *pool2d[T]) backwardReLU(ctx *Ctx, dy []T, n int) []T { return l.backward(ctx, dy, n, true) }

// poolForward pools the planes [lo, hi), and applies the ReLU to them
// when relu is set (forwardReLU).
type poolForward[T Float] struct {
	l    *pool2d[T]
	relu bool
}

func (t *poolForward[T]) Run(_, lo, hi int) {
	l := t.l
	l.planes(l.x, lo, hi)
	if t.relu {
		y := l.y[lo*l.oh*l.ow : hi*l.oh*l.ow]
		simd.ReLU(y, y)
	}
}

// followSample pools sample s of the batch x (its c planes), for a layer
// that runs this one on each sample's output as it writes it
// (Network.Predict).
func (l *pool2d[T]) followSample(x []T, s int) { l.planes(x, s*l.c, (s+1)*l.c) }

func (l *pool2d[T]) output(n int) []T { return l.y[:n*l.c*l.oh*l.ow] }

// followGrid pools sample s from planes in rows of pitch values (see
// sampleFollower), for the 2x2 windows of stride 2 only, applying a ReLU
// to the pooled values when relu is set. The argmax it records is
// relative to the grid's rows, which only a Backward would read, and
// Predict runs none.
func (l *pool2d[T]) followGrid(grid []T, planeStride, pitch, s int, relu bool) bool {
	if !l.fast {
		return false
	}
	out := l.oh * l.ow
	for c := range l.c {
		p := s*l.c + c
		xp, yp, am := grid[c*planeStride:], l.y[p*out:(p+1)*out], l.argmax[p*out:(p+1)*out]
		if !Is32[T]() || !simd.MaxPool2x2(as32(yp), am, as32(xp), pitch, l.oh, l.ow) {
			maxPool2x2(yp, am, xp, pitch, l.oh, l.ow)
		}
		if relu {
			simd.ReLU(yp, yp)
		}
	}
	return true
}

// planes pools the planes [lo, hi) of x.
func (l *pool2d[T]) planes(x []T, lo, hi int) {
	in, out := l.h*l.w, l.oh*l.ow
	for p := lo; p < hi; p++ {
		xp, yp := x[p*in:(p+1)*in], l.y[p*out:(p+1)*out]
		switch {
		case l.fast:
			am := l.argmax[p*out : (p+1)*out]
			if !Is32[T]() || !simd.MaxPool2x2(as32(yp), am, as32(xp), l.w, l.oh, l.ow) {
				maxPool2x2(yp, am, xp, l.w, l.oh, l.ow)
			}
		case l.max:
			l.maxPlane(yp, l.argmax[p*out:(p+1)*out], xp)
		default:
			l.avgPlane(yp, xp)
		}
	}
}

// maxPool2x2 is max pooling of one plane x (rows of w values) over 2x2
// windows with stride 2, oh x ow outputs. Within a window the candidates
// are taken in row-major order: a later value wins only if it is greater
// (the first maximum on ties) or NaN (then it is the result: the first NaN
// wins), as maxPlane.
func maxPool2x2[T Float](y []T, argmax []int32, x []T, w, oh, ow int) {
	for i := 0; i < oh; i++ {
		r0, r1 := x[2*i*w:][:2*ow], x[(2*i+1)*w:][:2*ow]
		yr, ar := y[i*ow:][:ow], argmax[i*ow:][:ow]
		base := int32(2 * i * w)
		for j := range yr {
			a, b, c, d := r0[2*j], r0[2*j+1], r1[2*j], r1[2*j+1]
			best, at := a, int32(2*j)
			if b > best {
				best, at = b, int32(2*j+1)
			}
			if c > best {
				best, at = c, int32(w+2*j)
			}
			if d > best {
				best, at = d, int32(w+2*j+1)
			}
			if s := (a + b) + (c + d); s != s { // a NaN (or +Inf and -Inf)
				best, at = max2x2Slow(a, b, c, d, int32(2*j), int32(w))
			}
			yr[j], ar[j] = best, base+at
		}
	}
}

// max2x2Slow is the maximum of a window a, b (row 0), c, d (row 1) taken
// as maxPlane does, with NaNs, and its position, a's being j in a plane of
// rows of w values.
func max2x2Slow[T Float](a, b, c, d T, j, w int32) (T, int32) {
	best, at := T(math.Inf(-1)), j
	for k, v := range [4]T{a, b, c, d} {
		if v > best || v != v {
			best, at = v, j+int32(k%2)+int32(k/2)*w
			if v != v {
				break
			}
		}
	}
	return best, at
}

// maxPlane is max pooling of one plane, any window, stride and padding.
func (l *pool2d[T]) maxPlane(yp []T, argmax []int32, xp []T) {
	for i := 0; i < l.oh; i++ {
		for j := 0; j < l.ow; j++ {
			i0, i1, j0, j1 := l.window(i, j)
			best, at := T(math.Inf(-1)), int32(i0*l.w+j0)
		window:
			for a := i0; a < i1; a++ {
				for b := j0; b < j1; b++ {
					if v := xp[a*l.w+b]; v > best || v != v {
						best, at = v, int32(a*l.w+b)
						if v != v {
							break window
						}
					}
				}
			}
			yp[i*l.ow+j] = best
			argmax[i*l.ow+j] = at
		}
	}
}

// avgPlane is average pooling of one plane.
func (l *pool2d[T]) avgPlane(yp, xp []T) {
	inv := 1 / T(l.s.KH*l.s.KW)
	for i := 0; i < l.oh; i++ {
		for j := 0; j < l.ow; j++ {
			i0, i1, j0, j1 := l.window(i, j)
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

func (l *pool2d[T]) Backward(ctx *Ctx, dy []T, n int, needDx bool) []T {
	if !needDx {
		return nil
	}
	return l.backward(ctx, dy, n, false)
}

// backward computes dx from dy, through the mask of a fused ReLU when
// relu is set.
func (l *pool2d[T]) backward(ctx *Ctx, dy []T, n int, relu bool) []T {
	planes := n * l.c
	l.dy, l.bwd.relu = dy[:planes*l.oh*l.ow], relu
	ctx.For(planes, l.grain, &l.bwd)
	l.dy, l.bwd.relu = nil, false
	return l.dx[:planes*l.h*l.w]
}

// poolBackward computes dx for the planes [lo, hi), through the fused
// ReLU's mask when relu is set (backwardReLU).
type poolBackward[T Float] struct {
	l    *pool2d[T]
	relu bool
}

func (t *poolBackward[T]) Run(_, lo, hi int) {
	l := t.l
	in, out := l.h*l.w, l.oh*l.ow
	inv := 1 / T(l.s.KH*l.s.KW)
	for p := lo; p < hi; p++ {
		dxp := l.dx[p*in : (p+1)*in]
		dyp := l.dy[p*out : (p+1)*out]
		if l.tiles {
			// The windows tile the plane: every input gets its window's
			// gradient or 0, no accumulation.
			if t.relu {
				gm := l.gm[p*out : (p+1)*out]
				simd.ReLUBackward(gm, dyp, l.y[p*out:(p+1)*out])
				dyp = gm
			}
			am := l.argmax[p*out : (p+1)*out]
			if !Is32[T]() || !simd.MaxUnpool2x2(as32(dxp), as32(dyp), am, l.w, l.oh, l.ow) {
				maxUnpool2x2(dxp, dyp, am, l.w, l.oh, l.ow)
			}
			continue
		}
		clear(dxp)
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
}

// maxUnpool2x2 routes dy to the recorded maxima of 2x2 windows with stride
// 2 that tile a plane of (2*oh, 2*ow) = (h, w) values, writing every input.
func maxUnpool2x2[T Float](dx, dy []T, argmax []int32, w, oh, ow int) {
	for i := 0; i < oh; i++ {
		r0, r1 := dx[2*i*w:][:2*ow], dx[(2*i+1)*w:][:2*ow]
		gr, ar := dy[i*ow:][:ow], argmax[i*ow:][:ow]
		base := int32(2 * i * w)
		for j, g := range gr {
			at := ar[j] - base - int32(2*j) // 0, 1, w, w+1
			r0[2*j], r0[2*j+1], r1[2*j], r1[2*j+1] = 0, 0, 0, 0
			switch at {
			case 0:
				r0[2*j] = g
			case 1:
				r0[2*j+1] = g
			default:
				if at == int32(w) {
					r1[2*j] = g
				} else {
					r1[2*j+1] = g
				}
			}
		}
	}
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

	// The current call, for the tasks.
	x, dy []T
	fwd   globalAvgForward[T]
	bwd   globalAvgBackward[T]
}

func newGlobalAvg[T Float](s GlobalAvgPoolSpec, maxBatch int) *globalAvg[T] {
	c, hw := s.In[0], Prod(s.In[1:])
	l := &globalAvg[T]{c: c, hw: hw, y: make([]T, maxBatch*c), dx: make([]T, maxBatch*c*hw)}
	l.fwd.l, l.bwd.l = l, l
	return l
}

// grain is the planes per chunk of the parallel loops: 8K values or more.
func (l *globalAvg[T]) grain() int { return max(1, (8<<10)/l.hw) }

func (l *globalAvg[T]) Forward(ctx *Ctx, x []T, n int) []T {
	l.x = x[:n*l.c*l.hw]
	ctx.For(n*l.c, l.grain(), &l.fwd)
	l.x = nil
	return l.y[:n*l.c]
}

// globalAvgForward averages the planes [lo, hi).
type globalAvgForward[T Float] struct{ l *globalAvg[T] }

func (t *globalAvgForward[T]) Run(_, lo, hi int) {
	l := t.l
	for p := lo; p < hi; p++ {
		var sum float64
		for _, v := range l.x[p*l.hw : (p+1)*l.hw] {
			sum += float64(v)
		}
		l.y[p] = T(sum / float64(l.hw))
	}
}

func (l *globalAvg[T]) Backward(ctx *Ctx, dy []T, n int, needDx bool) []T {
	if !needDx {
		return nil
	}
	l.dy = dy[:n*l.c]
	ctx.For(n*l.c, l.grain(), &l.bwd)
	l.dy = nil
	return l.dx[:n*l.c*l.hw]
}

// globalAvgBackward spreads dy over the planes [lo, hi).
type globalAvgBackward[T Float] struct{ l *globalAvg[T] }

func (t *globalAvgBackward[T]) Run(_, lo, hi int) {
	l := t.l
	inv := 1 / T(l.hw)
	for p := lo; p < hi; p++ {
		g := l.dy[p] * inv
		row := l.dx[p*l.hw : (p+1)*l.hw]
		for i := range row {
			row[i] = g
		}
	}
}

// PoolParams are the parameters of maxpool2d and avgpool2d.
type PoolParams struct {
	Size    Pair `yaml:"size"`
	Stride  Pair `yaml:"stride"`  // default: the size
	Padding Pair `yaml:"padding"` // default 0; at most half the size
}

// poolTrace names the pooling layers' quantities for trace.
var poolTrace = map[PoolOp]TraceDoc{
	PoolMax: {Out: "y = the maximum of each window", GradOut: "dL/dy (from above)",
		GradIn: "dL/dx = each dL/dy routed to its window's maximum (argmax), added up where windows overlap, 0 elsewhere (passed below)"},
	PoolAvg: {Out: "y = the mean of each window", GradOut: "dL/dy (from above)",
		GradIn: "dL/dx = each dL/dy spread evenly over its window (divided by its size), added up where windows overlap (passed below)"},
}

func init() {
	for _, op := range []PoolOp{PoolMax, PoolAvg} {
		Register(string(op)+"pool2d", Kind{
			Trace:  poolTrace[op],
			Params: func() any { return &PoolParams{Padding: Pair{set: true}} },
			Build: func(p any, in []int, _ *DataInfo) (Spec, error) {
				pp := p.(*PoolParams)
				if err := need3D(in, ""); err != nil {
					return nil, err
				}
				if !pp.Size.set {
					return nil, ParamErr("size", "required: the window size, e.g. 2 or [2, 3]")
				}
				if pp.Size.H < 1 || pp.Size.W < 1 {
					return nil, ParamErr("size", "must be at least 1, got [%d, %d]", pp.Size.H, pp.Size.W)
				}
				stride := pp.Stride
				if !stride.set {
					stride = pp.Size
				}
				if stride.H < 1 || stride.W < 1 {
					return nil, ParamErr("stride", "must be at least 1, got [%d, %d]", stride.H, stride.W)
				}
				if pp.Padding.H < 0 || pp.Padding.W < 0 || 2*pp.Padding.H > pp.Size.H || 2*pp.Padding.W > pp.Size.W {
					return nil, ParamErr("padding", "must be between 0 and half the window size (at most [%d, %d] for a window of [%d, %d], as in PyTorch), got [%d, %d]",
						pp.Size.H/2, pp.Size.W/2, pp.Size.H, pp.Size.W, pp.Padding.H, pp.Padding.W)
				}
				s := Pool2DSpec{Op: op, In: in, KH: pp.Size.H, KW: pp.Size.W, SH: stride.H, SW: stride.W,
					PH: pp.Padding.H, PW: pp.Padding.W}
				if oh, ow := s.OutHW(); oh < 1 || ow < 1 {
					return nil, fmt.Errorf("the %dx%d window does not fit the input %v padded to %dx%d",
						s.KH, s.KW, in, in[1]+2*s.PH, in[2]+2*s.PW)
				}
				return s, nil
			},
			Doc: string(op) + " pooling over 2-D windows",
		})
	}
	Register("global_avgpool", Kind{
		Trace: TraceDoc{Out: "y = the mean of each channel's map", GradOut: "dL/dy (from above)",
			GradIn: "dL/dx = each channel's dL/dy spread evenly over its map (divided by H x W) (passed below)"},
		Build: func(_ any, in []int, _ *DataInfo) (Spec, error) {
			if err := need3D(in, ""); err != nil {
				return nil, err
			}
			return GlobalAvgPoolSpec{In: in}, nil
		},
		Doc: "average of each channel over all positions: (C, H, W) -> (C)",
	})
}
