package export

import (
	"fmt"

	"github.com/nettrain/nettrain/internal/backprop"
)

// onnxGRUGates lists, for ONNX's GRU gate blocks in its order (z, r, h),
// the index of the same gate among PyTorch's blocks (r, z, n).
var onnxGRUGates = []int{1, 0, 2}

// gru adds the nodes of a (stacked) GRU as lstm does: x (N, T, I) is
// transposed to (T, N, I); each layer l is one GRU node with
// linear_before_reset = 1 (PyTorch's n = tanh(W_in x + b_in + r * (W_hn h
// + b_hn)), the recurrent bias inside the product) and
//
//	W = weight_ih_l<l> reordered (1, 3H, I_l)
//	R = weight_hh_l<l> reordered (1, 3H, H)
//	B = [bias_ih_l<l>, bias_hh_l<l>] reordered (1, 6H)
//
// and a zero initial state. The result is the last layer's Y transposed
// back to (N, T, H) with return_sequences, else its Y_h squeezed to (N, H).
func (e *exporter) gru(i int, s backprop.GRUSpec, ps []*backprop.Param[float32], x string) string {
	g := &e.g
	h := s.Units
	pre := fmt.Sprintf("%s%d", e.scope, i)
	x = g.op1("Transpose", pre+".tni", []string{x}, attr{"perm", []int64{1, 0, 2}})
	var yh string
	for l := range s.Layers {
		wih, whh, bih, bhh := ps[4*l], ps[4*l+1], ps[4*l+2], ps[4*l+3]
		in := wih.Shape[1]
		lp := fmt.Sprintf("%s.gru_l%d", pre, l)
		w := g.floats(lp+".W", []int{1, 3 * h, in}, reorderBlocks(wih.W, onnxGRUGates, h, in))
		r := g.floats(lp+".R", []int{1, 3 * h, h}, reorderBlocks(whh.W, onnxGRUGates, h, h))
		b := g.floats(lp+".B", []int{1, 6 * h}, append(reorderBlocks(bih.W, onnxGRUGates, h, 1), reorderBlocks(bhh.W, onnxGRUGates, h, 1)...))
		outs := g.node("GRU", lp+".y", 2, []string{x, w, r, b}, attr{"hidden_size", int64(h)}, attr{"linear_before_reset", int64(1)})
		yh = outs[1] // (1, N, H)
		if l < s.Layers-1 || s.ReturnSequences {
			x = g.op1("Squeeze", lp+".tnh", []string{outs[0], e.axis(1)}) // (T, N, H)
		}
	}
	out := pre + ".out"
	if s.ReturnSequences {
		return g.op1("Transpose", out, []string{x}, attr{"perm", []int64{1, 0, 2}})
	}
	return g.op1("Squeeze", out, []string{yh, e.axis(0)})
}

// reorderBlocks returns a copy of w, blocks of h rows of cols values, with
// block k of the result being block order[k] of w.
func reorderBlocks(w []float32, order []int, h, cols int) []float32 {
	block := h * cols
	out := make([]float32, 0, len(w))
	for _, b := range order {
		out = append(out, w[b*block:(b+1)*block]...)
	}
	return out
}
