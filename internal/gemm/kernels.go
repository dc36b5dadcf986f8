package gemm

import (
	"fmt"
	"os"
	"strings"
)

// KernelsEnv names the environment variable that restricts the kernel
// set to one the CPU runs, at or below what Select would choose: avx2 on
// an AVX-512 machine, generic anywhere. It is for timing what a CPU
// without the wider units would get (bench/compare.sh's gemm-avx2
// workload); the set and its blocking are then those Select gives a CPU
// with this one's caches and without the features above that set.
const KernelsEnv = "NETTRAIN_GEMM_KERNELS"

// kernels is the kernel set used by new calls: the one Select chooses for
// this CPU among those the build supports (or the one KernelsEnv names),
// with its blocking, chosen once at start-up. Tests switch it with
// useKernels.
var kernels, kernelsEnvErr = envKernels(os.Getenv(KernelsEnv))

// envKernels returns the kernel set for the value of KernelsEnv: the
// default for "", the named set when this CPU and build run it, else the
// default and an error that says what was expected.
func envKernels(name string) (*kernelSet, error) {
	def := selectKernels(hostCPU)
	if name == "" {
		return def, nil
	}
	if ks := namedKernels(name); ks != nil {
		return ks, nil
	}
	var names []string
	for _, ks := range supportedKernels() {
		names = append(names, ks.name)
	}
	return def, fmt.Errorf("%s=%q: not a kernel set this machine runs; want one of %s, or unset for %s", KernelsEnv, name, strings.Join(names, ", "), def.name)
}

// KernelsEnvError reports a KernelsEnv value that named no kernel set
// this machine runs (the default set is used then); nil otherwise.
func KernelsEnvError() error { return kernelsEnvErr }

// selectKernels returns the supported kernel set Select names for c, tuned
// to c's caches; the first supported set when the build lacks it (purego).
func selectKernels(c CPU) *kernelSet {
	sel := Select(c)
	sets := supportedKernels()
	for _, ks := range sets {
		if ks.name == sel.Set {
			return ks.tuned(sel)
		}
	}
	return sets[0].tuned(Select(CPU{}))
}

func activeKernels() *kernelSet { return kernels }

// KernelName reports which kernel set Sgemm and Pool use on this machine:
// "avx512", "avx2" or "generic".
func KernelName() string { return kernels.name }

// KernelSelection reports the kernel set and blocking in use, and why.
func KernelSelection() Selection { return kernels.sel }

// withoutAbove is c with the features above the named set taken away: the
// CPU for which Select would choose that set.
func withoutAbove(c CPU, name string) CPU {
	switch name {
	case "avx2":
		c.AVX512 = false
	case "generic":
		c.AVX512, c.AVX2FMA = false, false
	}
	return c
}

// useKernels makes the named kernel set active, with the blocking Select
// gives it on this machine's caches, and returns a function that restores
// the previous one. It reports false if the CPU (or the build) does not
// support that set. Not safe to call while GEMMs are running.
func useKernels(name string) (restore func(), ok bool) {
	if ks := namedKernels(name); ks != nil {
		return useKernelSet(ks), true
	}
	return func() {}, false
}

// namedKernels returns the named kernel set with the blocking Select gives
// this machine's caches without the features above it; nil when the CPU
// (or the build) does not run that set.
func namedKernels(name string) *kernelSet {
	for _, ks := range supportedKernels() {
		if ks.name == name {
			return ks.tuned(Select(withoutAbove(hostCPU, name)))
		}
	}
	return nil
}

// useKernelSet makes ks active and returns the function that restores the
// previous set.
func useKernelSet(ks *kernelSet) (restore func()) {
	prev := kernels
	kernels = ks
	return func() { kernels = prev }
}

// WorkspaceBytes is the size of one goroutine's packing buffers with the
// kernel set this CPU runs (the most a workspace grows to): what each
// goroutine of a pool, and each Sgemm outside one, may hold. Memory
// estimates count it per thread.
func WorkspaceBytes() int64 {
	ks := activeKernels()
	return 4 * int64(ks.kc) * int64(roundUp(ks.mc, ks.mr)+roundUp(ks.nc, ks.nr))
}
