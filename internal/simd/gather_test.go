package simd

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestGatherRows checks GatherRows against the loop it replaces for every
// row length and stride it takes, with guard values around and between
// the rows (dstStride > cols) that must survive, and that it declines the
// rows it does not take.
func TestGatherRows(t *testing.T) {
	if !hasGatherAsm {
		if GatherRows(make([]float32, 4), 4, make([]float32, 8), 8, 1, 2, 2) {
			t.Fatal("GatherRows ran without the assembly")
		}
		t.Skip("no AVX-512: GatherRows reports false (checked)")
	}
	rng := rand.New(rand.NewPCG(3, 3))
	const guard = -7.5
	for stride := 1; stride <= 4; stride++ {
		for cols := 1; cols <= 16; cols++ {
			span := (cols-1)*stride + 1
			if span > 32 {
				if GatherRows(make([]float32, 64), 16, make([]float32, 64), 40, 1, cols, stride) {
					t.Fatalf("cols %d stride %d: took a row spanning %d values", cols, stride, span)
				}
				continue
			}
			for _, rows := range []int{0, 1, 2, 7} {
				ss, ds := span+3, cols+2
				src := make([]float32, max(0, (rows-1)*ss+span))
				for i := range src {
					src[i] = float32(rng.NormFloat64())
				}
				if len(src) > 0 {
					src[0] = float32(math.NaN())
				}
				buf := make([]float32, rows*ds+4)
				for i := range buf {
					buf[i] = guard
				}
				dst := buf[1:]
				if !GatherRows(dst, ds, src, ss, rows, cols, stride) {
					t.Fatalf("cols %d stride %d: declined", cols, stride)
				}
				name := fmt.Sprintf("stride %d cols %d rows %d", stride, cols, rows)
				for i, v := range buf {
					k := i - 1
					r, j := k/ds, k%ds
					want := float32(guard)
					if k >= 0 && r < rows && j < cols {
						want = src[r*ss+j*stride]
					}
					if math.Float32bits(v) != math.Float32bits(want) {
						t.Fatalf("%s: dst[%d] = %v, want %v", name, k, v, want)
					}
				}
			}
		}
	}
}
