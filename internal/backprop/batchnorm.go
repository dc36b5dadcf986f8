package backprop

import (
	"fmt"
	"math"

	"github.com/nettrain/nettrain/internal/simd"
)

// BatchNormSpec is batch normalisation over channels, PyTorch's
// nn.BatchNorm2d on (C, H, W) and nn.BatchNorm1d on (F) or (T, F). Each
// sample is viewed as (Outer, C, Inner): (1, C, H*W) for an image, (1, F, 1)
// for a vector, (T, F, 1) for a sequence, whose statistics per feature are
// then over batch and time (torch's BatchNorm1d takes a sequence as (N, F,
// T): the same numbers, transposed). With m = n*Outer*Inner values per
// channel c in a batch of n:
//
//	mean_c = sum x / m                        var_c = sum (x - mean_c)^2 / m (biased)
//	xhat   = (x - mean_c) / sqrt(var_c + eps)  y = weight_c xhat + bias_c
//
// in training, and then (torch's update, unbiased variance)
//
//	running_mean = (1 - momentum) running_mean + momentum mean_c
//	running_var  = (1 - momentum) running_var  + momentum var_c m/(m-1)
//	num_batches_tracked += 1
//
// In evaluation mean_c and var_c are the running statistics. Backward, with
// dy = dL/dy:
//
//	dweight_c += sum dy xhat      dbias_c += sum dy
//	dx = weight_c / sqrt(var_c + eps) (dy - mean(dy) - xhat mean(dy xhat))   training
//	dx = weight_c / sqrt(var_c + eps) dy                                       evaluation
//
// Parameters "weight" (C) = 1 and "bias" (C) = 0 when Affine; buffers
// "running_mean" (C) = 0, "running_var" (C) = 1 and "num_batches_tracked"
// (an int64 scalar in torch: shape []) = 0. Sums are float64, per channel
// in a fixed order that depends only on the shape (channelSums), so the
// result is the same bits on any thread count.
type BatchNormSpec struct {
	In       []int
	Momentum float64
	Eps      float64
	Affine   bool
}

func (s BatchNormSpec) Kind() string    { return "batchnorm" }
func (s BatchNormSpec) InShape() []int  { return s.In }
func (s BatchNormSpec) OutShape() []int { return s.In }

// dims views a sample as (outer, channels, inner).
func (s BatchNormSpec) dims() (outer, c, inner int) {
	switch len(s.In) {
	case 1:
		return 1, s.In[0], 1
	case 2:
		return s.In[0], s.In[1], 1
	}
	return 1, s.In[0], Prod(s.In[1:])
}

// ValuesPerSample is the number of values per channel one sample gives:
// training needs more than one per channel in the batch (torch refuses a
// batch of one vector).
func (s BatchNormSpec) ValuesPerSample() int {
	o, _, in := s.dims()
	return o * in
}

func (s BatchNormSpec) Params() []ParamSpec {
	if !s.Affine {
		return nil
	}
	_, c, _ := s.dims()
	return []ParamSpec{{Name: "weight", Shape: []int{c}, Init: Constant(1)}, {Name: "bias", Shape: []int{c}, Init: Constant(0)}}
}

func (s BatchNormSpec) Buffers() []ParamSpec {
	_, c, _ := s.dims()
	return []ParamSpec{
		{Name: "running_mean", Shape: []int{c}, Init: Constant(0)},
		{Name: "running_var", Shape: []int{c}, Init: Constant(1)},
		{Name: "num_batches_tracked", Shape: []int{}, Init: Constant(0), Int: true},
	}
}

func (s BatchNormSpec) FLOPs() int64 { return 4 * int64(Prod(s.In)) }

func (s BatchNormSpec) new32(p []*Param[float32], maxBatch int) Layer[float32] {
	return newBatchNorm(s, p, maxBatch)
}
func (s BatchNormSpec) new64(p []*Param[float64], maxBatch int) Layer[float64] {
	return newBatchNorm(s, p, maxBatch)
}

type batchNorm[T Float] struct {
	outer, c, inner int
	momentum, eps   float64
	w, b            *Param[T] // nil unless affine
	rm, rv, nbt     *Param[T]
	train           bool // the mode of the last Forward
	x               []T  // the input of the last Forward (not owned)
	y, dx           []T
	mean, invstd    []float64 // per channel, of the last Forward
	fwd, bwd        bnTask[T]
}

func newBatchNorm[T Float](s BatchNormSpec, p []*Param[T], maxBatch int) *batchNorm[T] {
	l := &batchNorm[T]{momentum: s.Momentum, eps: s.Eps}
	l.outer, l.c, l.inner = s.dims()
	if s.Affine {
		l.w, l.b, p = p[0], p[1], p[2:]
	}
	l.rm, l.rv, l.nbt = p[0], p[1], p[2]
	m := maxBatch * Prod(s.In)
	l.y, l.dx = make([]T, m), make([]T, m)
	l.mean, l.invstd = make([]float64, l.c), make([]float64, l.c)
	l.fwd.l, l.bwd.l = l, l
	return l
}

// bnTask runs forward (or backward) over the channels [lo, hi).
type bnTask[T Float] struct {
	l         *batchNorm[T]
	rows      int // n * outer
	x, dy, dx []T
	backward  bool
}

func (t *bnTask[T]) Run(_, lo, hi int) {
	for c := lo; c < hi; c++ {
		if t.backward {
			t.l.backwardChannel(c, t.rows, t.dy, t.dx)
		} else {
			t.l.forwardChannel(c, t.rows, t.x)
		}
	}
}

// base is where row i (a sample, or a time step of one) has its block of
// channel c's inner values.
func (l *batchNorm[T]) base(i, c int) int { return (i*l.c + c) * l.inner }

// forwardChannel normalises channel c: one pass for the statistics (sums
// of x - K and its square in float64, K the channel's first value, which
// keeps the variance free of cancellation), one for y = a x + b' with
// a = weight invstd and b' = bias - mean a (as torch computes it).
func (l *batchNorm[T]) forwardChannel(c, rows int, x []T) {
	var mean, invstd float64
	if l.train {
		shift := float64(x[l.base(0, c)])
		s1, s2 := l.channelSums(c, rows, x, x, shift, shift)
		m := float64(rows * l.inner)
		mean = shift + s1/m
		ss := max(0, s2-s1*s1/m) // sum of (x - mean)^2
		invstd = 1 / math.Sqrt(ss/m+l.eps)
		mo := l.momentum
		l.rm.W[c] = T((1-mo)*float64(l.rm.W[c]) + mo*mean)
		l.rv.W[c] = T((1-mo)*float64(l.rv.W[c]) + mo*ss/(m-1))
	} else {
		mean = float64(l.rm.W[c])
		invstd = 1 / math.Sqrt(float64(l.rv.W[c])+l.eps)
	}
	l.mean[c], l.invstd[c] = mean, invstd
	w, b := 1.0, 0.0
	if l.w != nil {
		w, b = float64(l.w.W[c]), float64(l.b.W[c])
	}
	a := T(w * invstd)
	bb := T(b - mean*w*invstd)
	for i := 0; i < rows; i++ {
		k := l.base(i, c)
		y, xs := l.y[k:k+l.inner], x[k:k+l.inner]
		if l.inner < laneMin {
			for j, v := range xs {
				y[j] = T(a*v) + bb
			}
			continue
		}
		simd.Affine(y, xs, a, bb)
	}
}

// laneMin is the least inner size (values per row of a channel) that runs
// on package simd's kernels; below it a call per row costs more than the
// vectors gain (batchnorm of vectors has inner = 1).
const laneMin = 32

// channelSums returns the float64 sums over channel c of u and u v, where
// u = a - su and v = b - sv: for rows of at least laneMin values in
// simd.LaneSums' 32 lanes (lane j mod 32 of each row's j-th value, the
// rows in order, then simd.FoldLanes), else in order. Either way the order
// depends only on the shape, so the bits never depend on the thread count.
func (l *batchNorm[T]) channelSums(c, rows int, a, b []T, su, sv float64) (s1, s2 float64) {
	if l.inner >= laneMin {
		var lanes [64]float64
		for i := 0; i < rows; i++ {
			k := l.base(i, c)
			simd.LaneSums(&lanes, a[k:k+l.inner], b[k:k+l.inner], su, sv)
		}
		return simd.FoldLanes((*[32]float64)(lanes[:32])), simd.FoldLanes((*[32]float64)(lanes[32:]))
	}
	for i := 0; i < rows; i++ {
		k := l.base(i, c)
		bs := b[k : k+l.inner]
		for j, x := range a[k : k+l.inner] {
			u := float64(x) - su
			s1 += u
			s2 += float64(u * (float64(bs[j]) - sv))
		}
	}
	return s1, s2
}

// backwardChannel: one pass for sum dy and sum dy (x - mean) (float64),
// one for dx, which in training is
//
//	dx = A dy + B x + C,  A = weight invstd,  B = -A invstd mean(dy xhat),
//	                      C = -A mean(dy) - B mean
func (l *batchNorm[T]) backwardChannel(c, rows int, dy, dx []T) {
	mean, invstd := l.mean[c], l.invstd[c]
	sdy, sdxc := l.channelSums(c, rows, dy, l.x, 0, mean)
	sdyx := sdxc * invstd // sum dy xhat
	w := 1.0
	if l.w != nil {
		w = float64(l.w.W[c])
		l.w.G[c] += T(sdyx)
		l.b.G[c] += T(sdy)
	}
	if dx == nil {
		return
	}
	A := w * invstd
	var B, C float64
	if l.train {
		m := float64(rows * l.inner)
		B = -A * invstd * sdyx / m
		C = -A*sdy/m - B*mean
	}
	a, b, cc := T(A), T(B), T(C)
	for i := 0; i < rows; i++ {
		k := l.base(i, c)
		xs, d, g := l.x[k:k+l.inner], dx[k:k+l.inner], dy[k:k+l.inner]
		if l.inner < laneMin {
			for j, v := range g {
				d[j] = T(T(a*v)+T(b*xs[j])) + cc
			}
			continue
		}
		simd.Affine2(d, g, xs, a, b, cc)
	}
}

// chanGrain is the channels per chunk of the parallel loops: about
// ElemGrain values (the chunks depend on the batch size, never on the
// thread count, and every channel is computed alone anyway).
func (l *batchNorm[T]) chanGrain(rows int) int {
	return max(1, ElemGrain/max(1, rows*l.inner))
}

func (l *batchNorm[T]) Forward(ctx *Ctx, x []T, n int) []T {
	rows := n * l.outer
	m := rows * l.c * l.inner
	l.train = ctx != nil && ctx.Train
	if l.train && rows*l.inner < 2 {
		panic(fmt.Sprintf("batchnorm: expected more than 1 value per channel when training, got a batch of %d with %d per sample (torch refuses it too)", n, l.outer*l.inner))
	}
	l.x = x[:m]
	l.fwd.rows, l.fwd.x, l.fwd.backward = rows, l.x, false
	ctx.For(l.c, l.chanGrain(rows), &l.fwd)
	l.fwd.x = nil
	if l.train {
		l.nbt.W[0]++
	}
	return l.y[:m]
}

func (l *batchNorm[T]) Backward(ctx *Ctx, dy []T, n int, needDx bool) []T {
	rows := n * l.outer
	m := rows * l.c * l.inner
	var dx []T
	if needDx {
		dx = l.dx[:m]
	}
	l.bwd.rows, l.bwd.dy, l.bwd.dx, l.bwd.backward = rows, dy[:m], dx, true
	ctx.For(l.c, l.chanGrain(rows), &l.bwd)
	l.bwd.dy, l.bwd.dx = nil, nil
	return dx
}

// BatchNormParams are the config parameters of batchnorm (torch's defaults).
type BatchNormParams struct {
	Momentum float64 `yaml:"momentum"` // default 0.1
	Eps      float64 `yaml:"eps"`      // default 1e-5
	Affine   bool    `yaml:"affine"`   // default true
}

func init() {
	Register("batchnorm", Kind{
		Trace: TraceDoc{
			Out:     "y = weight * (x - mean) / sqrt(var + eps) + bias, per channel (batch statistics in training, running statistics in evaluation)",
			GradOut: "dL/dy (from above)",
			GradIn:  "dL/dx = (g - mean(g) - x_hat mean(g x_hat)) / sqrt(var + eps) per channel in training, g = dL/dy * weight; dL/dy * weight / sqrt(running_var + eps) in evaluation (passed below)",
			Params:  map[string]string{"weight": "dL/dy * x_hat summed per channel", "bias": "dL/dy summed per channel"},
		},
		Params: func() any { return &BatchNormParams{Momentum: 0.1, Eps: 1e-5, Affine: true} },
		Build: func(p any, in []int, _ *DataInfo) (Spec, error) {
			bp := p.(*BatchNormParams)
			if len(in) < 1 || len(in) > 3 {
				return nil, fmt.Errorf("needs (features), (time, features) or (channels, height, width), got %v", in)
			}
			if !(bp.Momentum >= 0 && bp.Momentum <= 1) {
				return nil, ParamErr("momentum", "must be in [0, 1], got %g", bp.Momentum)
			}
			if !(bp.Eps > 0) || math.IsInf(bp.Eps, 1) {
				return nil, ParamErr("eps", "must be a positive number, got %g", bp.Eps)
			}
			return BatchNormSpec{In: in, Momentum: bp.Momentum, Eps: bp.Eps, Affine: bp.Affine}, nil
		},
		Doc: "batch normalisation over channels (nn.BatchNorm2d / BatchNorm1d): batch statistics in training, running ones in evaluation",
	})
}
