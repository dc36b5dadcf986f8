//go:build !amd64 || purego

package gemm

// supportedKernels lists the kernel sets this CPU can run: without the
// amd64 assembly only the pure-Go one.
func supportedKernels() []*kernelSet { return []*kernelSet{genericKernels} }

// transpose4x8 has no assembly here: transpose4 runs in Go.
var transpose4x8 func(n8 int, dst *float32, ld int, src *float32, lds int)

// copy2DAsm has no assembly here: Copy2D runs in Go.
var (
	copy2DAsm func(n1, n2, cols int, dst *float32, d1, d2 int, src *float32, s1, s2 int)
	copy2DMin int
)

func moreCopy2DImpls() []struct {
	name string
	fn   func(n1, n2, cols int, dst *float32, d1, d2 int, src *float32, s1, s2 int)
	min  int
} {
	return nil
}
