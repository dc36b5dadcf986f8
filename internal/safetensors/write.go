package safetensors

import (
	"github.com/nettrain/nettrain/internal/safeio"

	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Tensor is one tensor to write.
type Tensor struct {
	// Name is the tensor's key in the header: not empty, not
	// "__metadata__", unique within a file.
	Name string
	// DType may be left empty: the dtype then follows from Data. It must
	// be set to F16, BF16 or BOOL to write those dtypes (see Data).
	DType DType
	// Shape is row-major; nil or empty for a scalar.
	Shape []int
	// Data holds the prod(Shape) values in row-major order, as one of
	//
	//	[]float64 (F64), []float32 (F32),
	//	[]int64 (I64), []int32 (I32), []int16 (I16), []int8 (I8),
	//	[]uint64 (U64), []uint32 (U32), []uint16 (U16, or the raw bits of
	//	F16 or BF16 values with DType set), []uint8 (U8, or BOOL with DType
	//	set: every byte 0 or 1), []bool (BOOL).
	Data any
}

// layout is a validated tensor list with its header.
type layout struct {
	header []byte // the padded JSON header
	size   int64  // total file size
}

// plan validates tensors and metadata and builds the header. Offsets are
// contiguous, in the order given.
func plan(tensors []Tensor, metadata map[string]string) (layout, error) {
	var h bytes.Buffer
	h.WriteByte('{')
	first := true
	comma := func() {
		if !first {
			h.WriteByte(',')
		}
		first = false
	}
	if len(metadata) > 0 {
		comma()
		writeJSONString(&h, metadataKey)
		h.WriteString(":{")
		keys := make([]string, 0, len(metadata))
		for k := range metadata {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if !utf8.ValidString(k) || !utf8.ValidString(metadata[k]) {
				return layout{}, fmt.Errorf("metadata %q: keys and values must be valid UTF-8", k)
			}
			if i > 0 {
				h.WriteByte(',')
			}
			writeJSONString(&h, k)
			h.WriteByte(':')
			writeJSONString(&h, metadata[k])
		}
		h.WriteByte('}')
	}
	seen := make(map[string]bool, len(tensors))
	var off int64
	for i, t := range tensors {
		switch {
		case t.Name == "":
			return layout{}, fmt.Errorf("tensor %d has an empty name", i)
		case t.Name == metadataKey:
			return layout{}, fmt.Errorf("tensor %d: the name %q is reserved", i, metadataKey)
		case seen[t.Name]:
			return layout{}, fmt.Errorf("tensor %q appears twice", t.Name)
		case !utf8.ValidString(t.Name):
			return layout{}, fmt.Errorf("tensor %d: name %q is not valid UTF-8", i, t.Name)
		}
		seen[t.Name] = true
		d, n, err := checkData(t)
		if err != nil {
			return layout{}, fmt.Errorf("tensor %q: %v", t.Name, err)
		}
		count := 1
		for j, s := range t.Shape {
			if s < 0 {
				return layout{}, fmt.Errorf("tensor %q: shape[%d] is %d, must not be negative", t.Name, j, s)
			}
			if s != 0 && count > math.MaxInt/s {
				return layout{}, fmt.Errorf("tensor %q: shape %v overflows", t.Name, t.Shape)
			}
			count *= s
		}
		if count != n {
			return layout{}, fmt.Errorf("tensor %q: shape %v holds %d elements but Data has %d", t.Name, t.Shape, count, n)
		}
		end := off + int64(n)*int64(d.Size())
		comma()
		writeJSONString(&h, t.Name)
		h.WriteString(`:{"dtype":"`)
		h.WriteString(string(d))
		h.WriteString(`","shape":[`)
		for j, s := range t.Shape {
			if j > 0 {
				h.WriteByte(',')
			}
			h.WriteString(strconv.Itoa(s))
		}
		h.WriteString(`],"data_offsets":[`)
		h.WriteString(strconv.FormatInt(off, 10))
		h.WriteByte(',')
		h.WriteString(strconv.FormatInt(end, 10))
		h.WriteString("]}")
		off = end
	}
	h.WriteByte('}')
	// Pad with spaces so that the data section starts 8-byte aligned, as
	// the Python library does.
	for h.Len()%8 != 0 {
		h.WriteByte(' ')
	}
	return layout{header: h.Bytes(), size: 8 + int64(h.Len()) + off}, nil
}

func writeJSONString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)       // cannot fail for a string
	b.Truncate(b.Len() - 1) // drop the newline Encode adds
}

// checkData returns the dtype a tensor is written with and its number of
// elements.
func checkData(t Tensor) (DType, int, error) {
	var natural DType
	var n int
	alt := map[DType]bool{}
	switch v := t.Data.(type) {
	case []float64:
		natural, n = F64, len(v)
	case []float32:
		natural, n = F32, len(v)
	case []int64:
		natural, n = I64, len(v)
	case []int32:
		natural, n = I32, len(v)
	case []int16:
		natural, n = I16, len(v)
	case []int8:
		natural, n = I8, len(v)
	case []uint64:
		natural, n = U64, len(v)
	case []uint32:
		natural, n = U32, len(v)
	case []uint16:
		natural, n = U16, len(v)
		alt[F16], alt[BF16] = true, true
	case []uint8:
		natural, n = U8, len(v)
		alt[BOOL] = true
		if t.DType == BOOL {
			for i, b := range v {
				if b > 1 {
					return "", 0, fmt.Errorf("BOOL element %d is byte %d, want 0 or 1", i, b)
				}
			}
		}
	case []bool:
		natural, n = BOOL, len(v)
	case nil:
		return "", 0, errors.New("Data is nil")
	default:
		return "", 0, fmt.Errorf("Data has unsupported type %T", t.Data)
	}
	if t.DType == "" || t.DType == natural {
		return natural, n, nil
	}
	if !alt[t.DType] {
		return "", 0, fmt.Errorf("DType %s cannot be written from %T data", t.DType, t.Data)
	}
	return t.DType, n, nil
}

// encode writes a whole file: the header length, the header, the data.
func encode(w io.Writer, l layout, tensors []Tensor) error {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(l.header)))
	if _, err := w.Write(n[:]); err != nil {
		return err
	}
	if _, err := w.Write(l.header); err != nil {
		return err
	}
	buf := make([]byte, 0, 64<<10)
	for _, t := range tensors {
		var err error
		switch v := t.Data.(type) {
		case []float64:
			buf, err = put(w, buf, v, 8, func(b []byte, x float64) { binary.LittleEndian.PutUint64(b, math.Float64bits(x)) })
		case []float32:
			buf, err = put(w, buf, v, 4, func(b []byte, x float32) { binary.LittleEndian.PutUint32(b, math.Float32bits(x)) })
		case []int64:
			buf, err = put(w, buf, v, 8, func(b []byte, x int64) { binary.LittleEndian.PutUint64(b, uint64(x)) })
		case []int32:
			buf, err = put(w, buf, v, 4, func(b []byte, x int32) { binary.LittleEndian.PutUint32(b, uint32(x)) })
		case []int16:
			buf, err = put(w, buf, v, 2, func(b []byte, x int16) { binary.LittleEndian.PutUint16(b, uint16(x)) })
		case []int8:
			buf, err = put(w, buf, v, 1, func(b []byte, x int8) { b[0] = byte(x) })
		case []uint64:
			buf, err = put(w, buf, v, 8, binary.LittleEndian.PutUint64)
		case []uint32:
			buf, err = put(w, buf, v, 4, binary.LittleEndian.PutUint32)
		case []uint16:
			buf, err = put(w, buf, v, 2, binary.LittleEndian.PutUint16)
		case []uint8:
			_, err = w.Write(v)
		case []bool:
			buf, err = put(w, buf, v, 1, func(b []byte, x bool) {
				b[0] = 0
				if x {
					b[0] = 1
				}
			})
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// put encodes vals through the scratch buffer buf in chunks.
func put[E any](w io.Writer, buf []byte, vals []E, size int, enc func([]byte, E)) ([]byte, error) {
	per := cap(buf) / size
	for len(vals) > 0 {
		k := min(per, len(vals))
		buf = buf[:k*size]
		for i, x := range vals[:k] {
			enc(buf[i*size:], x)
		}
		if _, err := w.Write(buf); err != nil {
			return buf, err
		}
		vals = vals[k:]
	}
	return buf, nil
}

// Marshal encodes tensors, in the order given, and metadata (may be nil)
// as a safetensors file in memory.
func Marshal(tensors []Tensor, metadata map[string]string) ([]byte, error) {
	l, err := plan(tensors, metadata)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %v", err)
	}
	var b bytes.Buffer
	b.Grow(int(l.size))
	if err := encode(&b, l, tensors); err != nil {
		return nil, fmt.Errorf("safetensors: %v", err)
	}
	return b.Bytes(), nil
}

// Write writes tensors, in the order given, and metadata (may be nil) to
// path atomically: the file is written to a temporary file in the same
// directory, synced, renamed over path, and the directory is synced. On
// any error the temporary file is removed and a previous file at path is
// left untouched. A new file gets mode 0644; a replaced file keeps its
// mode.
func Write(path string, tensors []Tensor, metadata map[string]string) error {
	l, err := plan(tensors, metadata)
	if err != nil {
		return fmt.Errorf("cannot write %s: %v", path, err)
	}
	return safeio.WriteWith(path, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 1<<20)
		if err := encode(bw, l, tensors); err != nil {
			return err
		}
		return bw.Flush()
	})
}
