package data

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

// twoFeatures is 4 samples of 2 byte features, labelled.
func twoFeatures() *Dataset {
	return &Dataset{Source: "t", Shape: []int{2}, N: 4,
		U8:     []uint8{0, 10, 255, 10, 100, 10, 50, 10},
		Labels: []int32{0, 1, 1, 0}, NumClasses: 2}
}

func TestFit(t *testing.T) {
	ds := twoFeatures()
	// Train on samples 0 and 1 only; sample 2 (100) and 3 (50) must not
	// influence the fit.
	train := Subset{DS: ds, Idx: []int{0, 1}}
	tests := []struct {
		method        Method
		offset, scale []float64
	}{
		{None, []float64{0, 0}, []float64{1, 1}},
		{Unit, []float64{0, 0}, []float64{1.0 / 255, 1.0 / 255}},
		// feature 0 over train: 0, 255 -> mean 127.5, std 127.5; feature 1 constant.
		{Standardize, []float64{127.5, 10}, []float64{1 / 127.5, 1}},
		{MinMax, []float64{0, 10}, []float64{1.0 / 255, 1}},
	}
	for _, tt := range tests {
		n, err := Fit(train, tt.method)
		if err != nil {
			t.Fatal(err)
		}
		if n.Method != tt.method || !near(n.Offset, tt.offset) || !near(n.Scale, tt.scale) {
			t.Errorf("%s: offset %v scale %v, want %v %v", tt.method, n.Offset, n.Scale, tt.offset, tt.scale)
		}
	}
	// Fitting on the other half gives other statistics.
	other, _ := Fit(Subset{DS: ds, Idx: []int{2, 3}}, Standardize)
	if !near(other.Offset, []float64{75, 10}) {
		t.Errorf("fit on samples 2, 3: offset %v", other.Offset)
	}
	// Float data: unit leaves values alone.
	fds := seqDataset(4)
	n, _ := Fit(All(fds), Unit)
	if !near(n.Scale, []float64{1}) {
		t.Errorf("unit on floats: scale %v", n.Scale)
	}

	if _, err := Fit(train, "zscore"); err == nil || err.Error() != `unknown normalisation "zscore" (want one of [none unit standardize minmax])` {
		t.Errorf("unknown method: %v", err)
	}
	if _, err := Fit(Subset{DS: ds}, MinMax); err == nil || err.Error() != "t: cannot fit minmax normalisation on no samples" {
		t.Errorf("empty subset: %v", err)
	}
}

// TestFitScaleBound: a feature whose spread (standard deviation or range)
// is below the smallest normal number of its type would get a scale
// beyond MaxScale, which a checkpoint may not hold: Fit refuses it,
// naming it, rather than write a checkpoint that does not load (a range
// of one float64 subnormal gave +Inf, which broke the checkpoint's
// metadata). A constant feature gets scale 1; a spread at the bound
// itself is fitted.
func TestFitScaleBound(t *testing.T) {
	f32 := func(v ...float32) *Dataset {
		return &Dataset{Source: "d.csv", Shape: []int{1}, N: len(v), F32: v, FeatureColumns: []string{"x"}, Labels: make([]int32, len(v)), NumClasses: 1}
	}
	f64 := func(v ...float64) *Dataset {
		return &Dataset{Source: "d.csv", Shape: []int{1}, N: len(v), F64: v, Labels: make([]int32, len(v)), NumClasses: 1}
	}
	tests := []struct {
		name   string
		ds     *Dataset
		method Method
		scale  float64 // when fitted
		want   string  // the error, "" when fitted
	}{
		{"constant", f32(3, 3, 3), Standardize, 1, ""},
		{"constant minmax", f64(-2, -2), MinMax, 1, ""},
		{"float32 range at the bound", f32(0, 0x1p-126), MinMax, MaxScale32, ""},
		{"float32 subnormal range", f32(0, 1e-40), MinMax, 0,
			`d.csv: column "x" (feature 0) has a range of only 1e-40 over the training part: minmax would scale it by 1e+40, beyond 2^126 (8.5e+37, the reciprocal of float32's smallest normal number); rescale it, or set data.normalize to none`},
		{"float32 subnormal deviation", f32(0, 1e-40), Standardize, 0,
			`d.csv: column "x" (feature 0) has a standard deviation of only 5e-41 over the training part: standardize would scale it by 2e+40, beyond 2^126`},
		{"float64 tiny range", f64(0, 1e-300), MinMax, 9.999999999999999e+299, ""}, // 1/1e-300 as float64 division rounds it,
		{"float64 subnormal range", f64(0, 5e-324), MinMax, 0,
			`d.csv: feature 0 has a range of only 4.94e-324 over the training part: minmax would scale it by +Inf, beyond 2^1022 (4.5e+307, the reciprocal of float64's smallest normal number)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := Fit(All(tt.ds), tt.method)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want == "" && n.Scale[0] != tt.scale:
				t.Errorf("scale %v, want %v", n.Scale[0], tt.scale)
			case tt.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.want)):
				t.Errorf("error:\n  %v\nwant\n  %s", err, tt.want)
			}
		})
	}
}

func near(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-12*math.Max(1, math.Abs(b[i])) {
			return false
		}
	}
	return true
}

func TestFillBatch(t *testing.T) {
	ds := twoFeatures()
	s := Subset{DS: ds, Idx: []int{3, 0, 2}}
	norm, _ := Fit(Subset{DS: ds, Idx: []int{0, 1}}, MinMax)

	x := make([]float32, 4)
	labels := make([]int32, 2)
	FillBatch(s, []int{2, 0}, nil, x, labels, nil) // samples 2 and 3, raw
	if !reflect.DeepEqual(x, []float32{100, 10, 50, 10}) || !reflect.DeepEqual(labels, []int32{1, 0}) {
		t.Errorf("raw: x %v labels %v", x, labels)
	}
	x64 := make([]float64, 4)
	FillBatch(s, []int{1, 2}, norm, x64, nil, nil) // samples 0 and 2
	if !near(x64, []float64{0, 0, 100.0 / 255, 0}) {
		t.Errorf("minmax float64: %v", x64)
	}

	// Float features and regression targets.
	rds := &Dataset{Source: "r", Shape: []int{1}, N: 3, F32: []float32{1, 2, 3}, Targets: []float32{10, 11, 20, 21, 30, 31}, TargetDim: 2}
	rs := All(rds)
	std, _ := Fit(rs, Standardize) // mean 2, std sqrt(2/3)
	xr := make([]float64, 2)
	tg := make([]float64, 4)
	FillBatch(rs, []int{2, 0}, std, xr, nil, tg)
	if !near(xr, []float64{1 / math.Sqrt(2.0/3), -1 / math.Sqrt(2.0/3)}) || !near(tg, []float64{30, 31, 10, 11}) {
		t.Errorf("regression: x %v targets %v", xr, tg)
	}
	xr32 := make([]float32, 1)
	FillBatch(rs, []int{1}, nil, xr32, nil, nil)
	if xr32[0] != 2 {
		t.Errorf("raw float: %v", xr32)
	}
}

// TestFillBatchFloatRows: float features, stored as float32 or float64,
// filled into float32 and float64 batches under each normalisation, fitted
// or restored, give exactly the per-feature formula's values (none and
// unit copy the rows: (v - 0) * 1 == v, -0 included; an offset of -0 is
// not the identity).
func TestFillBatchFloatRows(t *testing.T) {
	negZero := math.Copysign(0, -1)
	vals := []float64{negZero, negZero, 1.5, -2.25e-30, 3.4e38, -1e-45, 0.1, 12345.678, -7, 1e300}
	const f = 5
	n := len(vals) / f
	f32 := make([]float32, len(vals))
	for i, v := range vals {
		f32[i] = float32(v)
	}
	for _, store := range []string{"float32", "float64"} {
		ds := &Dataset{Source: "t", Shape: []int{f}, N: n, Labels: make([]int32, n), NumClasses: 1}
		if store == "float32" {
			ds.F32 = f32
		} else {
			ds.F64 = vals
		}
		get := func(i int) float64 {
			if ds.F32 != nil {
				return float64(ds.F32[i])
			}
			return ds.F64[i]
		}
		// Normalisers as a checkpoint restores them (NewNormalizer): one
		// offset of -0 for every feature (which must not be taken for the
		// identity), and +0 with a -0 (which must not be taken for one offset).
		loaded := map[string][2][]float64{
			"loaded, offset -0":     {{negZero}, {1}},
			"loaded, offsets +0 -0": {{0, negZero, 0, 0, 0}, {1, 1, 1, 1, 1}},
			"loaded, identity":      {{0}, {1}},
		}
		for _, m := range []Method{"", None, Unit, Standardize, MinMax, "loaded, offset -0", "loaded, offsets +0 -0", "loaded, identity"} {
			var norm *Normalizer
			switch p, ok := loaded[string(m)]; {
			case ok:
				var err error
				if norm, err = NewNormalizer(MinMax, p[0], p[1], f); err != nil {
					t.Fatal(err)
				}
			case m != "":
				norm, _ = Fit(All(ds), m)
			}
			pos := []int{1, 0}
			x32 := make([]float32, len(pos)*f)
			x64 := make([]float64, len(pos)*f)
			FillBatch(All(ds), pos, norm, x32, nil, nil)
			FillBatch(All(ds), pos, norm, x64, nil, nil)
			for k, p := range pos {
				for j := 0; j < f; j++ {
					v := get(p*f + j)
					if norm != nil {
						v = (v - norm.Offset[j]) * norm.Scale[j]
					}
					if g := x64[k*f+j]; math.Float64bits(g) != math.Float64bits(v) {
						t.Errorf("%s storage, %q: float64 batch[%d][%d] = %g, want %g", store, m, k, j, g, v)
					}
					if g, w := x32[k*f+j], float32(v); math.Float32bits(g) != math.Float32bits(w) {
						t.Errorf("%s storage, %q: float32 batch[%d][%d] = %g, want %g", store, m, k, j, g, w)
					}
				}
			}
		}
	}
}

func TestFillBatchAllocatesNothing(t *testing.T) {
	ds := &Dataset{Source: "big", Shape: []int{1, 28, 28}, N: 256, U8: make([]uint8, 256*784), Labels: make([]int32, 256), NumClasses: 10}
	s := All(ds)
	norm, _ := Fit(s, Standardize)
	pos := make([]int, s.Len())
	s.Order(pos, 1, 1)
	x32 := make([]float32, 64*784)
	x64 := make([]float64, 64*784)
	labels := make([]int32, 64)
	fs := All(&Dataset{Source: "floats", Shape: []int{784}, N: 256, F32: make([]float32, 256*784), Labels: make([]int32, 256), NumClasses: 10})
	fnorm, _ := Fit(fs, None)
	for name, f := range map[string]func(){
		"float32 normalised":  func() { FillBatch(s, pos[:64], norm, x32, labels, nil) },
		"float64 normalised":  func() { FillBatch(s, pos[64:128], norm, x64, labels, nil) },
		"float32 raw":         func() { FillBatch(s, pos[:64], nil, x32, labels, nil) },
		"float32 rows copied": func() { FillBatch(fs, pos[:64], fnorm, x32, labels, nil) },
		"float64 rows copied": func() { FillBatch(fs, pos[:64], fnorm, x64, labels, nil) },
	} {
		if allocs := testing.AllocsPerRun(20, f); allocs != 0 {
			t.Errorf("%s: %v allocations per call", name, allocs)
		}
	}
}

func TestFillBatchPanics(t *testing.T) {
	ds := twoFeatures()
	s := All(ds)
	tests := []struct {
		name string
		call func()
		want string
	}{
		{"short x", func() { FillBatch(s, []int{0, 1}, nil, make([]float32, 3), nil, nil) }, "x has length 3, want 2 samples x 2 features"},
		{"targets of a classification set", func() { FillBatch(s, []int{0}, nil, make([]float32, 2), nil, make([]float32, 1)) }, "targets has length 1"},
		{"wrong normalizer", func() { FillBatch(s, []int{0}, &Normalizer{}, make([]float32, 2), nil, nil) }, "normalizer has 0 offsets"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if msg, _ := r.(string); !strings.Contains(msg, tt.want) {
					t.Errorf("panic %v, want %q", r, tt.want)
				}
			}()
			tt.call()
		})
	}
}

func BenchmarkFillBatchMNIST(b *testing.B) {
	ds := &Dataset{Source: "b", Shape: []int{1, 28, 28}, N: 1024, U8: make([]uint8, 1024*784), Labels: make([]int32, 1024), NumClasses: 10}
	s := All(ds)
	norm, _ := Fit(s, Unit)
	pos := make([]int, s.Len())
	s.Order(pos, 1, 1)
	x := make([]float32, 128*784)
	labels := make([]int32, 128)
	b.ReportAllocs()
	for b.Loop() {
		FillBatch(s, pos[:128], norm, x, labels, nil)
	}
}

// BenchmarkFillBatchMNIST60k fills batches of 64 in a shuffled order from a
// data set of MNIST's size (47 MB of bytes), so that most rows come from
// memory rather than cache, as in training.
func BenchmarkFillBatchMNIST60k(b *testing.B) {
	const n, f = 60000, 784
	ds := &Dataset{Source: "b", Shape: []int{1, 28, 28}, N: n, U8: make([]uint8, n*f), Labels: make([]int32, n), NumClasses: 10}
	for i := range ds.U8 {
		ds.U8[i] = uint8(i * 7)
	}
	s := All(ds)
	norm, _ := Fit(s, Unit)
	pos := make([]int, s.Len())
	s.Order(pos, 1, 1)
	x := make([]float32, 64*f)
	labels := make([]int32, 64)
	b.ReportAllocs()
	off := 0
	for b.Loop() {
		FillBatch(s, pos[off:off+64], norm, x, labels, nil)
		if off += 64; off+64 > n {
			off = 0
		}
	}
}

// TestFillBatchLUTSameBits: with one offset and scale for every feature
// (the byte lookup table set), FillBatch's row conversion
// (simd.BytesAffine) gives exactly the values the per-feature formula
// gives.
func TestFillBatchLUTSameBits(t *testing.T) {
	ds := &Dataset{Source: "t", Shape: []int{256}, N: 1, U8: make([]uint8, 256), Labels: []int32{0}, NumClasses: 1}
	for v := range ds.U8 {
		ds.U8[v] = uint8(v)
	}
	all := All(ds)
	for _, m := range []Method{Unit, None} {
		n, err := Fit(all, m)
		if err != nil {
			t.Fatal(err)
		}
		if n.byteLUT == nil {
			t.Fatalf("%s: no lookup table", m)
		}
		slow := *n
		slow.byteLUT = nil
		a, b := make([]float32, 256), make([]float32, 256)
		FillBatch(all, []int{0}, n, a, nil, nil)
		FillBatch(all, []int{0}, &slow, b, nil, nil)
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("%s: byte %d: %v with the table, %v without", m, i, a[i], b[i])
			}
		}
	}
}
