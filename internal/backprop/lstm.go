package backprop

import (
	"fmt"
	"math"

	"github.com/nettrain/nettrain/internal/backprop/vec"
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
// and, summed over every step of every sample (one GEMM each):
//
//	dW_ih += dz^T x    dW_hh += dz^T h_prev    db_ih, db_hh += sum dz    dx = dz W_ih
//
// The input projections of all steps are one GEMM over the batch and time;
// each step adds W_hh h_{t-1} for the whole batch with one more GEMM (with
// W_hh transposed once per Forward, so that the GEMM reads it in place).
// The gate formulas of a row (sample, step) are one fused kernel each way,
// vec.LSTMForward and vec.LSTMBackward.
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

func (s LSTMSpec) FLOPs() int64 {
	var f int64
	for l := 0; l < s.Layers; l++ {
		f += int64(s.In[0]) * (2*4*int64(s.Units)*int64(s.layerIn(l)+s.Units) + 20*int64(s.Units))
	}
	return f
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
// the internal buffers are (T, n, .), row q = t*n + s for sample s at step
// t, so that the rows of one step are contiguous: the per-step GEMMs read
// and write them without strides and the gate kernels stream through
// memory instead of hopping between samples.
type lstmLayer[T Float] struct {
	in, h, steps       int
	wih, whh, bih, bhh *Param[T]
	bias               []T       // b_ih + b_hh
	xT                 []T       // (T, n, in): the input, time-major
	gates              []T       // (T, n, 4H): z, then the activated i, f, g, o
	c, tc              []T       // (T, n, H): c_t and tanh(c_t)
	hprev              []T       // (T, n, H): h_{t-1} (zero at t = 0)
	hs                 []T       // (n, T, H): the output h_t
	zeros              []T       // (H): c_{-1}, and dy where there is none
	whhT               []T       // (H, 4H): W_hh^T of the last Forward
	dz                 []T       // (T, n, 4H)
	dh, dc             []T       // (n, H): carried from step t+1
	dxT, dx            []T       // (T, n, in) and (n, T, in)
	dbias              []float64 // (4H): sum of dz over rows

	// One-hot input (nil otherwise): the token id of each row (T, n),
	// W_ih^T (V, 4H) for the gather and its gradient for the scatter-add.
	ids         []int32
	wihT, dwihT []T
}

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
			gates: make([]T, nt*4*h), dz: make([]T, nt*4*h),
			c: make([]T, nt*h), tc: make([]T, nt*h), hs: make([]T, nt*h), hprev: make([]T, nt*h),
			zeros: make([]T, h), whhT: make([]T, h*4*h),
			dh: make([]T, maxBatch*h), dc: make([]T, maxBatch*h),
			dbias: make([]float64, 4*h),
		}
		if k == 0 && s.OneHot {
			ly.ids = make([]int32, nt)
			ly.wihT, ly.dwihT = make([]T, in*4*h), make([]T, in*4*h)
		} else {
			ly.xT, ly.dxT, ly.dx = make([]T, nt*in), make([]T, nt*in), make([]T, nt*in)
		}
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
	gates := ly.gates[:nt*h4]
	for j := range ly.bias {
		ly.bias[j] = ly.bih.W[j] + ly.bhh.W[j]
	}
	if ly.ids != nil {
		// z = b + column id of W_ih, for every step of every sample.
		ids := ly.ids[:nt]
		oneHotIDs(x[:nt*in], in, n, steps, ids)
		transpose(ly.wihT, ly.wih.W, h4, in)
		for q, id := range ids {
			z := gates[q*h4 : (q+1)*h4]
			copy(z, ly.bias)
			vec.Add(z, ly.wihT[int(id)*h4:(int(id)+1)*h4])
		}
	} else {
		xT := ly.xT[:nt*in]
		for s := 0; s < n; s++ {
			for t := 0; t < steps; t++ {
				copy(xT[(t*n+s)*in:(t*n+s+1)*in], x[(s*steps+t)*in:])
			}
		}
		for q := 0; q < nt; q++ {
			copy(gates[q*h4:(q+1)*h4], ly.bias)
		}
		// z = x W_ih^T + b for every step of every sample at once.
		Gemm(ctx, false, true, nt, h4, in, 1, xT, in, ly.wih.W, in, 1, gates, h4)
	}
	transpose(ly.whhT, ly.whh.W, h4, h)
	clear(ly.hprev[:n*h])
	for t := 0; t < steps; t++ {
		q0 := t * n
		if t > 0 {
			// z_t += h_{t-1} W_hh^T for the whole batch.
			Gemm(ctx, false, false, n, h4, h, 1, ly.hprev[q0*h:], h, ly.whhT, h4, 1, gates[q0*h4:], h4)
		}
		for s := 0; s < n; s++ {
			q := q0 + s
			cprev := ly.zeros
			if t > 0 {
				cprev = ly.c[(q-n)*h : (q-n+1)*h]
			}
			hs := ly.hs[(s*steps+t)*h : (s*steps+t+1)*h]
			vec.LSTMForward(gates[q*h4:(q+1)*h4], cprev, ly.c[q*h:(q+1)*h], ly.tc[q*h:(q+1)*h], hs)
			if t+1 < steps {
				copy(ly.hprev[(q+n)*h:(q+n+1)*h], hs)
			}
		}
	}
}

// backward takes dy (n, T, H), or (n, H) for the last step only when
// lastOnly.
func (ly *lstmLayer[T]) backward(ctx *Ctx, dy []T, n int, needDx, lastOnly bool) []T {
	h, h4, steps, in := ly.h, 4*ly.h, ly.steps, ly.in
	nt := n * steps
	dz, dh, dc := ly.dz[:nt*h4], ly.dh[:n*h], ly.dc[:n*h]
	clear(dh)
	clear(dc)
	for t := steps - 1; t >= 0; t-- {
		q0 := t * n
		for s := 0; s < n; s++ {
			q := q0 + s
			cprev := ly.zeros
			if t > 0 {
				cprev = ly.c[(q-n)*h : (q-n+1)*h]
			}
			dyr := ly.zeros
			switch {
			case !lastOnly:
				dyr = dy[(s*steps+t)*h : (s*steps+t+1)*h]
			case t == steps-1:
				dyr = dy[s*h : (s+1)*h]
			}
			vec.LSTMBackward(dz[q*h4:(q+1)*h4], ly.gates[q*h4:(q+1)*h4], ly.tc[q*h:(q+1)*h],
				dyr, dh[s*h:(s+1)*h], dc[s*h:(s+1)*h], cprev)
		}
		if t > 0 {
			// dh for step t-1 = dz_t W_hh, for the whole batch.
			Gemm(ctx, false, false, n, h, h4, 1, dz[q0*h4:], h4, ly.whh.W, h, 0, dh, h)
		}
	}
	if ly.ids != nil {
		// dW_ih[:, id] += dz_q for every row q, summed in order of q in
		// W_ih^T's layout, then added to the gradient.
		dwT := ly.dwihT
		clear(dwT)
		for q, id := range ly.ids[:nt] {
			vec.Add(dwT[int(id)*h4:(int(id)+1)*h4], dz[q*h4:(q+1)*h4])
		}
		g := ly.wih.G
		for v := 0; v < in; v++ {
			for k, d := range dwT[v*h4 : (v+1)*h4] {
				g[k*in+v] += d
			}
		}
	} else {
		Gemm(ctx, true, false, h4, in, nt, 1, dz, h4, ly.xT, in, 1, ly.wih.G, in)
	}
	// dW_hh += dz^T h_prev over the steps t >= 1 (h_{-1} = 0).
	if steps > 1 {
		Gemm(ctx, true, false, h4, h, nt-n, 1, dz[n*h4:], h4, ly.hprev[n*h:nt*h], h, 1, ly.whh.G, h)
	}
	// db = sum of dz over rows, in float64 in order of rows.
	clear(ly.dbias)
	for q := 0; q < nt; q++ {
		vec.AddWiden(ly.dbias, dz[q*h4:(q+1)*h4])
	}
	for j, sum := range ly.dbias {
		ly.bih.G[j] += T(sum)
		ly.bhh.G[j] += T(sum)
	}
	if !needDx || ly.ids != nil {
		return nil
	}
	dxT, dx := ly.dxT[:nt*in], ly.dx[:nt*in]
	Gemm(ctx, false, false, nt, in, h4, 1, dz, h4, ly.wih.W, in, 0, dxT, in)
	for s := 0; s < n; s++ {
		for t := 0; t < steps; t++ {
			copy(dx[(s*steps+t)*in:(s*steps+t+1)*in], dxT[(t*n+s)*in:])
		}
	}
	return dx
}

// oneHotIDs sets ids[t*n+s] to the position of the 1 in row (s, t) of x
// (n, T, v); it panics unless every row is one-hot.
func oneHotIDs[T Float](x []T, v, n, steps int, ids []int32) {
	for r := 0; r < n*steps; r++ {
		id := -1
		for k, e := range x[r*v : (r+1)*v] {
			if e != 0 {
				if e != 1 || id >= 0 {
					panic(fmt.Sprintf("backprop: lstm with one-hot input: row %d is not one-hot", r))
				}
				id = k
			}
		}
		if id < 0 {
			panic(fmt.Sprintf("backprop: lstm with one-hot input: row %d is all zeros", r))
		}
		ids[(r%steps)*n+r/steps] = int32(id)
	}
}

// transpose sets dst (cols, rows) to src^T, src (rows, cols), in tiles
// that stay in L1.
func transpose[T Float](dst, src []T, rows, cols int) {
	const b = 16
	for i0 := 0; i0 < rows; i0 += b {
		i1 := min(i0+b, rows)
		for j0 := 0; j0 < cols; j0 += b {
			for j := j0; j < min(j0+b, cols); j++ {
				d := dst[j*rows+i0 : j*rows+i1]
				for i := range d {
					d[i] = src[(i0+i)*cols+j]
				}
			}
		}
	}
}
