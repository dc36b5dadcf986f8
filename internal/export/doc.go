// Package export writes a trained network in formats other programs load:
// an ONNX model (ONNX) for inference runtimes, and a safetensors file of
// the weights alone (Weights) for PyTorch's load_state_dict(strict=True).
//
// The ONNX graph computes exactly what nettrain's evaluation-mode forward
// pass computes, in float32, for a batch of any size:
//
//   - input "input": (N, ...model.input) float32, or int64 token ids (N, T)
//     when the first layer is embedding or onehot. N is a dynamic
//     dimension ("N").
//   - the input normalisation, when one is given, as the first nodes:
//     Sub(x, offset) then Mul(., scale), with constants shaped like one
//     sample (or like its last axis, for per-feature normalisations of a
//     (T, F) window). The exported model takes the raw values the data
//     files hold (pixels 0..255 as float32 for byte images).
//   - one group of nodes per layer (dropout none, evaluation mode); the
//     parameters are initializers named by their state_dict names
//     ("0.weight"), those an LSTM needs rearranged ("1.lstm_l0.W") beside.
//   - outputs: "logits" (N, ...out) and "probabilities" (Softmax over the
//     last axis) for a classifier; "output" (N, ...out) otherwise.
//
// The opset is 17 (ONNX 1.12, IR version 8). An LSTM becomes ONNX LSTM
// nodes: its gate blocks are reordered from PyTorch's (i, f, g, o) to
// ONNX's (i, o, f, c), and B = [b_ih, b_hh] per layer (ONNX adds the two,
// as PyTorch does); the (N, T, F) window is transposed to ONNX's (T, N, F)
// and back for return_sequences, and the last step is the LSTM's Y_h.
//
// The normalisation is an input of the exporter, not read here from the
// data: the caller says what training applied (see cmd/nettrain's
// export.go). Inputs are never modified. Errors name the layer that
// cannot be exported; a network built from validated specs never gives
// one today.
package export
