package data

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// FuzzIDX checks that no input makes the IDX reader panic or allocate
// much more than the input (decompressed) justifies, and that what it
// accepts is consistent. The seed corpus is in testdata/fuzz/FuzzIDX.
func FuzzIDX(f *testing.F) {
	f.Add(tinyImages)
	f.Add(gz(f, tinyLabels))
	f.Fuzz(func(t *testing.T, b []byte) {
		before := totalAlloc()
		idx, err := ParseIDX("fuzz", bytes.NewReader(b))
		// gzip can expand ~1000x; allow for that, the bufio and gzip
		// buffers, and a float32 copy of the data.
		if got, limit := totalAlloc()-before, uint64(8*1032*len(b)+4<<20); got > limit {
			t.Fatalf("%d-byte input allocated %d bytes", len(b), got)
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz: ") {
				t.Fatalf("error does not name the input: %v", err)
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
// option sets (some with a training class mapping), and that what it
// accepts passes Dataset.Check and has the mapping's classes. The seed
// corpus is in testdata/fuzz/FuzzCSV.
func FuzzCSV(f *testing.F) {
	f.Add("a,b,label\n1,2,x\n3,4,y\n", uint8(0))
	f.Add("1,2,0\n3,4,1\n", uint8(1))
	f.Fuzz(func(t *testing.T, in string, mode uint8) {
		all := []CSVOptions{
			{},
			{Header: HeaderAbsent, Labels: []string{"0"}},
			{Header: HeaderPresent, Task: Regression},
			{Task: Regression, Labels: []string{"0", "1"}, Features: []string{"2"}},
			{Classes: &ClassMap{NumClasses: 3, Names: []string{"x", "y", "1"}}},
			{Header: HeaderAbsent, Classes: &ClassMap{NumClasses: 4}},
		}
		opts := all[int(mode)%len(all)]
		ds, err := ParseCSV("fuzz.csv", strings.NewReader(in), opts)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.csv") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if err := ds.Check(); err != nil {
			t.Fatalf("accepted an inconsistent data set: %v", err)
		}
		if cm := opts.Classes; cm != nil && (ds.NumClasses != cm.NumClasses || !slices.Equal(ds.ClassNames, cm.Names)) {
			t.Fatalf("read with %+v, got %d classes %q", *cm, ds.NumClasses, ds.ClassNames)
		}
	})
}
