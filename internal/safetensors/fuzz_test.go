package safetensors

import (
	"bytes"
	"runtime"
	"testing"
)

// FuzzParse checks that Parse never panics, that every tensor it accepts
// converts without panicking, that accessors allocate no more than the
// input justifies, and that accepted files re-encode to files that parse
// to the same tensors. The seed corpus is in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	good, err := Marshal([]Tensor{
		{Name: "x", Shape: []int{2, 2}, Data: []float32{1, 2, 3, 4}},
		{Name: "y", Shape: []int{2}, Data: []int64{0, 1}},
		{Name: "h", DType: F16, Shape: []int{1}, Data: []uint16{0x3c00}},
	}, map[string]string{"k": "v"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(file(`{}`, nil))
	f.Add(file(`{"a":{"dtype":"F32","shape":[1000000,1000000],"data_offsets":[0,4000000000000]}}`, make([]byte, 4)))
	for _, tt := range parseErrorTests() {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		file, err := Parse(b)
		runtime.ReadMemStats(&after)
		if limit := 64*uint64(len(b)) + 1<<20; after.TotalAlloc-before.TotalAlloc > limit {
			t.Fatalf("Parse of %d bytes allocated %d bytes (limit %d)", len(b), after.TotalAlloc-before.TotalAlloc, limit)
		}
		if err != nil {
			return
		}
		var tensors []Tensor
		for _, name := range file.Names() {
			raw, info, err := file.Raw(name)
			if err != nil {
				t.Fatalf("Raw(%q) of a listed tensor: %v", name, err)
			}
			if len(raw) != info.NumElements()*info.DType.Size() {
				t.Fatalf("tensor %q: %d bytes for %s %v", name, len(raw), info.DType, info.Shape)
			}
			var data any
			switch {
			case info.DType.IsFloat():
				v, _, err := file.Float64(name)
				if err != nil {
					t.Fatalf("Float64(%q): %v", name, err)
				}
				if _, _, err := file.Float32(name); err != nil {
					t.Fatalf("Float32(%q): %v", name, err)
				}
				data = v
			default:
				file.Int32(name) // may fail on range, must not panic
				v, _, err := file.Int64(name)
				if err != nil {
					continue // U64 out of range or a bad BOOL byte
				}
				data = v
			}
			if info.DType == U8 {
				file.Uint8(name)
			}
			tensors = append(tensors, Tensor{Name: name, Shape: info.Shape, Data: data})
		}
		if len(tensors) != len(file.Names()) {
			return
		}
		// Re-encode (as F64/I64) and parse again: same names and shapes.
		out, err := Marshal(tensors, file.Metadata)
		if err != nil {
			t.Fatalf("Marshal of parsed tensors: %v", err)
		}
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse of re-encoded file: %v", err)
		}
		if !bytes.Equal([]byte(joinNames(again.Names())), []byte(joinNames(file.Names()))) {
			t.Fatalf("names changed: %v -> %v", file.Names(), again.Names())
		}
	})
}

func joinNames(names []string) string {
	var b bytes.Buffer
	for _, n := range names {
		b.WriteString(n)
		b.WriteByte(0)
	}
	return b.String()
}
