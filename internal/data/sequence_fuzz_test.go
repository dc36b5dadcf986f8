package data

import (
	"math"
	"strings"
	"testing"
)

// FuzzSeriesCSV checks that no input makes the series reader panic, under
// a few option sets, and that what it accepts is consistent: values for
// every stored column of every row, windows within their regions and
// apart, and finite inputs and targets for every window. With mode >= 128
// the options carry a limit of 256 bytes, which what it accepts must fit;
// errors must be one line naming the file. The seed corpus is in
// testdata/fuzz/FuzzSeriesCSV.
func FuzzSeriesCSV(f *testing.F) {
	f.Add("t,x\n1,2\n3,4\n5,6\n", uint8(0))
	f.Add("a,b,c\n1,2,3\n4,5,6\n7,8,9\n10,11,12\n13,14,15\n16,17,18\n", uint8(1))
	f.Add("a,b,c\n1,2,3\n4,5,6\n7,8,9\n10,11,12\n13,14,15\n16,17,18\n", uint8(129))
	f.Add("t,x\n1,2\n3,\"4\n5,6\n", uint8(128))
	f.Fuzz(func(t *testing.T, in string, mode uint8) {
		opts := []SeqOptions{
			DefaultSeqOptions(SeqSeries, 1),
			{Window: 2, Stride: 1, Horizon: 1, Target: TargetSequence, Validation: 0.5, Normalize: Standardize},
			{Window: 1, Stride: 2, Horizon: 2, Target: TargetNext, Validation: 0.3, Inputs: []string{"a"}, Targets: []string{"b", "c"}, Normalize: MinMax},
			{Window: 3, Stride: 1, Horizon: 1, Target: TargetNext, Inputs: []string{"x"}, Normalize: None},
		}[mode%4]
		if mode >= 128 {
			opts.MaxBytes, opts.LimitName = 256, "the fuzz limit"
		}
		seq, train, val, err := ParseSeriesCSV("fuzz.csv", strings.NewReader(in), opts)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.csv") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line naming the file: %q", err)
			}
			return
		}
		if opts.MaxBytes > 0 && int64(4*len(seq.values)) > opts.MaxBytes {
			t.Fatalf("accepted %d values with a limit of %d bytes", len(seq.values), opts.MaxBytes)
		}
		c := len(seq.Columns)
		if seq.N < 2 || len(seq.values) != seq.N*c || len(seq.Norm.Offset) != c || len(seq.Norm.Scale) != c {
			t.Fatalf("%d rows, %d columns, %d values, %d offsets, %d scales", seq.N, c, len(seq.values), len(seq.Norm.Offset), len(seq.Norm.Scale))
		}
		if train.Len() == 0 || (opts.Validation > 0) != (val.Len() > 0) {
			t.Fatalf("%d training and %d validation windows with validation %v", train.Len(), val.Len(), opts.Validation)
		}
		need := opts.Window + opts.Horizon
		if train.Len() > 0 && val.Len() > 0 {
			_, thi := train.Span(train.Len() - 1)
			vlo, _ := val.Span(0)
			if vlo-thi < need-1 || thi > seq.TrainEnd || vlo < seq.ValStart {
				t.Fatalf("training windows end at %d, validation windows start at %d (regions [0, %d), [%d, %d))", thi, vlo, seq.TrainEnd, seq.ValStart, seq.N)
			}
		}
		for _, w := range []Windows{train, val} {
			if w.Len() == 0 {
				continue
			}
			if _, hi := w.Span(w.Len() - 1); hi > seq.N {
				t.Fatalf("window %d ends at %d, past the %d rows", w.Len()-1, hi, seq.N)
			}
			x := make([]float64, w.Len()*seq.InputLen())
			targets := make([]float64, w.Len()*seq.TargetLen())
			FillWindows(w, Sequential(w.Len()), x, nil, targets)
			for _, v := range append(x, targets...) {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("a window holds %v", v)
				}
			}
		}
	})
}
