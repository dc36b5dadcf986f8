package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// idxBytes builds an IDX file: magic 00 00 typ len(dims), the dims as
// big-endian uint32, then data as given.
func idxBytes(typ byte, dims []uint32, data []byte) []byte {
	b := []byte{0, 0, typ, byte(len(dims))}
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return append(b, data...)
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeFile(t testing.TB, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// tinyImages is 3 images of 2x2 bytes, tinyLabels their labels.
var (
	tinyImages = idxBytes(0x08, []uint32{3, 2, 2}, []byte{0, 1, 2, 3, 10, 11, 12, 13, 250, 251, 252, 255})
	tinyLabels = idxBytes(0x08, []uint32{3}, []byte{5, 0, 4})
)

func TestReadIDXTypes(t *testing.T) {
	be := binary.BigEndian
	f32 := be.AppendUint32(be.AppendUint32(nil, math.Float32bits(1.5)), math.Float32bits(-2))
	f64 := be.AppendUint64(be.AppendUint64(nil, math.Float64bits(0.25)), math.Float64bits(-1e30))
	tests := []struct {
		name string
		in   []byte
		typ  IDXType
		dims []int
		u8   []uint8
		f32  []float32
	}{
		{"ubyte", idxBytes(0x08, []uint32{2, 3}, []byte{0, 128, 255, 1, 2, 3}), IDXUint8, []int{2, 3}, []uint8{0, 128, 255, 1, 2, 3}, nil},
		{"signed byte", idxBytes(0x09, []uint32{2}, []byte{0xff, 0x7f}), IDXInt8, []int{2}, nil, []float32{-1, 127}},
		{"short", idxBytes(0x0B, []uint32{2}, []byte{0xff, 0xfe, 0x01, 0x00}), IDXInt16, []int{2}, nil, []float32{-2, 256}},
		{"int", idxBytes(0x0C, []uint32{1, 1}, []byte{0x80, 0, 0, 0}), IDXInt32, []int{1, 1}, nil, []float32{math.MinInt32}},
		{"float", idxBytes(0x0D, []uint32{2}, f32), IDXFloat32, []int{2}, nil, []float32{1.5, -2}},
		{"double", idxBytes(0x0E, []uint32{2}, f64), IDXFloat64, []int{2}, nil, []float32{0.25, -1e30}},
		{"zero elements", idxBytes(0x08, []uint32{0, 28}, nil), IDXUint8, []int{0, 28}, []uint8{}, nil},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		for _, zip := range []bool{false, true} {
			name, in := tt.name, tt.in
			if zip {
				name, in = name+" gzipped", gz(t, in)
			}
			t.Run(name, func(t *testing.T) {
				// The file name never says whether it is gzipped.
				got, err := ReadIDX(writeFile(t, dir, strings.ReplaceAll(name, " ", "_")+".idx", in))
				if err != nil {
					t.Fatal(err)
				}
				if got.Type != tt.typ || !reflect.DeepEqual(got.Dims, tt.dims) {
					t.Errorf("type %v dims %v, want %v %v", got.Type, got.Dims, tt.typ, tt.dims)
				}
				if len(got.U8) != len(tt.u8) || (len(tt.u8) > 0 && !reflect.DeepEqual(got.U8, tt.u8)) || !reflect.DeepEqual(got.F32, tt.f32) {
					t.Errorf("values U8 %v F32 %v, want %v %v", got.U8, got.F32, tt.u8, tt.f32)
				}
				// ParseIDX (size unknown) agrees with ReadIDX.
				again, err := ParseIDX("x", bytes.NewReader(in))
				if err != nil || !reflect.DeepEqual(again, got) {
					t.Errorf("ParseIDX = %+v, %v; ReadIDX = %+v", again, err, got)
				}
			})
		}
	}
}

func TestReadIDXErrors(t *testing.T) {
	huge := idxBytes(0x08, []uint32{1000000, 1000000}, []byte{1, 2, 3}) // 10^12 elements
	tests := []struct {
		name string
		in   []byte
		want string // after "PATH: "
	}{
		{"empty", nil, "file is empty"},
		{"short magic", []byte{0, 0}, "file is 2 bytes, too short for the 4-byte IDX magic number"},
		{"bad magic", []byte{0x12, 0x34, 0x08, 0x01, 0, 0, 0, 0}, "not an IDX file: magic number 12 34 08 01 does not start with two zero bytes"},
		{"unknown type", idxBytes(0x07, []uint32{1}, []byte{0}), "unknown IDX element type 0x07 in magic number 00 00 07 01"},
		{"no dims", []byte{0, 0, 8, 0}, "IDX magic number 00 00 08 00 declares 0 dimensions"},
		{"truncated header", []byte{0, 0, 8, 3, 0, 0, 0, 2, 0, 0}, "header is truncated: 3 dimensions need 12 bytes after the magic number, but only 6 follow"},
		{"truncated data", idxBytes(0x08, []uint32{2, 2}, []byte{1, 2, 3}), "data is truncated: dimensions [2 2] of 0x08 unsigned byte (1 bytes each) need 4 bytes of data after the 12-byte header, but the file has only 3"},
		{"truncated shorts", idxBytes(0x0B, []uint32{3}, []byte{1, 2, 3, 4, 5}), "data is truncated: dimensions [3] of 0x0B short (2 bytes each) need 6 bytes of data after the 8-byte header, but the file has only 5"},
		{"trailing garbage", idxBytes(0x08, []uint32{2}, []byte{1, 2, 3, 4, 5}), "3 bytes of trailing garbage: dimensions [2] of 0x08 unsigned byte (1 bytes each) need 2 bytes of data after the 8-byte header, but the file has 5"},
		{"10^12 elements", huge, "data is truncated: dimensions [1000000 1000000] of 0x08 unsigned byte (1 bytes each) need 1000000000000 bytes of data after the 12-byte header, but the file has only 3"},
		{"overflowing dims", idxBytes(0x0E, []uint32{0xffffffff, 0xffffffff, 0xffffffff}, nil), "dimensions [4294967295 4294967295 4294967295] of 0x0E double values overflow"},
		{"NaN float", idxBytes(0x0D, []uint32{1}, []byte{0x7f, 0xc0, 0, 0}), "element 0 is NaN; data must be finite"},
		{"double out of float32 range", idxBytes(0x0E, []uint32{1}, binary.BigEndian.AppendUint64(nil, math.Float64bits(1e300))), "element 0 is 1e+300; data must be finite and within float32 range"},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, dir, strings.ReplaceAll(tt.name, " ", "_"), tt.in)
			_, err := ReadIDX(p)
			if want := p + ": " + tt.want; err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error:\n  %v\nwant prefix\n  %s", err, want)
			}
		})
	}
}

// TestReadIDXGzipErrors covers the messages of gzipped files, whose data
// size is only known by decompressing.
func TestReadIDXGzipErrors(t *testing.T) {
	good := gz(t, tinyImages)
	corrupt := bytes.Clone(good)
	corrupt[len(corrupt)-6] ^= 0xff // CRC-32
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"truncated data", gz(t, idxBytes(0x08, []uint32{2, 2}, []byte{1, 2, 3})), "data is truncated: dimensions [2 2] of 0x08 unsigned byte (1 bytes each) need 4 bytes of data after the 12-byte header, but only 3 follow (after gunzip)"},
		{"trailing garbage", gz(t, idxBytes(0x08, []uint32{2}, []byte{1, 2, 3, 4, 5})), "3 bytes of trailing garbage (after gunzip): dimensions [2] of 0x08 unsigned byte (1 bytes each) need 2 bytes of data after the 8-byte header, but 5 follow"},
		{"10^12 elements", gz(t, idxBytes(0x08, []uint32{1000000, 1000000}, []byte{1, 2, 3})), "data is truncated: dimensions [1000000 1000000] of 0x08 unsigned byte (1 bytes each) need 1000000000000 bytes of data after the 12-byte header, but only 3 follow (after gunzip)"},
		{"bad magic", gz(t, []byte("hello world")), "not an IDX file: magic number 68 65 6c 6c (after gunzip) does not start with two zero bytes"},
		{"empty", gz(t, nil), "file is empty (after gunzip)"},
		{"truncated stream", good[:len(good)-12], "gzip stream is truncated: the file ends before the end of the compressed data"},
		{"stream truncated in the data", gz(t, idxBytes(0x08, []uint32{100000}, noise(100000)))[:50000], "gzip stream is truncated: dimensions [100000] of 0x08 unsigned byte (1 bytes each) need 100000 bytes of data after the 8-byte header, but it ends after"},
		{"bad checksum", corrupt, "corrupt gzip data: gzip: invalid checksum"},
		{"bad gzip header", []byte{0x1f, 0x8b, 0x01}, "bad gzip header: unexpected EOF"},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, dir, strings.ReplaceAll(tt.name, " ", "_")+".gz", tt.in)
			_, err := ReadIDX(p)
			if want := p + ": " + tt.want; err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error:\n  %v\nwant prefix\n  %s", err, want)
			}
		})
	}
}

// TestReadIDXBoundedAllocation checks that a header claiming a huge size
// allocates nothing like it, raw or gzipped.
func TestReadIDXBoundedAllocation(t *testing.T) {
	dir := t.TempDir()
	in := idxBytes(0x0E, []uint32{100000, 100000, 10}, make([]byte, 1000)) // 800 GB claimed
	for _, b := range [][]byte{in, gz(t, in)} {
		p := writeFile(t, dir, "huge", b)
		before := totalAlloc()
		_, err := ReadIDX(p)
		if got := totalAlloc() - before; got > 1<<20 {
			t.Errorf("ReadIDX of a %d-byte file allocated %d bytes", len(b), got)
		}
		if err == nil {
			t.Fatal("no error")
		}
	}
}

func TestLoadIDX(t *testing.T) {
	dir := t.TempDir()
	images := writeFile(t, dir, "train-images-idx3-ubyte.gz", gz(t, tinyImages))
	labels := writeFile(t, dir, "train-labels-idx1-ubyte", tinyLabels)
	ds, err := LoadIDX(images, labels)
	if err != nil {
		t.Fatal(err)
	}
	want := &Dataset{Source: images, Shape: []int{1, 2, 2}, N: 3, U8: []uint8{0, 1, 2, 3, 10, 11, 12, 13, 250, 251, 252, 255},
		Labels: []int32{5, 0, 4}, NumClasses: 6}
	if !reflect.DeepEqual(ds, want) {
		t.Errorf("LoadIDX =\n %+v\nwant\n %+v", ds, want)
	}

	floatImages := writeFile(t, dir, "f", idxBytes(0x09, []uint32{3, 2}, []byte{1, 2, 3, 4, 0xff, 0xfe}))
	ds, err = LoadIDX(floatImages, labels)
	if err != nil || !reflect.DeepEqual(ds.F32, []float32{1, 2, 3, 4, -1, -2}) || ds.U8 != nil || !reflect.DeepEqual(ds.Shape, []int{2}) {
		t.Errorf("signed byte images: %+v, %v", ds, err)
	}

	bad := []struct {
		name           string
		images, labels []byte
		want           string
	}{
		{"count mismatch", tinyImages, idxBytes(0x08, []uint32{2}, []byte{1, 2}), "images file IMAGES has 3 samples but labels file LABELS has 2"},
		{"labels not bytes", tinyImages, idxBytes(0x0C, []uint32{3}, make([]byte, 12)), "LABELS: a labels file must be 1-dimensional unsigned bytes (magic 00 00 08 01), got 1 dimensions of 0x0C int"},
		{"labels 2-D", tinyImages, idxBytes(0x08, []uint32{3, 1}, []byte{1, 2, 3}), "LABELS: a labels file must be 1-dimensional unsigned bytes (magic 00 00 08 01), got 2 dimensions of 0x08 unsigned byte"},
		{"no samples", idxBytes(0x08, []uint32{0, 2, 2}, nil), idxBytes(0x08, []uint32{0}, nil), "IMAGES: has no samples"},
		{"zero-width images", idxBytes(0x08, []uint32{1, 0, 2}, nil), idxBytes(0x08, []uint32{1}, []byte{0}), "IMAGES: sample shape [1 0 2] has a dimension that is not positive"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			im := writeFile(t, dir, "im", tt.images)
			lb := writeFile(t, dir, "lb", tt.labels)
			_, err := LoadIDX(im, lb)
			want := strings.NewReplacer("IMAGES", im, "LABELS", lb).Replace(tt.want)
			if err == nil || err.Error() != want {
				t.Errorf("error:\n  %v\nwant\n  %s", err, want)
			}
		})
	}
}

// totalAlloc returns the bytes allocated so far by the process.
func totalAlloc() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}

// noise returns n incompressible bytes.
func noise(n int) []byte {
	b := make([]byte, n)
	x := uint32(1)
	for i := range b {
		x = x*1103515245 + 12345
		b[i] = byte(x >> 24)
	}
	return b
}

// TestDimsText: an IDX header's dimensions in a message, at most eight
// of them written out.
func TestDimsText(t *testing.T) {
	many := make([]int, 255)
	for i := range many {
		many[i] = i + 1
	}
	for _, tc := range []struct {
		dims []int
		want string
	}{
		{[]int{60000, 28, 28}, "[60000 28 28]"},
		{[]int{1, 2, 3, 4, 5, 6, 7, 8}, "[1 2 3 4 5 6 7 8]"},
		{many, "[1 2 3 4 5 6 ... 255] (255 dimensions)"},
	} {
		if got := dimsText(tc.dims); got != tc.want {
			t.Errorf("dimsText(%d dims) = %q, want %q", len(tc.dims), got, tc.want)
		}
	}
}
