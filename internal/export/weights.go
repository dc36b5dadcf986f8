package export

import (
	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/safetensors"
)

// Weights lists net's parameters alone, as safetensors tensors with their
// state_dict names, shapes and values (no optimizer state, no metadata):
// a file of them loads into the equivalent PyTorch module with
// load_state_dict(..., strict=True). The tensors share net's memory.
func Weights[T backprop.Float](net *backprop.Network[T]) []safetensors.Tensor {
	ts := make([]safetensors.Tensor, len(net.Params))
	for i, p := range net.Params {
		ts[i] = safetensors.Tensor{Name: p.Name, Shape: p.Shape, Data: p.W}
	}
	return ts
}
