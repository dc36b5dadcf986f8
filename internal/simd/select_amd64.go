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
