package backprop

import (
	"fmt"
	"math"

	"github.com/nettrain/nettrain/internal/simd"
)

// GRUSpec is a (stacked) GRU over sequences (T, I), PyTorch's nn.GRU with
// batch_first=True, zero initial state, and the same gate order (r, z, n),
// bias convention and parameter layout, so checkpoints load into the torch
// module. For each layer l and step t, with x_t its input and h_{-1} = 0:
//
//	gi = W_ih x_t + b_ih        gh = W_hh h_{t-1} + b_hh    (3H: r, z, n blocks)
//	r = sigma(gi_r + gh_r)      z = sigma(gi_z + gh_z)
//	n = tanh(gi_n + r * gh_n)   (b_hn inside the product, as PyTorch)
//	h_t = (1 - z) * n + z * h_{t-1}
//
// The output is h_0..h_{T-1} of the last layer, (T, H), when
// ReturnSequences, else h_{T-1}, (H). Backpropagation through time runs the
// steps in reverse with dh carried from step t+1 (dh = dy_t + dh_{t+1}):
//
//	dz = dh * (h_{t-1} - n)     dn = dh * (1 - z)
//	da_n = dn * (1 - n^2)       da_r = da_n * gh_n * r (1 - r)    da_z = dz * z (1 - z)
//	dgi = [da_r, da_z, da_n]    dgh = [da_r, da_z, da_n * r]
//	dh_{t-1} = dh * z + dgh W_hh
//
// and, summed over every step of every sample:
//
//	dW_ih += dgi^T x    dW_hh += dgh^T h_prev    db_ih += sum dgi    db_hh += sum dgh    dx = dgi W_ih
//
// Everything but the sum of the weight gradients runs per chunk of
// samples, on the goroutine of the chunk's recurrence, while its rows are
// in that core's cache: the input projection of all its steps (one GEMM),
// then the recurrence; backward, the recurrence, then the chunk's dx (one
// GEMM), bias sums (float64) and, unless they would take more than
// lstmMaxPart values, its dW_ih and dW_hh (one GEMM each). The chunks'
// sums are then added to the gradients in chunk order (without the parts,
// dW_ih is one GEMM over every row and dW_hh one per chunk, after the
// recurrence). The recurrence runs in parallel over
// chunks of samples (Ctx.For, at most four chunks, fixed by the batch size,
// as the LSTM's): each chunk runs all its steps on one goroutine, a step
// one GEMM for W_hh h_{t-1} of the chunk's samples and the gate maths per
// row (in float64, rounded once to T). The bias gradients are summed in
// float64 over each chunk's rows in order, then over the chunks in chunk
// order. So the bits never depend on the thread count.
//
// Parameters per layer l: "weight_ih_l<l>" (3H, I_l), "weight_hh_l<l>" (3H, H),
// "bias_ih_l<l>" (3H), "bias_hh_l<l>" (3H), all U(-1/sqrt(H), 1/sqrt(H)) as
// PyTorch.
type GRUSpec struct {
	In              []int // [T, I]
	Units           int   // H
	Layers          int
	ReturnSequences bool
}

func (s GRUSpec) Kind() string   { return "gru" }
func (s GRUSpec) InShape() []int { return s.In }

func (s GRUSpec) OutShape() []int {
	if s.ReturnSequences {
		return []int{s.In[0], s.Units}
	}
	return []int{s.Units}
}

func (s GRUSpec) layerIn(l int) int {
	if l == 0 {
		return s.In[1]
	}
	return s.Units
}

func (s GRUSpec) Params() []ParamSpec {
	h := s.Units
	u := Uniform(1 / math.Sqrt(float64(h)))
	var ps []ParamSpec
	for l := 0; l < s.Layers; l++ {
		ps = append(ps,
			ParamSpec{Name: fmt.Sprintf("weight_ih_l%d", l), Shape: []int{3 * h, s.layerIn(l)}, Init: u},
			ParamSpec{Name: fmt.Sprintf("weight_hh_l%d", l), Shape: []int{3 * h, h}, Init: u},
			ParamSpec{Name: fmt.Sprintf("bias_ih_l%d", l), Shape: []int{3 * h}, Init: u},
			ParamSpec{Name: fmt.Sprintf("bias_hh_l%d", l), Shape: []int{3 * h}, Init: u},
		)
	}
	return ps
}

func (s GRUSpec) FLOPs() int64 {
	var f int64
	for l := 0; l < s.Layers; l++ {
		f += int64(s.In[0]) * (2*3*int64(s.Units)*(int64(s.layerIn(l))+int64(s.Units)) + 16*int64(s.Units))
	}
	return f
}

// WorkspaceElems is a GRU's per-sample state over the window: the input
// and recurrent projections and their gradients (4 x 3H), the gates (3H),
// the previous and current outputs (2 x H) per step and layer, and the
// input in the rows' order, its gradient there and in the (n, T, in)
// layout (3 x in).
func (s GRUSpec) WorkspaceElems() int64 {
	var e int64
	for l := 0; l < s.Layers; l++ {
		e += int64(s.In[0]) * int64(17*s.Units+3*s.layerIn(l))
	}
	return e
}

// FixedWorkspaceElems counts a GRU's buffers that do not grow with the
// batch, per layer: the chunks' bias sums (float64, counted as two
// elements each) and, when they fit lstmMaxPart, their dW_ih and dW_hh
// parts.
func (s GRUSpec) FixedWorkspaceElems() int64 {
	var e int64
	h3 := 3 * int64(s.Units)
	for l := 0; l < s.Layers; l++ {
		e += 2 * lstmChunks * 2 * h3
		if gruParts(s.layerIn(l), s.Units) {
			e += lstmChunks * h3 * int64(s.layerIn(l)+s.Units)
		}
	}
	return e
}

func (s GRUSpec) new32(p []*Param[float32], maxBatch int) Layer[float32] {
	return newGRU(s, p, maxBatch)
}
func (s GRUSpec) new64(p []*Param[float64], maxBatch int) Layer[float64] {
	return newGRU(s, p, maxBatch)
}

type gru[T Float] struct {
	steps, h int
	seqOut   bool
	layers   []*gruLayer[T]
	y        []T // (n, H): the last step's output when !seqOut
}

// gruLayer is one layer of the stack with its buffers. The input x, the
// output hs and the input gradient dx are (n, T, .) like every sequence;
// the internal buffers hold the rows of each chunk of samples (lstmGrain,
// as the LSTM's) together, time-major within the chunk: for the chunk
// [lo, lo+m), row q = lo*T + t*m + (s-lo) (chunkRow). The rows of one
// step of a chunk are contiguous for the per-step GEMMs, and two chunks
// meet only once per buffer, not at every step: with the chunks' rows
// interleaved step by step ((T, n, .), as before), the two cores of a
// 2-thread run stole each other's cache lines (and the lines their
// prefetchers fetched) at every step, and each chunk's forward pass took
// twice as long as on one thread.
type gruLayer[T Float] struct {
	in, h, steps       int
	wih, whh, bih, bhh *Param[T]
	xT                 []T       // (n*T rows, in): the input in the rows' order
	gi, gh             []T       // (n*T rows, 3H): W_ih x + b_ih and W_hh h_prev + b_hh
	gates              []T       // (n*T rows, 3H): r, z, n
	hprev              []T       // (n*T rows, H): h_{t-1} (zero at t = 0)
	hs                 []T       // (n, T, H): the output h_t
	dgi, dgh           []T       // (n*T rows, 3H)
	dh                 []T       // (n, H): carried from step t+1
	dxT, dx            []T       // (n*T rows, in) and (n, T, in)
	dbPart             []float64 // (chunks, 6H): each chunk's sums of dgi and dgh over its rows
	// dwihPart (chunks, 3H, in) and dwhhPart (chunks, 3H, H) hold each
	// chunk's dW_ih and dW_hh, unless together they would be larger than
	// lstmMaxPart values: then both are nil.
	dwihPart, dwhhPart []T

	// The parallel loops and what they work on during a call.
	ctx      *Ctx
	n        int
	x, dy    []T
	lastOnly bool
	needDx   bool
	seq      gruSeqTask[T]
	grads    gruGradTask[T]
}

func newGRU[T Float](s GRUSpec, p []*Param[T], maxBatch int) *gru[T] {
	steps, h := s.In[0], s.Units
	l := &gru[T]{steps: steps, h: h, seqOut: s.ReturnSequences}
	for k := 0; k < s.Layers; k++ {
		in := s.layerIn(k)
		nt := maxBatch * steps
		ly := &gruLayer[T]{
			in: in, h: h, steps: steps,
			wih: p[4*k], whh: p[4*k+1], bih: p[4*k+2], bhh: p[4*k+3],
			xT: make([]T, nt*in), gi: make([]T, nt*3*h), gh: make([]T, nt*3*h), gates: make([]T, nt*3*h),
			hprev: make([]T, nt*h), hs: make([]T, nt*h),
			dgi: make([]T, nt*3*h), dgh: make([]T, nt*3*h), dh: make([]T, maxBatch*h),
			dxT: make([]T, nt*in), dx: make([]T, nt*in), dbPart: make([]float64, lstmChunks*6*h),
		}
		if gruParts(in, h) {
			ly.dwihPart, ly.dwhhPart = make([]T, lstmChunks*3*h*in), make([]T, lstmChunks*3*h*h)
		}
		ly.seq.ly, ly.grads.ly = ly, ly
		l.layers = append(l.layers, ly)
	}
	if !l.seqOut {
		l.y = make([]T, maxBatch*h)
	}
	return l
}

func (l *gru[T]) Forward(ctx *Ctx, x []T, n int) []T {
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

func (l *gru[T]) Backward(ctx *Ctx, dy []T, n int, needDx bool) []T {
	// Without return_sequences only the last step of the top layer
	// received a gradient: dy is (n, H), the other steps' is zero.
	lastOnly := !l.seqOut
	for k := len(l.layers) - 1; k >= 0; k-- {
		dy = l.layers[k].backward(ctx, dy, n, k > 0 || needDx, lastOnly)
		lastOnly = false
	}
	return dy
}

// gruParts reports whether a layer of in inputs and h units keeps
// per-chunk dW_ih and dW_hh parts (at most lstmMaxPart values).
func gruParts(in, h int) bool { return int64(lstmChunks)*3*int64(h)*int64(in+h) <= int64(lstmMaxPart) }

func (ly *gruLayer[T]) forward(ctx *Ctx, x []T, n int) {
	ly.ctx, ly.n, ly.x = ctx, n, x[:n*ly.steps*ly.in]
	ly.seq.fwd = true
	ctx.For(n, lstmGrain(n), &ly.seq)
	ly.ctx, ly.x = nil, nil
}

// backward takes dy (n, T, H), or (n, H) for the last step only when
// lastOnly.
func (ly *gruLayer[T]) backward(ctx *Ctx, dy []T, n int, needDx, lastOnly bool) []T {
	h, h3, in, steps := ly.h, 3*ly.h, ly.in, ly.steps
	nt := n * steps
	ly.ctx, ly.n, ly.dy, ly.lastOnly, ly.needDx = ctx, n, dy, lastOnly, needDx
	ly.seq.fwd = false
	ctx.For(n, lstmGrain(n), &ly.seq)
	if ly.dwihPart == nil {
		// dW_ih += dgi^T x over every row; dW_hh += dgh^T h_prev over the
		// steps t >= 1 (h_{-1} = 0), one product per chunk over its rows
		// of those steps (contiguous), in chunk order.
		Gemm(ctx, true, false, h3, in, nt, 1, ly.dgi[:nt*h3], h3, ly.xT[:nt*in], in, 1, ly.wih.G, in)
		pg := lstmGrain(n)
		for lo := 0; steps > 1 && lo < n; lo += pg {
			m := min(pg, n-lo)
			q := lo*steps + m
			Gemm(ctx, true, false, h3, h, (steps-1)*m, 1, ly.dgh[q*h3:], h3, ly.hprev[q*h:], h, 1, ly.whh.G, h)
		}
	}
	ly.grads.chunks = (n + lstmGrain(n) - 1) / lstmGrain(n)
	ctx.For(h3, lstmColGrain, &ly.grads)
	ly.ctx, ly.dy = nil, nil
	if needDx {
		return ly.dx[:nt*in]
	}
	return nil
}

// gruSeqTask runs the recurrence of the samples [lo, hi) through every
// step, forward (fwd) or backward, on the chunk's goroutine.
type gruSeqTask[T Float] struct {
	ly  *gruLayer[T]
	fwd bool
}

func (t *gruSeqTask[T]) Run(w, lo, hi int) {
	if t.fwd {
		t.ly.forwardSamples(w, lo, hi)
	} else {
		t.ly.backwardSamples(w, lo, hi)
	}
}

func (ly *gruLayer[T]) forwardSamples(w, lo, hi int) {
	h, h3, steps, m, in := ly.h, 3*ly.h, ly.steps, hi-lo, ly.in
	// The chunk's rows of xT (its samples' input) and gi = b_ih, then gi
	// += xT W_ih^T for every step of its samples at once.
	r0 := lo * steps
	for s := lo; s < hi; s++ {
		for t := range steps {
			q, r := r0+t*m+s-lo, s*steps+t
			copy(ly.xT[q*in:(q+1)*in], ly.x[r*in:(r+1)*in])
			copy(ly.gi[q*h3:(q+1)*h3], ly.bih.W)
		}
	}
	gemmSerial(ly.ctx, w, false, true, steps*m, h3, in, 1, ly.xT[r0*in:], in, ly.wih.W, in, 1, ly.gi[r0*h3:], h3)
	for t := 0; t < steps; t++ {
		q0 := lo*steps + t*m
		// gh = b_hh (+ h_{t-1} W_hh^T for t > 0) for the chunk's samples.
		for q := q0; q < q0+m; q++ {
			copy(ly.gh[q*h3:(q+1)*h3], ly.bhh.W)
		}
		if t > 0 {
			gemmSerial(ly.ctx, w, false, true, m, h3, h, 1, ly.hprev[q0*h:], h, ly.whh.W, h, 1, ly.gh[q0*h3:], h3)
		}
		for s := lo; s < hi; s++ {
			q := q0 + s - lo
			gi, gh, g := ly.gi[q*h3:(q+1)*h3], ly.gh[q*h3:(q+1)*h3], ly.gates[q*h3:(q+1)*h3]
			hp := ly.hprev[q*h : (q+1)*h]
			hs := ly.hs[(s*steps+t)*h : (s*steps+t+1)*h]
			// r, z = sigmoid(gi + gh) over the first two blocks, then
			// n = tanh(gi_n + r gh_n), with package simd's maps (float32:
			// its approximations; float64: the exact functions).
			rz := g[:2*h]
			copy(rz, gi[:2*h])
			simd.Add(rz, gh[:2*h])
			simd.Sigmoid(rz, rz)
			for j := range h {
				g[2*h+j] = T(float64(gi[2*h+j]) + float64(g[j])*float64(gh[2*h+j]))
			}
			simd.Tanh(g[2*h:], g[2*h:])
			if t == 0 {
				clear(hp)
			}
			for j := range h {
				z, nn := float64(g[h+j]), float64(g[2*h+j])
				hs[j] = T((1-z)*nn + z*float64(hp[j]))
			}
			if t+1 < steps {
				copy(ly.hprev[(q+m)*h:(q+m+1)*h], hs)
			}
		}
	}
}

func (ly *gruLayer[T]) backwardSamples(w, lo, hi int) {
	h, h3, steps, m := ly.h, 3*ly.h, ly.steps, hi-lo
	clear(ly.dh[lo*h : hi*h])
	for t := steps - 1; t >= 0; t-- {
		q0 := lo*steps + t*m
		for s := lo; s < hi; s++ {
			q := q0 + s - lo
			var dyr []T
			switch {
			case !ly.lastOnly:
				dyr = ly.dy[(s*steps+t)*h : (s*steps+t+1)*h]
			case t == steps-1:
				dyr = ly.dy[s*h : (s+1)*h]
			}
			g, gh := ly.gates[q*h3:(q+1)*h3], ly.gh[q*h3:(q+1)*h3]
			dgi, dgh := ly.dgi[q*h3:(q+1)*h3], ly.dgh[q*h3:(q+1)*h3]
			hp, dh := ly.hprev[q*h:(q+1)*h], ly.dh[s*h:(s+1)*h]
			for j := range h {
				d := float64(dh[j])
				if dyr != nil {
					d += float64(dyr[j])
				}
				r, z, nn := float64(g[j]), float64(g[h+j]), float64(g[2*h+j])
				dz := d * (float64(hp[j]) - nn)
				dan := d * (1 - z) * (1 - nn*nn)
				dar := dan * float64(gh[2*h+j]) * r * (1 - r)
				daz := dz * z * (1 - z)
				dgi[j], dgi[h+j], dgi[2*h+j] = T(dar), T(daz), T(dan)
				dgh[j], dgh[h+j], dgh[2*h+j] = T(dar), T(daz), T(dan*r)
				dh[j] = T(d * z)
			}
		}
		if t > 0 {
			// dh_{t-1} = dh z + dgh W_hh, for the chunk's samples.
			gemmSerial(ly.ctx, w, false, false, m, h, h3, 1, ly.dgh[q0*h3:], h3, ly.whh.W, h, 1, ly.dh[lo*h:], h)
		}
	}
	ly.chunkGrads(w, lo, hi)
}

// chunkGrads computes, after the chunk [lo, hi)'s backward recurrence, its
// bias sums into its part of dbPart (float64, over its rows in order), its
// dW_ih and dW_hh into its parts when there are, and its dx when needed
// (dxT = dgi W_ih on its rows, then into dx's (n, T, in) layout).
func (ly *gruLayer[T]) chunkGrads(w, lo, hi int) {
	h, h3, steps, m, in := ly.h, 3*ly.h, ly.steps, hi-lo, ly.in
	c, r0, rows := lo/lstmGrain(ly.n), lo*steps, steps*(hi-lo)
	dgi, dgh := ly.dgi[r0*h3:(r0+rows)*h3], ly.dgh[r0*h3:(r0+rows)*h3]
	db := ly.dbPart[c*2*h3 : (c+1)*2*h3]
	clear(db)
	for q := range rows {
		simd.AddWiden(db[:h3], dgi[q*h3:(q+1)*h3])
		simd.AddWiden(db[h3:], dgh[q*h3:(q+1)*h3])
	}
	if ly.dwihPart != nil {
		gemmSerial(ly.ctx, w, true, false, h3, in, rows, 1, dgi, h3, ly.xT[r0*in:], in, 0, ly.dwihPart[c*h3*in:(c+1)*h3*in], in)
		if steps > 1 {
			// Over the steps t >= 1 (h_{-1} = 0): the chunk's rows from m on.
			gemmSerial(ly.ctx, w, true, false, h3, h, rows-m, 1, dgh[m*h3:], h3, ly.hprev[(r0+m)*h:], h, 0, ly.dwhhPart[c*h3*h:(c+1)*h3*h], h)
		}
	}
	if ly.needDx {
		gemmSerial(ly.ctx, w, false, false, rows, in, h3, 1, dgi, h3, ly.wih.W, in, 0, ly.dxT[r0*in:(r0+rows)*in], in)
		for s := lo; s < hi; s++ {
			for t := range steps {
				q, r := r0+t*m+s-lo, s*steps+t
				copy(ly.dx[r*in:(r+1)*in], ly.dxT[q*in:(q+1)*in])
			}
		}
	}
}

// gruGradTask adds the chunks' sums to the gradients in chunk order, for
// the gate rows [lo, hi) of 3H: the bias sums, and the chunks' dW_ih and
// dW_hh when the layer keeps them.
type gruGradTask[T Float] struct {
	ly     *gruLayer[T]
	chunks int
}

func (t *gruGradTask[T]) Run(_, lo, hi int) {
	ly := t.ly
	h, h3, in := ly.h, 3*ly.h, ly.in
	for j := lo; j < hi; j++ {
		var si, sh float64
		for c := range t.chunks {
			si += ly.dbPart[c*2*h3+j]
			sh += ly.dbPart[c*2*h3+h3+j]
		}
		ly.bih.G[j] += T(si)
		ly.bhh.G[j] += T(sh)
	}
	if ly.dwihPart == nil {
		return
	}
	gi, gh := ly.wih.G[lo*in:hi*in], ly.whh.G[lo*h:hi*h]
	for c := range t.chunks {
		simd.Add(gi, ly.dwihPart[c*h3*in+lo*in:c*h3*in+hi*in])
		if ly.steps > 1 {
			simd.Add(gh, ly.dwhhPart[c*h3*h+lo*h:c*h3*h+hi*h])
		}
	}
}

// GRUParams are the parameters of a gru layer.
type GRUParams struct {
	Units           int  `yaml:"units"`
	Layers          int  `yaml:"layers"`           // stacked layers, default 1
	ReturnSequences bool `yaml:"return_sequences"` // default false: the last step only
}

func init() {
	Register("gru", Kind{
		Trace: TraceDoc{
			Out:     "h_t = (1 - z_t) n_t + z_t h_(t-1), gates r, z, n per step (the last step, or every step with return_sequences)",
			GradOut: "dL/dh (from above)",
			GradIn:  "dL/dx, through every gate and back through time (passed below)",
		},
		Params: func() any { return &GRUParams{Layers: 1} },
		Build: func(p any, in []int, info *DataInfo) (Spec, error) {
			gp := p.(*GRUParams)
			if len(in) != 2 {
				return nil, needsSequence(in, info)
			}
			if gp.Units < 1 {
				return nil, ParamErr("units", "must be at least 1, got %d%s", gp.Units, required(gp.Units, "the hidden state's size, e.g. units: 32"))
			}
			if gp.Layers < 1 {
				return nil, ParamErr("layers", "must be at least 1, got %d", gp.Layers)
			}
			if gp.Layers > MaxLSTMLayers {
				return nil, ParamErr("layers", "must be at most %d, got %d", MaxLSTMLayers, gp.Layers)
			}
			return GRUSpec{In: in, Units: gp.Units, Layers: gp.Layers, ReturnSequences: gp.ReturnSequences}, nil
		},
		Doc: "GRU with backprop through time, PyTorch nn.GRU layout (gates r, z, n)",
	})
}
