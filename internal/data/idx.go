package data

import (
	"fmt"
	"io"
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
