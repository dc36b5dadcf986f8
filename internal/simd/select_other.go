//go:build !amd64 || purego

package simd

// supportedKernels lists the kernel sets this CPU can run: without the
// amd64 assembly only the pure-Go one.
func supportedKernels() []*kernelSet { return []*kernelSet{genericSet} }

// No max-pooling assembly here: MaxPool2x2 and MaxUnpool2x2 report false.
const hasMaxPoolAsm = false

func maxPool2x2Asm(oh, ow int, x *float32, w int, y *float32, argmax *int32) {
	panic("simd: no max-pooling assembly")
}

func maxUnpool2x2Asm(oh, ow int, dy *float32, argmax *int32, w int, dx *float32) {
	panic("simd: no max-pooling assembly")
}

// No gather assembly here: GatherRows reports false.
const hasGatherAsm = false

func gatherRowsAsm(rows int, src *float32, srcStride int, dst *float32, dstStride int, p *[10]uint64) {
	panic("simd: no gather assembly")
}
