package data

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
)

// Dataset is a labelled data set held in memory, in its most compact form.
type Dataset struct {
	// Source says where the data came from, for messages: a path or an
	// alias such as "mnist:train".
	Source string
	// Shape is the per-sample feature shape: [1 rows cols] for IDX images
	// (channels first), [F] for CSV, x's shape without its first dimension
	// for safetensors.
	Shape []int
	// N is the number of samples.
	N int
	// U8 holds the N*FeatureLen() feature values, sample-major, when the
	// source stores unsigned bytes (IDX ubyte, safetensors U8); else nil.
	U8 []uint8
	// F32 holds the feature values otherwise; nil when U8 or F64 is used.
	F32 []float32
	// F64 holds the feature values, exactly as the file gives them, when
	// the data set was loaded for float64 training (LoadOptions.Float64)
	// from a source of numbers (CSV, safetensors float tensors); nil
	// otherwise. Bytes stay bytes (U8) either way.
	F64 []float64
	// Labels holds the N class labels (0 <= label < NumClasses) for
	// classification; nil for regression.
	Labels []int32
	// NumClasses is the number of classes: max label + 1, or more when the
	// source says so (10 for MNIST, len(ClassNames) for named classes, the
	// training data's count when loaded with a ClassMap); 0 for
	// regression.
	NumClasses int
	// ClassNames names the classes when the source names them (a CSV label
	// column with a value that is not a number): class i is ClassNames[i],
	// the names in sorted order. When loaded with a ClassMap, its Names.
	// Nil when classes are plain integers.
	ClassNames []string
	// ClassesFrom says, for messages, what in the file sets NumClasses
	// when it holds class ids as numbers: where the largest id first
	// appears (`d.csv:31: column "label" (index 4): class id 999`,
	// `d.safetensors: tensor "y": class id 999 of sample 7`) or a
	// safetensors file's metadata num_classes. Empty when the classes
	// are names, folders, a ClassMap's or a known count (IDX aliases),
	// and for regression.
	ClassesFrom string
	// Targets holds N*TargetDim regression targets, sample-major; nil for
	// classification and when Targets64 holds them.
	Targets []float32
	// Targets64 holds the regression targets instead of Targets when the
	// data set was loaded for float64 training (LoadOptions.Float64);
	// nil otherwise. Target reads either.
	Targets64 []float64
	// TargetDim is the number of regression targets per sample; 0 for
	// classification.
	TargetDim int
	// FeatureColumns and LabelColumns name the CSV columns the features
	// and the labels (or targets) were read from, in order: header names,
	// or 0-based indexes in decimal for a file without a header. Nil for
	// other formats.
	FeatureColumns, LabelColumns []string
	// Skipped lists the files of an image folder that FolderOptions.SkipBad
	// skipped, each as the one-line error it would otherwise have been;
	// nil for other sources.
	Skipped []string
	// Image, for an image folder, is how its images were read, sizes and
	// channels settled: ReadImage with it reads another image as these
	// were. Nil for other sources.
	Image *ImageOptions
	// Decoding, for an image folder, is the version of the image decoding
	// that read it and which of its images that version reads otherwise
	// than earlier ones. Nil for other sources.
	Decoding *ImageDecoding
}

// ClassMap is the class mapping of a training data set. Validation and
// test data are read with it (LoadOptions.Classes, CSVOptions.Classes) so
// that their labels get the training ids: a class name maps to its index
// in Names, whatever names the file itself holds; a class id or name the
// training data does not have is an error; and the Dataset read gets the
// training NumClasses and ClassNames. It applies to class labels only
// and is ignored for regression targets.
type ClassMap struct {
	// NumClasses is the number of training classes; ids run from 0 to
	// NumClasses-1. It must be at least 1.
	NumClasses int
	// Names names the classes (class i is Names[i]) when the training
	// labels are names; then it has NumClasses distinct entries, and a CSV
	// label column is read as names, every value (also "1") looked up
	// in Names. Nil when the training labels are integer ids; then every
	// CSV label must be a class id below NumClasses. Formats that store
	// integer labels (IDX, safetensors) give class ids either way: with
	// Names, id i stands for Names[i].
	Names []string
}

// ClassMap returns the mapping that reads validation and test data with
// ds's classes; nil when ds holds regression targets.
func (ds *Dataset) ClassMap() *ClassMap {
	if ds.Labels == nil {
		return nil
	}
	return &ClassMap{NumClasses: ds.NumClasses, Names: slices.Clone(ds.ClassNames)}
}

// check reports a mapping that cannot be used; name labels the message.
func (cm *ClassMap) check(name string) error {
	if cm.NumClasses < 1 {
		return fmt.Errorf("%s: bad class mapping: %d classes, want at least 1", name, cm.NumClasses)
	}
	if cm.Names == nil {
		return nil
	}
	if len(cm.Names) != cm.NumClasses {
		return fmt.Errorf("%s: bad class mapping: %d names for %d classes", name, len(cm.Names), cm.NumClasses)
	}
	seen := make(map[string]bool, len(cm.Names))
	for _, n := range cm.Names {
		if seen[n] {
			return fmt.Errorf("%s: bad class mapping: class %q is named twice", name, n)
		}
		seen[n] = true
	}
	return nil
}

// describe says what classes the training data has, for messages.
func (cm *ClassMap) describe() string {
	if cm.NumClasses == 1 {
		return "the training data has 1 class, id 0"
	}
	return fmt.Sprintf("the training data has %d classes, ids 0 to %d", cm.NumClasses, cm.NumClasses-1)
}

// useClasses gives ds, whose integer labels were read from a file, the
// training classes cm: every label must be below cm.NumClasses. what
// names the labels in messages (a file, a tensor). A nil cm or a
// regression data set leaves ds as it is.
func (ds *Dataset) useClasses(cm *ClassMap, what string) error {
	if cm == nil || ds.Labels == nil {
		return nil
	}
	for i, l := range ds.Labels {
		if int(l) >= cm.NumClasses {
			return fmt.Errorf("%s: label %d of sample %d is not a training class (%s)", what, l, i, cm.describe())
		}
	}
	ds.NumClasses, ds.ClassNames, ds.ClassesFrom = cm.NumClasses, slices.Clone(cm.Names), ""
	return nil
}

// FeatureLen returns the number of feature values per sample, the product
// of Shape.
func (ds *Dataset) FeatureLen() int {
	n := 1
	for _, d := range ds.Shape {
		n *= d
	}
	return n
}

// Check verifies that the fields agree with each other. Every loader calls
// it; a Dataset built by hand should be checked before use.
func (ds *Dataset) Check() error {
	errf := func(format string, args ...any) error {
		return fmt.Errorf("%s: %s", ds.Source, fmt.Sprintf(format, args...))
	}
	if ds.N <= 0 {
		return errf("has no samples")
	}
	f := 1
	for _, d := range ds.Shape {
		if d <= 0 {
			return errf("sample shape %v has a dimension that is not positive", ds.Shape)
		}
		if f > math.MaxInt/d {
			return errf("sample shape %v is too large", ds.Shape)
		}
		f *= d
	}
	if ds.N > math.MaxInt/f {
		return errf("%d samples of shape %v is too large", ds.N, ds.Shape)
	}
	switch {
	case count(ds.U8 != nil, ds.F32 != nil, ds.F64 != nil) != 1:
		return errf("exactly one of U8, F32 and F64 must hold the features")
	case ds.U8 != nil && len(ds.U8) != ds.N*f:
		return errf("has %d feature bytes, want %d samples x %d", len(ds.U8), ds.N, f)
	case ds.F32 != nil && len(ds.F32) != ds.N*f:
		return errf("has %d feature values, want %d samples x %d", len(ds.F32), ds.N, f)
	case ds.F64 != nil && len(ds.F64) != ds.N*f:
		return errf("has %d feature values, want %d samples x %d", len(ds.F64), ds.N, f)
	case count(ds.Labels != nil, ds.Targets != nil, ds.Targets64 != nil) != 1:
		return errf("exactly one of Labels, Targets and Targets64 must be set")
	}
	if ds.Labels != nil {
		if len(ds.Labels) != ds.N {
			return errf("has %d labels for %d samples", len(ds.Labels), ds.N)
		}
		if ds.NumClasses < 1 {
			return errf("NumClasses is %d", ds.NumClasses)
		}
		if ds.ClassNames != nil && len(ds.ClassNames) != ds.NumClasses {
			return errf("has %d class names for %d classes", len(ds.ClassNames), ds.NumClasses)
		}
		for i, l := range ds.Labels {
			if l < 0 || int(l) >= ds.NumClasses {
				return errf("sample %d has label %d, want 0 to %d", i, l, ds.NumClasses-1)
			}
		}
	}
	if ds.HasTargets() {
		if n := ds.targetLen(); ds.TargetDim < 1 || n != ds.N*ds.TargetDim {
			return errf("has %d targets, want %d samples x %d", n, ds.N, ds.TargetDim)
		}
	}
	return nil
}

// count counts the true conditions.
func count(conds ...bool) int {
	n := 0
	for _, c := range conds {
		if c {
			n++
		}
	}
	return n
}

// HasTargets reports whether ds holds regression targets (in Targets or
// Targets64).
func (ds *Dataset) HasTargets() bool { return ds.Targets != nil || ds.Targets64 != nil }

// targetLen is the number of regression targets held.
func (ds *Dataset) targetLen() int { return len(ds.Targets) + len(ds.Targets64) }

// Target returns the k-th regression target value of the flat,
// sample-major array (sample k/TargetDim), from Targets or Targets64.
func (ds *Dataset) Target(k int) float64 {
	if ds.Targets64 != nil {
		return ds.Targets64[k]
	}
	return float64(ds.Targets[k])
}

// Slice returns a view of samples [lo, hi) of ds: the same storage, no
// copy, with every per-sample array cut to those samples.
func (ds *Dataset) Slice(lo, hi int) *Dataset {
	f, td := ds.FeatureLen(), ds.TargetDim
	c := *ds
	c.N = hi - lo
	cut := func(n int) (int, int) { return lo * n, hi * n }
	if ds.U8 != nil {
		a, b := cut(f)
		c.U8 = ds.U8[a:b:b]
	}
	if ds.F32 != nil {
		a, b := cut(f)
		c.F32 = ds.F32[a:b:b]
	}
	if ds.F64 != nil {
		a, b := cut(f)
		c.F64 = ds.F64[a:b:b]
	}
	if ds.Labels != nil {
		c.Labels = ds.Labels[lo:hi:hi]
	}
	if ds.Targets != nil {
		a, b := cut(td)
		c.Targets = ds.Targets[a:b:b]
	}
	if ds.Targets64 != nil {
		a, b := cut(td)
		c.Targets64 = ds.Targets64[a:b:b]
	}
	return &c
}

// Subset is a view of some samples of a data set: sample i of the subset
// is sample Idx[i] of DS. Subsets share DS; nothing is copied.
type Subset struct {
	DS  *Dataset
	Idx []int
}

// All returns the subset of every sample of ds, in order.
func All(ds *Dataset) Subset {
	idx := make([]int, ds.N)
	for i := range idx {
		idx[i] = i
	}
	return Subset{DS: ds, Idx: idx}
}

// Len returns the number of samples in s.
func (s Subset) Len() int { return len(s.Idx) }

// Range returns the smallest and the largest feature value of the samples
// of s (+Inf and -Inf when it has none).
func (s Subset) Range() (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, i := range s.Idx {
		forEach(s.DS, i, func(_ int, v float64) {
			lo, hi = min(lo, v), max(hi, v)
		})
	}
	return lo, hi
}

// Split divides ds at random into a training and a validation subset, the
// latter holding round(valFraction*N) samples. The split is a pure function
// of (N, valFraction, seed); each subset lists its samples in increasing
// order. valFraction 0 gives an empty validation subset.
func Split(ds *Dataset, valFraction float64, seed uint64) (train, val Subset, err error) {
	if !(valFraction >= 0 && valFraction < 1) {
		return Subset{}, Subset{}, fmt.Errorf("%s: validation fraction %v must be at least 0 and less than 1", ds.Source, valFraction)
	}
	nVal := int(math.Round(valFraction * float64(ds.N)))
	switch {
	case valFraction > 0 && nVal == 0:
		return Subset{}, Subset{}, fmt.Errorf("%s: validation fraction %v of %d samples is less than one sample; use a larger fraction, or 0 for no validation", ds.Source, valFraction, ds.N)
	case nVal >= ds.N:
		return Subset{}, Subset{}, fmt.Errorf("%s: validation fraction %v of %d samples leaves no training samples", ds.Source, valFraction, ds.N)
	}
	perm := make([]int, ds.N)
	for i := range perm {
		perm[i] = i
	}
	var src rand.PCG
	src.Seed(splitmix(seed), splitmix(streamSplit))
	shuffle(perm, &src)
	val = Subset{DS: ds, Idx: perm[:nVal:nVal]}
	train = Subset{DS: ds, Idx: perm[nVal:]}
	slices.Sort(val.Idx)
	slices.Sort(train.Idx)
	return train, val, nil
}

// Stream tags keep the random streams of splitting and of each epoch's
// order apart.
const (
	streamSplit = 0x73706c6974       // "split"
	streamEpoch = 0x65706f6368 << 20 // "epoch", shifted clear of the epoch number
)

// Order fills dst (len s.Len()) with a random permutation of the positions
// 0..s.Len()-1, to be passed to FillBatch in consecutive slices. The
// permutation is a pure function of (s.Len(), seed, epoch), so training
// can resume in the middle of an epoch by recomputing it and skipping the
// batches already done. Order allocates nothing.
func (s Subset) Order(dst []int, seed uint64, epoch int) {
	if len(dst) != len(s.Idx) {
		panic(fmt.Sprintf("data: Order: dst has length %d, subset has %d samples", len(dst), len(s.Idx)))
	}
	Permutation(dst, seed, epoch)
}

// Permutation fills dst with a random permutation of 0..len(dst)-1, a pure
// function of (len(dst), seed, epoch) that no Go release changes. It
// allocates nothing.
func Permutation(dst []int, seed uint64, epoch int) {
	for i := range dst {
		dst[i] = i
	}
	var src rand.PCG
	src.Seed(splitmix(seed), splitmix(streamEpoch+uint64(epoch)))
	shuffle(dst, &src)
}

// Sequential returns the positions 0..n-1, the order for evaluation.
func Sequential(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	return p
}

// shuffle is a Fisher-Yates shuffle driven directly by the PCG source, so
// that the result depends only on the PCG algorithm (fixed by math/rand/v2)
// and not on how a Go release implements Shuffle or IntN.
func shuffle(p []int, src *rand.PCG) {
	for i := len(p) - 1; i > 0; i-- {
		j := int(uint64n(src, uint64(i+1)))
		p[i], p[j] = p[j], p[i]
	}
}

// uint64n returns a uniform value in [0, n) by Lemire's multiply-and-reject
// method.
func uint64n(src *rand.PCG, n uint64) uint64 {
	hi, lo := bits.Mul64(src.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(src.Uint64(), n)
		}
	}
	return hi
}

// splitmix scrambles a seed (SplitMix64's finaliser), so that nearby seeds
// give unrelated PCG states.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// MemBytes is what the data set's samples, labels and targets hold in
// memory.
func (ds *Dataset) MemBytes() int64 {
	return int64(len(ds.U8)) + 4*int64(len(ds.F32)) + 8*int64(len(ds.F64)) +
		4*int64(len(ds.Labels)) + 4*int64(len(ds.Targets)) + 8*int64(len(ds.Targets64))
}
