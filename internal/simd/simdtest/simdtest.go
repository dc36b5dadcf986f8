// Package simdtest holds the helpers the tests of package simd and of the
// optimizers' SIMD kernels share: the vector lengths that exercise every
// tail, random inputs, bit-exact comparison, and unaligned slices with
// guard values. Only tests import it.
package simdtest

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Lengths covers empty, partial vectors of both widths, and several full
// vectors with every tail length.
var Lengths = []int{0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 63, 64, 65, 100, 1037}

// RandSlice is n values uniform in [lo, hi).
func RandSlice(rng *rand.Rand, n int, lo, hi float64) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(lo + (hi-lo)*rng.Float64())
	}
	return s
}

// BitsEqual compares bits (every NaN equals every NaN).
func BitsEqual(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || (a != a && b != b)
}

// CheckBits fails the test at the first element of got whose bits differ from want.
func CheckBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if !BitsEqual(got[i], want[i]) {
			t.Fatalf("%s[%d] = %v (%#x), reference %v (%#x)", what, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
}

// Clone copies s.
func Clone(s []float32) []float32 { return append([]float32(nil), s...) }

// Offset returns a copy of s starting at an odd float Offset into a larger
// buffer, so kernels see unaligned data followed by guard values that must
// survive.
func Offset(s []float32, guard float32) ([]float32, []float32) {
	buf := make([]float32, len(s)+5)
	for i := range buf {
		buf[i] = guard
	}
	copy(buf[3:], s)
	return buf[3 : 3+len(s)], buf
}

// CheckGuard fails the test when a kernel wrote into the guard values
// around an Offset slice of n values.
func CheckGuard(t *testing.T, buf []float32, n int, guard float32) {
	t.Helper()
	for _, i := range []int{0, 1, 2, 3 + n, 4 + n} {
		if !BitsEqual(buf[i], guard) {
			t.Fatalf("kernel wrote outside its slice: buf[%d] = %v", i, buf[i])
		}
	}
}
