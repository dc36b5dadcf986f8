package train

import (
	"encoding/binary"
	"fmt"
	"hash"
	"hash/fnv"
	"math"
	"os"
	"unsafe"

	"github.com/nettrain/nettrain/internal/checkpoint"
	"github.com/nettrain/nettrain/internal/data"
)

// The data's fingerprints (checkpoint.DataFingerprint) are computed once,
// when Load reads the data: a 64-bit FNV-1a over the arrays as loaded
// (about 50 ms for MNIST's 47 MB on one core), so a file rewritten with
// the same values has the same fingerprint, and any changed value, label
// or class name gives another.

// fingerprintDataset fingerprints a tabular data set read for the config
// key (data.train, data.validation) from spec, at path.
func fingerprintDataset(key, spec, path string, ds *data.Dataset) checkpoint.DataFingerprint {
	h := fnv.New64a()
	writeInts(h, int64(ds.N), int64(ds.NumClasses), int64(ds.TargetDim), int64(len(ds.Shape)))
	for _, d := range ds.Shape {
		writeInts(h, int64(d))
	}
	writeStrings(h, ds.ClassNames)
	// Float64 data (dtype float64) is hashed as its float32 rounding, the
	// values float32 data of the same file holds (but for the rare decimal
	// that rounds differently via float64): checkpoints written before
	// data was kept in float64 resume. A change beyond float32's
	// precision alone goes unnoticed.
	writeArray(h, 'u', ds.U8)
	writeArray(h, 'f', orRounded(ds.F32, ds.F64))
	writeArray(h, 'l', ds.Labels)
	writeArray(h, 't', orRounded(ds.Targets, ds.Targets64))
	fp := checkpoint.DataFingerprint{Key: key, Source: spec, Size: fileSize(path), Samples: ds.N, Unit: "samples", Hash: fmt.Sprintf("%016x", h.Sum64())}
	if ds.Decoding != nil {
		// Not hashed: the pixels are, and a checkpoint of version 1 has
		// none (ImageDecodingChanged).
		fp.ImageDecoder = ds.Decoding.Version
	}
	return fp
}

// orRounded is v32, or v64 rounded to float32 when v32 is nil.
func orRounded(v32 []float32, v64 []float64) []float32 {
	if v32 != nil || v64 == nil {
		return v32
	}
	r := make([]float32, len(v64))
	for i, v := range v64 {
		r[i] = float32(v)
	}
	return r
}

// fingerprintSequence fingerprints a sequence read for data.train from
// spec, at path: every token of a text, every stored value of a series
// (and its first row of levels when differenced), with its vocabulary or
// columns.
func fingerprintSequence(spec, path string, seq *data.Sequence) checkpoint.DataFingerprint {
	h := fnv.New64a()
	writeStrings(h, []string{string(seq.Kind)})
	writeInts(h, int64(seq.N))
	writeStrings(h, seq.Vocab)
	writeStrings(h, seq.Columns)
	buf := make([]byte, 0, 1<<16)
	flush := func(always bool) {
		if always || len(buf) > cap(buf)-8 {
			h.Write(buf)
			buf = buf[:0]
		}
	}
	unit := "rows"
	if seq.Differenced {
		unit = "row-to-row differences" // one fewer than the rows
	}
	if seq.Kind == data.SeqText {
		unit = "characters"
		for p := 0; p < seq.N; p++ {
			buf = binary.LittleEndian.AppendUint32(buf, uint32(seq.Token(p)))
			flush(false)
		}
	} else {
		for p := 0; p < seq.N; p++ {
			for c := range seq.Columns {
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(float32(seq.Value(p, c))))
				flush(false)
			}
		}
		if seq.Differenced && seq.N > 0 {
			for c := range seq.Columns {
				buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(seq.Level(-1, c)))
			}
		}
	}
	flush(true)
	return checkpoint.DataFingerprint{Key: "data.train", Source: spec, Size: fileSize(path), Samples: seq.N, Unit: unit, Hash: fmt.Sprintf("%016x", h.Sum64())}
}

// fileSize is the size of the regular file at path, -1 when there is none
// (a built-in data set's name).
func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() {
		return -1
	}
	return st.Size()
}

func writeInts(h hash.Hash64, vs ...int64) {
	var b [8]byte
	for _, v := range vs {
		binary.LittleEndian.PutUint64(b[:], uint64(v))
		h.Write(b[:])
	}
}

// writeStrings writes a list of strings unambiguously: its length, then
// each string's length and bytes.
func writeStrings(h hash.Hash64, ss []string) {
	writeInts(h, int64(len(ss)))
	for _, s := range ss {
		writeInts(h, int64(len(s)))
		h.Write([]byte(s))
	}
}

// writeArray writes a tag, the length and the in-memory bytes of a slice
// (little-endian on every platform nettrain builds for).
func writeArray[E uint8 | int32 | float32](h hash.Hash64, tag byte, v []E) {
	h.Write([]byte{tag})
	writeInts(h, int64(len(v)))
	if len(v) > 0 {
		h.Write(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), len(v)*int(unsafe.Sizeof(v[0]))))
	}
}
