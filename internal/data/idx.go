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
	"os"
	"strings"
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
// magic bytes, whatever the file name).
func ReadIDX(path string) (*IDX, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size := int64(-1)
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		size = fi.Size()
	}
	return parseIDX(path, f, size)
}

// ParseIDX reads an IDX file, raw or gzip-compressed, from r; name labels
// error messages.
func ParseIDX(name string, r io.Reader) (*IDX, error) {
	return parseIDX(name, r, -1)
}

// maxDeflateRatio bounds how much deflate can expand its input, so that
// the buffer for a gzip file can be sized from the file size without
// trusting the header.
const maxDeflateRatio = 1032

// parseIDX reads an IDX stream of size bytes (-1 if unknown). It
// allocates no more than the data actually present justifies: the
// buffer grows with the data read, from an initial size bounded by the
// input size.
func parseIDX(name string, r io.Reader, size int64) (*IDX, error) {
	errf := func(format string, args ...any) error {
		return fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...))
	}
	br := bufio.NewReader(r)
	compressed := false
	if magic, _ := br.Peek(2); bytes.Equal(magic, gzipMagic) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, errf("bad gzip header: %v", err)
		}
		defer zr.Close()
		r, compressed = zr, true
		if size >= 0 {
			size = min(size, math.MaxInt64/maxDeflateRatio) * maxDeflateRatio
		}
	} else {
		r = br
	}
	what := ""
	if compressed {
		what = " (after gunzip)"
	}
	readErr := func(err error) error {
		switch {
		case compressed && errors.Is(err, io.ErrUnexpectedEOF):
			return errf("gzip stream is truncated: the file ends before the end of the compressed data")
		case compressed:
			return errf("corrupt gzip data: %v", err)
		}
		return errf("%v", err)
	}

	var head [4]byte
	if n, err := io.ReadFull(r, head[:]); err != nil {
		if n == 0 && errors.Is(err, io.EOF) {
			return nil, errf("file is empty%s", what)
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, errf("file is %d bytes%s, too short for the 4-byte IDX magic number", n, what)
		}
		return nil, readErr(err)
	}
	if head[0] != 0 || head[1] != 0 {
		return nil, errf("not an IDX file: magic number % x%s does not start with two zero bytes", head, what)
	}
	typ, ndim := IDXType(head[2]), int(head[3])
	if typ.Size() == 0 {
		return nil, errf("unknown IDX element type 0x%02X in magic number % x (want 0x08 unsigned byte, 0x09 signed byte, 0x0B short, 0x0C int, 0x0D float or 0x0E double)", head[2], head)
	}
	if ndim == 0 {
		return nil, errf("IDX magic number % x declares 0 dimensions", head)
	}
	dimBytes := make([]byte, 4*ndim) // at most 1020 bytes
	if n, err := io.ReadFull(r, dimBytes); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, errf("header is truncated: %d dimensions need %d bytes after the magic number, but only %d follow%s", ndim, 4*ndim, n, what)
		}
		return nil, readErr(err)
	}
	dims := make([]int, ndim)
	count, overflow := uint64(1), false
	for i := range dims {
		d := binary.BigEndian.Uint32(dimBytes[4*i:])
		dims[i] = int(d)
		hi, lo := bits.Mul64(count, uint64(d))
		overflow = overflow || hi != 0
		count = lo
	}
	headerLen := int64(4 + 4*ndim)
	esize := uint64(typ.Size())
	hi, want := bits.Mul64(count, esize)
	if overflow || hi != 0 || want > math.MaxInt64-1 {
		return nil, errf("dimensions %v of %s values overflow", dims, typ)
	}
	need := fmt.Sprintf("dimensions %v of %s (%d bytes each) need %d bytes of data", dims, typ, esize, want)

	// A raw file's size is known: check it before reading anything.
	if !compressed && size >= 0 {
		switch have := max(size-headerLen, 0); {
		case uint64(have) < want:
			return nil, errf("data is truncated: %s after the %d-byte header, but the file has only %d", need, headerLen, have)
		case uint64(have) > want:
			return nil, errf("%d bytes of trailing garbage: %s after the %d-byte header, but the file has %d", uint64(have)-want, need, headerLen, have)
		}
	}

	initial := int64(0)
	if size >= 0 {
		initial = min(int64(want), max(size-headerLen, 0))
	}
	raw, err := readUpTo(r, int64(want), initial)
	got := int64(len(raw))
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, readErr(err)
	}
	if uint64(got) < want {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, errf("gzip stream is truncated: %s after the %d-byte header, but it ends after %d", need, headerLen, got)
		}
		return nil, errf("data is truncated: %s after the %d-byte header, but only %d follow%s", need, headerLen, got, what)
	}
	// Anything after the data is garbage; reading to the end also checks
	// the gzip checksum.
	extra, err := io.Copy(io.Discard, r)
	if err != nil {
		return nil, readErr(err)
	}
	if extra > 0 {
		return nil, errf("%d bytes of trailing garbage%s: %s after the %d-byte header, but %d follow", extra, what, need, headerLen, int64(want)+extra)
	}

	out := &IDX{Type: typ, Dims: dims}
	if typ == IDXUint8 {
		out.U8 = raw
		return out, nil
	}
	n := int(count)
	out.F32 = make([]float32, n)
	be := binary.BigEndian
	for i := range out.F32 {
		switch typ {
		case IDXInt8:
			out.F32[i] = float32(int8(raw[i]))
		case IDXInt16:
			out.F32[i] = float32(int16(be.Uint16(raw[2*i:])))
		case IDXInt32:
			out.F32[i] = float32(int32(be.Uint32(raw[4*i:])))
		case IDXFloat32:
			v := math.Float32frombits(be.Uint32(raw[4*i:]))
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, errf("element %d is %v; data must be finite", i, v)
			}
			out.F32[i] = v
		case IDXFloat64:
			v := math.Float64frombits(be.Uint64(raw[8*i:]))
			if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > math.MaxFloat32 {
				return nil, errf("element %d is %v; data must be finite and within float32 range", i, v)
			}
			out.F32[i] = float32(v)
		}
	}
	return out, nil
}

// LoadIDX loads an IDX images file (N, ...) and its labels file (N) of
// unsigned bytes into a Dataset. Images of dims (N, rows, cols) get the
// sample shape [1 rows cols] (one channel); (N) gets [1]; otherwise the
// dims after N. The number of classes is max label + 1.
func LoadIDX(imagesPath, labelsPath string) (*Dataset, error) {
	img, err := ReadIDX(imagesPath)
	if err != nil {
		return nil, err
	}
	lab, err := ReadIDX(labelsPath)
	if err != nil {
		return nil, err
	}
	return fromIDX(imagesPath, img, labelsPath, lab)
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
		n, err := r.Read(buf[len(buf):min(int64(cap(buf)), want)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}
