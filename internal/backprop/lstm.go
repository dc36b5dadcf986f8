package backprop

import (
	"fmt"
	"math"
	"slices"

	"github.com/nettrain/nettrain/internal/simd"
)

// LSTMSpec is a (stacked) LSTM over sequences (T, I), PyTorch's nn.LSTM with
// batch_first=True, zero initial state, and the same gate order (i, f, g, o)
// and parameter layout, so checkpoints load into the torch module. For each
// layer l and step t, with x_t its input and h_{-1} = c_{-1} = 0:
//
//	z_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh          (4H: i, f, g, o blocks)
//	i = sigma(z_i)  f = sigma(z_f)  g = tanh(z_g)  o = sigma(z_o)
//	c_t = f * c_{t-1} + i * g
//	h_t = o * tanh(c_t)
//
// The output is h_0..h_{T-1} of the last layer, (T, H), when
// ReturnSequences, else h_{T-1}, (H). Backpropagation through time runs the
// steps in reverse with dh and dc carried from step t+1:
//
//	dh  = dy_t + W_hh^T dz_{t+1}
//	do  = dh * tanh(c_t)                  dz_o = do * o (1 - o)
//	dc  = dh * o * (1 - tanh^2(c_t)) + dc_{t+1} * f_{t+1}
//	di  = dc * g   df = dc * c_{t-1}   dg = dc * i
//	dz_i = di * i (1 - i)   dz_f = df * f (1 - f)   dz_g = dg * (1 - g^2)
//
// and, summed over every step of every sample:
//
//	dW_ih += dz^T x    dW_hh += dz^T h_prev    db_ih, db_hh += sum dz    dx = dz W_ih
//
// The input projections of all steps are one GEMM over the batch and time.
// The recurrence runs in parallel over chunks of samples (Ctx.For; at most
// four chunks, fixed by the batch size): samples do not interact, so each
// chunk runs all its steps on one goroutine, each step one GEMM adding
// W_hh h_{t-1} for the chunk's samples (with W_hh transposed once per
// Forward, so that the GEMM reads it in place) and one fused gate kernel
// per row (simd.LSTMForward); backward likewise (simd.LSTMBackward, then dh
// = dz W_hh for the chunk). A row of a GEMM is the same bits whichever
// rows it is computed with, so the forward pass is the same bits as
// whole-batch products. db, dW_hh (one GEMM over the chunk's rows, which
// are contiguous: lstmLayer.row), and for one-hot input dW_ih, are summed
// per chunk (in float64 for db) on the goroutine that ran its recurrence,
// while its rows are in that core's cache, and the chunks' sums added in
// chunk order: the same bits on any number of threads.
//
// OneHot marks an input of one-hot rows over In[1] = V symbols (the layer
// follows a onehot layer; package model sets it). Then x_t W_ih^T is
// column id_t of W_ih, a gather, and dW_ih += dz^T x adds each dz_t to
// column id_t, a scatter-add: the first layer costs O(4H) per step instead
// of O(4H V), and no input gradient is computed (Backward returns nil:
// token ids have none). The parameters are the same, so checkpoints do not
// change; the forward values are the same bits as the GEMM's (a product
// with exact 0s and one 1 adds nothing else).
//
// Parameters per layer l: "weight_ih_l<l>" (4H, I_l), "weight_hh_l<l>" (4H, H),
// "bias_ih_l<l>" (4H), "bias_hh_l<l>" (4H), all U(-1/sqrt(H), 1/sqrt(H)) as
// PyTorch; ForgetBias, when set, sets the forget block of bias_ih to it and
// that of bias_hh to 0 (the forget gate starts at sigma(ForgetBias)).
type LSTMSpec struct {
	In              []int // [T, I]
	Units           int   // H
	Layers          int
	ReturnSequences bool
	ForgetBias      *float64
	// OneHot: every input row is one-hot (exactly one 1, the rest 0), so
	// the first layer gathers and scatters columns of W_ih. Forward panics
	// on a row that is not one-hot.
	OneHot bool
}

func (s LSTMSpec) Kind() string   { return "lstm" }
func (s LSTMSpec) InShape() []int { return s.In }

func (s LSTMSpec) OutShape() []int {
	if s.ReturnSequences {
		return []int{s.In[0], s.Units}
	}
	return []int{s.Units}
}

func (s LSTMSpec) layerIn(l int) int {
	if l == 0 {
		return s.In[1]
	}
	return s.Units
}

func (s LSTMSpec) Params() []ParamSpec {
	h := s.Units
	bound := 1 / math.Sqrt(float64(h))
	var ps []ParamSpec
	for l := 0; l < s.Layers; l++ {
		bih, bhh := Uniform(bound), Uniform(bound)
		if s.ForgetBias != nil {
			bih.Ranges = []InitRange{{Lo: h, Hi: 2 * h, Value: *s.ForgetBias}}
			bhh.Ranges = []InitRange{{Lo: h, Hi: 2 * h, Value: 0}}
		}
		ps = append(ps,
			ParamSpec{Name: fmt.Sprintf("weight_ih_l%d", l), Shape: []int{4 * h, s.layerIn(l)}, Init: Uniform(bound)},
			ParamSpec{Name: fmt.Sprintf("weight_hh_l%d", l), Shape: []int{4 * h, h}, Init: Uniform(bound)},
			ParamSpec{Name: fmt.Sprintf("bias_ih_l%d", l), Shape: []int{4 * h}, Init: bih},
			ParamSpec{Name: fmt.Sprintf("bias_hh_l%d", l), Shape: []int{4 * h}, Init: bhh},
		)
	}
	return ps
}

// FLOPs counts the products the layer computes; with a one-hot input the
// first layer's input projection is a lookup, not a product, and is not
// counted.
func (s LSTMSpec) FLOPs() int64 {
	var f int64
	for l := 0; l < s.Layers; l++ {
		in := int64(s.layerIn(l))
		if l == 0 && s.OneHot {
			in = 0
		}
		f += int64(s.In[0]) * (2*4*int64(s.Units)*(in+int64(s.Units)) + 20*int64(s.Units))
	}
	return f
}

// WorkspaceElems is an LSTM's per-sample state over the window: the gates,
// which their gradients overwrite (4H), the cell, tanh(cell), output and
// previous output (4 x H) per step and layer, and the transposed inputs.
func (s LSTMSpec) WorkspaceElems() int64 {
	var e int64
	for l := 0; l < s.Layers; l++ {
		e += int64(s.In[0]) * int64(8*s.Units+3*s.layerIn(l))
	}
	return e
}

// FixedWorkspaceElems counts an LSTM's buffers that do not grow with the
// batch, per layer: W_hh^T, the summed bias, the chunks' bias sums
// (float64, counted as two elements), their dW_hh parts when they fit
// lstmMaxPart, and for one-hot input W_ih^T, its gradient and the chunks'
// dW_ih parts when they fit.
func (s LSTMSpec) FixedWorkspaceElems() int64 {
	var e int64
	h4, h := int64(4*s.Units), int64(s.Units)
	for l := 0; l < s.Layers; l++ {
		e += h*h4 + h4 + 2*lstmChunks*h4
		if lstmChunks*h4*h <= int64(lstmMaxPart) {
			e += lstmChunks * h4 * h
		}
		if l == 0 && s.OneHot {
			v := int64(s.In[1])
			e += 2 * v * h4
			if lstmChunks*v*h4 <= int64(lstmMaxPart) {
				e += lstmChunks * v * h4
			}
		}
	}
	return e
}

func (s LSTMSpec) new32(p []*Param[float32], maxBatch int) Layer[float32] {
	return newLSTM(s, p, maxBatch)
}
func (s LSTMSpec) new64(p []*Param[float64], maxBatch int) Layer[float64] {
	return newLSTM(s, p, maxBatch)
}

type lstm[T Float] struct {
	steps, h int
	seqOut   bool
	layers   []*lstmLayer[T]
	y        []T // (n, H): the last step's output when !seqOut
}

// lstmLayer is one layer of the stack with its buffers. The input x, the
// output hs and the input gradient dx are (n, T, .) like every sequence;
// the internal buffers hold the rows of each part of samples (lstmGrain)
// together, time-major within the part: for the part [lo, lo+m), row
// q = lo*T + t*m + (s-lo) (lstmLayer.row). The rows of one step of a part
// are contiguous, so the per-step GEMMs read and write them without
// strides and the gate kernels stream through memory; and all of a part's
// rows are contiguous, so the goroutine that ran the part's recurrence
// also sums its dW_hh with one GEMM while they are in its core's cache.
type lstmLayer[T Float] struct {
	in, h, steps       int
	wih, whh, bih, bhh *Param[T]
	bias               []T       // b_ih + b_hh
	xT                 []T       // (n*T rows, in): the input in the rows' order
	gates              []T       // (n*T rows, 4H): z, then the activated i, f, g, o, then dz
	c, tc              []T       // (n*T rows, H): c_t and tanh(c_t)
	hprev              []T       // (n*T rows, H): h_{t-1} (zero at t = 0)
	hs                 []T       // (n, T, H): the output h_t (only h_{T-1} unless seqOut)
	seqOut             bool      // the next layer, or the stack's output, takes every step
	zeros              []T       // (H): c_{-1}, and dy where there is none
	whhT               []T       // (H, 4H): W_hh^T of the last Forward
	dz                 []T       // (n*T rows, 4H): the gates' memory, which backward overwrites with dL/dz
	dh, dc             []T       // (n, H): carried from step t+1
	dxT, dx            []T       // (n*T rows, in) and (n, T, in)
	dbPart             []float64 // (chunks, 4H): the sum of each chunk of samples
	// dwhhPart (chunks, 4H, H) holds each chunk of samples' dW_hh, unless
	// it would be larger than lstmMaxPart values: then it is nil and each
	// chunk's dW_hh is a GEMM on all threads after the recurrence.
	dwhhPart []T

	// One-hot input (nil otherwise): the token id of each row (n*T),
	// W_ih^T (V, 4H) for the gather and its gradient for the scatter-add,
	// and per chunk of ids the first row that is not one-hot. dwPart
	// (chunks, V, 4H) holds each chunk of samples' scatter-add, unless it
	// would be larger than lstmMaxPart values (a large vocabulary): then
	// dwPart is nil and the scatter-add is a pass over dz per chunk of
	// gate columns.
	ids         []int32
	wihT, dwihT []T
	dwPart      []T
	badRow      []int

	// The parallel loops and what they work on during a call.
	ctx      *Ctx
	n        int
	x, dy    []T
	lastOnly bool
	seq      lstmSeqTask[T]   // the recurrence, per chunk of samples
	cols     lstmColsTask[T]  // one-hot dW_ih without dwPart, per chunk of gate columns
	grads    lstmGradTask[T]  // the chunks' sums into the gradients, per chunk of gate rows
	rows     lstmRowsTask[T]  // layout changes, per chunk of samples
	idTask   lstmIDsTask[T]   // oneHotIDs, per chunk of rows
	trans    transposeTask[T] // W_ih^T and W_hh^T
}

// lstmChunks is the most chunks of samples the recurrence is cut into:
// the samples of a chunk run through every step on one goroutine (their
// per-step products as one GEMM of that many rows), independently of the
// other chunks. Four chunks of a batch of 64 keep both threads of a
// two-core machine busy (each claims two, so one that starts late is
// covered) while the per-step GEMMs keep 16 rows.
const lstmChunks = 4

// lstmGrain is the chunk, in samples, of the recurrence for a batch of n:
// at least 8 samples, at most lstmChunks chunks.
func lstmGrain(n int) int { return max(8, (n+lstmChunks-1)/lstmChunks) }

// lstmColGrain is the chunk, in gate columns (of 4H), of the one-hot
// weight gradient without per-chunk parts: each chunk sums its columns
// over every row in order of rows. It is also the chunk, in gate rows,
// of the sums of the chunks' gradients (4H for the LSTM, 3H for the GRU).
const lstmColGrain = 64

// lstmMaxPart bounds the per-chunk parts of the one-hot weight gradient,
// in values (16 MB of float32).
var lstmMaxPart = 1 << 22

func newLSTM[T Float](s LSTMSpec, p []*Param[T], maxBatch int) *lstm[T] {
	steps, h := s.In[0], s.Units
	l := &lstm[T]{steps: steps, h: h, seqOut: s.ReturnSequences}
	for k := 0; k < s.Layers; k++ {
		in := s.layerIn(k)
		nt := maxBatch * steps
		ly := &lstmLayer[T]{
			in: in, h: h, steps: steps,
			wih: p[4*k], whh: p[4*k+1], bih: p[4*k+2], bhh: p[4*k+3],
			bias:  make([]T, 4*h),
			gates: make([]T, nt*4*h),
			c:     make([]T, nt*h), tc: make([]T, nt*h), hs: make([]T, nt*h), hprev: make([]T, nt*h),
			zeros: make([]T, h), whhT: make([]T, h*4*h),
			dh: make([]T, maxBatch*h), dc: make([]T, maxBatch*h),
		}
		// A row's gate gradient replaces its gates, which nothing reads
		// after it (simd.LSTMBackward reads a row's gates before it writes
		// that row's gradient): one buffer of (n*T, 4H) instead of two, and
		// half the memory traffic of the backward recurrence.
		ly.dz = ly.gates
		ly.seqOut = k+1 < s.Layers || s.ReturnSequences
		chunks := lstmChunks
		ly.dbPart = make([]float64, chunks*4*h)
		if chunks*4*h*h <= lstmMaxPart {
			ly.dwhhPart = make([]T, chunks*4*h*h)
		}
		if k == 0 && s.OneHot {
			ly.ids = make([]int32, nt)
			ly.wihT, ly.dwihT = make([]T, in*4*h), make([]T, in*4*h)
			ly.badRow = make([]int, (nt+lstmIDGrain-1)/lstmIDGrain)
			if chunks*in*4*h <= lstmMaxPart {
				ly.dwPart = make([]T, chunks*in*4*h)
			}
		} else {
			ly.xT, ly.dxT, ly.dx = make([]T, nt*in), make([]T, nt*in), make([]T, nt*in)
		}
		ly.seq.ly, ly.cols.ly, ly.rows.ly, ly.idTask.ly = ly, ly, ly, ly
		l.layers = append(l.layers, ly)
	}
	if !l.seqOut {
		l.y = make([]T, maxBatch*h)
	}
	return l
}

func (l *lstm[T]) Forward(ctx *Ctx, x []T, n int) []T {
	for _, ly := range l.layers {
		ly.forward(ctx, x, n)
		x = ly.hs[:n*l.steps*l.h]
	}
	if l.seqOut {
		return x
	}
	y := l.y[:n*l.h]
	for s := 0; s < n; s++ {
		copy(y[s*l.h:(s+1)*l.h], x[(s*l.steps+l.steps-1)*l.h:])
	}
	return y
}

func (l *lstm[T]) Backward(ctx *Ctx, dy []T, n int, needDx bool) []T {
	// Without return_sequences only the last step of the top layer
	// received a gradient: dy is (n, H), the other steps' is zero.
	lastOnly := !l.seqOut
	for k := len(l.layers) - 1; k >= 0; k-- {
		dy = l.layers[k].backward(ctx, dy, n, k > 0 || needDx, lastOnly)
		lastOnly = false
	}
	return dy
}

func (ly *lstmLayer[T]) forward(ctx *Ctx, x []T, n int) {
	h, h4, steps, in := ly.h, 4*ly.h, ly.steps, ly.in
	nt := n * steps
	ly.ctx, ly.n, ly.x = ctx, n, x[:nt*in]
	for j := range ly.bias {
		ly.bias[j] = ly.bih.W[j] + ly.bhh.W[j]
	}
	if ly.ids != nil {
		// The id of every row; the gather of W_ih's columns is part of
		// the recurrence below.
		ctx.For(nt, lstmIDGrain, &ly.idTask)
		for _, r := range ly.badRow[:(nt+lstmIDGrain-1)/lstmIDGrain] {
			if r < 0 {
				continue
			}
			if slices.ContainsFunc(ly.x[r*in:(r+1)*in], func(e T) bool { return e != 0 }) {
				panic(fmt.Sprintf("backprop: lstm with one-hot input: row %d is not one-hot", r))
			}
			panic(fmt.Sprintf("backprop: lstm with one-hot input: row %d is all zeros", r))
		}
		ly.transposeOn(ctx, ly.wihT, ly.wih.W, h4, in)
	} else {
		// xT = x time-major and z = b in every row, then
		// z += x W_ih^T for every step of every sample at once.
		ly.rows.fwd = true
		ctx.For(n, lstmRowGrain(steps*(in+h4)), &ly.rows)
		Gemm(ctx, false, true, nt, h4, in, 1, ly.xT[:nt*in], in, ly.wih.W, in, 1, ly.gates[:nt*h4], h4)
	}
	ly.transposeOn(ctx, ly.whhT, ly.whh.W, h4, h)
	ly.seq.fwd = true
	ctx.For(n, lstmGrain(n), &ly.seq)
	ly.ctx, ly.x = nil, nil
}

// backward takes dy (n, T, H), or (n, H) for the last step only when
// lastOnly.
func (ly *lstmLayer[T]) backward(ctx *Ctx, dy []T, n int, needDx, lastOnly bool) []T {
	h, h4, steps, in := ly.h, 4*ly.h, ly.steps, ly.in
	nt := n * steps
	dz := ly.dz[:nt*h4]
	ly.ctx, ly.n, ly.dy, ly.lastOnly = ctx, n, dy, lastOnly
	ly.seq.fwd = false
	ctx.For(n, lstmGrain(n), &ly.seq)
	chunks := (n + lstmGrain(n) - 1) / lstmGrain(n)
	// The chunks' sums, added to the gradients in chunk order by one
	// loop over the gate rows: db, dW_hh (dz^T h_prev over the steps t >=
	// 1, h_{-1} = 0) when the chunks made parts of it, and for a one-hot
	// input dW_ih when they made parts of it.
	ly.grads = lstmGradTask[T]{ly: ly, chunks: chunks,
		ih: ly.ids != nil && ly.dwPart != nil, hh: steps > 1 && ly.dwhhPart != nil}
	ctx.For(h4, lstmColGrain, &ly.grads)
	switch {
	case ly.ids == nil:
		Gemm(ctx, true, false, h4, in, nt, 1, dz, h4, ly.xT, in, 1, ly.wih.G, in)
	case ly.dwPart == nil:
		ctx.For(h4, lstmColGrain, &ly.cols)
	}
	if steps > 1 && ly.dwhhPart == nil {
		pg := lstmGrain(n)
		for lo := 0; lo < n; lo += pg {
			m := min(pg, n-lo)
			q := lo*steps + m
			Gemm(ctx, true, false, h4, h, (steps-1)*m, 1, dz[q*h4:], h4, ly.hprev[q*h:], h, 1, ly.whh.G, h)
		}
	}
	var dx []T
	if needDx && ly.ids == nil {
		Gemm(ctx, false, false, nt, in, h4, 1, dz, h4, ly.wih.W, in, 0, ly.dxT[:nt*in], in)
		ly.rows.fwd = false
		ctx.For(n, lstmRowGrain(steps*in), &ly.rows)
		dx = ly.dx[:nt*in]
	}
	ly.ctx, ly.dy = nil, nil
	return dx
}

// lstmSeqTask runs the recurrence of the samples [lo, hi) through every
// step, forward (fwd) or backward: the rows of one step of these samples
// are contiguous (lstmLayer.row), so each step is one GEMM of hi-lo rows and
// a gate kernel per row, on the chunk's goroutine. Samples do not
// interact, so chunks are independent, and a row of a GEMM is the same
// bits whichever rows are computed with it.
type lstmSeqTask[T Float] struct {
	ly  *lstmLayer[T]
	fwd bool
}

func (t *lstmSeqTask[T]) Run(w, lo, hi int) {
	if t.fwd {
		t.ly.forwardSamples(w, lo, hi)
	} else {
		t.ly.backwardSamples(w, lo, hi)
	}
}

func (ly *lstmLayer[T]) forwardSamples(w, lo, hi int) {
	h, h4, steps, m := ly.h, 4*ly.h, ly.steps, hi-lo
	gates := ly.gates
	clear(ly.hprev[lo*steps*h : (lo*steps+m)*h])
	for t := 0; t < steps; t++ {
		q0 := lo*steps + t*m
		if ly.ids != nil {
			// z = b + column id of W_ih.
			for q := q0; q < q0+m; q++ {
				id := int(ly.ids[q])
				z := gates[q*h4 : (q+1)*h4]
				copy(z, ly.bias)
				simd.Add(z, ly.wihT[id*h4:(id+1)*h4])
			}
		}
		if t > 0 {
			// z_t += h_{t-1} W_hh^T for the chunk's samples.
			gemmSerial(ly.ctx, w, false, false, m, h4, h, 1, ly.hprev[q0*h:], h, ly.whhT, h4, 1, gates[q0*h4:], h4)
		}
		for s := lo; s < hi; s++ {
			q := q0 + s - lo
			cprev := ly.zeros
			if t > 0 {
				cprev = ly.c[(q-m)*h : (q-m+1)*h]
			}
			// h_t goes to the next step's h_prev, and to the output when
			// the output has every step, or this is the last.
			hs := ly.hs[(s*steps+t)*h : (s*steps+t+1)*h]
			ht := hs
			if t+1 < steps {
				ht = ly.hprev[(q+m)*h : (q+m+1)*h]
			}
			simd.LSTMForward(gates[q*h4:(q+1)*h4], cprev, ly.c[q*h:(q+1)*h], ly.tc[q*h:(q+1)*h], ht)
			if t+1 < steps && ly.seqOut {
				copy(hs, ht)
			}
		}
	}
}

// backwardSamples also sums the chunk's gate gradients: over its rows in
// the order it computes them (steps from last to first, samples in order),
// in float64 into its part of dbPart, and for a one-hot input into its
// part of dwPart (W_ih^T's layout), when there is one; then its dW_hh, dz^T
// h_prev over its rows of the steps t >= 1, into its part of dwhhPart when
// there is one.
func (ly *lstmLayer[T]) backwardSamples(w, lo, hi int) {
	h, h4, steps, m := ly.h, 4*ly.h, ly.steps, hi-lo
	dz, dh, dc, dy := ly.dz, ly.dh, ly.dc, ly.dy
	c := lo / lstmGrain(ly.n)
	db := ly.dbPart[c*h4 : (c+1)*h4]
	var dw []T
	if ly.dwPart != nil {
		dw = ly.dwPart[c*ly.in*h4 : (c+1)*ly.in*h4]
		clear(dw)
	}
	clear(db)
	clear(dh[lo*h : hi*h])
	clear(dc[lo*h : hi*h])
	for t := steps - 1; t >= 0; t-- {
		q0 := lo*steps + t*m
		for s := lo; s < hi; s++ {
			q := q0 + s - lo
			cprev := ly.zeros
			if t > 0 {
				cprev = ly.c[(q-m)*h : (q-m+1)*h]
			}
			dyr := ly.zeros
			switch {
			case !ly.lastOnly:
				dyr = dy[(s*steps+t)*h : (s*steps+t+1)*h]
			case t == steps-1:
				dyr = dy[s*h : (s+1)*h]
			}
			dzq := dz[q*h4 : (q+1)*h4]
			simd.LSTMBackward(dzq, ly.gates[q*h4:(q+1)*h4], ly.tc[q*h:(q+1)*h],
				dyr, dh[s*h:(s+1)*h], dc[s*h:(s+1)*h], cprev)
			simd.AddWiden(db, dzq)
			if dw != nil {
				id := int(ly.ids[q])
				simd.Add(dw[id*h4:(id+1)*h4], dzq)
			}
		}
		if t > 0 {
			// dh for step t-1 = dz_t W_hh, for the chunk's samples.
			gemmSerial(ly.ctx, w, false, false, m, h, h4, 1, dz[q0*h4:], h4, ly.whh.W, h, 0, dh[lo*h:], h)
		}
	}
	if ly.dwhhPart != nil && steps > 1 {
		q := lo*steps + m
		gemmSerial(ly.ctx, w, true, false, h4, h, (steps-1)*m, 1, dz[q*h4:], h4, ly.hprev[q*h:], h, 0, ly.dwhhPart[c*h4*h:(c+1)*h4*h], h)
	}
}

// lstmGradTask adds the chunks' sums to the gradients in chunk order, for
// the gate rows [lo, hi): db (dbPart, summed in float64) to both biases,
// and when set dW_hh from dwhhPart (hh) and the one-hot dW_ih from dwPart
// (ih).
type lstmGradTask[T Float] struct {
	ly     *lstmLayer[T]
	chunks int
	ih, hh bool
}

func (t *lstmGradTask[T]) Run(_, lo, hi int) {
	ly := t.ly
	h, h4 := ly.h, 4*ly.h
	for j := lo; j < hi; j++ {
		var sum float64
		for c := range t.chunks {
			sum += ly.dbPart[c*h4+j]
		}
		ly.bih.G[j] += T(sum)
		ly.bhh.G[j] += T(sum)
	}
	if t.hh {
		g := ly.whh.G[lo*h : hi*h]
		for c := range t.chunks {
			simd.Add(g, ly.dwhhPart[c*h4*h+lo*h:c*h4*h+hi*h])
		}
	}
	if t.ih {
		ly.sumIH(t.chunks, lo, hi)
	}
}

// lstmColsTask is the one-hot dW_ih without per-chunk parts, for the gate
// columns [lo, hi) of 4H: dW_ih[:, id] += dz_q for every row q, summed in
// order of q in W_ih^T's layout, then added to the gradient.
type lstmColsTask[T Float] struct{ ly *lstmLayer[T] }

func (t *lstmColsTask[T]) Run(_, lo, hi int) {
	ly := t.ly
	h4, nt, in := 4*ly.h, ly.n*ly.steps, ly.in
	dz, dwT := ly.dz[:nt*h4], ly.dwihT
	for v := 0; v < in; v++ {
		clear(dwT[v*h4+lo : v*h4+hi])
	}
	for q, id := range ly.ids[:nt] {
		simd.Add(dwT[int(id)*h4+lo:int(id)*h4+hi], dz[q*h4+lo:q*h4+hi])
	}
	g := ly.wih.G
	for k := lo; k < hi; k++ {
		gk := g[k*in : (k+1)*in]
		for v := range gk {
			gk[v] += dwT[v*h4+k]
		}
	}
}

// sumIH adds the one-hot dW_ih from the chunks' parts to the gradient,
// for the gate rows [lo, hi) of the gradient (W_ih is (4H, in)): element
// (k, v) is the sum of the parts' elements (v, k) of W_ih^T's layout in
// chunk order. Cutting by gate rows (not by symbols) gives each goroutine
// whole rows of the gradient to write: a symbol's column crosses every
// row, and goroutines writing neighbouring columns would share every
// cache line of it.
func (ly *lstmLayer[T]) sumIH(chunks, lo, hi int) {
	h4, in := 4*ly.h, ly.in
	for v := 0; v < in; v++ {
		d := ly.dwihT[v*h4+lo : v*h4+hi]
		copy(d, ly.dwPart[v*h4+lo:v*h4+hi])
		for c := 1; c < chunks; c++ {
			simd.Add(d, ly.dwPart[(c*in+v)*h4+lo:(c*in+v)*h4+hi])
		}
	}
	transposeBlock(ly.wih.G, in, ly.dwihT, h4, 0, in, lo, hi, true)
}

// lstmRowGrain is the chunk, in samples, of the layout changes between
// (n, T, .) and the rows (lstmLayer.row), for samples of size values: about ElemGrain
// values.
func lstmRowGrain(size int) int { return max(1, ElemGrain/max(1, size)) }

// lstmRowsTask moves the samples [lo, hi) between the (n, T, .) and
// rows (lstmLayer.row): forward (fwd), x into xT and the bias into every row
// of gates; backward, dxT into dx.
type lstmRowsTask[T Float] struct {
	ly  *lstmLayer[T]
	fwd bool
}

func (t *lstmRowsTask[T]) Run(_, lo, hi int) {
	ly := t.ly
	in, h4, steps := ly.in, 4*ly.h, ly.steps
	for s := lo; s < hi; s++ {
		for st := 0; st < steps; st++ {
			q, r := ly.row(st, s), s*steps+st
			if t.fwd {
				copy(ly.xT[q*in:(q+1)*in], ly.x[r*in:(r+1)*in])
				copy(ly.gates[q*h4:(q+1)*h4], ly.bias)
			} else {
				copy(ly.dx[r*in:(r+1)*in], ly.dxT[q*in:(q+1)*in])
			}
		}
	}
}

// row is the row of the internal buffers that holds step t of sample s.
func (ly *lstmLayer[T]) row(t, s int) int { return chunkRow(ly.n, ly.steps, t, s) }

// chunkRow is the row that holds step t of sample s in a recurrent
// layer's internal buffers for a batch of n windows of steps steps: the
// chunks of lstmGrain(n) samples one after another, each time-major. The
// LSTM's and the GRU's buffers have this layout (the GRU, working a chunk
// at a time, computes it inline: row lo*steps + t*m + s-lo).
func chunkRow(n, steps, t, s int) int {
	pg := lstmGrain(n)
	lo := s / pg * pg
	return lo*steps + t*min(pg, n-lo) + s - lo
}

// lstmIDGrain is the chunk, in rows, of the one-hot id scan.
const lstmIDGrain = 256

// lstmIDsTask sets ids[row(t, s)] to the position of the 1 in row r = s*T+t
// of x (n, T, V), for the rows [lo, hi), and records in badRow the first
// row of the chunk that is not one-hot (-1 if none): Forward panics on the
// caller's goroutine.
type lstmIDsTask[T Float] struct{ ly *lstmLayer[T] }

func (t *lstmIDsTask[T]) Run(_, lo, hi int) {
	ly := t.ly
	v, steps := ly.in, ly.steps
	bad := -1
	s, st := lo/steps, lo%steps
	for r := lo; r < hi; r++ {
		var id int
		if Is32[T]() {
			id = oneHotPos(as32(ly.x[r*v : (r+1)*v]))
		} else {
			id = oneHotPos(ly.x[r*v : (r+1)*v])
		}
		if id < 0 {
			bad = r
			break
		}
		ly.ids[ly.row(st, s)] = int32(id)
		if st++; st == steps {
			s, st = s+1, 0
		}
	}
	ly.badRow[lo/lstmIDGrain] = bad
}

// oneHotPos returns the position of the 1 in a one-hot row, or -1 if the
// row is all zeros, -2 if it is not one-hot. float32 rows are skipped
// eight values at a time while their bits are all zero (-0 has a set bit
// and takes the slow path, where it counts as zero).
func oneHotPos[T Float](row []T) int {
	id, k := -1, 0
	if r32, ok := any(row).([]float32); ok {
		for ; k+8 <= len(r32); k += 8 {
			b := r32[k : k+8 : k+8]
			if math.Float32bits(b[0])|math.Float32bits(b[1])|math.Float32bits(b[2])|math.Float32bits(b[3])|
				math.Float32bits(b[4])|math.Float32bits(b[5])|math.Float32bits(b[6])|math.Float32bits(b[7]) == 0 {
				continue
			}
			for j, e := range b {
				if e != 0 {
					if e != 1 || id >= 0 {
						return -2
					}
					id = k + j
				}
			}
		}
	}
	for ; k < len(row); k++ {
		if e := row[k]; e != 0 {
			if e != 1 || id >= 0 {
				return -2
			}
			id = k
		}
	}
	return id
}

// transposeOn sets dst (cols, rows) to src^T, src (rows, cols), on ctx's
// threads, in chunks of 16 rows of src.
func (ly *lstmLayer[T]) transposeOn(ctx *Ctx, dst, src []T, rows, cols int) {
	ly.trans = transposeTask[T]{dst: dst, src: src, rows: rows, cols: cols}
	ctx.For(rows, 16*max(1, 4096/(16*cols)), &ly.trans)
	ly.trans = transposeTask[T]{}
}

// transposeTask is transpose for the rows [lo, hi) of src.
type transposeTask[T Float] struct {
	dst, src   []T
	rows, cols int
}

// Run transposes the rows [lo, hi) of src: the columns [lo, hi) of dst.
func (t *transposeTask[T]) Run(_, lo, hi int) {
	transposeBlock(t.dst, t.rows, t.src, t.cols, lo, hi, 0, t.cols, false)
}

// transposeBlock sets dst[j*ldd+i] to src[i*lds+j], or adds it (add), for
// the rows [i0, i1) and columns [j0, j1) of src. Eight rows of src at a
// time: each column j of them is eight contiguous values of dst, and the
// eight rows are read as streams (about 2.3x a tile loop with an index
// per value, 0.3 ns a value on a Zen 5 core when in cache).
func transposeBlock[T Float](dst []T, ldd int, src []T, lds, i0, i1, j0, j1 int, add bool) {
	if j0 >= j1 {
		return
	}
	i := i0
	for ; i+8 <= i1; i += 8 {
		r0 := src[i*lds+j0 : i*lds+j1]
		r1 := src[(i+1)*lds+j0 : (i+1)*lds+j1][:len(r0)]
		r2 := src[(i+2)*lds+j0 : (i+2)*lds+j1][:len(r0)]
		r3 := src[(i+3)*lds+j0 : (i+3)*lds+j1][:len(r0)]
		r4 := src[(i+4)*lds+j0 : (i+4)*lds+j1][:len(r0)]
		r5 := src[(i+5)*lds+j0 : (i+5)*lds+j1][:len(r0)]
		r6 := src[(i+6)*lds+j0 : (i+6)*lds+j1][:len(r0)]
		r7 := src[(i+7)*lds+j0 : (i+7)*lds+j1][:len(r0)]
		for j := range r0 {
			o := (j0+j)*ldd + i
			d := dst[o : o+8 : o+8]
			if add {
				d[0] += r0[j]
				d[1] += r1[j]
				d[2] += r2[j]
				d[3] += r3[j]
				d[4] += r4[j]
				d[5] += r5[j]
				d[6] += r6[j]
				d[7] += r7[j]
			} else {
				d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7] = r0[j], r1[j], r2[j], r3[j], r4[j], r5[j], r6[j], r7[j]
			}
		}
	}
	for ; i < i1; i++ {
		for j, v := range src[i*lds+j0 : i*lds+j1] {
			if add {
				dst[(j0+j)*ldd+i] += v
			} else {
				dst[(j0+j)*ldd+i] = v
			}
		}
	}
}

// MaxLSTMLayers bounds an lstm layer's stacked layers: a config cannot
// make it allocate per-layer state without limit.
const MaxLSTMLayers = 1000

// LSTMParams are the parameters of an lstm layer.
type LSTMParams struct {
	Units           int  `yaml:"units"`
	Layers          int  `yaml:"layers"`           // stacked layers, default 1
	ReturnSequences bool `yaml:"return_sequences"` // default false: the last step only
	// ForgetBias sets the forget-gate bias at initialisation (1 is the
	// common choice); null (default) keeps PyTorch's uniform initialisation.
	ForgetBias *float64 `yaml:"forget_bias"`
}

func init() {
	Register("lstm", Kind{
		Trace: TraceDoc{
			Out:     "h, the hidden state (each step's, or the last)",
			GradOut: "dL/dh (from above)",
			GradIn:  "dL/dx (through the gates and back through time; passed below)",
		},
		Params: func() any { return &LSTMParams{Layers: 1} },
		Build: func(p any, in []int, info *DataInfo) (Spec, error) {
			lp := p.(*LSTMParams)
			if len(in) != 2 {
				return nil, needsSequence(in, info)
			}
			if lp.Units < 1 {
				return nil, ParamErr("units", "must be at least 1, got %d%s", lp.Units, required(lp.Units, "the hidden state's size, e.g. units: 32"))
			}
			if lp.Layers < 1 {
				return nil, ParamErr("layers", "must be at least 1, got %d", lp.Layers)
			}
			if lp.Layers > MaxLSTMLayers {
				return nil, ParamErr("layers", "must be at most %d, got %d", MaxLSTMLayers, lp.Layers)
			}
			return LSTMSpec{In: in, Units: lp.Units, Layers: lp.Layers,
				ReturnSequences: lp.ReturnSequences, ForgetBias: lp.ForgetBias}, nil
		},
		// Right after a onehot layer the input rows are one-hot: the input
		// projection becomes a gather of columns of W_ih (LSTMSpec.OneHot).
		Link: func(spec, prev Spec) Spec {
			s := spec.(LSTMSpec)
			_, s.OneHot = prev.(OneHotSpec)
			return s
		},
		Doc: "LSTM with backprop through time, PyTorch nn.LSTM layout (gates i, f, g, o)",
	})
}
