package backprop

import (
	"fmt"
	"math"
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
// each step adds W_hh h_{t-1} for the whole batch with one more GEMM.
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
	dlast    []T // (n, T, H): dy spread over the steps when !seqOut
}

// lstmLayer is one layer of the stack with its buffers, all (n, T, .).
type lstmLayer[T Float] struct {
	in, h, steps       int
	wih, whh, bih, bhh *Param[T]
	x                  []T // input of the last Forward (not owned)
	bias               []T // b_ih + b_hh
	gates              []T // (n, T, 4H): z, then the activated i, f, g, o
	c, tc              []T // (n, T, H): c_t and tanh(c_t)
	hs, hprev          []T // (n, T, H): h_t and h_{t-1} (zero at t = 0)
	dz                 []T // (n, T, 4H)
	dh, dc             []T // (n, H): carried from step t+1
	dx                 []T // (n, T, in)
}

func newLSTM[T Float](s LSTMSpec, p []*Param[T], maxBatch int) *lstm[T] {
	steps, h := s.In[0], s.Units
	l := &lstm[T]{steps: steps, h: h, seqOut: s.ReturnSequences}
	for k := 0; k < s.Layers; k++ {
		in := s.layerIn(k)
		nt := maxBatch * steps
		l.layers = append(l.layers, &lstmLayer[T]{
			in: in, h: h, steps: steps,
			wih: p[4*k], whh: p[4*k+1], bih: p[4*k+2], bhh: p[4*k+3],
			bias:  make([]T, 4*h),
			gates: make([]T, nt*4*h), dz: make([]T, nt*4*h),
			c: make([]T, nt*h), tc: make([]T, nt*h), hs: make([]T, nt*h), hprev: make([]T, nt*h),
			dh: make([]T, maxBatch*h), dc: make([]T, maxBatch*h),
			dx: make([]T, nt*in),
		})
	}
	if !l.seqOut {
		l.y = make([]T, maxBatch*h)
		l.dlast = make([]T, maxBatch*steps*h)
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
	if !l.seqOut {
		// Only the last step received a gradient.
		d := l.dlast[:n*l.steps*l.h]
		clear(d)
		for s := 0; s < n; s++ {
			copy(d[(s*l.steps+l.steps-1)*l.h:(s*l.steps+l.steps)*l.h], dy[s*l.h:(s+1)*l.h])
		}
		dy = d
	}
	for k := len(l.layers) - 1; k >= 0; k-- {
		dy = l.layers[k].backward(ctx, dy, n, k > 0 || needDx)
	}
	return dy
}

func sigmoid(v float64) float64 { return 1 / (1 + math.Exp(-v)) }

func (ly *lstmLayer[T]) forward(ctx *Ctx, x []T, n int) {
	h, h4, steps := ly.h, 4*ly.h, ly.steps
	nt := n * steps
	ly.x = x[:nt*ly.in]
	gates := ly.gates[:nt*h4]
	for j := range ly.bias {
		ly.bias[j] = ly.bih.W[j] + ly.bhh.W[j]
	}
	for r := 0; r < nt; r++ {
		copy(gates[r*h4:(r+1)*h4], ly.bias)
	}
	// z = x W_ih^T + b for every step of every sample at once.
	Gemm(ctx, false, true, nt, h4, ly.in, 1, ly.x, ly.in, ly.wih.W, ly.in, 1, gates, h4)
	for t := 0; t < steps; t++ {
		if t > 0 {
			// z_t += h_{t-1} W_hh^T for the whole batch (rows strided by T).
			Gemm(ctx, false, true, n, h4, h, 1, ly.hprev[t*h:], steps*h, ly.whh.W, h, 1, gates[t*h4:], steps*h4)
		}
		for s := 0; s < n; s++ {
			r := s*steps + t
			z := gates[r*h4 : (r+1)*h4]
			c, tc, hs := ly.c[r*h:(r+1)*h], ly.tc[r*h:(r+1)*h], ly.hs[r*h:(r+1)*h]
			var cprev []T
			if t > 0 {
				cprev = ly.c[(r-1)*h : r*h]
			}
			for j := 0; j < h; j++ {
				i := T(sigmoid(float64(z[j])))
				f := T(sigmoid(float64(z[h+j])))
				g := T(math.Tanh(float64(z[2*h+j])))
				o := T(sigmoid(float64(z[3*h+j])))
				z[j], z[h+j], z[2*h+j], z[3*h+j] = i, f, g, o
				cv := i * g
				if cprev != nil {
					cv += f * cprev[j]
				}
				c[j] = cv
				tc[j] = T(math.Tanh(float64(cv)))
				hs[j] = o * tc[j]
			}
			if t+1 < steps {
				copy(ly.hprev[(r+1)*h:(r+2)*h], hs)
			}
			if t == 0 {
				clear(ly.hprev[r*h : (r+1)*h])
			}
		}
	}
}

func (ly *lstmLayer[T]) backward(ctx *Ctx, dy []T, n int, needDx bool) []T {
	h, h4, steps := ly.h, 4*ly.h, ly.steps
	nt := n * steps
	dz, dh, dc := ly.dz[:nt*h4], ly.dh[:n*h], ly.dc[:n*h]
	clear(dh)
	clear(dc)
	for t := steps - 1; t >= 0; t-- {
		for s := 0; s < n; s++ {
			r := s*steps + t
			a := ly.gates[r*h4 : (r+1)*h4]
			tc, dyr := ly.tc[r*h:(r+1)*h], dy[r*h:(r+1)*h]
			dzr := dz[r*h4 : (r+1)*h4]
			dhs, dcs := dh[s*h:(s+1)*h], dc[s*h:(s+1)*h]
			for j := 0; j < h; j++ {
				i, f, g, o := a[j], a[h+j], a[2*h+j], a[3*h+j]
				dhv := dyr[j] + dhs[j]
				dcv := dhv*o*(1-tc[j]*tc[j]) + dcs[j]
				var cp T
				if t > 0 {
					cp = ly.c[(r-1)*h+j]
				}
				dzr[j] = dcv * g * i * (1 - i)
				dzr[h+j] = dcv * cp * f * (1 - f)
				dzr[2*h+j] = dcv * i * (1 - g*g)
				dzr[3*h+j] = dhv * tc[j] * o * (1 - o)
				dcs[j] = dcv * f
			}
		}
		if t > 0 {
			// dh for step t-1 = dz_t W_hh, for the whole batch.
			Gemm(ctx, false, false, n, h, h4, 1, dz[t*h4:], steps*h4, ly.whh.W, h, 0, dh, h)
		}
	}
	Gemm(ctx, true, false, h4, ly.in, nt, 1, dz, h4, ly.x, ly.in, 1, ly.wih.G, ly.in)
	Gemm(ctx, true, false, h4, h, nt, 1, dz, h4, ly.hprev[:nt*h], h, 1, ly.whh.G, h)
	for j := 0; j < h4; j++ {
		var sum float64
		for r := 0; r < nt; r++ {
			sum += float64(dz[r*h4+j])
		}
		ly.bih.G[j] += T(sum)
		ly.bhh.G[j] += T(sum)
	}
	if !needDx {
		return nil
	}
	dx := ly.dx[:nt*ly.in]
	Gemm(ctx, false, false, nt, ly.in, h4, 1, dz, h4, ly.wih.W, ly.in, 0, dx, ly.in)
	return dx
}
