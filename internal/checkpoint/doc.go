// Package checkpoint reads and writes nettrain's checkpoint files.
//
// A checkpoint is a safetensors file. Parameters use PyTorch nn.Sequential
// state_dict names and layouts ("0.weight" (out, in), ...), so
// `model.load_state_dict(safetensors.torch.load_file(path), strict=False)`
// loads them into the equivalent torch model. Buffers (batchnorm's running
// statistics; num_batches_tracked as I64, as torch keeps it) are saved
// beside them (WeightTensors) and restored by LoadWeights. Optimizer state vectors are
// extra tensors named "optimizer.<slot>.<parameter>" (e.g.
// "optimizer.exp_avg.0.weight"); everything else (the position in the
// run, RNG and schedule state, config hashes, the fingerprints of the data
// the run read: DataFingerprint) is in the header's __metadata__ (State).
//
// Invariants: Save writes atomically (a temporary file, synced and
// renamed: a crash never leaves a half-written checkpoint in place); every
// tensor carries a CRC-32C checksum in the metadata ("checksums"), and the
// metadata itself one ("metadata_checksum", MetadataChecksum: a CRC-32C
// over a canonical encoding of every other entry); Read verifies them all
// before anything is used, then range-checks every field of the state
// (counts are whole numbers from 0 to 2^53, sums and rates finite and
// non-negative, the fields consistent with each other; the stored
// preprocessing as training writes it: a known normalisation with scales
// > 0 and within data.MaxScale, a float features' range of two finite
// numbers in order, no CSV column named twice) and errors
// name the file and the field. Checks against a config and its data are the
// resume's (package session). LoadWeights refuses a file that lacks a
// parameter of the network, holds one of the wrong shape, or holds a
// tensor that belongs to no layer, naming the tensor and the layer.
//
// Formats: "nettrain-checkpoint/2" is written; "nettrain-checkpoint/1"
// (before the metadata checksum) still reads. A file with neither (a
// plain weights file, e.g. exported from PyTorch, or one whose metadata
// was stripped) reads with a zero State marked Plain: its weights load,
// but it cannot be resumed.
package checkpoint
