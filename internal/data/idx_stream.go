package data

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"strings"

	"github.com/nettrain/nettrain/internal/safeio"
)

// The IDX stream: reading a raw or gzipped IDX file with every size
// checked against what the header claims and against the caller's limit
// before it is allocated or inflated.

// idxStream is an IDX file whose header has been read and checked; its
// data, inflated when the file is gzipped, follows in r. The data is read
// only after the caller has checked memBytes against its limit.
type idxStream struct {
	name       string
	file       io.Closer // the file to close, if the stream opened it
	zr         *gzip.Reader
	r          io.Reader // the data after the header (inflated)
	compressed bool
	// size is the number of bytes the data can inflate to at most,
	// header included: the file size (times maxDeflateRatio when
	// compressed), or -1 if unknown.
	size      int64
	typ       IDXType
	dims      []int
	count     int64 // elements: the product of dims
	want      int64 // bytes of data: count times the element size
	headerLen int64
}

// openIDX opens the IDX file at path, a regular file, and reads its
// header.
func openIDX(path string) (*idxStream, error) {
	f, size, err := safeio.Open(path)
	if err != nil {
		return nil, err
	}
	s, err := newIDXStream(path, safeio.LimitSize(f, path, size), size)
	if err != nil {
		f.Close()
		return nil, err
	}
	s.file = f
	return s, nil
}

func (s *idxStream) close() {
	if s.zr != nil {
		s.zr.Close()
	}
	if s.file != nil {
		s.file.Close()
	}
}

func (s *idxStream) errf(format string, args ...any) error {
	return fmt.Errorf("%s: %s", s.name, fmt.Sprintf(format, args...))
}

// after says, for messages, whether sizes are of inflated data.
func (s *idxStream) after() string {
	if s.compressed {
		return " (after gunzip)"
	}
	return ""
}

// readErr words an error of the underlying reader.
func (s *idxStream) readErr(err error) error {
	var grew *safeio.GrewError
	switch {
	case errors.As(err, &grew):
		return grew
	case s.compressed && errors.Is(err, io.ErrUnexpectedEOF):
		return s.errf("gzip stream is truncated: the file ends before the end of the compressed data")
	case s.compressed:
		return s.errf("corrupt gzip data: %v", err)
	}
	return s.errf("%v", err)
}

// newIDXStream reads the header of an IDX stream of size bytes (-1 if
// unknown) from r, and checks the data size it claims against size when
// the file is not compressed. It reads nothing past the header.
func newIDXStream(name string, r io.Reader, size int64) (*idxStream, error) {
	s := &idxStream{name: name, size: size}
	br := bufio.NewReader(r)
	s.r = br
	if magic, _ := br.Peek(2); bytes.Equal(magic, gzipMagic) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, s.errf("bad gzip header: %v", err)
		}
		s.zr, s.r, s.compressed = zr, zr, true
		if size >= 0 {
			s.size = min(size, math.MaxInt64/maxDeflateRatio) * maxDeflateRatio
		}
	}
	fail := func(err error) (*idxStream, error) {
		s.close()
		return nil, err
	}

	var head [4]byte
	if n, err := readFull(s.r, head[:]); err != nil {
		return fail(s.readErr(err))
	} else if n == 0 {
		return fail(s.errf("file is empty%s", s.after()))
	} else if n < len(head) {
		return fail(s.errf("file is %d bytes%s, too short for the 4-byte IDX magic number", n, s.after()))
	}
	if head[0] != 0 || head[1] != 0 {
		return fail(s.errf("not an IDX file: magic number % x%s does not start with two zero bytes", head, s.after()))
	}
	s.typ = IDXType(head[2])
	ndim := int(head[3])
	if s.typ.Size() == 0 {
		return fail(s.errf("unknown IDX element type 0x%02X in magic number % x (want 0x08 unsigned byte, 0x09 signed byte, 0x0B short, 0x0C int, 0x0D float or 0x0E double)", head[2], head))
	}
	if ndim == 0 {
		return fail(s.errf("IDX magic number % x declares 0 dimensions", head))
	}
	dimBytes := make([]byte, 4*ndim) // at most 1020 bytes
	if n, err := readFull(s.r, dimBytes); err != nil {
		return fail(s.readErr(err))
	} else if n < len(dimBytes) {
		return fail(s.errf("header is truncated: %d dimensions need %d bytes after the magic number, but only %d follow%s", ndim, 4*ndim, n, s.after()))
	}
	s.dims = make([]int, ndim)
	count, overflow := uint64(1), false
	for i := range s.dims {
		d := binary.BigEndian.Uint32(dimBytes[4*i:])
		s.dims[i] = int(d)
		hi, lo := bits.Mul64(count, uint64(d))
		overflow = overflow || hi != 0
		count = lo
	}
	s.headerLen = int64(4 + 4*ndim)
	hi, want := bits.Mul64(count, uint64(s.typ.Size()))
	if overflow || hi != 0 || want > math.MaxInt64-1 {
		return fail(s.errf("dimensions %s of %s values overflow", dimsText(s.dims), s.typ))
	}
	s.count, s.want = int64(count), int64(want)

	// A raw file's size is known: check it before reading anything.
	if !s.compressed && size >= 0 {
		switch have := max(size-s.headerLen, 0); {
		case have < s.want:
			return fail(s.errf("data is truncated: %s after the %d-byte header, but the file has only %d", s.need(), s.headerLen, have))
		case have > s.want:
			return fail(s.errf("%d bytes of trailing garbage: %s after the %d-byte header, but the file has %d", have-s.want, s.need(), s.headerLen, have))
		}
	}
	return s, nil
}

// need says how much data the header claims, for messages.
func (s *idxStream) need() string {
	return fmt.Sprintf("dimensions %s of %s (%d bytes each) need %d bytes of data", dimsText(s.dims), s.typ, s.typ.Size(), s.want)
}

// describe names the data for messages about memory.
func (s *idxStream) describe() string {
	return fmt.Sprintf("dimensions %s of %s", dimsText(s.dims), s.typ)
}

// dimsText formats a header's dimensions for a one-line message: all of
// them up to 8 (an IDX header may claim 255), else the first six, the
// last and how many there are.
func dimsText(dims []int) string {
	if len(dims) <= 8 {
		return fmt.Sprint(dims)
	}
	return fmt.Sprintf("%v ... %d] (%d dimensions)", strings.TrimSuffix(fmt.Sprint(dims[:6]), "]"), dims[len(dims)-1], len(dims))
}

// memBytes is the memory the values need once read: a byte per element
// of unsigned bytes, a float32 per element of every other type.
func (s *idxStream) memBytes() int64 {
	if s.typ == IDXUint8 {
		return s.count
	}
	return mulBytes(s.count, 4)
}

// read reads the data the header claims, and no more than maxTrailing
// bytes past it. It allocates no more than the data actually present
// justifies: buffers grow with the data read, from an initial size bounded
// by the input size.
func (s *idxStream) read() (*IDX, error) {
	esize := int64(s.typ.Size())
	initial := int64(0) // bytes of data
	if s.size >= 0 {
		initial = min(s.want, max(s.size-s.headerLen, 0))
	}
	out := &IDX{Type: s.typ, Dims: s.dims}
	var got int64
	var err error
	if s.typ == IDXUint8 {
		out.U8, err = readUpTo(s.r, s.want, initial)
		got = int64(len(out.U8))
	} else {
		out.F32, got, err = s.readValues(initial / esize)
	}
	var bad *badValue
	switch {
	case errors.As(err, &bad):
		return nil, s.errf("%s", bad.msg)
	case err != nil && !errors.Is(err, io.ErrUnexpectedEOF):
		return nil, s.readErr(err)
	case got < s.want && errors.Is(err, io.ErrUnexpectedEOF):
		return nil, s.errf("gzip stream is truncated: %s after the %d-byte header, but it ends after %d", s.need(), s.headerLen, got)
	case err != nil:
		return nil, s.readErr(err)
	case got < s.want:
		return nil, s.errf("data is truncated: %s after the %d-byte header, but only %d follow%s", s.need(), s.headerLen, got, s.after())
	}
	// Anything after the data is garbage. Reading to the end of the gzip
	// stream also checks its checksum; a stream that goes on is refused
	// after maxTrailing bytes, not inflated to its end.
	var probe [maxTrailing + 1]byte
	extra, err := readFull(s.r, probe[:])
	if err != nil {
		return nil, s.readErr(err)
	}
	switch {
	case extra > maxTrailing:
		return nil, s.errf("more than %d bytes of trailing garbage%s: %s after the %d-byte header, but more than %d follow", maxTrailing, s.after(), s.need(), s.headerLen, s.want+maxTrailing)
	case extra > 0:
		return nil, s.errf("%d bytes of trailing garbage%s: %s after the %d-byte header, but %d follow", extra, s.after(), s.need(), s.headerLen, s.want+int64(extra))
	}
	return out, nil
}

// badValue is a value an IDX file must not hold (NaN, Inf, a double
// beyond float32's range).
type badValue struct{ msg string }

func (b *badValue) Error() string { return b.msg }

// readValues reads the s.count elements of a type other than unsigned
// bytes, converting them to float32 as they arrive, so that the raw bytes
// are never held whole. The result starts with room for initial elements
// and grows with the data read. A short read returns what was read and
// the reader's error (nil at a clean end); got counts the bytes read.
func (s *idxStream) readValues(initial int64) (out []float32, got int64, err error) {
	esize := s.typ.Size()
	out = make([]float32, 0, initial)
	chunk := make([]byte, min(64<<10, s.want))
	be := binary.BigEndian
	for left := s.want; left > 0; {
		n, err := readFull(s.r, chunk[:min(int64(len(chunk)), left)])
		left -= int64(n)
		got += int64(n)
		k := n / esize // whole elements; a partial one ends the data
		if len(out)+k > cap(out) {
			c := min(s.count, max(2*int64(cap(out)), int64(len(out)+k), 16<<10))
			out = append(make([]float32, 0, c), out...)
		}
		for j := range k {
			i := len(out)
			var v float32
			switch s.typ {
			case IDXInt8:
				v = float32(int8(chunk[j]))
			case IDXInt16:
				v = float32(int16(be.Uint16(chunk[2*j:])))
			case IDXInt32:
				v = float32(int32(be.Uint32(chunk[4*j:])))
			case IDXFloat32:
				v = math.Float32frombits(be.Uint32(chunk[4*j:]))
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					return nil, got, &badValue{fmt.Sprintf("element %d is %v; data must be finite", i, v)}
				}
			case IDXFloat64:
				d := math.Float64frombits(be.Uint64(chunk[8*j:]))
				if math.IsNaN(d) || math.IsInf(d, 0) || math.Abs(d) > math.MaxFloat32 {
					return nil, got, &badValue{fmt.Sprintf("element %d is %v; data must be finite and within float32 range", i, d)}
				}
				v = float32(d)
			}
			out = append(out, v)
		}
		if err != nil || n < len(chunk) && left > 0 {
			return out, got, err
		}
	}
	return out, got, nil
}
