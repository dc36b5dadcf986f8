package simd

import (
	"fmt"
	"unsafe"
)

// GatherRows is a strided gather of rows of up to 16 values, in assembly:
//
//	dst[r*dstStride + j] = src[r*srcStride + j*stride],  r < rows, j < cols
//
// (a strided convolution's patch rows). It reads no src value but those,
// and writes no dst value but those. It reports false, doing nothing, when
// this CPU (or build) has no such assembly (AVX-512F is needed) or when a
// row does not fit it (cols > 16, or a row spanning more than 32 values);
// the caller then runs its own loop. Slices too short for the rows panic.
func GatherRows(dst []float32, dstStride int, src []float32, srcStride, rows, cols, stride int) bool {
	span := (cols-1)*stride + 1
	if !hasGatherAsm || cols > 16 || stride < 1 || span > 32 {
		return false
	}
	if rows <= 0 || cols <= 0 {
		return true
	}
	if len(dst) < (rows-1)*dstStride+cols || len(src) < (rows-1)*srcStride+span || dstStride < 0 || srcStride < 0 {
		panic(fmt.Sprintf("simd: GatherRows of %d rows of %d values (stride %d) from %d values (row stride %d) into %d (row stride %d)",
			rows, cols, stride, len(src), srcStride, len(dst), dstStride))
	}
	var p gatherParams
	for j := range p.idx {
		p.idx[j] = int32(min(j*stride, 31))
	}
	p.lo = uint16(1<<min(span, 16) - 1)
	p.hi = uint16(1<<max(span-16, 0) - 1)
	p.out = uint16(1<<cols - 1)
	gatherRowsAsm(rows, &src[0], srcStride, &dst[0], dstStride, (*[10]uint64)(unsafe.Pointer(&p)))
	return true
}

// gatherParams is gatherRowsAVX512's parameter block: the lane indices
// into the two loaded vectors, the opmasks of the two loads and of the
// store (80 bytes).
type gatherParams struct {
	idx         [16]int32
	lo, hi, out uint16
	_           [5]uint16
}
