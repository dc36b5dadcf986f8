//go:build !purego

package simd

import "golang.org/x/sys/cpu"

// supportedKernels lists the kernel sets this CPU can run, fastest first.
// The AVX-512 kernels use zmm registers and opmasks (AVX512F) next to the
// AVX2 and FMA instructions they share with the AVX2 set.
func supportedKernels() []*kernelSet {
	var s []*kernelSet
	if cpu.X86.HasAVX512F && cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		s = append(s, &kernelSet{name: "avx512", id: 1, lanes: 16})
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		s = append(s, &kernelSet{name: "avx2", id: 2, lanes: 8})
	}
	return append(s, genericSet)
}

// hasMaxPoolAsm: maxPool2x2AVX512 and maxUnpool2x2AVX512 can run. They do
// not depend on the kernel set in use (UseKernels), only on the CPU.
var hasMaxPoolAsm = cpu.X86.HasAVX512F && cpu.X86.HasBMI2

func maxPool2x2Asm(oh, ow int, x *float32, w int, y *float32, argmax *int32) {
	maxPool2x2AVX512(oh, ow, x, w, y, argmax)
}

func maxUnpool2x2Asm(oh, ow int, dy *float32, argmax *int32, w int, dx *float32) {
	maxUnpool2x2AVX512(oh, ow, dy, argmax, w, dx)
}

// hasGatherAsm: gatherRowsAVX512 can run (on the CPU alone, like
// hasMaxPoolAsm).
var hasGatherAsm = cpu.X86.HasAVX512F

func gatherRowsAsm(rows int, src *float32, srcStride int, dst *float32, dstStride int, p *[10]uint64) {
	gatherRowsAVX512(rows, src, srcStride, dst, dstStride, p)
}
