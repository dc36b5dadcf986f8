//go:build !amd64 || purego

package simd

// supportedKernels lists the kernel sets this CPU can run: without the
// amd64 assembly only the pure-Go one.
func supportedKernels() []*kernelSet { return []*kernelSet{genericSet} }
