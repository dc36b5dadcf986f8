package gemm

// kernels is the kernel set used by new calls: the first (fastest) one the
// CPU supports, chosen once at start-up. Tests switch it with useKernels.
var kernels = supportedKernels()[0]

func activeKernels() *kernelSet { return kernels }

// KernelName reports which kernel set Sgemm and Pool use on this machine:
// "avx512", "avx2" or "generic".
func KernelName() string { return kernels.name }

// useKernels makes the named kernel set active and returns a function that
// restores the previous one. It reports false if the CPU (or the build)
// does not support that set. Not safe to call while GEMMs are running.
func useKernels(name string) (restore func(), ok bool) {
	for _, ks := range supportedKernels() {
		if ks.name == name {
			prev := kernels
			kernels = ks
			return func() { kernels = prev }, true
		}
	}
	return func() {}, false
}
