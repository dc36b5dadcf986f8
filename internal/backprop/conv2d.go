package backprop

import (
	"fmt"
	"math"

	"github.com/nettrain/nettrain/internal/gemm"
	"github.com/nettrain/nettrain/internal/simd"
)

// Conv2DSpec is a 2-D convolution over NCHW images, PyTorch's nn.Conv2d
// (cross-correlation, as every framework computes it):
//
//	y[s,f,i,j] = b[f] + sum_{c,u,v} W[f,c,u,v] * xp[s, c, i*SH + u, j*SW + v]
//
// where xp is x zero-padded by PadT/PadB rows and PadL/PadR columns. The
// output is (F, OH, OW) with OH = (H + PadT + PadB - KH)/SH + 1 (likewise OW).
//
// It is computed as GEMMs per sample or per chunk of g samples
// (chunkSamples); the chunks run in parallel (Ctx.For), each with its
// scratch buffers in the cache of the core that runs it. With Wb = [W | b],
// W viewed as (F, C*KH*KW), and col the patch matrix (C*KH*KW + 1, OH*OW)
// of a sample (im2col; its last row is ones when there is a bias):
//
//	Y = Wb col              (F, OH*OW): the sample's output
//	[dW | db] += dY col^T   (F, C*KH*KW + 1): the correlation of x with dy
//	dx = the transposed convolution of dy with W
//
// With stride 1 the forward product and dx read the padded image in place
// (padImage, gemm.SgemmRows), one product per sample and no im2col. dW
// takes the patches of a chunk of samples side by side, col (C*KH*KW + 1,
// g*OH*OW), so that the product is deep (k = g*OH*OW); col is built and
// multiplied a block of rows at a time, which stays in L2. Each chunk's dW
// goes to a slot of its own, and the slots are added to the gradient in
// chunk order, so the bits never depend on the thread count. Strides other
// than 1 take im2col for the forward product (a chunk at a time) and dcol
// = W^T dY (C*KH*KW, OH*OW), col2im(dcol) for dx.
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
	s         Conv2DSpec
	c, h, w   int // input channels, height, width
	f, oh, ow int // filters, output height, width
	kk, plane int // C*KH*KW, OH*OW
	kb        int // rows of col: kk, plus one (ones) for the bias
	g         int // samples per chunk (chunkSamples)
	rb        int // rows of col per block of the dW product
	wt, b     *Param[T]
	// relu: apply a ReLU to each sample's output as it is written, and
	// next: the per-sample layer after it (a pooling layer) to run on each
	// sample's output then, while it is in the cache that wrote it, for
	// Network.Predict (see fuser); off and nil otherwise.
	relu bool
	next sampleFollower[T]

	// Stride 1: the forward product reads x padded (px) in place through
	// offF; dx, if tconv, reads dy padded (pd) through offT.
	rows, tconv  bool
	px, pd       padImage
	offF, offT   []int
	gridF, gridT int // columns of the products: OH*px.pitch, H*pd.pitch

	// The current call, for the tasks.
	ctx    *Ctx
	x, dy  []T // the input of the last Forward, the output gradient (not owned)
	needDx bool

	y, dx []T
	wb    []T              // (kb, F): Wb^T, the forward product's A (transposed)
	wf    []T              // tconv: (KH*KW, F, C): wf[(u,v), f, c] = W[f, c, KH-1-u, KW-1-v]
	part  []T              // (chunks, F, kb): the dW (and db) of each chunk
	ws    []convScratch[T] // per goroutine of the pool
	fwd   convForward[T]
	bwd   convBackward[T]
	red   convReduce[T]
}

// convScratch is one goroutine's buffers.
type convScratch[T Float] struct {
	xp   []T // x of one sample, padded (px), then ones for the bias (rows)
	xg   []T // x of the g samples of a chunk, padded (px), one after the other
	col  []T // (kb or rb, g*OH*OW): a chunk's patches, or a block of their rows
	yc   []T // (F, g*OH*OW): a chunk's Y (not rows), or its gathered dY
	grid []T // rows: (F, gridF) or (C, gridT), a product on the padded grid
	dyp  []T // tconv: dy of one sample, padded (pd)
	dcol []T // not tconv: (kk, OH*OW), the patches' gradient
	tmp  []T // float64 rows: the B of gemmRows, materialised
}

// chunkFloats bounds a chunk's col buffer (1.25 MB of float32) when the
// forward product needs it whole (strides other than 1).
const chunkFloats = 320 << 10

// blockRows is the number of rows of col per block of the dW product with
// stride 1 (a multiple of the dot-product tile, 6 rows of B): im2col writes
// a block (48 rows of g*OH*OW values, 300 KB for 14x14 outputs and g = 8)
// and the product reads it while it is in L2.
const blockRows = 48

// chunkSamples is the number of samples per chunk: at most 8 and at most
// 4096 columns (deeper dW products would leave the GEMM's dot-product
// path), and, when col is built whole (strides other than 1), as many as
// fit chunkFloats. It depends on the layer's shape only, never on the
// thread count or the batch. (Measured on the MNIST CNN's second layer:
// 8 samples, k = 1568, beat 4 by 5%.)
func chunkSamples(kb, plane int, blocks bool) int {
	g := min(8, 4096/plane)
	if !blocks {
		g = min(g, chunkFloats/(kb*plane))
	}
	return max(1, g)
}

// padImage is the layout of a zero-padded (c, h, w) image that a stride-1
// convolution reads in place (and a strided one builds its patch rows
// from): rows of pitch = w + max(padL, padR) values (or ow, the output
// width, if that is more), each its left padding then its w values then
// zeros. A row's right padding is its own trailing pitch - padL - w zeros
// followed by at most min(padL, padR) values of the next row's left
// padding (for the last channel's last row, the tail): the last column a
// window reads, (ow-1)*sw + kw-1, is at most padL + w + padR - 1, and the
// last row, (oh-1)*sh + kh-1, at most padT + h + padB - 1; padT + h + padB rows per channel (cs values). For a kh x kw kernel, the values xp[c, i+u, j+v] of the
// output positions (i, j), i < oh, j < pitch (the "grid", whose columns j
// >= ow are junk), are then consecutive from c*cs + u*pitch + v: row (c,
// u, v) of the patch matrix on the grid, read in place. Reads of the last
// rows run a little past the last channel (less than a row): tail zeros.
type padImage struct {
	c, h, w    int
	padT, padL int
	pitch, cs  int
	tail       int
}

func newPadImage(c, h, w, padT, padL, padB, padR, kw, ow int) padImage {
	pitch := max(w+max(padL, padR), ow)
	return padImage{c: c, h: h, w: w, padT: padT, padL: padL, pitch: pitch, cs: (padT + h + padB) * pitch, tail: pitch + kw}
}

// len is the buffer length, tail zeros included.
func (g *padImage) len() int { return g.c*g.cs + g.tail }

// ld is the row stride of the chunk buffers col and yc: g output planes.
func (l *conv2d[T]) ld() int { return l.g * l.plane }

// fillPad copies the image src (c, h, w) into the interior of dst; the rest
// of dst (the zeros) is never written.
func fillPad[T Float](g *padImage, dst, src []T) {
	copy2D(g.c, g.h, g.w, dst[g.padT*g.pitch+g.padL:], g.cs, g.pitch, src, g.h*g.w, g.w)
}

// tapOffsets returns the start of row (c, u, v) of the patch matrix for a
// kh x kw kernel, in the order (c, u, v), or (u, v, c) when tapsFirst.
func (g *padImage) tapOffsets(kh, kw int, tapsFirst bool) []int {
	offs := make([]int, 0, g.c*kh*kw+1) // +1: offF's row of ones
	if tapsFirst {
		for u := 0; u < kh; u++ {
			for v := 0; v < kw; v++ {
				for c := 0; c < g.c; c++ {
					offs = append(offs, c*g.cs+u*g.pitch+v)
				}
			}
		}
		return offs
	}
	for c := 0; c < g.c; c++ {
		for u := 0; u < kh; u++ {
			for v := 0; v < kw; v++ {
				offs = append(offs, c*g.cs+u*g.pitch+v)
			}
		}
	}
	return offs
}

// planConv2D is a conv2d's layout: its sizes, chunking and padded
// images, with no buffer allocated (newConv2D allocates them;
// BufferElems counts them).
func planConv2D[T Float](s Conv2DSpec) *conv2d[T] {
	oh, ow := s.OutHW()
	l := &conv2d[T]{s: s, c: s.In[0], h: s.In[1], w: s.In[2], f: s.Filters, oh: oh, ow: ow,
		kk: s.fanIn(), plane: oh * ow}
	l.kb = l.kk
	if s.Bias {
		l.kb++
	}
	l.g = chunkSamples(l.kb, l.plane, false)
	l.rb = l.kb
	l.px = newPadImage(l.c, l.h, l.w, s.PadT, s.PadL, s.PadB, s.PadR, s.KW, ow)
	if s.SH == 1 && s.SW == 1 {
		l.rows = true
		l.gridF = oh * l.px.pitch
		l.g = chunkSamples(l.kb, l.plane, true)
		l.rb = min(l.kb, blockRows)
		// dy padded for the transposed convolution (see Backward).
		pt, pl, pb, pr := s.KH-1-s.PadT, s.KW-1-s.PadL, s.KH-1-s.PadB, s.KW-1-s.PadR
		if pt >= 0 && pl >= 0 && pb >= 0 && pr >= 0 {
			l.tconv = true
			l.pd = newPadImage(l.f, oh, ow, pt, pl, pb, pr, s.KW, l.w)
			l.gridT = l.h * l.pd.pitch
		}
	}
	return l
}

// chunks is the number of chunks of a batch of maxBatch samples.
func (l *conv2d[T]) chunks(maxBatch int) int { return (maxBatch + l.g - 1) / l.g }

// tapsT is the number of rows of the transposed convolution's product
// (offT): one per tap and filter.
func (l *conv2d[T]) tapsT() int { return l.s.KH * l.s.KW * l.f }

func newConv2D[T Float](s Conv2DSpec, p []*Param[T], maxBatch int) *conv2d[T] {
	l := planConv2D[T](s)
	l.wt = p[0]
	if s.Bias {
		l.b = p[1]
	}
	l.y = make([]T, maxBatch*l.f*l.plane)
	l.dx = make([]T, maxBatch*l.c*l.h*l.w)
	l.wb = make([]T, l.kb*l.f)
	if l.rows {
		l.offF = l.px.tapOffsets(s.KH, s.KW, false)
		if l.b != nil {
			l.offF = append(l.offF, l.px.len()) // the ones after the image
		}
	}
	if l.tconv {
		l.offT = l.pd.tapOffsets(s.KH, s.KW, true)
		l.wf = make([]T, l.tapsT()*l.c)
	}
	l.part = make([]T, l.chunks(maxBatch)*l.f*l.kb)
	l.fwd.l, l.bwd.l, l.red.l = l, l, l
	return l
}

// BufferElems counts a convolution's buffers beyond its output and input
// gradient, for a batch of maxBatch samples on threads goroutines, in
// elements of elemSize bytes: Wb^T, the flipped weights, the chunks'
// partial gradients, the offset tables, and each goroutine's scratch.
// A kernel as large as its input makes these the bulk of the layer.
func (s Conv2DSpec) BufferElems(maxBatch, threads int, elemSize int64) int64 {
	var elems, offsets, scratch int64
	if elemSize == 4 {
		elems, offsets, scratch = planConv2D[float32](s).bufferElems(maxBatch)
	} else {
		elems, offsets, scratch = planConv2D[float64](s).bufferElems(maxBatch)
	}
	return elems + offsets*8/elemSize + int64(threads)*scratch
}

// bufferElems is what newConv2D and scratch allocate beyond y and dx:
// elements shared by the goroutines, offsets (ints), and elements per
// goroutine.
func (l *conv2d[T]) bufferElems(maxBatch int) (elems, offsets, perThread int64) {
	elems = int64(l.kb*l.f) + int64(l.chunks(maxBatch))*int64(l.f*l.kb)
	if l.tconv {
		elems += int64(l.tapsT()) * int64(l.c)
		offsets += int64(l.tapsT())
	}
	if l.rows {
		offsets += int64(l.kb)
	}
	return elems, offsets, l.scratchLens().total()
}

// convScratchLens are the lengths of one goroutine's buffers (convScratch).
type convScratchLens struct{ xp, xg, col, yc, grid, dyp, dcol, tmp int }

func (c convScratchLens) total() int64 {
	return int64(c.xp) + int64(c.xg) + int64(c.col) + int64(c.yc) + int64(c.grid) + int64(c.dyp) + int64(c.dcol) + int64(c.tmp)
}

// rowsTmpMax bounds the float64 gemmRows' materialised B (elements): the
// product goes in blocks of columns of that many values, at least one
// column (a column holds k values).
const rowsTmpMax = 1 << 20

// rowsTmp is the length of the float64 gemmRows' buffer for a (k, n) B.
func rowsTmp(k, n int) int {
	if k == 0 || n == 0 {
		return 0
	}
	return k * max(1, min(n, rowsTmpMax/k))
}

func (l *conv2d[T]) scratchLens() convScratchLens {
	ld := l.ld()
	c := convScratchLens{col: l.rb * ld, yc: l.f * ld, xp: l.px.len()}
	if l.rows {
		c.xg = l.g * l.px.len()
		if l.s.Bias {
			c.xp += l.gridF
		}
		c.grid = max(l.f*l.gridF, l.c*l.gridT)
	}
	if l.tconv {
		c.dyp = l.pd.len()
	} else {
		c.dcol = l.kk * l.plane
	}
	if l.rows && !Is32[T]() {
		c.tmp = max(rowsTmp(l.kb, l.gridF), rowsTmp(l.tapsT(), l.gridT))
	}
	return c
}

// scratch makes sure every goroutine of ctx has its buffers (allocated on
// the first call with that many threads).
func (l *conv2d[T]) scratch(ctx *Ctx) {
	for len(l.ws) < ctx.Threads() {
		n := l.scratchLens()
		sc := convScratch[T]{col: make([]T, n.col), yc: make([]T, n.yc), xp: make([]T, n.xp)}
		if n.xg > 0 {
			sc.xg = make([]T, n.xg)
		}
		fill(sc.xp[l.px.len():], 1)
		if n.grid > 0 {
			sc.grid = make([]T, n.grid)
		}
		if n.dyp > 0 {
			sc.dyp = make([]T, n.dyp)
		}
		if n.dcol > 0 {
			sc.dcol = make([]T, n.dcol)
		}
		if n.tmp > 0 {
			sc.tmp = make([]T, n.tmp)
		}
		l.ws = append(l.ws, sc)
	}
}

func fill[T Float](x []T, v T) {
	for i := range x {
		x[i] = v
	}
}

func (l *conv2d[T]) Forward(ctx *Ctx, x []T, n int) []T {
	l.x = x[:n*l.c*l.h*l.w]
	l.ctx = ctx
	l.scratch(ctx)
	// wb = [W | b]^T
	for f := 0; f < l.f; f++ {
		for r, v := range l.wt.W[f*l.kk : (f+1)*l.kk] {
			l.wb[r*l.f+f] = v
		}
		if l.b != nil {
			l.wb[l.kk*l.f+f] = l.b.W[f]
		}
	}
	ctx.For(n, l.g, &l.fwd)
	l.ctx = nil
	return l.y[:n*l.f*l.plane]
}

// convForward computes the output of the samples [lo, hi), one chunk.
type convForward[T Float] struct{ l *conv2d[T] }

func (t *convForward[T]) Run(w, lo, hi int) {
	l := t.l
	sc := &l.ws[w]
	in, out, p := l.c*l.h*l.w, l.f*l.plane, l.plane
	if l.rows {
		// Y on the grid = Wb (patches of xp in place), then the valid columns.
		for s := lo; s < hi; s++ {
			fillPad(&l.px, sc.xp, l.x[s*in:(s+1)*in])
			gemmRows(l.ctx, w, l.f, l.gridF, l.kb, l.wb, l.f, sc.xp, l.offF, sc.grid, l.gridF, sc.tmp)
			if l.next != nil && l.next.followGrid(sc.grid, l.gridF, l.px.pitch, s, l.relu) {
				continue // pooled from the grid: y is not needed
			}
			copy2D(l.f, l.oh, l.ow, l.y[s*out:(s+1)*out], p, l.ow, sc.grid, l.gridF, l.px.pitch)
			l.finishSample(s)
		}
		return
	}
	ld := l.g * p
	for s := lo; s < hi; s++ {
		fillPad(&l.px, sc.xp, l.x[s*in:(s+1)*in])
		l.im2col(sc.col[(s-lo)*p:], ld, sc.xp, 0, l.kb)
	}
	if hi-lo == 1 { // straight into y
		gemmSerial(l.ctx, w, true, false, l.f, p, l.kb, 1, l.wb, l.f, sc.col, ld, 0, l.y[lo*out:(lo+1)*out], p)
		l.finishSample(lo)
		return
	}
	gemmSerial(l.ctx, w, true, false, l.f, (hi-lo)*p, l.kb, 1, l.wb, l.f, sc.col, ld, 0, sc.yc, ld)
	for s := lo; s < hi; s++ {
		copy2D(l.f, 1, p, l.y[s*out:(s+1)*out], p, 0, sc.yc[(s-lo)*p:], ld, 0)
		l.finishSample(s)
	}
}

// finishSample applies the fused ReLU, if on, to sample s's output while
// it is still in the cache that wrote it, then runs the fused next layer,
// if any, on it.
func (l *conv2d[T]) finishSample(s int) {
	if l.relu {
		y := l.y[s*l.f*l.plane : (s+1)*l.f*l.plane]
		simd.ReLU(y, y)
	}
	if l.next != nil {
		l.next.followSample(l.y, s)
	}
}

func (l *conv2d[T]) fuse(relu bool, next sampleFollower[T]) { l.relu, l.next = relu, next }

func (l *conv2d[T]) Backward(ctx *Ctx, dy []T, n int, needDx bool) []T {
	l.dy, l.needDx, l.ctx = dy[:n*l.f*l.plane], needDx, ctx
	l.scratch(ctx)
	if needDx && l.tconv {
		// wf[(u,v), f, c] = W[f, c, KH-1-u, KW-1-v]
		kh, kw := l.s.KH, l.s.KW
		for f := 0; f < l.f; f++ {
			for c := 0; c < l.c; c++ {
				src := l.wt.W[(f*l.c+c)*kh*kw:][:kh*kw]
				for u := 0; u < kh; u++ {
					for v := 0; v < kw; v++ {
						l.wf[(((kh-1-u)*kw+kw-1-v)*l.f+f)*l.c+c] = src[u*kw+v]
					}
				}
			}
		}
	}
	ctx.For(n, l.g, &l.bwd)
	l.red.chunks = (n + l.g - 1) / l.g
	ctx.For(l.f, 4, &l.red)
	l.dy, l.ctx = nil, nil
	if !needDx {
		return nil
	}
	return l.dx[:n*l.c*l.h*l.w]
}

// convBackward computes the dW (and db) of the samples [lo, hi), one
// chunk, into the chunk's slot of part, and their dx.
type convBackward[T Float] struct{ l *conv2d[T] }

func (t *convBackward[T]) Run(w, lo, hi int) {
	l := t.l
	sc := &l.ws[w]
	in, out, p := l.c*l.h*l.w, l.f*l.plane, l.plane
	ld := l.ld()
	part := l.part[lo/l.g*l.f*l.kb:][:l.f*l.kb]
	if l.rows {
		l.dwRows(w, sc, lo, hi, part)
	} else {
		// [dW | db] of the chunk = dY col^T, dY the chunk's dy side by side.
		for s := lo; s < hi; s++ {
			fillPad(&l.px, sc.xp, l.x[s*in:(s+1)*in])
			l.im2col(sc.col[(s-lo)*p:], ld, sc.xp, 0, l.kb)
			copy2D(l.f, 1, p, sc.yc[(s-lo)*p:], ld, 0, l.dy[s*out:(s+1)*out], p, 0)
		}
		gemmSerial(l.ctx, w, false, true, l.f, l.kb, (hi-lo)*p, 1, sc.yc, ld, sc.col, ld, 0, part, l.kb)
	}
	if !l.needDx {
		return
	}
	for smp := lo; smp < hi; smp++ {
		dys, dxs := l.dy[smp*out:(smp+1)*out], l.dx[smp*in:(smp+1)*in]
		if l.tconv {
			// dx[c, h, w] = sum_{u,v,f} wf[(u,v), f, c] * dyp[f, h+u, w+v]:
			// on the grid, reading dy padded in place, then the valid columns.
			fillPad(&l.pd, sc.dyp, dys)
			gemmRows(l.ctx, w, l.c, l.gridT, len(l.offT), l.wf, l.c, sc.dyp, l.offT, sc.grid, l.gridT, sc.tmp)
			copy2D(l.c, l.h, l.w, dxs, l.h*l.w, l.w, sc.grid, l.gridT, l.pd.pitch)
			continue
		}
		// dcol = W^T dY_s, then dx = col2im(dcol)
		gemmSerial(l.ctx, w, true, false, l.kk, p, l.f, 1, l.wt.W, l.kk, dys, p, 0, sc.dcol, p)
		clear(dxs)
		l.col2im(dxs, sc.dcol)
	}
}

// dwRows computes [dW | db] = dY col^T of the samples [lo, hi) for
// stride 1: col is their patches side by side, from x padded (px, one
// Copy2D per run of rows with the same channel and kernel row), built and
// multiplied one block of rb rows at a time so that it stays in L2 while
// the product reads it. dY is their dy side by side (gathered into yc),
// or, when a plane has at least 512 values (a deep enough product), each
// sample's dy read in place by a product of its own.
func (l *conv2d[T]) dwRows(w int, sc *convScratch[T], lo, hi int, part []T) {
	in, out, p := l.c*l.h*l.w, l.f*l.plane, l.plane
	ld, n, xl := l.ld(), (hi-lo)*p, l.px.len()
	gather := p < 512
	for s := lo; s < hi; s++ {
		fillPad(&l.px, sc.xg[(s-lo)*xl:], l.x[s*in:(s+1)*in])
		if gather {
			copy2D(l.f, 1, p, sc.yc[(s-lo)*p:], ld, 0, l.dy[s*out:(s+1)*out], p, 0)
		}
	}
	for r0 := 0; r0 < l.kb; r0 += l.rb {
		r1 := min(r0+l.rb, l.kb)
		for s := lo; s < hi; s++ {
			l.im2col(sc.col[(s-lo)*p:], ld, sc.xg[(s-lo)*xl:], r0, r1)
		}
		if gather {
			gemmSerial(l.ctx, w, false, true, l.f, r1-r0, n, 1, sc.yc, ld, sc.col, ld, 0, part[r0:], l.kb)
			continue
		}
		for s := lo; s < hi; s++ {
			beta := T(1)
			if s == lo {
				beta = 0
			}
			gemmSerial(l.ctx, w, false, true, l.f, r1-r0, p, 1, l.dy[s*out:], p, sc.col[(s-lo)*p:], ld, beta, part[r0:], l.kb)
		}
	}
}

// convReduce adds the chunks' dW and db to the gradients, rows f in [lo,
// hi), in chunk order.
type convReduce[T Float] struct {
	l      *conv2d[T]
	chunks int
}

func (t *convReduce[T]) Run(_, lo, hi int) {
	l := t.l
	for c := 0; c < t.chunks; c++ {
		part := l.part[c*l.f*l.kb:]
		for f := lo; f < hi; f++ {
			g, pr := l.wt.G[f*l.kk:(f+1)*l.kk], part[f*l.kb:][:l.kk]
			for i, v := range pr {
				g[i] += v
			}
			if l.b != nil {
				l.b.G[f] += part[f*l.kb+l.kk]
			}
		}
	}
}

// im2col writes rows [r0, r1) of the patch matrix of one sample into col
// (row r at (r-r0)*ld), the bias row kk as ones, from xp, the sample
// padded (px): row (c, u, v), output row i, starts at xp[c*cs + (i*SH +
// u)*pitch + v] and takes every SW-th value (the window of every output
// position lies inside the padded image, so no read leaves it: the
// bounds are in padImage's comment). With SW == 1 one Copy2D per run of rows with the same c and
// u; else a strided gather per output row.
func (l *conv2d[T]) im2col(col []T, ld int, xp []T, r0, r1 int) {
	s := l.s
	if r1 > l.kk {
		fill(col[(l.kk-r0)*ld:][:l.plane], 1)
		r1 = l.kk
	}
	g := &l.px
	for r := r0; r < r1; {
		c, u, v := r/(s.KH*s.KW), r/s.KW%s.KH, r%s.KW
		src := xp[c*g.cs+u*g.pitch+v:]
		if s.SW != 1 {
			gatherStride(col[(r-r0)*ld:][:l.plane], src, l.ow, s.SH*g.pitch, s.SW)
			r++
			continue
		}
		n := min(s.KW-v, r1-r) // rows (c, u, v..v+n-1): OH rows of OW values each
		copy2D(n, l.oh, l.ow, col[(r-r0)*ld:], ld, l.ow, src, 1, s.SH*g.pitch)
		r += n
	}
}

// gatherStride sets o[i*ow + j] = src[i*rowStride + j*stride] for the
// rows i of o (len(o)/ow of them) and j < ow: in float32 with
// simd.GatherRows where it can, else with a loop.
func gatherStride[T Float](o, src []T, ow, rowStride, stride int) {
	if ow == 0 {
		return
	}
	if Is32[T]() && simd.GatherRows(as32(o), ow, as32(src), rowStride, len(o)/ow, ow, stride) {
		return
	}
	span := (ow-1)*stride + 1
	for i := 0; i+ow <= len(o); i += ow {
		row, in := o[i:i+ow], src[i/ow*rowStride:][:span]
		for j := range row {
			row[j] = in[j*stride]
		}
	}
}

// gemmRows is gemm.SgemmRows for T, run by goroutine w of a parallel
// loop (in its own workspace, as gemmSerial): c (m, n) = a^T b, a stored
// (k, m), with row p of b starting at offs[p]. For float64 it
// materialises b in tmp, in blocks of len(tmp)/k columns (rowsTmp), and
// calls the context's Dgemm on each.
func gemmRows[T Float](ctx *Ctx, w int, m, n, k int, a []T, lda int, b []T, offs []int, c []T, ldc int, tmp []T) {
	if ctx != nil && ctx.GemmLog != nil {
		ctx.GemmLog(GemmCall{TA: true, M: m, N: n, K: k, Rows: true})
	}
	if Is32[T]() {
		var g *gemm.Parallel
		if ctx != nil {
			g = ctx.Gemm
		}
		g.SgemmRowsOn(w, true, m, n, k, 1, as32(a), lda, as32(b), offs, 0, as32(c), ldc)
		return
	}
	// In blocks of nb columns (rowsTmp), each materialised in tmp as (k, nb).
	nb := len(tmp) / k
	for j := 0; j < n; j += nb {
		w := min(nb, n-j)
		for p, o := range offs[:k] {
			copy(tmp[p*w:(p+1)*w], b[o+j:o+j+w])
		}
		ctx.dgemm()(true, false, m, w, k, 1, as64(a), lda, as64(tmp), w, 0, as64(c[j:]), ldc)
	}
}

// span returns the output columns [lo, hi) whose input column
// o*stride - pad + k lies inside [0, size).
func span(out, stride, pad, k, size int) (lo, hi int) {
	// o*stride - pad + k >= 0  <=>  o >= (pad - k) / stride (rounded up)
	lo = 0
	if d := pad - k; d > 0 {
		lo = min(out, (d+stride-1)/stride)
	}
	// o*stride - pad + k <= size - 1
	top := size - 1 + pad - k
	if top < 0 {
		return lo, lo
	}
	hi = min(out, top/stride+1)
	return lo, max(lo, hi)
}

// copy2D is gemm.Copy2D for T:
// dst[i*d1 + j*d2 + q] = src[i*s1 + j*s2 + q] for i < n1, j < n2, q < cols.
func copy2D[T Float](n1, n2, cols int, dst []T, d1, d2 int, src []T, s1, s2 int) {
	if Is32[T]() {
		gemm.Copy2D(n1, n2, cols, as32(dst), d1, d2, as32(src), s1, s2)
		return
	}
	for i := 0; i < n1; i++ {
		for j := 0; j < n2; j++ {
			copy(dst[i*d1+j*d2:][:cols], src[i*s1+j*s2:][:cols])
		}
	}
}

// col2im adds the patches in dcol (C*KH*KW, OH*OW) of one sample back into
// dx (C, H, W), the adjoint of im2col.
func (l *conv2d[T]) col2im(dx, dcol []T) {
	s := l.s
	for c := 0; c < l.c; c++ {
		xc := dx[c*l.h*l.w:][:l.h*l.w]
		for u := 0; u < s.KH; u++ {
			iLo, iHi := span(l.oh, s.SH, s.PadT, u, l.h)
			for v := 0; v < s.KW; v++ {
				jLo, jHi := span(l.ow, s.SW, s.PadL, v, l.w)
				if jLo == jHi { // this kernel column only ever sees padding
					continue
				}
				in := dcol[((c*s.KH+u)*s.KW+v)*l.plane:][:l.plane]
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

// Conv2DParams are the parameters of a conv2d layer.
type Conv2DParams struct {
	Filters int     `yaml:"filters"`
	Kernel  Pair    `yaml:"kernel"`
	Stride  Pair    `yaml:"stride"`  // default 1
	Padding Padding `yaml:"padding"` // default 0
	Bias    bool    `yaml:"bias"`    // default true
}

func init() {
	Register("conv2d", Kind{
		Trace: TraceDoc{
			Out:     "z = W * x + b (pre-activation: one map per filter)",
			GradOut: "dL/dz = delta, the textbook delta (from above)",
			GradIn:  "dL/dx = delta convolved with the flipped filters (passed below)",
			Params:  map[string]string{"weight": "delta correlated with x: each filter weight sums delta * the input it met", "bias": "delta summed over each filter's map"},
		},
		Params: func() any {
			return &Conv2DParams{Stride: Pair{1, 1, true}, Padding: Padding{Pair: Pair{set: true}}, Bias: true}
		},
		Build: func(p any, in []int, _ *DataInfo) (Spec, error) {
			cp := p.(*Conv2DParams)
			if err := need3D(in, "; set model.input to [channels, height, width]"); err != nil {
				return nil, err
			}
			if cp.Filters < 1 {
				return nil, ParamErr("filters", "must be at least 1, got %d%s", cp.Filters, required(cp.Filters, "the number of output channels, e.g. filters: 16"))
			}
			if !cp.Kernel.set {
				return nil, ParamErr("kernel", "required: the kernel size, e.g. 5 or [3, 5]")
			}
			if cp.Kernel.H < 1 || cp.Kernel.W < 1 {
				return nil, ParamErr("kernel", "must be at least 1, got [%d, %d]", cp.Kernel.H, cp.Kernel.W)
			}
			if cp.Stride.H < 1 || cp.Stride.W < 1 {
				return nil, ParamErr("stride", "must be at least 1, got [%d, %d]", cp.Stride.H, cp.Stride.W)
			}
			s := Conv2DSpec{In: in, Filters: cp.Filters, KH: cp.Kernel.H, KW: cp.Kernel.W,
				SH: cp.Stride.H, SW: cp.Stride.W, Bias: cp.Bias}
			if cp.Padding.Same {
				if s.SH != 1 || s.SW != 1 {
					return nil, ParamErr("padding", "\"same\" needs stride 1 (as in PyTorch), got stride [%d, %d]", s.SH, s.SW)
				}
				s.PadT, s.PadL = (s.KH-1)/2, (s.KW-1)/2
				s.PadB, s.PadR = s.KH-1-s.PadT, s.KW-1-s.PadL
			} else {
				if cp.Padding.H < 0 || cp.Padding.W < 0 {
					return nil, ParamErr("padding", "must be >= 0, got [%d, %d]", cp.Padding.H, cp.Padding.W)
				}
				s.PadT, s.PadB, s.PadL, s.PadR = cp.Padding.H, cp.Padding.H, cp.Padding.W, cp.Padding.W
			}
			if oh, ow := s.OutHW(); oh < 1 || ow < 1 {
				return nil, fmt.Errorf("kernel %dx%d does not fit the input %v padded to %dx%d",
					s.KH, s.KW, in, in[1]+s.PadT+s.PadB, in[2]+s.PadL+s.PadR)
			}
			return s, nil
		},
		Doc: "2-D convolution (NCHW), PyTorch nn.Conv2d layout",
	})
}
