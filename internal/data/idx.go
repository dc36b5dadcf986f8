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

// IDXType is the element type byte of an IDX file's magic number.
type IDXType byte

// The IDX element types. Multi-byte values are big-endian.
const (
	IDXUint8   IDXType = 0x08
	IDXInt8    IDXType = 0x09
	IDXInt16   IDXType = 0x0B
	IDXInt32   IDXType = 0x0C
	IDXFloat32 IDXType = 0x0D
	IDXFloat64 IDXType = 0x0E
)

// Size returns the size of one element in bytes, 0 for an unknown type.
func (t IDXType) Size() int {
	switch t {
	case IDXUint8, IDXInt8:
		return 1
	case IDXInt16:
		return 2
	case IDXInt32, IDXFloat32:
		return 4
	case IDXFloat64:
		return 8
	}
	return 0
}

func (t IDXType) String() string {
	switch t {
	case IDXUint8:
		return "0x08 unsigned byte"
	case IDXInt8:
		return "0x09 signed byte"
	case IDXInt16:
		return "0x0B short"
	case IDXInt32:
		return "0x0C int"
	case IDXFloat32:
		return "0x0D float"
	case IDXFloat64:
		return "0x0E double"
	}
	return fmt.Sprintf("0x%02X (unknown)", byte(t))
}

// IDX is the content of an IDX file.
type IDX struct {
	Type IDXType
	Dims []int
	// U8 holds the values of an IDXUint8 file; nil otherwise.
	U8 []uint8
	// F32 holds the values of any other type, converted to float32
	// (int32 values beyond 2^24 round; a float64 beyond float32's range
	// is an error).
	F32 []float32
}

// gzipMagic starts every gzip stream.
var gzipMagic = []byte{0x1f, 0x8b}

// ReadIDX reads an IDX file, raw or gzip-compressed (recognised by its
// magic bytes, whatever the file name). The file must be a regular file:
// a FIFO or a device such as /dev/zero is refused at once.
func ReadIDX(path string) (*IDX, error) {
	return readIDX(path, limit{})
}

// readIDX is ReadIDX with a limit on the memory of the values read.
func readIDX(path string, lim limit) (*IDX, error) {
	s, err := openIDX(path)
	if err != nil {
		return nil, err
	}
	defer s.close()
	if err := lim.check(path, "the data ("+s.describe()+")", s.memBytes()); err != nil {
		return nil, err
	}
	return s.read()
}

// ParseIDX reads an IDX file, raw or gzip-compressed, from r; name labels
// error messages. It reads no more than the header claims, and at most
// maxTrailing bytes past it to report trailing garbage.
func ParseIDX(name string, r io.Reader) (*IDX, error) {
	return parseIDX(name, r, -1, limit{})
}

// parseIDX reads an IDX stream of size bytes (-1 if unknown), refusing
// one whose values need more memory than lim.
func parseIDX(name string, r io.Reader, size int64, lim limit) (*IDX, error) {
	s, err := newIDXStream(name, r, size)
	if err != nil {
		return nil, err
	}
	defer s.close()
	if err := lim.check(name, "the data ("+s.describe()+")", s.memBytes()); err != nil {
		return nil, err
	}
	return s.read()
}

// maxDeflateRatio bounds how much deflate can expand its input, so that
// the buffer for a gzip file can be sized from the file size without
// trusting the header.
const maxDeflateRatio = 1032

// maxTrailing is how many bytes past the data an IDX reader reads to tell
// how much trailing garbage there is: more is reported as "more than", so
// that a gzip stream that inflates to gigabytes after the data is refused
// after inflating at most this much.
const maxTrailing = 1024

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
		return fail(s.errf("dimensions %v of %s values overflow", s.dims, s.typ))
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
	return fmt.Sprintf("dimensions %v of %s (%d bytes each) need %d bytes of data", s.dims, s.typ, s.typ.Size(), s.want)
}

// describe names the data for messages about memory.
func (s *idxStream) describe() string {
	return fmt.Sprintf("dimensions %v of %s", s.dims, s.typ)
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

// LoadIDX loads an IDX images file (N, ...) and its labels file (N) of
// unsigned bytes into a Dataset. Images of dims (N, rows, cols) get the
// sample shape [1 rows cols] (one channel); (N) gets [1]; otherwise the
// dims after N. The number of classes is max label + 1.
func LoadIDX(imagesPath, labelsPath string) (*Dataset, error) {
	return loadIDX(imagesPath, labelsPath, limit{})
}

// loadIDX is LoadIDX with a limit on the memory of the data set. Both
// headers are read and checked against each other and the limit before
// any data is read.
func loadIDX(imagesPath, labelsPath string, lim limit) (*Dataset, error) {
	img, err := openIDX(imagesPath)
	if err != nil {
		return nil, err
	}
	defer img.close()
	lab, err := openIDX(labelsPath)
	if err != nil {
		return nil, err
	}
	defer lab.close()
	if lab.typ != IDXUint8 || len(lab.dims) != 1 {
		return nil, fmt.Errorf("%s: a labels file must be 1-dimensional unsigned bytes (magic 00 00 08 01), got %d dimensions of %s", labelsPath, len(lab.dims), lab.typ)
	}
	if n := img.dims[0]; lab.dims[0] != n {
		return nil, fmt.Errorf("images file %s has %d samples but labels file %s has %d", imagesPath, n, labelsPath, lab.dims[0])
	}
	// The labels are held as bytes and as int32.
	need := img.memBytes() + mulBytes(lab.count, 5)
	if err := lim.check(imagesPath, fmt.Sprintf("the data set (%s and %d labels)", img.describe(), lab.count), need); err != nil {
		return nil, err
	}
	images, err := img.read()
	if err != nil {
		return nil, err
	}
	labels, err := lab.read()
	if err != nil {
		return nil, err
	}
	return fromIDX(imagesPath, images, labelsPath, labels)
}

func fromIDX(imagesPath string, img *IDX, labelsPath string, lab *IDX) (*Dataset, error) {
	if lab.Type != IDXUint8 || len(lab.Dims) != 1 {
		return nil, fmt.Errorf("%s: a labels file must be 1-dimensional unsigned bytes (magic 00 00 08 01), got %d dimensions of %s", labelsPath, len(lab.Dims), lab.Type)
	}
	n := img.Dims[0]
	if lab.Dims[0] != n {
		return nil, fmt.Errorf("images file %s has %d samples but labels file %s has %d", imagesPath, n, labelsPath, lab.Dims[0])
	}
	if n == 0 {
		return nil, fmt.Errorf("%s: has no samples", imagesPath)
	}
	ds := &Dataset{Source: imagesPath, N: n, U8: img.U8, F32: img.F32}
	switch len(img.Dims) {
	case 1:
		ds.Shape = []int{1}
	case 3:
		ds.Shape = []int{1, img.Dims[1], img.Dims[2]}
	default:
		ds.Shape = append([]int{}, img.Dims[1:]...)
	}
	ds.Labels = make([]int32, n)
	for i, l := range lab.U8 {
		ds.Labels[i] = int32(l)
		ds.NumClasses = max(ds.NumClasses, int(l)+1)
	}
	if err := ds.Check(); err != nil {
		return nil, err
	}
	return ds, nil
}

// idxTags pairs the name parts that mark an IDX images file with those of
// its labels file, both ways: "images-idx3" (MNIST's own
// train-images-idx3-ubyte) and "images.idx3" (Kaggle's
// train-images.idx3-ubyte).
var idxTags = map[string]string{
	"images-idx3": "labels-idx1", "labels-idx1": "images-idx3",
	"images.idx3": "labels.idx1", "labels.idx1": "images.idx3",
}

// idxLabelsPath derives the labels file of an IDX images file by replacing
// "images-idx3" with "labels-idx1" in its base name, or "images.idx3"
// with "labels.idx1"; it also returns the two parts.
func idxLabelsPath(imagesPath string) (labels, imagesTag, labelsTag string, ok bool) {
	return idxPartner(imagesPath, "images-idx3", "images.idx3")
}

// idxImagesPath derives the images file of an IDX labels file, the other
// way round; it also returns the labels file's part.
func idxImagesPath(labelsPath string) (images, labelsTag string, ok bool) {
	images, labelsTag, _, ok = idxPartner(labelsPath, "labels-idx1", "labels.idx1")
	return images, labelsTag, ok
}

// idxPartner replaces the first of tags found in p's base name with its
// partner in idxTags.
func idxPartner(p string, tags ...string) (partner, tag, partnerTag string, ok bool) {
	dir, base := splitPath(p)
	for _, t := range tags {
		if strings.Contains(base, t) {
			return dir + strings.Replace(base, t, idxTags[t], 1), t, idxTags[t], true
		}
	}
	return "", "", "", false
}

// splitPath splits after the last slash (either kind).
func splitPath(p string) (dir, base string) {
	i := strings.LastIndexAny(p, `/\`)
	return p[:i+1], p[i+1:]
}

// readUpTo reads up to want bytes from r into a buffer that starts with
// capacity initial and grows with the data actually read, so a header that
// claims more data than there is costs nothing. A short read ends with the
// reader's error, or nil at a clean EOF.
func readUpTo(r io.Reader, want, initial int64) ([]byte, error) {
	buf := make([]byte, 0, initial)
	for int64(len(buf)) < want {
		if len(buf) == cap(buf) {
			c := min(want, max(2*int64(cap(buf)), 64<<10))
			buf = append(make([]byte, 0, c), buf...)
		}
		n, err := readFull(r, buf[len(buf):min(int64(cap(buf)), want)])
		short := len(buf)+n < min(cap(buf), int(want))
		buf = buf[:len(buf)+n]
		if err != nil || short {
			return buf, err
		}
	}
	return buf, nil
}

// readFull reads into p until it is full, r ends (a nil error) or fails.
// Unlike io.ReadFull it treats a clean end as no error, and it gives up
// with io.ErrNoProgress on a reader that keeps returning nothing, so no
// reader can make it loop for ever.
func readFull(r io.Reader, p []byte) (int, error) {
	n, empty := 0, 0
	for n < len(p) {
		m, err := r.Read(p[n:])
		n += m
		switch {
		case err == io.EOF:
			return n, nil
		case err != nil:
			return n, err
		case m > 0:
			empty = 0
		default:
			if empty++; empty >= 100 {
				return n, io.ErrNoProgress
			}
		}
	}
	return n, nil
}
