// Package safetensors reads and writes the safetensors tensor file format
// (https://github.com/huggingface/safetensors), used by nettrain for
// checkpoints and for data sets, and readable by PyTorch.
//
// # Format
//
// A file is an 8-byte little-endian uint64 N, then N bytes of JSON header,
// then the data section:
//
//	{"__metadata__": {"key": "value"},
//	 "w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}, ...}
//
// Offsets are relative to the start of the data section; values are
// little-endian and row-major. Metadata values are strings.
//
// # Reading
//
// Read (a path) and Parse (bytes) validate the whole file up front, so the
// accessors only convert. Read loads the whole file into memory; Parse
// keeps a reference to its input, which must then not be modified. Read
// opens only regular files (through internal/safeio): a FIFO, a device
// such as /dev/zero or a directory, also behind a symlink, is refused at
// once with one line naming the path, and it reads at most the size the
// file had when it was opened. ReadLimit(path, max, what) also refuses,
// before reading it, a file larger than max bytes, with a
// *safeio.TooLargeError whose message names the path, the size and the
// limit (what names it, e.g. "training.memory_limit 64MiB"). The
// checks cover everything a corrupt or hostile file can get wrong, each
// reported as an error naming the file and, where there is one, the
// tensor:
//
//   - a header length beyond MaxHeaderSize (100 MB) or beyond the file;
//   - a header that is not a UTF-8 JSON object, has trailing bytes other
//     than whitespace padding, lists a tensor or "__metadata__" twice, or
//     has metadata values that are not strings;
//   - an entry that is not an object, lacks dtype, shape or data_offsets,
//     or has any other key (the reader is strict where the Python library
//     ignores unknown keys: nettrain prefers a clear error to a silent
//     guess);
//   - an unsupported dtype; a shape of more than MaxDims (64)
//     dimensions; shape entries that are negative, not integers
//     or too large; an element count whose size overflows or exceeds the
//     data section;
//   - data_offsets that are not two non-negative integers, begin after
//     end, end past the data section, or span a size other than element
//     count x dtype size;
//   - tensors whose data overlap, leave holes, or do not cover the data
//     section exactly.
//
// Every size is checked against the input before anything is allocated
// for it: a header claiming 10^12 elements is rejected, and the accessors
// allocate at most 8 output bytes per input byte (U8 to int64).
//
// Names lists tensors in file order, the order of their data, which is
// also the header order of files written by Write and by the Python
// library. The accessors convert: Float32 and Float64 from any float
// dtype (F64, F32, F16, BF16), Int64 and Int32 from any integer dtype or
// BOOL (range-checked), Uint8 from U8 only; each returns a new slice and
// the shape. Raw returns a tensor's bytes without copying.
//
// # Writing
//
// A Tensor carries its values as a typed slice (Data), which fixes the
// dtype; DType only selects F16, BF16 or BOOL for data given as raw
// []uint16 or []uint8. Marshal encodes in memory; Write writes a file
// atomically (temporary file in the same directory, fsync, rename, fsync
// of the directory; on failure the temporary file is removed and a
// previous file is untouched). Both lay tensors out in the order given
// with contiguous offsets, put "__metadata__" first with sorted keys, and
// pad the header with spaces to a multiple of 8 bytes, as the Python
// library does, so the output loads with safetensors.torch.load_file.
// testdata/torch_interop.py checks this by hand against PyTorch (it is not
// run by the Go tests).
//
// # Errors
//
// Every problem a file or a caller's arguments can cause is an error; the
// package does not panic on any input (FuzzParse checks this).
package safetensors
