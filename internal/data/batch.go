package data

import "fmt"

// FillBatch writes the samples at positions pos of s (indexes into s.Idx,
// e.g. a slice of the permutation from Subset.Order) into caller-provided
// buffers, sample-major:
//
//	x       (len(pos), FeatureLen())  features, normalised by norm (nil: raw values)
//	labels  (len(pos))                class labels; nil to skip
//	targets (len(pos), TargetDim)     regression targets; nil to skip
//
// FillBatch allocates nothing. Buffer lengths must match exactly (slice the
// buffers for a short last batch); a mismatch, labels asked of a
// regression set, or targets of a classification set, is a programming
// error and panics.
func FillBatch[T float32 | float64](s Subset, pos []int, norm *Normalizer, x []T, labels []int32, targets []T) {
	ds := s.DS
	f := ds.FeatureLen()
	b := len(pos)
	if len(x) != b*f {
		panic(fmt.Sprintf("data: FillBatch: x has length %d, want %d samples x %d features", len(x), b, f))
	}
	if labels != nil && (ds.Labels == nil || len(labels) != b) {
		panic(fmt.Sprintf("data: FillBatch: labels has length %d for %d samples of a data set with %d labels", len(labels), b, len(ds.Labels)))
	}
	if targets != nil && (!ds.HasTargets() || len(targets) != b*ds.TargetDim) {
		panic(fmt.Sprintf("data: FillBatch: targets has length %d for %d samples of %d targets", len(targets), b, ds.TargetDim))
	}
	if norm != nil && (len(norm.Offset) != f || len(norm.Scale) != f) {
		panic(fmt.Sprintf("data: FillBatch: normalizer has %d offsets and %d scales for %d features", len(norm.Offset), len(norm.Scale), f))
	}
	for k, p := range pos {
		i := s.Idx[p]
		dst := x[k*f : (k+1)*f]
		switch {
		case ds.U8 != nil && norm != nil && norm.byteLUT != nil:
			lut := norm.byteLUT
			for j, v := range ds.U8[i*f : (i+1)*f] {
				dst[j] = T(lut[v])
			}
		case ds.U8 != nil && norm != nil:
			src := ds.U8[i*f : (i+1)*f]
			off, sc := norm.Offset[:f], norm.Scale[:f]
			for j, v := range src {
				dst[j] = T((float64(v) - off[j]) * sc[j])
			}
		case ds.U8 != nil:
			for j, v := range ds.U8[i*f : (i+1)*f] {
				dst[j] = T(v)
			}
		case ds.F64 != nil && norm != nil:
			src := ds.F64[i*f : (i+1)*f]
			off, sc := norm.Offset[:f], norm.Scale[:f]
			for j, v := range src {
				dst[j] = T((v - off[j]) * sc[j])
			}
		case ds.F64 != nil:
			for j, v := range ds.F64[i*f : (i+1)*f] {
				dst[j] = T(v)
			}
		case norm != nil:
			src := ds.F32[i*f : (i+1)*f]
			off, sc := norm.Offset[:f], norm.Scale[:f]
			for j, v := range src {
				dst[j] = T((float64(v) - off[j]) * sc[j])
			}
		default:
			for j, v := range ds.F32[i*f : (i+1)*f] {
				dst[j] = T(v)
			}
		}
		if labels != nil {
			labels[k] = ds.Labels[i]
		}
		switch d := ds.TargetDim; {
		case targets == nil:
		case ds.Targets64 != nil:
			for j, v := range ds.Targets64[i*d : (i+1)*d] {
				targets[k*d+j] = T(v)
			}
		default:
			for j, v := range ds.Targets[i*d : (i+1)*d] {
				targets[k*d+j] = T(v)
			}
		}
	}
}
