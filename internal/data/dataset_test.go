package data

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

// seqDataset returns n samples of one float feature equal to the sample
// index, labelled i%3.
func seqDataset(n int) *Dataset {
	ds := &Dataset{Source: "seq", Shape: []int{1}, N: n, F32: make([]float32, n), Labels: make([]int32, n), NumClasses: 3}
	for i := range n {
		ds.F32[i] = float32(i)
		ds.Labels[i] = int32(i % 3)
	}
	return ds
}

func TestSplit(t *testing.T) {
	ds := seqDataset(1000)
	train, val, err := Split(ds, 0.2, 42)
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 800 || val.Len() != 200 {
		t.Fatalf("sizes %d/%d, want 800/200", train.Len(), val.Len())
	}
	// Disjoint, covering, sorted.
	all := append(slices.Clone(train.Idx), val.Idx...)
	slices.Sort(all)
	if !reflect.DeepEqual(all, All(ds).Idx) {
		t.Errorf("train and validation do not partition the samples")
	}
	if !slices.IsSorted(train.Idx) || !slices.IsSorted(val.Idx) {
		t.Errorf("subsets not sorted")
	}
	// Same seed, same split; another seed, another split.
	train2, val2, _ := Split(ds, 0.2, 42)
	if !reflect.DeepEqual(train2.Idx, train.Idx) || !reflect.DeepEqual(val2.Idx, val.Idx) {
		t.Errorf("same seed gave a different split")
	}
	_, val3, _ := Split(ds, 0.2, 43)
	if reflect.DeepEqual(val3.Idx, val.Idx) {
		t.Errorf("seeds 42 and 43 gave the same split")
	}
	// A pinned split: this must not change across Go releases or refactors,
	// or runs would stop being reproducible.
	_, small, _ := Split(seqDataset(10), 0.3, 1)
	if want := []int{3, 5, 8}; !reflect.DeepEqual(small.Idx, want) {
		t.Errorf("Split(10, 0.3, 1) validation = %v, want %v", small.Idx, want)
	}
	// Fraction 0: everything trains.
	tr, va, err := Split(ds, 0, 1)
	if err != nil || tr.Len() != 1000 || va.Len() != 0 {
		t.Errorf("fraction 0: %d/%d, %v", tr.Len(), va.Len(), err)
	}
}

func TestSplitErrors(t *testing.T) {
	tests := []struct {
		frac float64
		n    int
		want string
	}{
		{-0.1, 10, "seq: validation fraction -0.1 must be at least 0 and less than 1"},
		{1, 10, "seq: validation fraction 1 must be at least 0 and less than 1"},
		{0.97, 10, "seq: validation fraction 0.97 of 10 samples leaves no training samples"},
		{0.01, 10, "seq: validation fraction 0.01 of 10 samples is less than one sample; use a larger fraction, or 0 for no validation"},
	}
	for _, tt := range tests {
		_, _, err := Split(seqDataset(tt.n), tt.frac, 1)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Split(%v): %v, want %s", tt.frac, err, tt.want)
		}
	}
}

func TestOrder(t *testing.T) {
	ds := seqDataset(100)
	train, _, _ := Split(ds, 0.5, 7)
	a := make([]int, train.Len())
	b := make([]int, train.Len())
	train.Order(a, 3, 5)
	train.Order(b, 3, 5)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("Order is not a function of (seed, epoch)")
	}
	sorted := slices.Sorted(slices.Values(a))
	if !reflect.DeepEqual(sorted, Sequential(train.Len())) {
		t.Errorf("Order is not a permutation of the positions: %v", a)
	}
	train.Order(b, 3, 6)
	if reflect.DeepEqual(a, b) {
		t.Errorf("epochs 5 and 6 have the same order")
	}
	train.Order(b, 4, 5)
	if reflect.DeepEqual(a, b) {
		t.Errorf("seeds 3 and 4 give the same order")
	}
	if allocs := testing.AllocsPerRun(10, func() { train.Order(a, 3, 5) }); allocs != 0 {
		t.Errorf("Order allocates %v times", allocs)
	}
	// Pinned, as for Split.
	p := make([]int, 8)
	Subset{DS: ds, Idx: Sequential(8)}.Order(p, 0, 0)
	if want := []int{4, 5, 2, 1, 3, 7, 6, 0}; !reflect.DeepEqual(p, want) {
		t.Errorf("Order(8, 0, 0) = %v, want %v", p, want)
	}
}

// TestUniformShuffle checks that every position is equally likely to land
// anywhere (a biased shuffle would show here).
func TestUniformShuffle(t *testing.T) {
	const n, trials = 4, 24000
	var count [n][n]int
	s := Subset{DS: seqDataset(n), Idx: Sequential(n)}
	p := make([]int, n)
	for e := range trials {
		s.Order(p, 9, e)
		for pos, v := range p {
			count[pos][v]++
		}
	}
	for pos := range count {
		for v, c := range count[pos] {
			if c < trials/n*9/10 || c > trials/n*11/10 {
				t.Errorf("value %d at position %d %d times in %d, want about %d", v, pos, c, trials, trials/n)
			}
		}
	}
}

func TestCheck(t *testing.T) {
	good := func() *Dataset { return seqDataset(3) }
	tests := []struct {
		name   string
		mutate func(*Dataset)
		want   string
	}{
		{"no samples", func(d *Dataset) { d.N = 0 }, "seq: has no samples"},
		{"both feature kinds", func(d *Dataset) { d.U8 = []uint8{1, 2, 3} }, "exactly one of U8, F32 and F64"},
		{"short features", func(d *Dataset) { d.F32 = d.F32[:2] }, "has 2 feature values, want 3 samples x 1"},
		{"labels and targets", func(d *Dataset) { d.Targets = []float32{1, 2, 3} }, "exactly one of Labels, Targets and Targets64"},
		{"label out of range", func(d *Dataset) { d.Labels[1] = 3 }, "sample 1 has label 3, want 0 to 2"},
		{"class names", func(d *Dataset) { d.ClassNames = []string{"a"} }, "has 1 class names for 3 classes"},
		{"bad shape", func(d *Dataset) { d.Shape = []int{0} }, "sample shape [0] has a dimension that is not positive"},
	}
	for _, tt := range tests {
		d := good()
		tt.mutate(d)
		if err := d.Check(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
	if err := good().Check(); err != nil {
		t.Errorf("good data set: %v", err)
	}
}

func TestClassMap(t *testing.T) {
	named := &Dataset{Labels: []int32{0}, NumClasses: 2, ClassNames: []string{"cat", "dog"}}
	cm := named.ClassMap()
	if want := (&ClassMap{NumClasses: 2, Names: []string{"cat", "dog"}}); !reflect.DeepEqual(cm, want) {
		t.Errorf("named: ClassMap() = %+v, want %+v", cm, want)
	}
	cm.Names[0] = "changed"
	if named.ClassNames[0] != "cat" {
		t.Errorf("ClassMap shares its names with the data set")
	}
	ids := &Dataset{Labels: []int32{0}, NumClasses: 7}
	if cm, want := ids.ClassMap(), (&ClassMap{NumClasses: 7}); !reflect.DeepEqual(cm, want) {
		t.Errorf("ids: ClassMap() = %+v, want %+v", cm, want)
	}
	regression := &Dataset{Targets: []float32{1}, TargetDim: 1}
	if cm := regression.ClassMap(); cm != nil {
		t.Errorf("regression: ClassMap() = %+v, want nil", cm)
	}
}
