package export

import (
	"fmt"

	"github.com/nettrain/nettrain/internal/backprop"
)

// onnxGates lists, for ONNX's gate blocks in its order (i, o, f, c), the
// index of the same gate among PyTorch's blocks (i, f, g, o): nettrain's
// parameters are PyTorch's, ONNX's LSTM reads its W, R and B blocks in
// the other order.
var onnxGates = [4]int{0, 3, 1, 2}

// reorderGates returns a copy of a PyTorch LSTM weight or bias, 4 blocks
// of h rows of cols values (i, f, g, o), with the blocks in ONNX's order
// (i, o, f, c).
func reorderGates(w []float32, h, cols int) []float32 {
	return reorderBlocks(w, onnxGates[:], h, cols)
}

// lstm adds the nodes of a (stacked) LSTM: x (N, T, I) is transposed to
// ONNX's (T, N, I); each layer l is one LSTM node with
//
//	W = weight_ih_l<l> reordered (1, 4H, I_l)
//	R = weight_hh_l<l> reordered (1, 4H, H)
//	B = [bias_ih_l<l>, bias_hh_l<l>] reordered (1, 8H)  (ONNX adds Wb + Rb)
//
// and zero initial states, as nettrain's. Its output Y (T, 1, N, H) is
// squeezed to feed the next layer. The result is the last layer's Y
// transposed back to (N, T, H) with return_sequences, else its Y_h, the
// last step, squeezed to (N, H).
func (e *exporter) lstm(i int, s backprop.LSTMSpec, ps []*backprop.Param[float32], x string) string {
	g := &e.g
	h := s.Units
	pre := fmt.Sprintf("%s%d", e.scope, i)
	x = g.op1("Transpose", pre+".tni", []string{x}, attr{"perm", []int64{1, 0, 2}})
	var yh string
	for l := range s.Layers {
		wih, whh, bih, bhh := ps[4*l], ps[4*l+1], ps[4*l+2], ps[4*l+3]
		in := wih.Shape[1]
		lp := fmt.Sprintf("%s.lstm_l%d", pre, l)
		w := g.floats(lp+".W", []int{1, 4 * h, in}, reorderGates(wih.W, h, in))
		r := g.floats(lp+".R", []int{1, 4 * h, h}, reorderGates(whh.W, h, h))
		b := g.floats(lp+".B", []int{1, 8 * h}, append(reorderGates(bih.W, h, 1), reorderGates(bhh.W, h, 1)...))
		outs := g.node("LSTM", lp+".y", 2, []string{x, w, r, b}, attr{"hidden_size", int64(h)})
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
