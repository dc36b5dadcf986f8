package data

import (
	"fmt"
	"math"
)

// Method is a normalisation method.
type Method string

// The normalisation methods. Each is fitted per feature (per value
// position within a sample, e.g. per pixel) on a training subset.
const (
	// None leaves values as stored (bytes stay 0..255).
	None Method = "none"
	// Unit maps bytes to [0, 1] (x/255); float data is left unchanged.
	Unit Method = "unit"
	// Standardize maps each feature to zero mean and unit variance:
	// (x - mean) / std, with the population std; a constant feature
	// (std 0) is only centred.
	Standardize Method = "standardize"
	// MinMax maps each feature to [0, 1]: (x - min) / (max - min); a
	// constant feature maps to 0.
	MinMax Method = "minmax"
)

// Methods lists the normalisation methods, for messages and help texts.
var Methods = []Method{None, Unit, Standardize, MinMax}

// MaxScale32 and MaxScale64 bound the scale standardize and minmax fit for
// features held as float32 or bytes, and as float64 (dtype float64): the
// reciprocals of the smallest normal numbers of float32 (2^126, about
// 8.5e37) and float64 (2^1022). A scale is the reciprocal of a training
// feature's spread (standard deviation or range); Fit refuses a feature
// whose spread is below the smallest normal number of its type (a scale
// beyond the bound, up to +Inf for a range of one float64 subnormal), and a
// checkpoint that claims a larger scale is refused on load (package
// checkpoint): a forged 1e38 turned every float32 input into an overflow.
const (
	MaxScale32 = 0x1p126
	MaxScale64 = 0x1p1022
)

// MaxScale is the bound of a fitted scale for features held as float64
// (f64) or else as float32 or bytes.
func MaxScale(f64 bool) float64 {
	if f64 {
		return MaxScale64
	}
	return MaxScale32
}

// ScaleError is the error of a feature (or a series' column) whose
// spread is too small to scale within MaxScale, from Fit and from
// LoadSequence's fitting: the normalisation's error rather than the
// data's, which callers may name as such (errors.As).
type ScaleError struct{ msg string }

func (e *ScaleError) Error() string { return e.msg }

// scaleError is Fit's (and fitColumns') error for a feature whose spread
// is too small to scale: source and feature name it.
func scaleError(source, feature string, method Method, spread float64, f64 bool) error {
	what, typ := "standard deviation", "float32"
	if method == MinMax {
		what = "range"
	}
	bound := "2^126"
	if f64 {
		typ, bound = "float64", "2^1022"
	}
	return &ScaleError{fmt.Sprintf("%s: %s has a %s of only %.3g over the training part: %s would scale it by %.3g, beyond %s (%.2g, the reciprocal of %s's smallest normal number); rescale it, or set data.normalize to none",
		source, feature, what, spread, method, 1/spread, bound, MaxScale(f64), typ)}
}

// Normalizer is a fitted per-feature affine map, applied by FillBatch as
//
//	x'[j] = (x[j] - Offset[j]) * Scale[j]
//
// where j runs over the FeatureLen() values of a sample. It holds plain
// data so that it can be saved with a checkpoint.
type Normalizer struct {
	Method Method
	Offset []float64
	Scale  []float64
	// byteLUT maps each byte value through the normalisation when every
	// feature has the same offset and scale (unit, none): FillAugmented
	// looks bytes up instead of computing, and FillBatch, seeing it set,
	// converts whole rows with Offset[0] and Scale[0] (simd.BytesAffine);
	// both give the per-feature formula's bits.
	byteLUT *[256]float64
}

// withLUT builds the byte lookup table when the normalisation is the same
// for every feature.
func (n *Normalizer) withLUT() *Normalizer {
	for j := range n.Offset {
		// Bits, not values: an offset of -0 and one of +0 give a -0
		// value different signs, and FillBatch copies float rows when
		// the offset is +0 and the scale 1.
		if math.Float64bits(n.Offset[j]) != math.Float64bits(n.Offset[0]) || math.Float64bits(n.Scale[j]) != math.Float64bits(n.Scale[0]) {
			return n
		}
	}
	if len(n.Offset) == 0 {
		return n
	}
	var lut [256]float64
	for v := range lut {
		lut[v] = (float64(v) - n.Offset[0]) * n.Scale[0]
	}
	n.byteLUT = &lut
	return n
}

// FitBytes is the most memory Fit and NewNormalizer allocate for
// features values per sample: 8 bytes of Offset and 8 of Scale per
// feature, kept, and 8 more while Fit fits standardize or minmax. It
// saturates at math.MaxInt64. Callers with a memory limit check it
// before fitting (a [3, 5000, 5000] input needs 1.8 GB).
func FitBytes(features int) int64 {
	if features > 0 && features > math.MaxInt64/24 {
		return math.MaxInt64
	}
	return 24 * int64(max(features, 0))
}

// Fit fits a normalizer of the given method on the samples of s, which
// should be the training subset only, so that nothing is learnt from
// validation or test data. It allocates FitBytes(s.DS.FeatureLen()). A
// feature whose spread is too small to scale within MaxScale is an error
// naming it; a constant one (spread 0) gets scale 1.
func Fit(s Subset, method Method) (*Normalizer, error) {
	ds := s.DS
	f := ds.FeatureLen()
	n := &Normalizer{Method: method, Offset: make([]float64, f), Scale: make([]float64, f)}
	for j := range n.Scale {
		n.Scale[j] = 1
	}
	switch method {
	case None:
		return n.withLUT(), nil
	case Unit:
		if ds.U8 != nil {
			for j := range n.Scale {
				n.Scale[j] = 1.0 / 255
			}
		}
		return n.withLUT(), nil
	case Standardize, MinMax:
	default:
		return nil, fmt.Errorf("unknown normalisation %q (want one of %v)", method, Methods)
	}
	if s.Len() == 0 {
		return nil, fmt.Errorf("%s: cannot fit %s normalisation on no samples", ds.Source, method)
	}
	maxScale := MaxScale(ds.F64 != nil)
	if method == MinMax {
		lo, hi := n.Offset, make([]float64, f)
		for j := range lo {
			lo[j], hi[j] = math.Inf(1), math.Inf(-1)
		}
		for _, i := range s.Idx {
			forEach(ds, i, func(j int, v float64) {
				lo[j] = min(lo[j], v)
				hi[j] = max(hi[j], v)
			})
		}
		for j := range lo {
			if hi[j] > lo[j] {
				if n.Scale[j] = 1 / (hi[j] - lo[j]); !(n.Scale[j] <= maxScale) {
					return nil, scaleError(ds.Source, featureName(ds, j), method, hi[j]-lo[j], ds.F64 != nil)
				}
			}
		}
		return n, nil
	}
	// Standardize, in two passes for accuracy.
	mean := n.Offset
	for _, i := range s.Idx {
		forEach(ds, i, func(j int, v float64) { mean[j] += v })
	}
	for j := range mean {
		mean[j] /= float64(s.Len())
	}
	ss := make([]float64, f)
	for _, i := range s.Idx {
		forEach(ds, i, func(j int, v float64) { d := v - mean[j]; ss[j] += d * d })
	}
	for j := range ss {
		if std := math.Sqrt(ss[j] / float64(s.Len())); std > 0 {
			if n.Scale[j] = 1 / std; !(n.Scale[j] <= maxScale) {
				return nil, scaleError(ds.Source, featureName(ds, j), method, std, ds.F64 != nil)
			}
		}
	}
	return n, nil
}

// featureName names feature j of ds for a message: its CSV column, or its
// index.
func featureName(ds *Dataset, j int) string {
	if j < len(ds.FeatureColumns) {
		return fmt.Sprintf("column %q (feature %d)", ds.FeatureColumns[j], j)
	}
	return fmt.Sprintf("feature %d", j)
}

// forEach calls fn for every feature value of sample i.
func forEach(ds *Dataset, i int, fn func(j int, v float64)) {
	f := ds.FeatureLen()
	if ds.U8 != nil {
		for j, v := range ds.U8[i*f : (i+1)*f] {
			fn(j, float64(v))
		}
		return
	}
	if ds.F64 != nil {
		for j, v := range ds.F64[i*f : (i+1)*f] {
			fn(j, v)
		}
		return
	}
	for j, v := range ds.F32[i*f : (i+1)*f] {
		fn(j, float64(v))
	}
}

// NewNormalizer returns the normalizer of method with the given per-feature
// offsets and scales for features values per sample (a checkpoint's
// fitted values): a single offset and scale apply to every feature.
func NewNormalizer(method Method, offset, scale []float64, features int) (*Normalizer, error) {
	if len(offset) != len(scale) || (len(offset) != 1 && len(offset) != features) {
		return nil, fmt.Errorf("%d offsets and %d scales for %d features", len(offset), len(scale), features)
	}
	n := &Normalizer{Method: method, Offset: make([]float64, features), Scale: make([]float64, features)}
	for j := range features {
		k := min(j, len(offset)-1)
		n.Offset[j], n.Scale[j] = offset[k], scale[k]
	}
	return n.withLUT(), nil
}
