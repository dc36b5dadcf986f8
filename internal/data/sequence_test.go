package data

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// seqOpts returns DefaultSeqOptions with the given window and a few
// changes.
func seqOpts(kind SeqKind, window int, change func(*SeqOptions)) SeqOptions {
	o := DefaultSeqOptions(kind, window)
	if change != nil {
		change(&o)
	}
	return o
}

// uniqueText returns n characters, all different and increasing
// (U+0100 + position), so that token ids reveal positions: with every
// character of [0, trainEnd) in the vocabulary, position p < trainEnd has
// id p+1 and every later position is <unk>.
func uniqueText(n int) []byte {
	b := make([]byte, 0, 2*n)
	for p := range n {
		b = utf8.AppendRune(b, rune(0x100+p))
	}
	return b
}

// positionCSV returns a series of n rows whose column a holds the
// position and column b 1000 plus the position.
func positionCSV(n int) string {
	var sb strings.Builder
	sb.WriteString("a,b\n")
	for p := range n {
		fmt.Fprintf(&sb, "%d,%d\n", p, 1000+p)
	}
	return sb.String()
}

// wantStarts lists the starts of the windows that fit in [lo, hi), found
// by brute force.
func wantStarts(lo, hi, window, stride, horizon int) []int {
	var starts []int
	for s := lo; s+window+horizon <= hi; s += stride {
		starts = append(starts, s)
	}
	return starts
}

func starts(w Windows) []int {
	var s []int
	for i := range w.Len() {
		s = append(s, w.Start(i))
	}
	return s
}

// TestSequenceNoLeakage is the leakage test: for each choice of window,
// stride, horizon, target and validation fraction, on a text and on a
// series, the windows are exactly those that fit each region, lie within
// the sequence, and the spans of validation and training windows are
// disjoint and at least W+H-1 apart; the text vocabulary holds exactly the
// training characters, and filled windows hold exactly their positions.
func TestSequenceNoLeakage(t *testing.T) {
	tests := []struct {
		n, window, stride, horizon int
		target                     SeqTarget
		v                          float64
	}{
		{20, 3, 1, 1, TargetNext, 0.25},
		{20, 3, 1, 1, TargetSequence, 0.25},
		{20, 2, 5, 1, TargetNext, 0.3},         // stride > window
		{12, 2, 100, 1, TargetSequence, 0.25},  // stride > region
		{30, 4, 2, 3, TargetSequence, 0.5},     // horizon > 1, half validation
		{30, 4, 2, 3, TargetNext, 0.5},         //
		{100, 5, 1, 5, TargetNext, 0.1},        // horizon = window
		{50, 7, 3, 2, TargetSequence, 0.2},     //
		{2, 1, 1, 1, TargetNext, 0},            // tiny, no validation
		{5, 1, 1, 1, TargetSequence, 0.4},      // tiny: one window each side
		{10, 9, 1, 1, TargetNext, 0},           // one window in all
		{41, 3, 4, 2, TargetSequence, 0.33333}, // odd sizes
	}
	for _, tt := range tests {
		name := fmt.Sprintf("n=%d,W=%d,S=%d,H=%d,%s,v=%v", tt.n, tt.window, tt.stride, tt.horizon, tt.target, tt.v)
		opts := SeqOptions{Window: tt.window, Stride: tt.stride, Horizon: tt.horizon, Target: tt.target, Validation: tt.v, Normalize: None}
		// The regions, from the definition.
		cut, trainEnd := tt.n, tt.n
		if tt.v > 0 {
			cut = tt.n - int(math.Round(tt.v*float64(tt.n)))
			trainEnd = cut - (tt.window + tt.horizon - 1)
		}
		wantTrain := wantStarts(0, trainEnd, tt.window, tt.stride, tt.horizon)
		wantVal := wantStarts(cut, tt.n, tt.window, tt.stride, tt.horizon)
		if len(wantTrain) == 0 || (tt.v > 0) != (len(wantVal) > 0) {
			t.Fatalf("%s: bad test case: %d training and %d validation windows", name, len(wantTrain), len(wantVal))
		}
		check := func(t *testing.T, seq *Sequence, train, val Windows) {
			t.Helper()
			if seq.N != tt.n || seq.TrainEnd != trainEnd || seq.ValStart != cut {
				t.Fatalf("N, TrainEnd, ValStart = %d, %d, %d; want %d, %d, %d", seq.N, seq.TrainEnd, seq.ValStart, tt.n, trainEnd, cut)
			}
			if got := starts(train); !slices.Equal(got, wantTrain) {
				t.Errorf("training windows start at %v, want %v", got, wantTrain)
			}
			if got := starts(val); !slices.Equal(got, wantVal) {
				t.Errorf("validation windows start at %v, want %v", got, wantVal)
			}
			for _, c := range []struct {
				w      Windows
				lo, hi int
			}{{train, 0, trainEnd}, {val, cut, tt.n}} {
				for i := range c.w.Len() {
					lo, hi := c.w.Span(i)
					if lo < c.lo || hi > c.hi || hi-lo != tt.window+tt.horizon {
						t.Errorf("window %d spans [%d, %d), outside its region [%d, %d) or not %d long", i, lo, hi, c.lo, c.hi, tt.window+tt.horizon)
					}
				}
			}
			for i := range train.Len() {
				tlo, thi := train.Span(i)
				for j := range val.Len() {
					vlo, vhi := val.Span(j)
					if tlo < vhi && vlo < thi {
						t.Errorf("training window %d [%d, %d) overlaps validation window %d [%d, %d)", i, tlo, thi, j, vlo, vhi)
					}
					if vlo-thi < tt.window+tt.horizon-1 {
						t.Errorf("training window %d [%d, %d) is within %d of validation window %d [%d, %d)", i, tlo, thi, tt.window+tt.horizon-1, j, vlo, vhi)
					}
				}
			}
		}

		t.Run("text/"+name, func(t *testing.T) {
			seq, train, val, err := ParseText("u.txt", uniqueText(tt.n), opts)
			if err != nil {
				t.Fatal(err)
			}
			check(t, seq, train, val)
			// The vocabulary is exactly the characters of [0, trainEnd).
			want := []string{UnknownToken}
			for p := range trainEnd {
				want = append(want, string(rune(0x100+p)))
			}
			if !slices.Equal(seq.Vocab, want) {
				t.Errorf("vocabulary %q, want %q", seq.Vocab, want)
			}
			// Training windows hold ids p+1 of their positions p; every
			// validation position is <unk>.
			idOf := func(p, region int) int32 {
				if region == 0 {
					return int32(p + 1)
				}
				return 0
			}
			for region, w := range []Windows{train, val} {
				x := make([]float64, w.Len()*seq.InputLen())
				labels := make([]int32, w.Len()*seq.TargetLen())
				FillWindows(w, Sequential(w.Len()), x, labels, nil)
				W, H := tt.window, tt.horizon
				for k := range w.Len() {
					s := w.Start(k)
					for j := range W {
						if want := idOf(s+j, region); x[k*W+j] != float64(want) {
							t.Fatalf("region %d window %d input %d: %v, want %d", region, k, j, x[k*W+j], want)
						}
						if tt.target == TargetSequence {
							if want := idOf(s+H+j, region); labels[k*W+j] != want {
								t.Fatalf("region %d window %d label %d: %d, want %d", region, k, j, labels[k*W+j], want)
							}
						}
					}
					if want := idOf(s+W-1+H, region); tt.target == TargetNext && labels[k] != want {
						t.Fatalf("region %d window %d label: %d, want %d", region, k, labels[k], want)
					}
				}
			}
		})

		t.Run("series/"+name, func(t *testing.T) {
			o := opts
			o.Inputs, o.Targets = []string{"b", "a"}, []string{"a"}
			seq, train, val, err := ParseSeriesCSV("p.csv", strings.NewReader(positionCSV(tt.n)), o)
			if err != nil {
				t.Fatal(err)
			}
			check(t, seq, train, val)
			W, H := tt.window, tt.horizon
			for region, w := range []Windows{train, val} {
				x := make([]float32, w.Len()*seq.InputLen())
				targets := make([]float32, w.Len()*seq.TargetLen())
				FillWindows(w, Sequential(w.Len()), x, nil, targets)
				for k := range w.Len() {
					s := w.Start(k)
					for j := range W {
						if got, want := x[2*(k*W+j):2*(k*W+j+1)], []float32{float32(1000 + s + j), float32(s + j)}; !slices.Equal(got, want) {
							t.Fatalf("region %d window %d step %d: inputs %v, want %v", region, k, j, got, want)
						}
						if want := float32(s + H + j); tt.target == TargetSequence && targets[k*W+j] != want {
							t.Fatalf("region %d window %d step %d: target %v, want %v", region, k, j, targets[k*W+j], want)
						}
					}
					if want := float32(s + W - 1 + H); tt.target == TargetNext && targets[k] != want {
						t.Fatalf("region %d window %d: target %v, want %v", region, k, targets[k], want)
					}
				}
			}
		})
	}
}

// TestParseTextFill checks a tiny text by hand.
func TestParseTextFill(t *testing.T) {
	// h0 e1 l2 l3 o4 ,5 _6 w7 o8 r9 l10 d11 !12; 13 positions, W=3, H=1,
	// v=0.3: 4 validation positions from 9 ("rld!"), a gap of 3, so the
	// training region is [0, 6) "hello,". Vocabulary: <unk> , e h l o.
	text := []byte("hello, world!")
	tests := []struct {
		target      SeqTarget
		trainLabels []int32
		valLabels   []int32
	}{
		{TargetNext, []int32{4, 1}, []int32{0}},                       // l ,  | !
		{TargetSequence, []int32{2, 4, 4, 4, 5, 1}, []int32{4, 0, 0}}, // e l l, l o , | l d !
	}
	for _, tt := range tests {
		t.Run(string(tt.target), func(t *testing.T) {
			opts := seqOpts(SeqText, 3, func(o *SeqOptions) { o.Stride, o.Validation, o.Target = 2, 0.3, tt.target })
			seq, train, val, err := ParseText("h.txt", text, opts)
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"<unk>", ",", "e", "h", "l", "o"}; !slices.Equal(seq.Vocab, want) {
				t.Errorf("vocabulary %q, want %q", seq.Vocab, want)
			}
			if seq.NumClasses() != 6 || !slices.Equal(seq.InputShape(), []int{3}) {
				t.Errorf("NumClasses %d, InputShape %v", seq.NumClasses(), seq.InputShape())
			}
			if train.Len() != 2 || val.Len() != 1 {
				t.Fatalf("%d training and %d validation windows, want 2 and 1", train.Len(), val.Len())
			}
			x := make([]float32, 2*3)
			labels := make([]int32, 2*seq.TargetLen())
			FillWindows(train, []int{0, 1}, x, labels, nil)
			if want := []float32{3, 2, 4, 4, 4, 5}; !slices.Equal(x, want) { // h e l, l l o
				t.Errorf("training inputs %v, want %v", x, want)
			}
			if !slices.Equal(labels, tt.trainLabels) {
				t.Errorf("training labels %v, want %v", labels, tt.trainLabels)
			}
			x, labels = x[:3], labels[:seq.TargetLen()]
			FillWindows(val, []int{0}, x, labels, nil)
			if want := []float32{0, 4, 0}; !slices.Equal(x, want) { // r l d: r and d are <unk>
				t.Errorf("validation inputs %v, want %v", x, want)
			}
			if !slices.Equal(labels, tt.valLabels) {
				t.Errorf("validation labels %v, want %v", labels, tt.valLabels)
			}
			// A window's order does not matter: window 1 then window 0.
			x = make([]float32, 6)
			FillWindows(train, []int{1, 0}, x, nil, nil)
			if want := []float32{4, 4, 5, 3, 2, 4}; !slices.Equal(x, want) {
				t.Errorf("inputs of windows 1, 0: %v, want %v", x, want)
			}
		})
	}
}

func TestTextEncodeDecode(t *testing.T) {
	seq, _, _, err := ParseText("h.txt", []byte("hello, world!"), seqOpts(SeqText, 3, func(o *SeqOptions) { o.Validation = 0.3 }))
	if err != nil {
		t.Fatal(err)
	}
	ids := seq.Encode("hello?")
	if want := []int32{3, 2, 4, 4, 5, 0}; !slices.Equal(ids, want) {
		t.Errorf("Encode: %v, want %v", ids, want)
	}
	if got, want := seq.Decode(ids), "hello\uFFFD"; got != want {
		t.Errorf("Decode: %q, want %q", got, want)
	}
	for p, want := range []int32{3, 2, 4, 4, 5, 1, 0, 0, 5, 0, 4, 0, 0} { // "hello, world!"
		if got := seq.Token(p); got != want {
			t.Errorf("Token(%d) = %d, want %d", p, got, want)
		}
	}
}

// TestParseTextUTF8 checks the byte order mark, invalid bytes and
// multi-byte characters.
func TestParseTextUTF8(t *testing.T) {
	// BOM (dropped), a, é, b, €, then on line 2 a bad byte.
	good := "\ufeffa\u00e9b\u20ac"
	seq, train, _, err := ParseText("u.txt", []byte(good+"ab"), seqOpts(SeqText, 2, nil))
	if err != nil {
		t.Fatal(err)
	}
	if seq.N != 6 || train.Len() != 4 {
		t.Errorf("N = %d with %d windows, want 6 and 4", seq.N, train.Len())
	}
	if want := []string{"<unk>", "a", "b", "\u00e9", "\u20ac"}; !slices.Equal(seq.Vocab, want) {
		t.Errorf("vocabulary %q, want %q", seq.Vocab, want)
	}
	for p, want := range []int32{1, 3, 2, 4, 1, 2} {
		if got := seq.Token(p); got != want {
			t.Errorf("Token(%d) = %d, want %d", p, got, want)
		}
	}
	// Bytes that are not UTF-8 (each would read as U+FFFD) are refused at
	// their line and column, in characters.
	for _, c := range []struct{ text, want string }{
		{good + "\nxy\xffz", "u.txt:2:3: byte 0xff is not UTF-8"},
		{"a\xe2\x82b", "u.txt:1:2: byte 0xe2 is not UTF-8"}, // a truncated €
		{"\xfe", "u.txt:1:1: byte 0xfe is not UTF-8"},
	} {
		if _, _, _, err := ParseText("u.txt", []byte(c.text), seqOpts(SeqText, 1, nil)); err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.text, err, c.want)
		}
	}
}

// tinySeries has 8 rows; t is not numeric-looking in spirit (a time
// stamp) and is never stored.
const tinySeries = "t,x,y\n" +
	"2024-01,1,10\n2024-02,2,20\n2024-03,3,30\n2024-04,4,40\n" +
	"2024-05,5,50\n2024-06,6,60\n2024-07,7,70\n2024-08,8,80\n"

// TestParseSeriesFill checks a tiny series by hand: 8 rows, W=2, H=1,
// v=0.375: 3 validation rows from 5, a gap of 2, so the training region
// is rows [0, 3), where x is 1..3 and y 10..30.
func TestParseSeriesFill(t *testing.T) {
	tests := []struct {
		target              SeqTarget
		trainTgt, valTgt    []float64
		targetShape         []int
		wantTrain, wantVals int
	}{
		// minmax: x' = (x-1)/2, y' = (y-10)/20.
		{TargetNext, []float64{1}, []float64{3.5}, []int{1}, 1, 1},                // y row 2 | y row 7
		{TargetSequence, []float64{0.5, 1}, []float64{3, 3.5}, []int{2, 1}, 1, 1}, // y rows 1, 2 | 6, 7
	}
	for _, tt := range tests {
		t.Run(string(tt.target), func(t *testing.T) {
			opts := seqOpts(SeqSeries, 2, func(o *SeqOptions) {
				o.Validation, o.Target, o.Normalize = 0.375, tt.target, MinMax
				o.Inputs, o.Targets = []string{"x", "y"}, []string{"y"}
			})
			seq, train, val, err := ParseSeriesCSV("s.csv", strings.NewReader(tinySeries), opts)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(seq.Columns, []string{"x", "y"}) || !slices.Equal(seq.In, []int{0, 1}) || !slices.Equal(seq.Out, []int{1}) {
				t.Errorf("Columns %q, In %v, Out %v", seq.Columns, seq.In, seq.Out)
			}
			if seq.N != 8 || seq.TrainEnd != 3 || seq.ValStart != 5 || train.Len() != tt.wantTrain || val.Len() != tt.wantVals {
				t.Fatalf("N %d, regions [0, %d) [%d, 8), %d and %d windows", seq.N, seq.TrainEnd, seq.ValStart, train.Len(), val.Len())
			}
			if !slices.Equal(seq.InputShape(), []int{2, 2}) || !slices.Equal(seq.TargetShape(), tt.targetShape) || seq.NumClasses() != 0 {
				t.Errorf("InputShape %v, TargetShape %v, NumClasses %d", seq.InputShape(), seq.TargetShape(), seq.NumClasses())
			}
			if want := (&Normalizer{Method: MinMax, Offset: []float64{1, 10}, Scale: []float64{0.5, 0.05}}); !reflect.DeepEqual(seq.Norm, want) {
				t.Errorf("Norm %+v, want %+v (fitted on rows 0-2 only)", seq.Norm, want)
			}
			x := make([]float64, seq.InputLen())
			targets := make([]float64, seq.TargetLen())
			FillWindows(train, []int{0}, x, nil, targets)
			if want := []float64{0, 0, 0.5, 0.5}; !slices.Equal(x, want) { // rows 0, 1
				t.Errorf("training inputs %v, want %v", x, want)
			}
			if !slices.Equal(targets, tt.trainTgt) {
				t.Errorf("training targets %v, want %v", targets, tt.trainTgt)
			}
			FillWindows(val, []int{0}, x, nil, targets)
			if want := []float64{2.5, 2.5, 3, 3}; !slices.Equal(x, want) { // rows 5, 6
				t.Errorf("validation inputs %v, want %v", x, want)
			}
			if !slices.Equal(targets, tt.valTgt) {
				t.Errorf("validation targets %v, want %v", targets, tt.valTgt)
			}
			if got := seq.Denormalize(seq.Out[0], 3.5); got != 80 {
				t.Errorf("Denormalize(y, 3.5) = %v, want 80", got)
			}
			if got := seq.Value(7, 1); got != 80 {
				t.Errorf("Value(7, y) = %v, want 80", got)
			}
		})
	}
}

// TestSeriesNormalizeTrainingOnly checks that every method is fitted on
// the training region, not on the whole series.
func TestSeriesNormalizeTrainingOnly(t *testing.T) {
	sd := math.Sqrt(2.0 / 3) // population std of 1, 2, 3
	tests := []struct {
		method        Method
		offset, scale []float64
	}{
		{None, []float64{0, 0}, []float64{1, 1}},
		{Unit, []float64{0, 0}, []float64{1, 1}},
		{MinMax, []float64{1, 10}, []float64{0.5, 0.05}},
		{Standardize, []float64{2, 20}, []float64{1 / sd, 1 / (10 * sd)}},
	}
	for _, tt := range tests {
		t.Run(string(tt.method), func(t *testing.T) {
			opts := seqOpts(SeqSeries, 2, func(o *SeqOptions) {
				o.Validation, o.Normalize, o.Inputs = 0.375, tt.method, []string{"x", "y"}
			})
			seq, _, _, err := ParseSeriesCSV("s.csv", strings.NewReader(tinySeries), opts)
			if err != nil {
				t.Fatal(err)
			}
			n := seq.Norm
			for j := range 2 {
				if math.Abs(n.Offset[j]-tt.offset[j]) > 1e-12 || math.Abs(n.Scale[j]-tt.scale[j]) > 1e-12 {
					t.Errorf("column %d: offset %v scale %v, want %v and %v", j, n.Offset[j], n.Scale[j], tt.offset[j], tt.scale[j])
				}
				if v := 42.0; math.Abs(seq.Denormalize(j, (v-n.Offset[j])*n.Scale[j])-v) > 1e-12 {
					t.Errorf("column %d: Denormalize does not invert the normalisation", j)
				}
			}
		})
	}
}

// TestSeriesColumns checks the default columns and the column order.
func TestSeriesColumns(t *testing.T) {
	in := "a,b,c\n1,2,3\n4,5,6\n7,8,9\n"
	tests := []struct {
		inputs, targets []string
		columns         []string
		ins, outs       []int
		x, target       []float32 // window 0, W=1, H=1, target next
	}{
		{nil, nil, []string{"a", "b", "c"}, []int{0, 1, 2}, []int{0, 1, 2}, []float32{1, 2, 3}, []float32{4, 5, 6}},
		{[]string{"c", "a"}, nil, []string{"a", "c"}, []int{1, 0}, []int{1, 0}, []float32{3, 1}, []float32{6, 4}},
		{[]string{" c"}, []string{"b", "c"}, []string{"b", "c"}, []int{1}, []int{0, 1}, []float32{3}, []float32{5, 6}},
		{nil, []string{"b"}, []string{"a", "b", "c"}, []int{0, 1, 2}, []int{1}, []float32{1, 2, 3}, []float32{5}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.inputs, tt.targets), func(t *testing.T) {
			opts := seqOpts(SeqSeries, 1, func(o *SeqOptions) { o.Inputs, o.Targets = tt.inputs, tt.targets })
			seq, train, _, err := ParseSeriesCSV("c.csv", strings.NewReader(in), opts)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(seq.Columns, tt.columns) || !slices.Equal(seq.In, tt.ins) || !slices.Equal(seq.Out, tt.outs) {
				t.Errorf("Columns %q In %v Out %v, want %q %v %v", seq.Columns, seq.In, seq.Out, tt.columns, tt.ins, tt.outs)
			}
			if seq.StorageBytes() != 4*3*len(tt.columns) {
				t.Errorf("stores %d bytes, want %d", seq.StorageBytes(), 4*3*len(tt.columns))
			}
			x, target := make([]float32, len(tt.x)), make([]float32, len(tt.target))
			FillWindows(train, []int{0}, x, nil, target)
			if !slices.Equal(x, tt.x) || !slices.Equal(target, tt.target) {
				t.Errorf("window 0: %v -> %v, want %v -> %v", x, target, tt.x, tt.target)
			}
		})
	}
}

// TestFillWindowsAllocs checks that filling a batch allocates nothing.
func TestFillWindowsAllocs(t *testing.T) {
	text, _, _, err := ParseText("a.txt", []byte(strings.Repeat("abcdefgh", 40)), seqOpts(SeqText, 16, func(o *SeqOptions) { o.Target = TargetSequence }))
	if err != nil {
		t.Fatal(err)
	}
	wide, _, _, err := ParseText("w.txt", wideText(1<<16+10), seqOpts(SeqText, 16, nil))
	if err != nil {
		t.Fatal(err)
	}
	series, _, _, err := ParseSeriesCSV("p.csv", strings.NewReader(positionCSV(300)), seqOpts(SeqSeries, 16, func(o *SeqOptions) {
		o.Normalize, o.Target = Standardize, TargetSequence
	}))
	if err != nil {
		t.Fatal(err)
	}
	const batch = 8
	pos := []int{7, 3, 0, 100, 50, 9, 11, 2}
	for _, seq := range []*Sequence{text, wide, series} {
		w := seq.WindowsIn(0, seq.TrainEnd)
		x32, t32 := make([]float32, batch*seq.InputLen()), make([]float32, batch*seq.TargetLen())
		x64, t64 := make([]float64, batch*seq.InputLen()), make([]float64, batch*seq.TargetLen())
		labels := make([]int32, batch*seq.TargetLen())
		if seq.Kind == SeqText {
			t32, t64 = nil, nil
		} else {
			labels = nil
		}
		if n := testing.AllocsPerRun(100, func() { FillWindows(w, pos, x32, labels, t32) }); n != 0 {
			t.Errorf("%s: FillWindows[float32] allocates %v times", seq.Source, n)
		}
		if n := testing.AllocsPerRun(100, func() { FillWindows(w, pos, x64, labels, t64) }); n != 0 {
			t.Errorf("%s: FillWindows[float64] allocates %v times", seq.Source, n)
		}
	}
}

// wideText returns n distinct characters from U+10000 up, so the
// vocabulary has n+1 tokens.
func wideText(n int) []byte {
	b := make([]byte, 0, 4*n)
	for p := range n {
		b = utf8.AppendRune(b, rune(0x10000+p))
	}
	return b
}

// TestTextStorage checks the id width: uint16 up to 65536 tokens, int32
// beyond.
func TestTextStorage(t *testing.T) {
	for _, n := range []int{1<<16 - 1, 1 << 16} { // 65536 and 65537 tokens with <unk>
		seq, train, _, err := ParseText("w.txt", wideText(n), seqOpts(SeqText, 4, nil))
		if err != nil {
			t.Fatal(err)
		}
		perPos := 2
		if len(seq.Vocab) > 1<<16 {
			perPos = 4
		}
		if seq.StorageBytes() != perPos*n {
			t.Errorf("%d tokens: %d bytes stored for %d positions, want %d each", len(seq.Vocab), seq.StorageBytes(), n, perPos)
		}
		x := make([]float32, 4)
		labels := make([]int32, 1)
		FillWindows(train, []int{train.Len() - 1}, x, labels, nil)
		last := float32(len(seq.Vocab) - 1)
		if want := []float32{last - 4, last - 3, last - 2, last - 1}; !slices.Equal(x, want) || labels[0] != int32(last) {
			t.Errorf("%d tokens: last window %v -> %d, want %v -> %v", len(seq.Vocab), x, labels[0], want, last)
		}
		s := string(wideText(n)[4*(n-3):])
		if got := seq.Decode(seq.Encode(s)); got != s {
			t.Errorf("%d tokens: Decode(Encode(%q)) = %q", len(seq.Vocab), s, got)
		}
	}
}

// TestTextMemory loads 10 MB of text with W = 256 and stride 1: about 10
// million windows, 2.5 billion window positions, but the sequence is
// stored once, 2 bytes per character, and loading allocates little more.
func TestTextMemory(t *testing.T) {
	const n = 10 << 20
	text := make([]byte, n)
	x := uint32(1)
	for i := range text {
		x = x*1664525 + 1013904223
		text[i] = "abcdefghijklmnopqrstuvwxyz .,\n"[x>>24%30]
	}
	opts := seqOpts(SeqText, 256, func(o *SeqOptions) { o.Validation, o.Target = 0.1, TargetSequence })
	before := totalAlloc()
	seq, train, val, err := ParseText("big.txt", text, opts)
	allocated := totalAlloc() - before
	if err != nil {
		t.Fatal(err)
	}
	if seq.N != n || seq.StorageBytes() != 2*n {
		t.Errorf("%d positions stored in %d bytes, want %d in %d", seq.N, seq.StorageBytes(), n, 2*n)
	}
	if limit := uint64(2*n + 1<<20); allocated > limit {
		t.Errorf("loading allocated %d bytes, want at most %d (2 per character and 1 MiB)", allocated, limit)
	}
	if want := seq.TrainEnd - 257 + 1; train.Len() != want || val.Len() == 0 {
		t.Errorf("%d training windows, want %d; %d validation windows", train.Len(), want, val.Len())
	}
	if len(seq.Vocab) != 31 {
		t.Errorf("vocabulary of %d tokens, want 31", len(seq.Vocab))
	}
}

// TestSequenceErrors checks each error a user can cause, word for word.
func TestSequenceErrors(t *testing.T) {
	text := func(s string, change func(*SeqOptions)) func() error {
		return func() error {
			_, _, _, err := ParseText("t.txt", []byte(s), seqOpts(SeqText, 2, change))
			return err
		}
	}
	series := func(s string, change func(*SeqOptions)) func() error {
		return func() error {
			_, _, _, err := ParseSeriesCSV("s.csv", strings.NewReader(s), seqOpts(SeqSeries, 1, change))
			return err
		}
	}
	ten := "abcdefghij"
	csv := "a,b\n1,2\n3,4\n5,6\n"
	tests := []struct {
		name string
		run  func() error
		want string
	}{
		{"empty text", text("", nil), "t.txt: text file is empty"},
		{"only a byte order mark", text("\ufeff", nil), "t.txt: text file is empty"},
		{"window longer than the text", text("abc", func(o *SeqOptions) { o.Window = 3 }),
			"t.txt: a window of 3 plus a horizon of 1 needs 4 positions, but the sequence has only 3"},
		{"horizon makes it too long", text("abc", func(o *SeqOptions) { o.Window, o.Horizon = 1, 3 }),
			"t.txt: a window of 1 plus a horizon of 3 needs 4 positions, but the sequence has only 3"},
		{"huge window", text("abc", func(o *SeqOptions) { o.Window, o.Horizon = math.MaxInt, math.MaxInt }),
			"t.txt: a window of 9223372036854775807 plus a horizon of 9223372036854775807 needs 18446744073709551614 positions, but the sequence has only 3"},
		{"no training windows", text(ten, func(o *SeqOptions) { o.Validation = 0.6 }),
			"t.txt: validation fraction 0.6 of 10 positions leaves a training region of 2 positions (the 4 before the validation region, less a gap of 2), but a window of 2 plus a horizon of 1 needs 3; lower the fraction or shorten the window"},
		{"no training region at all", text(ten, func(o *SeqOptions) { o.Validation = 0.9 }),
			"t.txt: validation fraction 0.9 of 10 positions leaves a training region of 0 positions (the 1 before the validation region, less a gap of 2), but a window of 2 plus a horizon of 1 needs 3; lower the fraction or shorten the window"},
		{"no validation windows", text(ten, func(o *SeqOptions) { o.Validation = 0.2 }),
			"t.txt: validation fraction 0.2 of 10 positions leaves 2 validation positions, but a window of 2 plus a horizon of 1 needs 3; raise the fraction, shorten the window, or use 0 for no validation"},
		{"validation rounds to nothing", text(ten, func(o *SeqOptions) { o.Validation = 0.01 }),
			"t.txt: validation fraction 0.01 of 10 positions leaves 0 validation positions, but a window of 2 plus a horizon of 1 needs 3; raise the fraction, shorten the window, or use 0 for no validation"},
		{"validation 1", text(ten, func(o *SeqOptions) { o.Validation = 1 }), "t.txt: validation fraction 1 must be at least 0 and less than 1"},
		{"validation negative", text(ten, func(o *SeqOptions) { o.Validation = -0.1 }), "t.txt: validation fraction -0.1 must be at least 0 and less than 1"},
		{"validation NaN", text(ten, func(o *SeqOptions) { o.Validation = math.NaN() }), "t.txt: validation fraction NaN must be at least 0 and less than 1"},
		{"window 0", text(ten, func(o *SeqOptions) { o.Window = 0 }), "t.txt: window 0 must be at least 1"},
		{"stride 0", text(ten, func(o *SeqOptions) { o.Stride = 0 }), "t.txt: stride 0 must be at least 1"},
		{"horizon 0", text(ten, func(o *SeqOptions) { o.Horizon = 0 }), "t.txt: horizon 0 must be at least 1"},
		{"no target", text(ten, func(o *SeqOptions) { o.Target = "" }), `t.txt: unknown target "" (want "next" or "sequence")`},
		{"bad target", text(ten, func(o *SeqOptions) { o.Target = "many" }), `t.txt: unknown target "many" (want "next" or "sequence")`},
		{"columns for a text", text(ten, func(o *SeqOptions) { o.Inputs = []string{"a"} }), "t.txt: inputs and targets name CSV columns; a text sequence has none"},
		{"wrong kind", text(ten, func(o *SeqOptions) { o.Kind = SeqSeries }), `t.txt: sequence kind "series" given to the text reader`},

		{"empty CSV", series("", nil), "s.csv: file is empty"},
		{"header only", series("a,b\n", nil), "s.csv: has 0 data rows after the header; a series needs at least 2"},
		{"one row", series("a,b\n1,2\n", nil), "s.csv: has 1 data rows after the header; a series needs at least 2"},
		{"numeric header", series("1,2\n3,4\n5,6\n", nil), "s.csv:1: the first row (1, 2) holds numbers, but a series CSV needs a header row naming its columns"},
		{"missing input", series(csv, func(o *SeqOptions) { o.Inputs = []string{"a", "z"} }), `s.csv: input column "z" not found (columns: a, b)`},
		{"missing target", series(csv, func(o *SeqOptions) { o.Targets = []string{"Passengers"} }), `s.csv: target column "Passengers" not found (columns: a, b)`},
		{"input named twice", series(csv, func(o *SeqOptions) { o.Inputs = []string{"a", "a"} }), `s.csv: input column "a" is named twice`},
		{"ambiguous", series("a,a\n1,2\n3,4\n", func(o *SeqOptions) { o.Inputs = []string{"a"} }), `s.csv: input column "a" is ambiguous: columns 0 and 1 both have that name`},
		{"non-numeric", series("a,b\n1,2\n3,oops\n", nil), `s.csv:3: column "b" (index 1): "oops" is not a number (inputs default to every column; name the numeric ones)`},
		{"non-numeric named", series("a,b\n1,2\n3,oops\n", func(o *SeqOptions) { o.Inputs = []string{"b"} }), `s.csv:3: column "b" (index 1): "oops" is not a number`},
		{"date column by default", series("Month,Passengers\n1949-01,112\n1949-02,118\n", nil),
			`s.csv:2: column "Month" (index 0): "1949-01" is not a number (inputs default to every column; name the numeric ones)`},
		{"empty cell", series("a,b\n1,2\n3,\n", func(o *SeqOptions) { o.Targets = []string{"b"} }), `s.csv:3: column "b" (index 1): "" is empty; want a number`},
		{"NaN", series("a,b\n1,NaN\n3,4\n", func(o *SeqOptions) { o.Inputs = []string{"b"} }), `s.csv:2: column "b" (index 1): "NaN" is not a finite number`},
		{"out of range", series("a,b\n1,1e39\n3,4\n", func(o *SeqOptions) { o.Inputs = []string{"b"} }), `s.csv:2: column "b" (index 1): "1e39" is out of float32 range`},
		{"short row", series("a,b,c\n1,2,3\n4,5\n", nil), `s.csv:3: row has 2 fields, but the header on line 1 has 3 (column "c" (index 2) is missing)`},
		{"long row", series("a,b\n1,2\n\n3,4,5\n", nil), `s.csv:4: row has 3 fields, but the header on line 1 has 2 (field 3 has no column)`},
		{"bad quote", series("a,b\n1,\"2\n", nil), `s.csv:2:3: malformed CSV: extraneous or missing " in quoted-field: the quoted field that starts here is still open at the end of the file`},
		{"quote left open on line 6", series("a,b\n1,2\n3,4\n5,6\n7,8\n9,\"10\n11,12\n13,14\n", nil),
			`s.csv:6:3: malformed CSV: extraneous or missing " in quoted-field: the quoted field that starts here runs to line 8, column 7`},
		{"series too short for the window", series(csv, func(o *SeqOptions) { o.Window = 3 }), "s.csv: a window of 3 plus a horizon of 1 needs 4 positions, but the sequence has only 3"},
		{"unknown normalisation", series(csv, func(o *SeqOptions) { o.Normalize = "zscore" }), `s.csv: unknown normalisation "zscore" (want one of [none unit standardize minmax])`},
		{"no normalisation named", series(csv, func(o *SeqOptions) { o.Normalize = "" }), `s.csv: unknown normalisation "" (want one of [none unit standardize minmax])`},
		{"wrong kind for CSV", series(csv, func(o *SeqOptions) { o.Kind = SeqText }), `s.csv: sequence kind "text" given to the series reader`},
		{"change out of float32 range", series("t,v\n0,1\n1,-3e38\n2,3e38\n3,0\n", func(o *SeqOptions) { o.Inputs, o.Difference = []string{"v"}, true }),
			`s.csv:4: column "v" (index 1): the change from the previous row, 3e+38 - (-3e+38), is not a finite float32 (difference: true takes the changes from one row to the next; scale the column down)`},
		{"change out of float32 range in the second column", series("a,b\n1,2\n1,3.4e38\n1,-1e38\n", func(o *SeqOptions) { o.Difference = true }),
			`s.csv:4: column "b" (index 1): the change from the previous row, -1e+38 - (3.4e+38), is not a finite float32 (difference: true takes the changes from one row to the next; scale the column down)`},
		{"change out of float64 range", series("v\n1.7e308\n-1.7e308\n", func(o *SeqOptions) { o.Difference, o.Float64 = true, true }),
			`s.csv:3: column "v" (index 0): the change from the previous row, -1.7e+308 - (1.7e+308), is not a finite float64 (difference: true takes the changes from one row to the next; scale the column down)`},

		// A column whose spread over the training part is below the
		// smallest normal number would be scaled beyond MaxScale, which
		// a checkpoint may not hold: refused, naming it.
		{"spread too small to standardize", series("a,v\n1,0\n2,1e-40\n3,0\n4,1e-40\n5,0\n6,1e-40\n7,0\n8,1e-40\n9,0\n10,1e-40\n", func(o *SeqOptions) { o.Normalize = Standardize }),
			`s.csv: column "v" has a standard deviation of only 5e-41 over the training part: standardize would scale it by 2e+40, beyond 2^126 (8.5e+37, the reciprocal of float32's smallest normal number); rescale it, or set data.normalize to none`},
		{"range too small for minmax in float64", series("v\n0\n5e-324\n0\n5e-324\n0\n", func(o *SeqOptions) { o.Normalize, o.Float64 = MinMax, true }),
			`s.csv: column "v" has a range of only 4.94e-324 over the training part: minmax would scale it by +Inf, beyond 2^1022 (4.5e+307, the reciprocal of float64's smallest normal number); rescale it, or set data.normalize to none`},

		{"unknown kind", func() error {
			_, _, _, err := LoadSequence("x.dat", SeqOptions{Kind: "audio"})
			return err
		}, `x.dat: unknown sequence kind "audio" (want "text" or "series")`},
		{"no kind", func() error {
			_, _, _, err := LoadSequence("x.dat", DefaultSeqOptions("", 2))
			return err
		}, `x.dat: unknown sequence kind "" (want "text" or "series")`},
		{"missing file", func() error {
			_, _, _, err := LoadSequence("testdata/no-such-file.txt", DefaultSeqOptions(SeqText, 2))
			return err
		}, "open testdata/no-such-file.txt: no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.run(); err == nil || err.Error() != tt.want {
				t.Errorf("error:\n  %v\nwant\n  %s", err, tt.want)
			}
		})
	}
}

// TestLoadSequence reads files of both kinds.
func TestLoadSequence(t *testing.T) {
	dir := t.TempDir()
	txt, csvPath := filepath.Join(dir, "a.txt"), filepath.Join(dir, "a.csv")
	if err := os.WriteFile(txt, []byte("abcabcabcx"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(csvPath, []byte(tinySeries), 0o644); err != nil {
		t.Fatal(err)
	}
	seq, train, val, err := LoadSequence(txt, seqOpts(SeqText, 2, func(o *SeqOptions) { o.Validation = 0.3 }))
	if err != nil {
		t.Fatal(err)
	}
	// 10 positions: validation [7, 10), training [0, 5).
	if seq.Source != txt || !slices.Equal(seq.Vocab, []string{"<unk>", "a", "b", "c"}) || train.Len() != 3 || val.Len() != 1 {
		t.Errorf("Source %q, Vocab %q, %d and %d windows", seq.Source, seq.Vocab, train.Len(), val.Len())
	}
	seq, train, val, err = LoadSequence(csvPath, seqOpts(SeqSeries, 3, func(o *SeqOptions) { o.Inputs = []string{"y"} }))
	if err != nil {
		t.Fatal(err)
	}
	if seq.Source != csvPath || seq.N != 8 || train.Len() != 5 || val.Len() != 0 || !slices.Equal(seq.Columns, []string{"y"}) {
		t.Errorf("Source %q, N %d, Columns %q, %d and %d windows", seq.Source, seq.N, seq.Columns, train.Len(), val.Len())
	}
	_, _, _, err = LoadSequence(csvPath, seqOpts(SeqSeries, 3, nil))
	if want := csvPath + `:2: column "t" (index 0): "2024-01" is not a number (inputs default to every column; name the numeric ones)`; err == nil || err.Error() != want {
		t.Errorf("error:\n  %v\nwant\n  %s", err, want)
	}
}

// TestLoadSequenceGPL reads the GPL's text, the real data the text
// examples use, when the system has it.
func TestLoadSequenceGPL(t *testing.T) {
	const path = "/usr/share/common-licenses/GPL-3"
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Skip(err)
	}
	opts := seqOpts(SeqText, 64, func(o *SeqOptions) { o.Validation, o.Target = 0.1, TargetSequence })
	seq, train, val, err := LoadSequence(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	n := utf8.RuneCount(raw)
	nVal := int(math.Round(0.1 * float64(n)))
	if seq.N != n || seq.ValStart != n-nVal || seq.TrainEnd != n-nVal-64 {
		t.Errorf("N %d, TrainEnd %d, ValStart %d for %d characters", seq.N, seq.TrainEnd, seq.ValStart, n)
	}
	if train.Len() != seq.TrainEnd-64 || val.Len() != nVal-64 {
		t.Errorf("%d training and %d validation windows", train.Len(), val.Len())
	}
	if len(seq.Vocab) < 60 || len(seq.Vocab) > 100 || seq.StorageBytes() != 2*n {
		t.Errorf("vocabulary of %d tokens, %d bytes stored", len(seq.Vocab), seq.StorageBytes())
	}
	head := string(raw[:200])
	if got := seq.Decode(seq.Encode(head)); got != head {
		t.Errorf("the first 200 characters do not survive Encode and Decode:\n%q\n%q", head, got)
	}
	t.Logf("%s: %d characters, %d tokens, %d training and %d validation windows", path, n, len(seq.Vocab), train.Len(), val.Len())
}

// TestFillWindowsPanics checks that programming errors panic rather than
// read outside the windows: an index one past the training windows would
// reach into the gap before the validation region.
func TestFillWindowsPanics(t *testing.T) {
	text, train, _, err := ParseText("t.txt", []byte("abcdefghij"), seqOpts(SeqText, 2, func(o *SeqOptions) { o.Validation = 0.3 }))
	if err != nil {
		t.Fatal(err)
	}
	series, strain, _, err := ParseSeriesCSV("s.csv", strings.NewReader(tinySeries), seqOpts(SeqSeries, 2, func(o *SeqOptions) { o.Inputs = []string{"x"} }))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		fill func()
	}{
		{"index past the training windows", func() { FillWindows(train, []int{train.Len()}, make([]float32, 2), nil, nil) }},
		{"negative index", func() { FillWindows(train, []int{-1}, make([]float32, 2), nil, nil) }},
		{"short x", func() { FillWindows(train, []int{0}, make([]float32, 1), nil, nil) }},
		{"long labels", func() { FillWindows(train, []int{0}, make([]float32, 2), make([]int32, 2), nil) }},
		{"targets of a text", func() { FillWindows(train, []int{0}, make([]float32, 2), nil, make([]float32, 1)) }},
		{"labels of a series", func() { FillWindows(strain, []int{0}, make([]float32, 2), make([]int32, 1), nil) }},
		{"short targets", func() { FillWindows(strain, []int{0}, make([]float32, 2), nil, make([]float32, 0)) }},
		{"series index past the end", func() { FillWindows(strain, []int{strain.Len()}, make([]float32, 2), nil, nil) }},
		{"Encode of a series", func() { series.Encode("a") }},
		{"Decode of an id outside the vocabulary", func() { text.Decode([]int32{int32(len(text.Vocab))}) }},
		{"region outside the sequence", func() { text.WindowsIn(0, text.N+1) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("did not panic")
				}
			}()
			tt.fill()
		})
	}
}

// BenchmarkFillWindows fills a batch of 32 text windows of each length;
// it reports 0 allocs/op.
func BenchmarkFillWindows(b *testing.B) {
	text := make([]byte, 1<<16)
	for i := range text {
		text[i] = byte('a' + i*7%26)
	}
	for _, w := range []int{16, 64, 256} {
		b.Run(fmt.Sprint("W=", w), func(b *testing.B) {
			seq, train, _, err := ParseText("b.txt", text, seqOpts(SeqText, w, func(o *SeqOptions) { o.Target = TargetSequence }))
			if err != nil {
				b.Fatal(err)
			}
			const batch = 32
			pos := make([]int, batch)
			for k := range pos {
				pos[k] = k * 997 % train.Len()
			}
			x := make([]float32, batch*seq.InputLen())
			labels := make([]int32, batch*seq.TargetLen())
			b.ReportAllocs()
			for b.Loop() {
				FillWindows(train, pos, x, labels, nil)
			}
		})
	}
}

func TestSeriesDifference(t *testing.T) {
	opts := DefaultSeqOptions(SeqSeries, 2)
	opts.Difference = true
	seq, train, _, err := ParseSeriesCSV("d.csv", strings.NewReader("x\n1\n3\n6\n10\n15\n"), opts)
	if err != nil {
		t.Fatal(err)
	}
	if seq.N != 4 || !seq.Differenced {
		t.Fatalf("N %d, differenced %v", seq.N, seq.Differenced)
	}
	for pos, want := range []float64{2, 3, 4, 5} {
		if v := seq.Value(pos, 0); v != want {
			t.Errorf("change %d = %v, want %v", pos, v, want)
		}
		if l := seq.Level(pos, 0); l != []float64{3, 6, 10, 15}[pos] {
			t.Errorf("level %d = %v", pos, l)
		}
	}
	// Windows of 2 changes predict the next change: (2,3)->4 and (3,4)->5.
	x := make([]float64, 4)
	y := make([]float64, 2)
	FillWindows(train, []int{0, 1}, x, nil, y)
	if fmt.Sprint(x, y) != "[2 3 3 4] [4 5]" {
		t.Errorf("windows %v targets %v", x, y)
	}
	// Changes beyond float32's range are kept exact in float64.
	opts64 := opts
	opts64.Float64 = true
	seq, _, _, err = ParseSeriesCSV("d.csv", strings.NewReader("x\n3e38\n-3e38\n3e38\n-3e38\n"), opts64)
	if err != nil {
		t.Fatal(err)
	}
	if v := seq.Value(0, 0); v != -6e38 {
		t.Errorf("float64 change = %v, want -6e38", v)
	}
	opts.Horizon = 2
	if _, _, _, err := ParseSeriesCSV("d.csv", strings.NewReader("x\n1\n3\n6\n10\n15\n"), opts); err == nil || !strings.Contains(err.Error(), "difference needs horizon 1") {
		t.Errorf("difference with horizon 2: %v", err)
	}
}

// TestSeriesRowsOnly: RowsOnly reads the rows a forecast continues, from
// one row on (two with Difference), with no windows cut and nothing
// fitted; no rows at all is still an error.
func TestSeriesRowsOnly(t *testing.T) {
	for _, c := range []struct {
		csv  string
		diff bool
		n    int
		err  string
	}{
		{"x,y\n1,2\n", false, 1, ""},
		{"x,y\n1,2\n3,5\n", true, 1, ""},
		{"x,y\n1,2\n", true, 0, ""},
		{"x,y\n", false, 0, "has 0 data rows after the header; a series needs at least 1"},
	} {
		o := DefaultSeqOptions(SeqSeries, 4)
		o.RowsOnly, o.Difference, o.Validation = true, c.diff, 0.5
		seq, _, _, err := ParseSeriesCSV("s.csv", strings.NewReader(c.csv), o)
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: %v, want %q", c.csv, err, c.err)
			}
		case err != nil || seq.N != c.n || seq.Norm != nil:
			t.Errorf("%q (difference %v): %v, N %d, want %d rows and no normalisation", c.csv, c.diff, err, seq.N, c.n)
		case c.diff && c.n == 1 && seq.Value(0, 1) != 3:
			t.Errorf("%q: change %v, want 3", c.csv, seq.Value(0, 1))
		}
	}
}

// TestSeriesSeparatorHints: a series file separated by semicolons or tabs,
// or with lines ending in CR alone, is told so at its first line.
func TestSeriesSeparatorHints(t *testing.T) {
	for _, c := range []struct{ csv, want string }{
		{"date;v\n1;2\n3;4\n", `s.csv:1: the first row is a single field, "date;v", which looks separated by ';'; nettrain reads comma-separated files`},
		{"date\tv\n1\t2\n3\t4\n", "which looks separated by tabs"},
		{"date,v\r1,2\r3,4\r", "s.csv:1: the first row holds carriage returns but no line feed"},
	} {
		o := DefaultSeqOptions(SeqSeries, 1)
		o.Inputs = []string{"v"}
		if _, _, _, err := ParseSeriesCSV("s.csv", strings.NewReader(c.csv), o); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.csv, err, c.want)
		}
	}
}
