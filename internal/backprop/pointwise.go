package backprop

// pointwise is the layer of a parameter-free element-wise map y = f(x)
// whose derivative is computed from x (elu, gelu, silu): Forward keeps the
// input (owned by the layer below, valid until Backward) and Backward
// computes dx = dy * f'(x). The kind's file states f and f'; scalarFn
// carries them. The map runs in chunks of ElemGrain elements (Ctx.For),
// each element on its own, in float64 and rounded once to T (or by the
// kind's chunkFn, when it has one), so the bits never depend on the
// thread count.
type pointwise[T Float] struct {
	fn    scalarFn
	chunk chunkFn[T] // fn's vector form, if it has one (silu; elu and gelu in float32)
	size  int        // elements per sample
	x     []T        // the last Forward's input (not owned)
	y, dx []T
	task  pointwiseTask[T]
}

// scalarFn is an element-wise function and its derivative, in float64.
type scalarFn interface {
	value(x float64) float64
	deriv(x float64) float64
}

// chunkFn is a scalarFn that computes whole chunks at once (on package
// simd's vector maps): y = f(x), and dx = dy * f'(x). Each element's
// result must depend on that element alone, so that the chunks keep the
// bits independent of the thread count.
type chunkFn[T Float] interface {
	forwardChunk(y, x []T)
	backwardChunk(dx, dy, x []T)
}

func newPointwise[T Float](fn scalarFn, in []int, maxBatch int) *pointwise[T] {
	size := Prod(in)
	l := &pointwise[T]{fn: fn, size: size, y: make([]T, maxBatch*size), dx: make([]T, maxBatch*size)}
	l.chunk, _ = fn.(chunkFn[T])
	l.task.l = l
	return l
}

func (l *pointwise[T]) Forward(ctx *Ctx, x []T, n int) []T {
	m := n * l.size
	l.x = x[:m]
	l.task.dy = nil
	ctx.For(m, ElemGrain, &l.task)
	return l.y[:m]
}

func (l *pointwise[T]) Backward(ctx *Ctx, dy []T, n int, needDx bool) []T {
	if !needDx {
		return nil
	}
	m := n * l.size
	l.task.dy = dy[:m]
	ctx.For(m, ElemGrain, &l.task)
	l.task.dy = nil
	return l.dx[:m]
}

// pointwiseTask is one chunk [lo, hi) of the forward map (dy nil) or of
// the backward map.
type pointwiseTask[T Float] struct {
	l  *pointwise[T]
	dy []T
}

func (t *pointwiseTask[T]) Run(_, lo, hi int) {
	l := t.l
	x := l.x[lo:hi]
	if l.chunk != nil {
		if t.dy == nil {
			l.chunk.forwardChunk(l.y[lo:hi], x)
		} else {
			l.chunk.backwardChunk(l.dx[lo:hi], t.dy[lo:hi], x)
		}
		return
	}
	if t.dy == nil {
		y := l.y[lo:hi]
		for i, v := range x {
			y[i] = T(l.fn.value(float64(v)))
		}
		return
	}
	dy, dx := t.dy[lo:hi], l.dx[lo:hi]
	for i, v := range x {
		dx[i] = T(float64(dy[i]) * l.fn.deriv(float64(v)))
	}
}
