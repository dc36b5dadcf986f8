package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nettrain/nettrain/internal/safeio"
)

// MaxHeaderSize is the largest JSON header the reader accepts (100 MB), as
// in the reference implementation. A larger length field means a corrupt
// file or not a safetensors file at all.
const MaxHeaderSize = 100_000_000

// MaxDims is the most dimensions a tensor's shape may have (NumPy 2 and
// PyTorch stay well within it), so that a shape named in a message stays
// short.
const MaxDims = 64

// metadataKey is the reserved header key holding the string metadata.
const metadataKey = "__metadata__"

// File is a parsed safetensors file. Its tensors are validated when the
// file is parsed; the accessors only convert.
type File struct {
	// Path is the path given to Read, or "" for Parse. It names the file
	// in error messages.
	Path string
	// Metadata holds the header's "__metadata__" entries; nil when the
	// file has none.
	Metadata map[string]string

	tensors []TensorInfo   // in file order (by data offset)
	index   map[string]int // name -> position in tensors
	data    []byte         // the data section
}

// TensorInfo describes one tensor of a File.
type TensorInfo struct {
	Name  string
	DType DType
	Shape []int // row-major; [] for a scalar
	// Begin and End are the byte offsets of the tensor's data, relative to
	// the start of the data section (End is exclusive).
	Begin, End int
}

// NumElements returns the product of the shape (1 for a scalar).
func (t TensorInfo) NumElements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Read reads and parses the safetensors file at path, which must be a
// regular file: a FIFO, a device such as /dev/zero or a directory is
// refused at once, without reading it. The whole file is read into memory
// (at most its size when it was opened); nothing larger than the file is
// allocated while validating it.
func Read(path string) (*File, error) {
	return ReadLimit(path, 0, "")
}

// ReadLimit is Read for a file of at most max bytes: a larger file is
// refused before it is read, with a *safeio.TooLargeError naming the path,
// its size and the limit, which what names in the message (e.g.
// "training.memory_limit 64MiB"). max 0 means no limit beyond the file's
// size; a negative max is an error.
func ReadLimit(path string, max int64, what string) (*File, error) {
	if max < 0 {
		return nil, fmt.Errorf("safetensors: %s: byte limit %d is negative", path, max)
	}
	b, err := safeio.ReadFile(path, max, what)
	if err != nil {
		return nil, err // safeio's errors name the path and the problem
	}
	return parse(path, b)
}

// Parse parses a safetensors file held in memory. The returned File
// aliases b: b must not be modified while the File is in use. Error
// messages name the input "safetensors data"; use Read for files so that
// messages name the path.
func Parse(b []byte) (*File, error) {
	return parse("", b)
}

// label names the file in messages.
func label(path string) string {
	if path == "" {
		return "safetensors data"
	}
	return path
}

// rawEntry is one tensor entry of the header before validation. Numbers
// are kept raw so that each can be checked with a message of its own.
type rawEntry struct {
	DType       *string            `json:"dtype"`
	Shape       *[]json.RawMessage `json:"shape"`
	DataOffsets *[]json.RawMessage `json:"data_offsets"`
}

func parse(path string, b []byte) (*File, error) {
	name := label(path)
	errf := func(format string, args ...any) error {
		return fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...))
	}
	if len(b) < 8 {
		return nil, errf("file is %d bytes, too short to hold the 8-byte header length; not a safetensors file", len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	rest := uint64(len(b) - 8)
	switch {
	case n > MaxHeaderSize:
		return nil, errf("header length %d exceeds the limit of %d bytes; the file is corrupt or not a safetensors file", n, MaxHeaderSize)
	case n > rest:
		return nil, errf("header length %d is larger than the %d bytes that follow it; the file is truncated or not a safetensors file", n, rest)
	}
	header := b[8 : 8+n]
	data := b[8+n:]
	if len(header) == 0 || header[0] != '{' {
		return nil, errf("header does not start with '{'; not a safetensors file")
	}
	if !utf8.Valid(header) {
		return nil, errf("header is not valid UTF-8")
	}

	f := &File{Path: path, data: data, index: map[string]int{}}
	dec := json.NewDecoder(bytes.NewReader(header))
	jsonErr := func(err error) error {
		return errf("header is not valid JSON (near byte %d of the header): %v", dec.InputOffset(), err)
	}
	if _, err := dec.Token(); err != nil { // the '{' checked above
		return nil, jsonErr(err)
	}
	seenMeta := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, jsonErr(err)
		}
		key := tok.(string) // object keys are always strings
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, jsonErr(err)
		}
		if key == metadataKey {
			if seenMeta {
				return nil, errf("header has %q twice", metadataKey)
			}
			seenMeta = true
			md, err := parseMetadata(raw)
			if err != nil {
				return nil, errf("%s: %v", metadataKey, err)
			}
			f.Metadata = md
			continue
		}
		if _, dup := f.index[key]; dup {
			return nil, errf("tensor %q appears twice in the header", key)
		}
		t, err := parseEntry(raw, len(data))
		if err != nil {
			return nil, errf("tensor %q: %v", key, err)
		}
		t.Name = key
		f.index[key] = len(f.tensors)
		f.tensors = append(f.tensors, t)
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, jsonErr(err)
	}
	// Only padding may follow the object.
	tail := header[dec.InputOffset():]
	if len(bytes.Trim(tail, " \t\r\n")) != 0 {
		return nil, errf("header has %d bytes of trailing data after the JSON object", len(tail))
	}

	// File order is data order; ties (empty tensors) keep header order.
	slices.SortStableFunc(f.tensors, func(a, b TensorInfo) int {
		if a.Begin != b.Begin {
			return a.Begin - b.Begin
		}
		return a.End - b.End
	})
	pos := 0
	for i, t := range f.tensors {
		f.index[t.Name] = i
		switch {
		case t.Begin < pos:
			p := f.tensors[i-1]
			return nil, errf("tensors %q (bytes %d to %d) and %q (bytes %d to %d) overlap", p.Name, p.Begin, p.End, t.Name, t.Begin, t.End)
		case t.Begin > pos && i == 0:
			return nil, errf("tensor %q: data starts at byte %d, leaving a hole of %d bytes at the start of the data section", t.Name, t.Begin, t.Begin)
		case t.Begin > pos:
			return nil, errf("hole of %d bytes between tensor %q (ends at byte %d) and tensor %q (starts at byte %d)", t.Begin-pos, f.tensors[i-1].Name, pos, t.Name, t.Begin)
		}
		pos = t.End
	}
	if pos != len(data) {
		if len(f.tensors) == 0 {
			return nil, errf("header lists no tensors but the data section holds %d bytes", len(data))
		}
		return nil, errf("data section is %d bytes but the tensors cover only %d (%d unused bytes after tensor %q)", len(data), pos, len(data)-pos, f.tensors[len(f.tensors)-1].Name)
	}
	return f, nil
}

func parseMetadata(raw json.RawMessage) (map[string]string, error) {
	if string(raw) == "null" {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("must be an object of strings: %v", err)
	}
	md := make(map[string]string, len(m))
	for k, v := range m {
		var s string
		if len(v) == 0 || v[0] != '"' {
			return nil, fmt.Errorf("value of %q is %s; metadata values must be strings", k, truncate(string(v)))
		}
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, fmt.Errorf("value of %q: %v", k, err)
		}
		md[k] = s
	}
	return md, nil
}

// parseEntry validates one tensor entry against a data section of dataLen
// bytes. It allocates only the shape, which is bounded by the header.
func parseEntry(raw json.RawMessage, dataLen int) (TensorInfo, error) {
	var t TensorInfo
	if len(raw) == 0 || raw[0] != '{' {
		return t, fmt.Errorf("entry is %s, want an object with dtype, shape and data_offsets", truncate(string(raw)))
	}
	var e rawEntry
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return t, fmt.Errorf("bad entry: %v", err)
	}
	switch {
	case e.DType == nil:
		return t, fmt.Errorf("entry has no dtype")
	case e.Shape == nil:
		return t, fmt.Errorf("entry has no shape")
	case e.DataOffsets == nil:
		return t, fmt.Errorf("entry has no data_offsets")
	}
	t.DType = DType(*e.DType)
	size := t.DType.Size()
	if size == 0 {
		return t, fmt.Errorf("unsupported dtype %q (supported: %s)", *e.DType, supportedList())
	}

	if len(*e.Shape) > MaxDims {
		return t, fmt.Errorf("shape has %d dimensions; at most %d are read", len(*e.Shape), MaxDims)
	}
	t.Shape = make([]int, len(*e.Shape))
	count, overflow, zero := uint64(1), false, false
	for i, r := range *e.Shape {
		d, err := parseNonNegInt(r)
		if err != nil {
			return t, fmt.Errorf("shape[%d]: %v", i, err)
		}
		t.Shape[i] = d
		if d == 0 {
			zero = true
		}
		hi, lo := bits.Mul64(count, uint64(d))
		if hi != 0 {
			overflow = true
		}
		count = lo
	}
	if zero {
		count, overflow = 0, false
	}
	hi, nbytes := bits.Mul64(count, uint64(size))
	if overflow || hi != 0 || nbytes > uint64(dataLen) {
		return t, fmt.Errorf("%s shape %v needs more bytes than the whole data section holds (%d)", t.DType, t.Shape, dataLen)
	}

	offs := *e.DataOffsets
	if len(offs) != 2 {
		return t, fmt.Errorf("data_offsets has %d numbers, want 2 (begin, end)", len(offs))
	}
	for i, r := range offs {
		v, err := parseNonNegInt(r)
		if err != nil {
			return t, fmt.Errorf("data_offsets[%d]: %v", i, err)
		}
		if i == 0 {
			t.Begin = v
		} else {
			t.End = v
		}
	}
	switch {
	case t.Begin > t.End:
		return t, fmt.Errorf("data_offsets [%d, %d]: begin is after end", t.Begin, t.End)
	case t.End > dataLen:
		return t, fmt.Errorf("data_offsets [%d, %d]: end is past the data section, which holds %d bytes (is the file cut short?)", t.Begin, t.End, dataLen)
	case uint64(t.End-t.Begin) != nbytes:
		return t, fmt.Errorf("data_offsets [%d, %d] span %d bytes, but %s shape %v needs %d elements x %d bytes = %d", t.Begin, t.End, t.End-t.Begin, t.DType, t.Shape, count, size, nbytes)
	}
	return t, nil
}

// parseNonNegInt parses a JSON number that must be a non-negative integer
// fitting an int.
func parseNonNegInt(r json.RawMessage) (int, error) {
	s := string(r)
	if s == "" || (s[0] != '-' && (s[0] < '0' || s[0] > '9')) {
		return 0, fmt.Errorf("%s is not a number", truncate(s))
	}
	if strings.HasPrefix(s, "-") {
		return 0, fmt.Errorf("%s is negative", truncate(s))
	}
	v, err := strconv.ParseInt(s, 10, strconv.IntSize)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 0, fmt.Errorf("%s is too large", truncate(s))
		}
		return 0, fmt.Errorf("%s is not an integer", truncate(s))
	}
	return int(v), nil
}

// truncate shortens text a message quotes (safeio.Clip).
func truncate(s string) string { return safeio.Clip(s, 40) }
