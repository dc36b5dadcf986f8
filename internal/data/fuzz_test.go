package data

import (
	"bytes"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/nettrain/nettrain/internal/safetensors"
)

// FuzzIDX checks that no input makes the IDX reader panic, allocate much
// more than the input (decompressed) justifies or inflate more than the
// header claims and maxTrailing+1 bytes, that with a limit it allocates
// little more than the limit, and that what it accepts is consistent. The
// seed corpus is in testdata/fuzz/FuzzIDX.
func FuzzIDX(f *testing.F) {
	f.Add(tinyImages)
	f.Add(gz(f, tinyLabels))
	f.Add(zeroBomb(f, idxBytes(0x08, []uint32{1000}, nil), 1<<20))
	f.Fuzz(func(t *testing.T, b []byte) {
		// With a limit of 64 KiB: refused or within it, allocating no
		// more than the limit, the bufio and gzip buffers.
		const max = 64 << 10
		before := totalAlloc()
		idx, err := parseIDX("fuzz", bytes.NewReader(b), -1, limit{max, "the fuzz limit"})
		if got := totalAlloc() - before; got > 2*max+1<<20 {
			t.Fatalf("%d-byte input with a %d-byte limit allocated %d bytes", len(b), max, got)
		}
		if err == nil && len(idx.U8)+4*len(idx.F32) > max {
			t.Fatalf("accepted %d bytes and %d floats with a %d-byte limit", len(idx.U8), len(idx.F32), max)
		}

		// What is inflated after the header is bounded by what it claims.
		if s, err := newIDXStream("fuzz", bytes.NewReader(b), -1); err == nil {
			inflated := &countingReader{r: s.r}
			s.r = inflated
			s.read()
			s.close()
			if inflated.n > s.want+maxTrailing+1 {
				t.Fatalf("read %d bytes after a header claiming %d", inflated.n, s.want)
			}
		}

		before = totalAlloc()
		idx, err = ParseIDX("fuzz", bytes.NewReader(b))
		// gzip can expand ~1000x; allow for that, the bufio and gzip
		// buffers, and a float32 copy of the data.
		if got, limit := totalAlloc()-before, uint64(8*1032*len(b)+4<<20); got > limit {
			t.Fatalf("%d-byte input allocated %d bytes", len(b), got)
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz: ") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line naming the input: %q", err)
			}
			return
		}
		n := 1
		for _, d := range idx.Dims {
			n *= d
		}
		if idx.Type == IDXUint8 && len(idx.U8) != n || idx.Type != IDXUint8 && len(idx.F32) != n {
			t.Fatalf("dims %v but %d bytes / %d floats", idx.Dims, len(idx.U8), len(idx.F32))
		}
	})
}

// FuzzCSV checks that no input makes the CSV reader panic, under a few
// option sets (some with a training class mapping; with mode >= 128, a
// limit of 256 bytes), that errors are one line naming the file, and that
// what it accepts passes Dataset.Check, fits the limit and has the
// mapping's classes. The seed corpus is in testdata/fuzz/FuzzCSV.
func FuzzCSV(f *testing.F) {
	f.Add("a,b,label\n1,2,x\n3,4,y\n", uint8(0))
	f.Add("1,2,0\n3,4,1\n", uint8(1))
	f.Add("a,b\n1,2\n3,\"4\n5,6\n", uint8(128))
	f.Add("a,b,label\n1,2,x\n3,4,y\n5,6,x\n7,8,x\n9,10,y\n11,12,x\n13,14,y\n15,16,y\n17,18,x\n19,20,x\n21,22,x\n", uint8(128))
	f.Fuzz(func(t *testing.T, in string, mode uint8) {
		all := []CSVOptions{
			{},
			{Header: HeaderAbsent, Labels: []string{"0"}},
			{Header: HeaderPresent, Task: Regression},
			{Task: Regression, Labels: []string{"0", "1"}, Features: []string{"2"}},
			{Classes: &ClassMap{NumClasses: 3, Names: []string{"x", "y", "1"}}},
			{Header: HeaderAbsent, Classes: &ClassMap{NumClasses: 4}},
		}
		opts := all[int(mode&0x7f)%len(all)]
		var lim limit
		if mode >= 128 {
			lim = limit{256, "the fuzz limit"}
		}
		ds, err := parseCSV("fuzz.csv", strings.NewReader(in), opts, lim)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.csv") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line naming the file: %q", err)
			}
			return
		}
		if err := ds.Check(); err != nil {
			t.Fatalf("accepted an inconsistent data set: %v", err)
		}
		if used := 4*len(ds.F32) + 4*len(ds.Targets) + 8*len(ds.Labels); lim.max > 0 && int64(used) > lim.max {
			t.Fatalf("accepted %d bytes of data with a limit of %d", used, lim.max)
		}
		if cm := opts.Classes; cm != nil && (ds.NumClasses != cm.NumClasses || !slices.Equal(ds.ClassNames, cm.Names)) {
			t.Fatalf("read with %+v, got %d classes %q", *cm, ds.NumClasses, ds.ClassNames)
		}
	})
}

// FuzzSafetensorsData checks that no safetensors file makes the data set
// reader panic, with and without a limit, and that what it accepts is
// consistent, finite and within the limit.
func FuzzSafetensorsData(f *testing.F) {
	for _, tensors := range [][]safetensors.Tensor{
		{{Name: "x", Shape: []int{2, 2}, Data: []float32{1, 2, 3, 4}}, {Name: "y", Shape: []int{2}, Data: []int64{0, 1}}},
		{{Name: "x", Shape: []int{2, 1}, Data: []uint8{1, 2}}, {Name: "y", Shape: []int{2, 2}, Data: []float64{0.5, 1, 2, 3}}},
		{{Name: "x", DType: safetensors.F16, Shape: []int{2}, Data: []uint16{0x7c00, 0x3c00}}, {Name: "y", Shape: []int{2}, Data: []uint8{0, 1}}},
		{{Name: "x", Shape: []int{1}, Data: []float64{1e300}}, {Name: "y", Shape: []int{1}, Data: []float32{float32(math.NaN())}}},
	} {
		b, err := safetensors.Marshal(tensors, nil)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
		f.Add(b, true)
	}
	f.Fuzz(func(t *testing.T, b []byte, limited bool) {
		file, err := safetensors.Parse(b)
		if err != nil {
			return
		}
		var lim limit
		if limited {
			lim = limit{256, "the fuzz limit"}
		}
		ds, err := fromSafetensors("fuzz.safetensors", file, nil, lim, true, len(b)%2 == 1)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is more than one line: %q", err)
			}
			return
		}
		if err := ds.Check(); err != nil {
			t.Fatalf("accepted an inconsistent data set: %v", err)
		}
		for _, v := range append(slices.Clone(ds.F32), ds.Targets...) {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("accepted %v", v)
			}
		}
		if used := len(ds.U8) + 4*len(ds.F32) + 4*len(ds.Targets) + 4*len(ds.Labels); limited && used > 256 {
			t.Fatalf("accepted %d bytes of data with a limit of 256", used)
		}
	})
}
