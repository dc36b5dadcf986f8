package gemm

import "fmt"

// Copy2D copies n1*n2 rows of cols float32 values, two levels of strides
// apart (in elements):
//
//	dst[i*d1 + j*d2 + q] = src[i*s1 + j*s2 + q]   for i < n1, j < n2, q < cols
//
// It is the data movement of a convolution's im2col (rows of the input
// image into rows of patches) and of scatters between a GEMM's output and
// NCHW tensors, rows of a few dozen values where a call of the built-in
// copy per row would cost more than the copy. It runs in assembly: with
// AVX-512, 16 values at a time and the rest of a row under a mask (a row
// of 14 is one load and one store); with AVX and cols >= 8, eight values
// at a time, the last eight of a row overlapping the previous ones when
// cols is not a multiple of 8; else as a loop of copy. Only the rows
// themselves are read and written; rows of dst must not overlap rows of
// src. Strides must be non-negative; a slice too short for its rows
// panics.
func Copy2D(n1, n2, cols int, dst []float32, d1, d2 int, src []float32, s1, s2 int) {
	if n1 <= 0 || n2 <= 0 || cols <= 0 {
		return
	}
	if d1 < 0 || d2 < 0 || s1 < 0 || s2 < 0 {
		panic(fmt.Sprintf("gemm: Copy2D with a negative stride (%d, %d, %d, %d)", d1, d2, s1, s2))
	}
	if need := (n1-1)*d1 + (n2-1)*d2 + cols; len(dst) < need {
		panic(fmt.Sprintf("gemm: Copy2D dst too short: len=%d, need %d", len(dst), need))
	}
	if need := (n1-1)*s1 + (n2-1)*s2 + cols; len(src) < need {
		panic(fmt.Sprintf("gemm: Copy2D src too short: len=%d, need %d", len(src), need))
	}
	if copy2DAsm != nil && cols >= copy2DMin {
		copy2DAsm(n1, n2, cols, &dst[0], 4*d1, 4*d2, &src[0], 4*s1, 4*s2)
		return
	}
	for i := 0; i < n1; i++ {
		for j := 0; j < n2; j++ {
			copy(dst[i*d1+j*d2:][:cols], src[i*s1+j*s2:][:cols])
		}
	}
}
