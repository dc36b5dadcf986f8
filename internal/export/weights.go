package export

import (
	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/checkpoint"
	"github.com/nettrain/nettrain/internal/safetensors"
)

// Weights lists net's parameters and buffers (batchnorm's running
// statistics, num_batches_tracked as int64) alone, as safetensors tensors
// with their state_dict names, shapes and values (no optimizer state, no
// metadata): a file of them loads into the equivalent PyTorch module with
// load_state_dict(..., strict=True). The float tensors share net's memory.
func Weights[T backprop.Float](net *backprop.Network[T]) []safetensors.Tensor {
	return checkpoint.WeightTensors(net)
}
