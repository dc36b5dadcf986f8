// Package gemm is the float32 matrix multiply behind nettrain's GEMM
// helper: C = alpha*op(A)*op(B) + beta*C on row-major matrices, with
// op(X) = X or X^T, single-threaded (Sgemm) or on the goroutines of a
// parallel.Pool (Parallel.Sgemm). SgemmRef is the obvious triple loop it
// is tested against. It also holds SgemmRows (a product that reads B
// through row offsets) and Copy2D (the strided copy around products):
// see Beyond the product. Who allocates: the caller owns A, B and C; the
// package owns its packing workspaces (see Memory).
//
// # Contract
//
// The arguments follow BLAS's row-major convention (gonum's blas32.Gemm):
// op(A) is m x k, op(B) is k x n, C is m x n, and lda, ldb, ldc are the row
// strides of the matrices as stored (A is k x m when tA, B is n x k when
// tB). Only C is written, and only its m x n elements (the padding of
// strided rows is left alone). beta == 0 overwrites C, so NaNs in C do not
// propagate; alpha == 0 or k == 0 scale C by beta without reading A or B. C
// must not overlap A or B. Negative sizes, strides shorter than a row and
// slices too short for the matrices are programmer errors and panic with a
// "gemm: ..." message; nothing else can fail.
//
// # Loop nests
//
// Every call is planned once, for the whole of C (makePlan), into one of
// two loop nests:
//
// Outer product, Goto/BLIS style (outerGemm). k is cut into blocks of kc;
// for each block, A is cut into panels of at most mc rows and packed into
// slivers of up to mr rows, element (i, p) of a sliver at p*mr+i, so the
// values the kernel broadcasts at step p are contiguous. Each sliver (12 x
// 256 floats = 12 KB) stays in L1 while the kernel sweeps it over a block
// of nc columns of B in steps of nr, updating one mr x nr tile of C per
// call: acc = sum_p a(i,p)*b(p,j), C = alpha*acc + beta*C, with beta = 1
// after the first k-block. B is packed into slivers of nr columns, element
// (p, j) at p*nr+j, one kc x nc block at a time (in L2; see Kernels for
// mc and nc).
//
// The kernel takes the k-stride of both operands as arguments, so an
// operand already laid out as it reads it is used in place when packing
// does not pay: op(A) = A^T (stored k x m) while m <= 512, and op(B) = B
// (stored k x n) by the rules Select sets per CPU (see Kernels): on Zen 4's
// AVX-512 always, on full-width AVX-512 cores unless C has 256 rows or
// more, k is 256 or more and B's rows are a multiple of 4 KiB apart, and
// with the AVX2 kernels while m < 256 (they need B at twice the rate per
// flop). op(A) = A and op(B) = B^T must be transposed, so they are always
// packed.
//
// Dot product (dotGemm), for C = A*B^T (tA false, tB true): the forward
// pass of a dense layer. Rows of A and rows of B are both contiguous along
// k, so the kernel reads them in place, with no packing at all: a dmr x dnr
// tile of vector accumulators (4 x 6 zmm, 4 x 3 ymm) accumulates 16 (or 8)
// partial sums per element over a k-block and reduces them at the end,
// into C. The AVX-512 set cuts k deeper than dkc = 1216 into the fewest
// blocks of at most dkc, all but the last the same whole number of vectors
// (dotBlock: 1568 into two of 784), so that the tile's
// 4 rows of A and 6 of B fit a 48 KiB L1 (a convolution's dW, 32x48x1568:
// 145 to 184 GFLOP/s on a Zen 5 core); later blocks add to C. dkc decides
// the rounding, so it is the set's constant, the same on Zen 4 and Intel
// cores (measured on Zen 5 only; on a 32 KiB L1 a block of 1216 does not
// fit, but no block is deeper than the whole k was). Shallower products,
// and the other sets, take k in one block. Rows of A over one block are
// grouped so that the group stays in L2 while the rows of B stream past.
// The reduction and epilogue cost a fixed hundred-odd
// instructions per tile, so this path is taken (DotRule, set per CPU) for k
// <= 4096 when the product is skinny or small, or deep enough to amortise
// the reduction: on Zen 4 and with AVX2, skinny is min(m, n) <= 64, small
// m*n*k <= 2^22 and deep k >= 256 (with AVX2 only while min(m, n) <= 256);
// on full-width AVX-512 cores, skinny is min(m, n) <= 48 and deep is 512
// <= k <= L1D/(4*(4+6)), the depth at which the tile's 4 rows of A and 6
// of B still fit L1 (up to 4096 when L1 holds a whole block of dkc), for
// min(m, n) <= 96. Otherwise C = A*B^T goes through
// the outer-product nest with B^T packed.
//
// makePlan applies these rules; they move work between code paths
// without changing what a thread count does to the bits (see below).
//
// # Kernels
//
// Three kernel sets exist (kernelSet). Select (cpu.go) chooses one at
// start-up from what CPUID reports (github.com/klauspost/cpuid/v2), the
// widest the CPU runs, and sets its blocking from the CPU's kind and L2
// size; kc and dkc, which decide the rounding, are constants of the set:
//
//	set      CPU features                 outer tile         dot tile   kc    dkc
//	avx512   AVX-512F+VL, AVX2, FMA       12 x 32 (2 zmm)    4 x 6      256   1216
//	avx2     AVX2, FMA                     6 x 16 (2 ymm)    4 x 3      256   none
//	generic  any (pure Go)                 4 x 2 (scalars)   2 x 2      256   none
//
// mc (the panel of A) is L2/(4 kc) rounded up to whole slivers: 1032 rows
// on a 1 MiB L2. nc (the block of B) takes a quarter of L2 on cores that
// execute a 512-bit FMA in one pass (Intel, AMD Zen 5 and later: 256
// columns on 1 MiB) and half of it elsewhere. A full-width AVX-512 core
// packs op(B) = B when m >= 256, k >= 256 and B's rows are a multiple of
// 4 KiB apart (in place, such rows share cache sets and pages: packing
// gains 20% at 1024^3 and loses elsewhere), and sends C = A*B^T to the
// outer-product nest unless it is skinny, or at least 512 deep with
// k-blocks that fit L1 and min(m, n) <= 96 (above); Zen 4,
// whose AVX-512 runs on 256-bit units, reads B in place and keeps the
// dot-product nest for deep products, as measured on it. KernelSelection reports the choice and why; TestSelectTable holds
// the choices for the CPU kinds nettrain is measured on and must not lose
// on, and TestEverySelectionMatchesRef runs each against the reference.
//
// The 12 x 32 AVX-512 tile uses 24 zmm accumulators, 2 for a row of B and 2
// for broadcasts of A: per k step, 2 loads and 12 broadcasts feed 24 FMAs,
// and the row of B 8 steps ahead is prefetched (B is often read in place
// with a large stride). The AVX2 6 x 16 tile is the classic Haswell shape
// (12 accumulators of 16 ymm registers). Packing op(A) = A and op(B) = B^T
// is a transpose, done four rows by eight columns at a time by a small AVX
// routine (transpose4x8AVX) when the CPU has AVX; packing only moves
// values, so it plays no part in the results. Edges need no padding and no
// scalar clean-up: there is a kernel variant for every row count up to mr,
// and the last vector of columns is masked (opmask K1 on AVX-512,
// VMASKMOVPS on AVX2), so a masked lane is never read from B or C nor
// written to C. On AMD EPYC Zen 4, where a zmm FMA is two 256-bit halves,
// both sets peak near 112 GFLOP/s per core and AVX-512 wins on edges and
// skinny shapes thanks to its masks and 32 registers; on Zen 5 (full-width
// FMA) the AVX-512 kernel reaches 227 GFLOP/s per core on L1-resident
// operands (BenchmarkMicroKernel) and about 205 at 1024^3. BenchmarkFMAPeak
// times each set's FMA loop with no loads (generated beside the kernels):
// the ceiling at the clock the core runs at, to judge the tiles by. The build tag
// purego, or any GOARCH but amd64, leaves only the generic set.
//
// Tests force a set with useKernels("avx2"), useKernels("generic"), and run
// every accuracy and determinism test on each set the CPU supports.
//
// # Threads and determinism
//
// A Parallel cuts C into chunks, about two per goroutine (one when what
// every chunk repeats makes that more than a 32nd cheaper, or when chunks
// of rows would be shorter than two slivers), of as nearly equal sizes as
// possible, along rows or along columns (whichever is
// estimated faster, counting what each chunk repeats: the packing on the
// outer-product path, the reading of the uncut operand on the dot-product
// path, so that the goroutines share the smaller operand and split the
// larger), and runs them as one parallel loop over the chunk indices
// (parallel.Pool.For with grain 1): the caller claims chunks from the
// first up, the workers from the last down, so that a goroutine tends to
// get the same part of C (and of each element-wise loop that reads it
// next) call after call and its cache keeps what it last wrote. Each chunk
// is computed over the full depth k with the same plan (same kernel set,
// same loop nest, same kc and dkc) as a single-threaded call; k is never split
// between threads and no partial sums are combined across threads. Every element of C is therefore
// produced by the same sequence of floating-point operations whatever the
// thread count:
//
//   - outer product: for each k-block in order, acc = 0; acc += a*b for p
//     in order (one FMA per step); acc *= alpha; C = beta*C + acc (FMA),
//     with beta = 1 after the first block;
//   - dot product: for each of dotBlock's k-blocks in order, 16 (or 8)
//     lane-wise chains over the block (a product of the first elements,
//     block mod 16, then one FMA per vector), then a fixed reduction tree,
//     then the same epilogue, with beta = 1 after the first block;
//   - the generic set follows the same pattern in scalars (its dot product
//     keeps four partial sums), with a multiply and an add in place of each
//     FMA: every product is rounded by a float32 conversion, so the
//     compiler cannot fuse some of them and not others.
//
// All kernel variants of a set (fewer rows, masked columns) perform exactly
// these operations per element, which also makes the result independent of
// where the chunks end (inside a register tile or not) and of how a block
// is cut into tiles (panels of A are dealt evenly into slivers,
// so a thread's tiling may differ from the single-threaded one). Results
// are thus bit-identical for 1, 2, 3 or 4 threads and between repeated
// calls; they differ, within rounding, between kernel sets.
//
// The threads are those of package parallel: persistent workers and a
// hand-off that allocates nothing. Calls below 2^20 flops stay on the
// caller's goroutine.
//
// # Memory
//
// Packing buffers (one A panel, kc x mc, and one B block, kc x nc: about
// 1.3 MB with AVX-512 on a 1 MiB L2) belong to a workspace: one per goroutine of a
// Parallel's pool, and a free list for the package-level Sgemm and
// SgemmRows. A product that goroutine w of the pool runs inside a parallel
// loop of its own (a recurrence's step, a convolution's sample) goes
// through Parallel.SgemmOn or SgemmRowsOn, in goroutine w's workspace: on
// the shared free list, two cores took turns at one channel at every step
// of an LSTM's recurrence and packed into each other's last buffers. They
// are allocated on the first call that packs and reused, so steady-state
// calls allocate nothing; the dot-product path uses no buffer at all.
//
// # Beyond the product
//
//   - SgemmRows is Sgemm with op(B) = B given as rows at arbitrary offsets
//     of one slice (they may overlap): a stride-1 convolution reads its
//     zero-padded image in place as the patch matrix, with no im2col. It
//     takes the outer-product nest; the AVX-512 kernels have variants
//     (outerAVX512r_*) that load each row of B through the offset table,
//     the other sets pack B from the rows. Its results are bit-identical
//     to Sgemm's on the materialised B.
//   - Copy2D copies a two-level grid of short rows (im2col, the scatter of
//     a product into NCHW), 16 floats at a time under a mask with
//     AVX-512, 8 at a time (the last 8 overlapping) with AVX.
//
// # Regenerating the assembly
//
// kernels_amd64.s (the kernels, transpose4x8AVX and Copy2D's),
// kernels_amd64.go (their Go declarations) and ktables_amd64.go (tile
// shape to kernel tables) are generated by the avo program in ./asm, a
// separate module so that the main module does not depend on avo. Run
//
//	go generate ./internal/gemm
//
// which runs `go run -C asm . -out ../kernels_amd64.s ...`, and commit the
// three generated files. The tile shapes are constants at the top of
// asm/main.go.
package gemm
