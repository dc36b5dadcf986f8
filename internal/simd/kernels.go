package simd

import "unsafe"

//go:generate go run -C asm . -out ../kernels_amd64.s -stubs ../kernels_amd64.go -pkg simd -tables ../dispatch_amd64.go

// kernelSet is a named choice of kernels. id 0 is the pure-Go reference;
// 1 (AVX-512) and 2 (AVX2) select the generated assembly through the
// dispatch functions of dispatch_amd64.go (<kernel>Asm(set, ...)).
type kernelSet struct {
	name  string
	id    int
	lanes int // float32 lanes per vector (addwiden works in whole vectors)
}

var genericSet = &kernelSet{name: "generic", id: 0, lanes: 1}

// fast is the kernel set in use: the first of supportedKernels, chosen
// once at start-up (tests switch it with UseKernels).
var fast = supportedKernels()[0]

// Kernels names the kernel set in use: "avx512", "avx2" or "generic".
func Kernels() string { return fast.name }

// KernelSets names the kernel sets this CPU can run, fastest first: some
// of "avx512", "avx2", then always "generic".
func KernelSets() []string {
	var names []string
	for _, s := range supportedKernels() {
		names = append(names, s.name)
	}
	return names
}

// UseKernels switches to the named kernel set (one of KernelSets) and
// returns a function that switches back; it panics if this CPU cannot run
// the set. For tests and benchmarks, here and in the packages whose
// references the kernels twin (optim): it is not safe while kernels run.
func UseKernels(name string) (restore func()) {
	old := fast
	for _, s := range supportedKernels() {
		if s.name == name {
			fast = s
			return func() { fast = old }
		}
	}
	panic("simd: kernel set " + name + " is not supported on this CPU")
}

// asm returns the assembly kernel set to use for element type T, or 0 for
// the pure-Go reference (float64, or no assembly on this CPU).
func asm[T Float]() int {
	var z T
	if _, ok := any(z).(float32); !ok {
		return 0
	}
	return fast.id
}

// p32 is the address of s[0] as a *float32 (T must be float32, s non-empty).
func p32[T Float](s []T) *float32 { return (*float32)(unsafe.Pointer(unsafe.SliceData(s))) }

// pp32 is the address of a parameter block of float32 fields.
func pp32[P any](p *P) *float32 { return (*float32)(unsafe.Pointer(p)) }
