package gemm

import (
	"fmt"
	"testing"
)

// copy2DImpls lists the implementations of Copy2D this machine can run.
func copy2DImpls() []struct {
	name string
	fn   func(n1, n2, cols int, dst *float32, d1, d2 int, src *float32, s1, s2 int)
	min  int
} {
	impls := []struct {
		name string
		fn   func(n1, n2, cols int, dst *float32, d1, d2 int, src *float32, s1, s2 int)
		min  int
	}{{"go", nil, 0}}
	if copy2DAsm != nil {
		impls = append(impls, struct {
			name string
			fn   func(n1, n2, cols int, dst *float32, d1, d2 int, src *float32, s1, s2 int)
			min  int
		}{"asm", copy2DAsm, copy2DMin})
	}
	return append(impls, moreCopy2DImpls()...)
}

func TestCopy2D(t *testing.T) {
	defer func(f func(n1, n2, cols int, dst *float32, d1, d2 int, src *float32, s1, s2 int), m int) {
		copy2DAsm, copy2DMin = f, m
	}(copy2DAsm, copy2DMin)
	for _, impl := range copy2DImpls() {
		copy2DAsm, copy2DMin = impl.fn, impl.min
		t.Run(impl.name, testCopy2D)
	}
}

func testCopy2D(t *testing.T) {
	for _, c := range []struct{ n1, n2, cols, d1, d2, s1, s2 int }{
		{1, 1, 1, 0, 0, 0, 0},
		{1, 1, 8, 8, 8, 8, 8},
		{2, 3, 7, 40, 9, 30, 8},
		{3, 14, 14, 196, 14, 1, 18},  // im2col rows of a padded 18-wide image
		{5, 28, 28, 784, 28, 1, 32},  // the same, 28 wide
		{4, 2, 31, 70, 33, 100, 40},  // several vectors and a tail
		{2, 5, 64, 700, 64, 333, 65}, // whole vectors
		{3, 1, 9, 0, 0, 0, 0},        // the same row again
		{2, 3, 16, 20, 17, 40, 16},   // one whole zmm
		{2, 3, 17, 20, 17, 40, 17},   // a zmm and one value
		{1, 4, 196, 200, 196, 300, 197},
	} {
		t.Run(fmt.Sprint(c), func(t *testing.T) {
			srcLen := (c.n1-1)*c.s1 + (c.n2-1)*c.s2 + c.cols
			dstLen := (c.n1-1)*c.d1 + (c.n2-1)*c.d2 + c.cols
			src := make([]float32, srcLen+3)
			for i := range src {
				src[i] = float32(i + 1)
			}
			dst := make([]float32, dstLen+3)
			want := make([]float32, len(dst))
			for i := range dst {
				dst[i], want[i] = -1, -1
			}
			for i := 0; i < c.n1; i++ {
				for j := 0; j < c.n2; j++ {
					for q := 0; q < c.cols; q++ {
						want[i*c.d1+j*c.d2+q] = src[i*c.s1+j*c.s2+q]
					}
				}
			}
			Copy2D(c.n1, c.n2, c.cols, dst[:dstLen], c.d1, c.d2, src[:srcLen], c.s1, c.s2)
			for i := range want {
				if dst[i] != want[i] {
					t.Fatalf("dst[%d] = %v, want %v", i, dst[i], want[i])
				}
			}
		})
	}
}

func TestCopy2DPanics(t *testing.T) {
	for _, c := range []struct {
		name     string
		dst, src int
		d1       int
	}{{"dst", 10, 20, 10}, {"src", 20, 10, 10}, {"stride", 20, 20, -1}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", c.name)
				}
			}()
			Copy2D(2, 1, 8, make([]float32, c.dst), c.d1, 0, make([]float32, c.src), 12, 0)
		}()
	}
}
