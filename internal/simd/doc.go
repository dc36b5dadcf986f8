// Package simd holds nettrain's element-wise kernels over flat slices, in
// AVX-512 and AVX2 assembly generated with avo: ReLU, Exp, Sigmoid, Tanh
// and their backward formulas, the normal distribution's tail and density
// (NormalTail, for exact GELU), the fused gate formulas of one LSTM row
// (LSTMForward, LSTMBackward), Scale, Axpy, Add, AddWiden, bytes to
// normalised values (BytesAffine, for batch filling), y = a x + b and y =
// a u + b v + c (Affine, Affine2), float64 sums in 32 lanes (LaneSums,
// FoldLanes: batchnorm's and layernorm's statistics), layernorm's passes
// over a row (LNNormalize, LNBackSums, LNBackDx), gradient norms (SumSquares), 2x2
// max pooling (MaxPool2x2, MaxUnpool2x2), a strided gather of short rows
// (GatherRows, a strided convolution's patch rows), and the float32
// kernels of the optimizer updates (Adam, SGD, Adagrad, RMSprop,
// Adadelta), whose pure-Go references live with the optimizers in package
// optim.
//
// # Contract
//
// Functions work on whole slices: the output is the first argument (or
// the slices the doc comment names as updated), inputs are never written,
// and all slices of a call have the length the doc comment states; a
// mismatch is a programmer error and panics. Nothing allocates: the caller
// owns every buffer. A call is single-threaded and each element's result
// depends only on that element's inputs (SumSquares, LaneSums and
// LNBackSums, which sum, excepted: see there),
// so a caller may split a slice into sub-ranges and run them on any number
// of goroutines without changing a bit. Output and input may be the same
// slice, but must not overlap otherwise.
//
// The maps, the LSTM gates, Scale, Axpy, Add, AddWiden, BytesAffine,
// Affine, Affine2, LaneSums, the layernorm passes and SumSquares are
// generic over float32 and float64 and always do the work:
// assembly for float32 when the CPU has it, else (and for float64) their
// pure-Go reference in ref.go. The optimizer kernels, max pooling and
// GatherRows are float32 only and report whether they ran: false means no
// kernel for this CPU or build (or, for GatherRows, a row it does not
// take), and the caller runs its own reference (package optim's, package
// backprop's loops).
//
// # Kernel sets
//
// float32 runs generated assembly when the CPU has it; float64 (gradient
// checks, golden tests) always runs the pure-Go references. Three kernel
// sets exist; one is chosen at start-up from golang.org/x/sys/cpu, the
// first this CPU supports:
//
//	set      CPU features            vector
//	avx512   AVX512F, AVX2, FMA      zmm, 16 floats, opmask tails
//	avx2     AVX2, FMA               ymm, 8 floats, VMASKMOVPS tails
//	generic  any (pure Go)           the references (ref.go; optim's)
//
// The build tag purego, or any GOARCH but amd64, leaves only the generic
// set. Tests force each set the CPU supports (KernelSets, UseKernels) and
// compare it with the reference; package optim's tests do the same for the
// optimizer kernels against its references.
//
// # Accuracy
//
// The arithmetic kernels (optimizers, Scale, Axpy, Add, AddWiden,
// BytesAffine, Affine, Affine2, LaneSums, the layernorm passes, ReLU and
// every backward formula)
// are bit-identical to their reference on every
// set: the assembly issues one instruction per rounded operation of the
// reference, in the same order (a multiply then an add, never an FMA where
// the reference rounds twice; VSQRTPS and VDIVPS are correctly rounded like
// Go's), and the reference marks each rounding with an explicit conversion
// so that no compiler fuses it. The optimizer kernels follow the
// references in package optim (torch.optim's single-tensor order of
// operations); AMSGrad's max(vmax, v) is x86's there too: v when either is
// NaN. A vector of an optimizer update whose state (moments, momentum,
// sums; not the weights or gradients) holds a subnormal value, or one
// about to become subnormal (a moment decayed below 2^-100), runs the
// multiplications, divisions and square roots of those values in
// float64, each rounded to float32 at once: the same bits, without the
// microcode assist of about 60 ns that an x86 float32 multiply takes on a
// subnormal operand or result (asm/guard.go). "The same bits" leaves out
// NaN payloads, here as in every kernel: the tests count every NaN equal
// to every other.
//
// Exp, Sigmoid and Tanh in float32 are polynomial approximations (Cephes'
// expf and tanhf, evaluated with FMAs): exp within 2 ulp of the correctly
// rounded result (1 ulp measured), sigmoid within 3 (2.3 measured), tanh
// within 2 (1.2 measured), tested on dense grids against float64 package
// math. They are monotonic (tanh is exactly odd), saturate exactly (tanh
// to ±1 beyond |x| = 9.1, sigmoid to 1 beyond 17.4 and to 0 below -88.7,
// where the true value is subnormal; exp overflows to +Inf beyond 88.72
// and underflows gradually to 0), and propagate NaN. The AVX-512 and AVX2
// sets run the same instruction sequence, so they agree to the bit; the
// generic set computes these in float64 with package math and differs
// from them within the tolerances. LSTMForward's gates use the same
// approximations.
//
// NormalTail computes Phi(-|x|) as exp(-x^2/2) h(t) / (1 + sqrt(2)|x|),
// with t = (|x| - 2 sqrt 2)/(|x| + 2 sqrt 2) and h a degree-11 polynomial
// fitted to 1.8e-8 (scripts/fits/normaltail.py), and phi(x) from the same
// exp(-x^2/2), whose argument is split exactly by an FMA so that the far
// tail loses nothing to rounding x^2. Both stay within 6 ulp above 2^-126
// (5.02 and 2.47 in a scan of every float32 input; the worst of q at
// |x| = 0.018275844, just below 0.5 where the ulp halves), underflow
// gradually below and reach 0 at |x| = 14.17 and 14.34; unlike Exp,
// Sigmoid and Tanh the tail is not monotone to the last ulp.
//
// SumSquares accumulates in float64 in a fixed order that depends only on
// the length (32 interleaved lanes, then a fixed tree), identical on all
// sets, so a gradient norm is reproducible to the bit.
//
// # Max pooling
//
// MaxPool2x2 and MaxUnpool2x2 are max pooling over 2x2 windows with stride
// 2 and its backward, 16 windows at a time with AVX-512 opmasks (a branch
// per window mispredicts on real data), with PyTorch's rule for ties and
// NaNs. They are float32 only and have no pure-Go twin here: they report
// false without AVX-512F and BMI2 (whatever kernel set is in use), and the
// caller (package backprop's pooling layer) runs its own loop, which the
// tests compare them with.
//
// # Regenerating the assembly
//
// kernels_amd64.s (the kernels and max pooling), kernels_amd64.go (their Go
// declarations),
// dispatch_amd64.go and dispatch_other.go (static calls to the kernel of
// the chosen set; a call through a function value would make escape
// analysis move every argument to the heap) are generated by the avo
// program in ./asm, a separate module so that the main module does not
// depend on avo. Run
//
//	go generate ./internal/simd
//
// and commit the four generated files. The kernel bodies are plain Go
// functions in asm/main.go, written once for both vector widths; the max
// pooling routines are in asm/maxpool.go.
package simd
