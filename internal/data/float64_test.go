package data

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nettrain/nettrain/internal/safetensors"
)

// TestFloat64KeepsValues: with Float64, CSV cells, safetensors float
// tensors and series values reach the batch exactly as
// strconv.ParseFloat(.., 64) reads them (or as stored); without it they
// are float32, so byte and float32 data sets stay compact.
func TestFloat64KeepsValues(t *testing.T) {
	const a, b, y = 0.12345678912345678, -3.3333333333333335, 2.718281828459045
	src := "0.12345678912345678,-3.3333333333333335,2.718281828459045\n"
	for _, f64 := range []bool{false, true} {
		ds, err := ParseCSV("d.csv", strings.NewReader(src), CSVOptions{Header: HeaderAbsent, Task: Regression, Float64: f64})
		if err != nil {
			t.Fatal(err)
		}
		if (ds.F64 != nil) != f64 || (ds.F32 != nil) == f64 || (ds.Targets64 != nil) != f64 {
			t.Fatalf("Float64 %v: F32 %v F64 %v Targets %v Targets64 %v", f64, ds.F32, ds.F64, ds.Targets, ds.Targets64)
		}
		x, tg := make([]float64, 2), make([]float64, 1)
		FillBatch(All(ds), []int{0}, nil, x, nil, tg)
		want, wantY := []float64{a, b}, []float64{y}
		if !f64 {
			want, wantY = []float64{float64(float32(a)), float64(float32(b))}, []float64{float64(float32(y))}
		}
		if !slices.Equal(x, want) || !slices.Equal(tg, wantY) {
			t.Errorf("Float64 %v: batch %v %v, want %v %v", f64, x, tg, want, wantY)
		}
		n, err := Fit(All(ds), Standardize)
		if err != nil || n.Offset[0] != want[0] {
			t.Errorf("Float64 %v: standardize offset %v (%v), want %v", f64, n.Offset, err, want[0])
		}
	}

	dir := t.TempDir()
	p := filepath.Join(dir, "d.safetensors")
	err := safetensors.Write(p, []safetensors.Tensor{
		{Name: "x", Shape: []int{1, 2}, Data: []float64{a, b}},
		{Name: "y", Shape: []int{1}, Data: []float64{y}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := Load(p, LoadOptions{Float64: true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ds.F64, []float64{a, b}) || !slices.Equal(ds.Targets64, []float64{y}) || ds.Target(0) != y {
		t.Errorf("safetensors: F64 %v Targets64 %v", ds.F64, ds.Targets64)
	}
	if v := ds.Slice(0, 1); v.N != 1 || !slices.Equal(v.F64, ds.F64) {
		t.Errorf("Slice: %+v", v)
	}

	series := "a\n" + strings.Repeat("0.12345678912345678\n-3.3333333333333335\n", 3)
	o := DefaultSeqOptions(SeqSeries, 2)
	o.Float64 = true
	seq, tr, _, err := ParseSeriesCSV("s.csv", strings.NewReader(series), o)
	if err != nil {
		t.Fatal(err)
	}
	xs, ts := make([]float64, 2), make([]float64, 1)
	FillWindows(tr, []int{0}, xs, nil, ts)
	if !slices.Equal(xs, []float64{a, b}) || ts[0] != a || seq.Value(1, 0) != b {
		t.Errorf("series: window %v target %v", xs, ts)
	}
	o.Difference = true
	seq, _, _, err = ParseSeriesCSV("s.csv", strings.NewReader(series), o)
	if err != nil {
		t.Fatal(err)
	}
	if d := seq.Value(0, 0); d != b-a || seq.Level(0, 0) != b {
		t.Errorf("differenced series: change %v level %v, want %v %v", d, seq.Level(0, 0), b-a, b)
	}
}
