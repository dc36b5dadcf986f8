// Package checkpoint reads and writes nettrain's checkpoint files.
//
// A checkpoint is a safetensors file. Parameters use PyTorch nn.Sequential
// state_dict names and layouts ("0.weight" (out, in), ...), so
// `model.load_state_dict(safetensors.torch.load_file(path), strict=False)`
// loads them into the equivalent torch model. Optimizer state vectors are
// extra tensors named "optimizer.<slot>.<parameter>" (e.g.
// "optimizer.exp_avg.0.weight"); everything else (the position in the
// run, RNG and schedule state, config hashes) is in the header's
// __metadata__ (State).
//
// Invariants: Save writes atomically (a temporary file, synced and
// renamed: a crash never leaves a half-written checkpoint in place); every
// tensor carries a CRC-32C checksum in the metadata, and Read verifies
// them all before anything is used; LoadWeights refuses a file that lacks
// a parameter of the network, holds one of the wrong shape, or holds a
// tensor that belongs to no layer, naming the tensor and the layer. A
// plain weights file (no nettrain metadata, e.g. exported from PyTorch)
// reads with a zero State.
package checkpoint
