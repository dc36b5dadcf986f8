//go:build !amd64 || purego

package gemm

// supportedKernels lists the kernel sets this CPU can run: without the
// amd64 assembly only the pure-Go one.
func supportedKernels() []*kernelSet { return []*kernelSet{genericKernels} }

// transpose4x8 has no assembly here: transpose4 runs in Go.
var transpose4x8 func(n8 int, dst *float32, ld int, src *float32, lds int)
