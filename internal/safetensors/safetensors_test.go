package safetensors

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// file assembles a safetensors file from a header and a data section,
// without any validation.
func file(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

// TestGolden checks Marshal against bytes computed by hand.
func TestGolden(t *testing.T) {
	got, err := Marshal([]Tensor{
		{Name: "a", Shape: []int{2}, Data: []uint8{1, 2}},
		{Name: "b", Shape: nil, Data: []float32{1}},
	}, map[string]string{"k": "v"})
	if err != nil {
		t.Fatal(err)
	}
	// The header, counted by hand:
	//   {"__metadata__":{"k":"v"},                               26 bytes
	//   "a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}      51
	//   ,                                                         1
	//   "b":{"dtype":"F32","shape":[],"data_offsets":[2,6]}      51
	//   }                                                         1
	// = 130 bytes, padded with 6 spaces to 136 = 0x88.
	want := []byte{0x88, 0, 0, 0, 0, 0, 0, 0}
	want = append(want, `{"__metadata__":{"k":"v"},"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"F32","shape":[],"data_offsets":[2,6]}}      `...)
	want = append(want, 1, 2)                   // a
	want = append(want, 0x00, 0x00, 0x80, 0x3f) // b = 1.0f
	if !bytes.Equal(got, want) {
		t.Errorf("Marshal:\n got %q\nwant %q", got, want)
	}

	// A file with no tensors and no metadata: "{}" padded to 8 bytes.
	got, err = Marshal(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	want = []byte("\x08\x00\x00\x00\x00\x00\x00\x00{}      ")
	if !bytes.Equal(got, want) {
		t.Errorf("empty Marshal: got %q, want %q", got, want)
	}
	if _, err := Parse(got); err != nil {
		t.Errorf("Parse(empty file): %v", err)
	}
}

// TestRoundTrip writes every dtype and reads it back with the matching
// accessor.
func TestRoundTrip(t *testing.T) {
	halfBits := []uint16{0x3c00, 0xc000, 0x3800, 0x0001, 0x7bff, 0x8000} // 1 -2 0.5 2^-24 65504 -0
	halfVals := []float64{1, -2, 0.5, math.Ldexp(1, -24), 65504, math.Copysign(0, -1)}
	bf16Bits := []uint16{0x3f80, 0xc000, 0x4049} // 1 -2 3.140625
	bf16Vals := []float64{1, -2, 3.140625}
	tensors := []Tensor{
		{Name: "f64", Shape: []int{2, 2}, Data: []float64{1.5, -2.25, math.MaxFloat64, math.SmallestNonzeroFloat64}},
		{Name: "f32", Shape: []int{3}, Data: []float32{0.1, -3, math.MaxFloat32}},
		{Name: "f16", DType: F16, Shape: []int{2, 3}, Data: halfBits},
		{Name: "bf16", DType: BF16, Shape: []int{3}, Data: bf16Bits},
		{Name: "i64", Shape: []int{3}, Data: []int64{math.MinInt64, -1, math.MaxInt64}},
		{Name: "i32", Shape: []int{3}, Data: []int32{math.MinInt32, 0, math.MaxInt32}},
		{Name: "i16", Shape: []int{2}, Data: []int16{math.MinInt16, math.MaxInt16}},
		{Name: "i8", Shape: []int{2}, Data: []int8{-128, 127}},
		{Name: "u64", Shape: []int{2}, Data: []uint64{0, math.MaxInt64}},
		{Name: "u32", Shape: []int{2}, Data: []uint32{0, math.MaxUint32}},
		{Name: "u16", Shape: []int{2}, Data: []uint16{0, math.MaxUint16}},
		{Name: "u8", Shape: []int{1, 3}, Data: []uint8{0, 7, 255}},
		{Name: "bool", Shape: []int{3}, Data: []bool{true, false, true}},
		{Name: "boolbytes", DType: BOOL, Shape: []int{2}, Data: []uint8{0, 1}},
		{Name: "scalar", Shape: []int{}, Data: []float32{42}},
		{Name: "empty", Shape: []int{0, 5}, Data: []float32{}},
	}
	meta := map[string]string{"format": "pt", "quote\"d": "line\nbreak", "unicode": "ñ"}
	b, err := Marshal(tensors, meta)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tt := range tensors {
		names = append(names, tt.Name)
	}
	if got := f.Names(); !reflect.DeepEqual(got, names) {
		t.Errorf("Names() = %v, want %v", got, names)
	}
	if !reflect.DeepEqual(f.Metadata, meta) {
		t.Errorf("Metadata = %v, want %v", f.Metadata, meta)
	}
	for _, tt := range tensors {
		info, ok := f.Info(tt.Name)
		if !ok {
			t.Fatalf("Info(%q) missing", tt.Name)
		}
		if len(info.Shape) != len(tt.Shape) || (len(tt.Shape) > 0 && !reflect.DeepEqual(info.Shape, tt.Shape)) {
			t.Errorf("%s: shape %v, want %v", tt.Name, info.Shape, tt.Shape)
		}
		wantDType := tt.DType
		if wantDType == "" {
			wantDType, _, _ = checkData(tt)
		}
		if info.DType != wantDType {
			t.Errorf("%s: dtype %s, want %s", tt.Name, info.DType, wantDType)
		}
	}

	check := func(name string, got, want any, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("%s: %v", name, err)
			return
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
	f64, _, err := f.Float64("f64")
	check("f64", f64, tensors[0].Data, err)
	f32, _, err := f.Float32("f32")
	check("f32", f32, tensors[1].Data, err)
	f32of64, _, err := f.Float32("f64")
	check("f64 as float32", f32of64, []float32{1.5, -2.25, float32(math.Inf(1)), 0}, err)
	h, shape, err := f.Float64("f16")
	check("f16", h, halfVals, err)
	check("f16 shape", shape, []int{2, 3}, nil)
	if !math.Signbit(h[5]) {
		t.Errorf("f16: -0 lost its sign")
	}
	bf, _, err := f.Float64("bf16")
	check("bf16", bf, bf16Vals, err)
	i64, _, err := f.Int64("i64")
	check("i64", i64, tensors[4].Data, err)
	i32, _, err := f.Int32("i32")
	check("i32", i32, tensors[5].Data, err)
	i16, _, err := f.Int32("i16")
	check("i16", i16, []int32{math.MinInt16, math.MaxInt16}, err)
	i8, _, err := f.Int64("i8")
	check("i8", i8, []int64{-128, 127}, err)
	u64, _, err := f.Int64("u64")
	check("u64", u64, []int64{0, math.MaxInt64}, err)
	u32, _, err := f.Int64("u32")
	check("u32", u32, []int64{0, math.MaxUint32}, err)
	u16, _, err := f.Int32("u16")
	check("u16", u16, []int32{0, math.MaxUint16}, err)
	u8, shape, err := f.Uint8("u8")
	check("u8", u8, []uint8{0, 7, 255}, err)
	check("u8 shape", shape, []int{1, 3}, nil)
	u8i, _, err := f.Int32("u8")
	check("u8 as int32", u8i, []int32{0, 7, 255}, err)
	bo, _, err := f.Int64("bool")
	check("bool", bo, []int64{1, 0, 1}, err)
	bb, _, err := f.Int32("boolbytes")
	check("boolbytes", bb, []int32{0, 1}, err)
	sc, shape, err := f.Float32("scalar")
	check("scalar", sc, []float32{42}, err)
	if len(shape) != 0 {
		t.Errorf("scalar shape = %v, want []", shape)
	}
	em, shape, err := f.Float32("empty")
	check("empty", em, []float32{}, err)
	check("empty shape", shape, []int{0, 5}, nil)
}

// TestHalf compares HalfToFloat32 with the definition for all 65536 bit
// patterns.
func TestHalf(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		sign := 1.0
		if h&0x8000 != 0 {
			sign = -1
		}
		exp, mant := (h>>10)&0x1f, h&0x3ff
		var want float64
		switch {
		case exp == 0x1f && mant == 0:
			want = math.Inf(int(sign))
		case exp == 0x1f:
			want = math.NaN()
		case exp == 0:
			want = sign * math.Ldexp(float64(mant), -24)
		default:
			want = sign * math.Ldexp(1+float64(mant)/1024, exp-15)
		}
		got := float64(HalfToFloat32(uint16(h)))
		if math.IsNaN(want) != math.IsNaN(got) || (!math.IsNaN(want) && (got != want || math.Signbit(got) != math.Signbit(want))) {
			t.Fatalf("HalfToFloat32(%#04x) = %v, want %v", h, got, want)
		}
	}
}

// parseErrorTests are malformed files with the message each must get.
// They also make up most of FuzzParse's seed corpus.
func parseErrorTests() []struct {
	name string
	in   []byte
	want string
} {
	u8 := func(name string, shape string, b, e int) string {
		return `"` + name + `":{"dtype":"U8","shape":` + shape + `,"data_offsets":[` + strconv.Itoa(b) + `,` + strconv.Itoa(e) + `]}`
	}
	big := binary.LittleEndian.AppendUint64(nil, 200_000_000)
	return []struct {
		name string
		in   []byte
		want string
	}{
		{"too short", []byte{1, 2, 3}, "file is 3 bytes, too short to hold the 8-byte header length"},
		{"absurd header length", append(big, "{}"...), "header length 200000000 exceeds the limit of 100000000 bytes"},
		{"header beyond file", append(binary.LittleEndian.AppendUint64(nil, 100), "{}"...), "header length 100 is larger than the 2 bytes that follow it"},
		{"not an object", file(`[1,2]`, nil), "header does not start with '{'"},
		{"empty header", file(``, nil), "header does not start with '{'"},
		{"malformed JSON", file(`{"a":{"dtype":"U8",}}`, nil), "header is not valid JSON"},
		{"unterminated JSON", file(`{"a":`, nil), "header is not valid JSON"},
		{"trailing bytes", file(`{} x`, nil), "header has 2 bytes of trailing data after the JSON object"},
		{"invalid UTF-8", file("{\"\xff\":1}", nil), "header is not valid UTF-8"},
		{"entry not an object", file(`{"a":5}`, nil), `tensor "a": entry is 5, want an object`},
		{"unknown dtype", file(`{"a":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}`, []byte{0}), `tensor "a": unsupported dtype "F8_E4M3" (supported: F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, BOOL)`},
		{"missing dtype", file(`{"a":{"shape":[1],"data_offsets":[0,1]}}`, []byte{0}), `tensor "a": entry has no dtype`},
		{"missing shape", file(`{"a":{"dtype":"U8","data_offsets":[0,1]}}`, []byte{0}), `tensor "a": entry has no shape`},
		{"missing offsets", file(`{"a":{"dtype":"U8","shape":[1]}}`, []byte{0}), `tensor "a": entry has no data_offsets`},
		{"unknown key", file(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"stride":[1]}}`, []byte{0}), `tensor "a": bad entry: json: unknown field "stride"`},
		{"negative dim", file(`{`+u8("a", "[-1]", 0, 1)+`}`, []byte{0}), `tensor "a": shape[0]: -1 is negative`},
		{"fractional dim", file(`{`+u8("a", "[2.5]", 0, 1)+`}`, []byte{0}), `tensor "a": shape[0]: 2.5 is not an integer`},
		{"string dim", file(`{`+u8("a", `["2"]`, 0, 2)+`}`, []byte{0, 0}), `tensor "a": shape[0]: "2" is not a number`},
		{"too many dims", file(`{`+u8("a", "["+strings.Repeat("1,", MaxDims)+"1]", 0, 1)+`}`, []byte{0}), `tensor "a": shape has 65 dimensions; at most 64 are read`},
		{"huge dim", file(`{`+u8("a", `[99999999999999999999]`, 0, 2)+`}`, []byte{0, 0}), `tensor "a": shape[0]: 99999999999999999999 is too large`},
		{"overflowing shape", file(`{`+u8("a", "[4294967296,4294967296]", 0, 1)+`}`, []byte{0}), `tensor "a": U8 shape [4294967296 4294967296] needs more bytes than the whole data section holds (1)`},
		{"10^12 elements", file(`{"a":{"dtype":"F32","shape":[1000000,1000000],"data_offsets":[0,4000000000000]}}`, []byte{0, 0, 0, 0}), `tensor "a": F32 shape [1000000 1000000] needs more bytes than the whole data section holds (4)`},
		{"size disagrees with offsets", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, make([]byte, 8)), `tensor "a": data_offsets [0, 4] span 4 bytes, but F32 shape [2] needs 2 elements x 4 bytes = 8`},
		{"offsets past data", file(`{`+u8("a", "[2]", 4, 6)+`}`, make([]byte, 4)), `tensor "a": data_offsets [4, 6]: end is past the data section, which holds 4 bytes (is the file cut short?)`},
		{"begin after end", file(`{`+u8("a", "[0]", 4, 2)+`}`, make([]byte, 4)), `tensor "a": data_offsets [4, 2]: begin is after end`},
		{"three offsets", file(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1,2]}}`, []byte{0}), `tensor "a": data_offsets has 3 numbers, want 2`},
		{"negative offset", file(`{`+u8("a", "[1]", -1, 0)+`}`, []byte{0}), `tensor "a": data_offsets[0]: -1 is negative`},
		{"overlap", file(`{`+u8("a", "[4]", 0, 4)+`,`+u8("b", "[4]", 2, 6)+`}`, make([]byte, 6)), `tensors "a" (bytes 0 to 4) and "b" (bytes 2 to 6) overlap`},
		{"empty tensor inside another", file(`{`+u8("a", "[4]", 0, 4)+`,`+u8("z", "[0]", 2, 2)+`}`, make([]byte, 4)), `tensors "a" (bytes 0 to 4) and "z" (bytes 2 to 2) overlap`},
		{"hole", file(`{`+u8("a", "[2]", 0, 2)+`,`+u8("b", "[2]", 4, 6)+`}`, make([]byte, 6)), `hole of 2 bytes between tensor "a" (ends at byte 2) and tensor "b" (starts at byte 4)`},
		{"hole at start", file(`{`+u8("a", "[2]", 2, 4)+`}`, make([]byte, 4)), `tensor "a": data starts at byte 2, leaving a hole of 2 bytes at the start`},
		{"data longer than tensors", file(`{`+u8("a", "[2]", 0, 2)+`}`, make([]byte, 5)), `data section is 5 bytes but the tensors cover only 2 (3 unused bytes after tensor "a")`},
		{"data but no tensors", file(`{}`, make([]byte, 3)), "header lists no tensors but the data section holds 3 bytes"},
		{"duplicate tensor", file(`{`+u8("a", "[1]", 0, 1)+`,`+u8("a", "[1]", 1, 2)+`}`, make([]byte, 2)), `tensor "a" appears twice in the header`},
		{"duplicate metadata", file(`{"__metadata__":{},"__metadata__":{}}`, nil), `header has "__metadata__" twice`},
		{"metadata number", file(`{"__metadata__":{"epoch":3}}`, nil), `__metadata__: value of "epoch" is 3; metadata values must be strings`},
		{"metadata not object", file(`{"__metadata__":[1]}`, nil), `__metadata__: must be an object of strings`},
	}
}

// TestParseErrors feeds malformed files and checks the messages.
func TestParseErrors(t *testing.T) {
	tests := parseErrorTests()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse succeeded with tensors %v, want error containing %q", f.Names(), tt.want)
			}
			if !strings.HasPrefix(err.Error(), "safetensors data: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error:\n  %v\nwant it to contain\n  %s", err, tt.want)
			}
		})
	}
}

// TestReadNamesFile checks that Read names the path in messages and that
// metadata null is accepted.
func TestReadNamesFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.safetensors")
	if err := os.WriteFile(path, file(`{"a":{"dtype":"Q4","shape":[],"data_offsets":[0,0]}}`, nil), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Read(path)
	if err == nil || !strings.HasPrefix(err.Error(), path+`: tensor "a": unsupported dtype "Q4"`) {
		t.Errorf("Read error = %v", err)
	}
	_, err = Read(filepath.Join(dir, "missing.safetensors"))
	if err == nil || !strings.Contains(err.Error(), "missing.safetensors: no such file") {
		t.Errorf("Read(missing) error = %v", err)
	}
	f, err := Parse(file(`{"__metadata__":null}`, nil))
	if err != nil || f.Metadata != nil || len(f.Names()) != 0 {
		t.Errorf("Parse(metadata null) = %v, %v", f, err)
	}
}

// TestAccessorErrors checks conversions that must fail.
func TestAccessorErrors(t *testing.T) {
	b, err := Marshal([]Tensor{
		{Name: "i", Shape: []int{2}, Data: []int64{1, 1 << 40}},
		{Name: "u", Shape: []int{1}, Data: []uint64{math.MaxUint64}},
		{Name: "f", Shape: []int{1}, Data: []float32{1}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	badBool, err := Parse(file(`{"m":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}}`, []byte{1, 7}))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"missing", func() error { _, _, err := f.Float32("w"); return err }, `safetensors data: no tensor named "w" (tensors in the file: i, u, f)`},
		{"float of int", func() error { _, _, err := f.Float32("i"); return err }, `tensor "i" has dtype I64; Float32 needs a floating-point dtype`},
		{"float64 of int", func() error { _, _, err := f.Float64("i"); return err }, `tensor "i" has dtype I64; Float64 needs a floating-point dtype`},
		{"int of float", func() error { _, _, err := f.Int64("f"); return err }, `tensor "f" has dtype F32; Int64 needs an integer dtype`},
		{"uint8 of float", func() error { _, _, err := f.Uint8("f"); return err }, `tensor "f" has dtype F32; Uint8 needs dtype U8`},
		{"int32 range", func() error { _, _, err := f.Int32("i"); return err }, `tensor "i": element 1 is 1099511627776, out of range for Int32`},
		{"uint64 range", func() error { _, _, err := f.Int64("u"); return err }, `tensor "u": element 0 is 18446744073709551615, too large for Int64`},
		{"bool byte", func() error { _, _, err := badBool.Int64("m"); return err }, `tensor "m": BOOL element 1 is byte 7, want 0 or 1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestMarshalErrors checks that bad tensors are refused.
func TestMarshalErrors(t *testing.T) {
	tests := []struct {
		name    string
		tensors []Tensor
		meta    map[string]string
		want    string
	}{
		{"empty name", []Tensor{{Shape: []int{1}, Data: []float32{1}}}, nil, "tensor 0 has an empty name"},
		{"reserved name", []Tensor{{Name: "__metadata__", Shape: []int{1}, Data: []float32{1}}}, nil, `the name "__metadata__" is reserved`},
		{"duplicate", []Tensor{{Name: "a", Shape: []int{1}, Data: []float32{1}}, {Name: "a", Shape: []int{1}, Data: []float32{1}}}, nil, `tensor "a" appears twice`},
		{"invalid UTF-8 name", []Tensor{{Name: "\xff", Shape: []int{1}, Data: []float32{1}}}, nil, "is not valid UTF-8"},
		{"invalid UTF-8 metadata", nil, map[string]string{"k": "\xff"}, `metadata "k": keys and values must be valid UTF-8`},
		{"shape mismatch", []Tensor{{Name: "a", Shape: []int{2, 2}, Data: []float32{1, 2, 3}}}, nil, `tensor "a": shape [2 2] holds 4 elements but Data has 3`},
		{"negative dim", []Tensor{{Name: "a", Shape: []int{-1}, Data: []float32{}}}, nil, `tensor "a": shape[0] is -1, must not be negative`},
		{"nil data", []Tensor{{Name: "a", Shape: []int{0}}}, nil, `tensor "a": Data is nil`},
		{"unsupported data", []Tensor{{Name: "a", Shape: []int{1}, Data: []string{"x"}}}, nil, `tensor "a": Data has unsupported type []string`},
		{"dtype mismatch", []Tensor{{Name: "a", DType: F16, Shape: []int{1}, Data: []float32{1}}}, nil, `tensor "a": DType F16 cannot be written from []float32 data`},
		{"bool byte", []Tensor{{Name: "a", DType: BOOL, Shape: []int{2}, Data: []uint8{0, 2}}}, nil, `tensor "a": BOOL element 1 is byte 2, want 0 or 1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Marshal(tt.tensors, tt.meta)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Marshal error = %v, want it to contain %q", err, tt.want)
			}
			path := filepath.Join(t.TempDir(), "x.safetensors")
			err = Write(path, tt.tensors, tt.meta)
			if err == nil || !strings.Contains(err.Error(), "cannot write "+path) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Write error = %v, want it to name the path and contain %q", err, tt.want)
			}
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				t.Errorf("Write left a file behind: %v", err)
			}
		})
	}
}
