// Command asm generates the amd64 micro-kernels of package gemm with avo.
//
// It lives in its own module so that the main module never depends on avo.
// Run it through `go generate` in the gemm package, which executes
//
//	cd asm && go run . -out ../kernels_amd64.s -stubs ../kernels_amd64.go -pkg gemm
//
// and writes three files in the gemm package: kernels_amd64.s (the
// assembly), kernels_amd64.go (the Go declarations) and
// ktables_amd64.go (tables mapping a tile shape to its kernel).
//
// Four kernel families and one packing helper are generated (see the
// package documentation of gemm for the maths and the calling conventions):
//
//   - outerAVX512_RxV[m]: outer-product kernel, R rows of C times V zmm
//     vectors (16 columns each), R in 1..12, V in 1..2. The "m" variant
//     masks the last vector of columns with opmask K1.
//   - outerAVX512r_RxV[m]: the same with the rows of B read through a
//     table of offsets (SgemmRows: an image read in place by a
//     convolution).
//   - outerAVX2_RxV[m]: the same with ymm vectors (8 columns), R in 1..6,
//     V in 1..2, masked through VMASKMOVPS.
//   - dotAVX512_RxN: dot-product kernel for C = A*B^T with both operands
//     read along k, R in 1..4 rows of A, N in 1..6 rows of B.
//   - dotAVX2_RxN: the same with ymm vectors, R in 1..4, N in 1..3.
//   - transpose4x8AVX: four rows by eight columns transposed at a time,
//     the inner loop of packing A (op(A) = A) and B (op(B) = B^T).
//   - copy2DAVX, copy2DAVX512: a two-level strided copy of rows (Copy2D:
//     the data movement of im2col and of NCHW scatters), with ymm vectors
//     (the last one overlapping) or zmm vectors (the last one masked).
//
// Every variant of a family performs, for each element of C, exactly the
// same sequence of floating-point operations; only the number of elements
// differs. That is what makes the results of package gemm independent of
// how the output is split into tiles and threads.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"os"
	"path/filepath"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// Tile shapes. Keep in sync with the kernel sets in kernels_select_amd64.go
// (they are also written to ktables_amd64.go as constants).
const (
	outer512Rows = 12 // rows of C per AVX-512 outer-product tile
	outer512Vecs = 2  // zmm vectors per row (32 columns)
	outer256Rows = 6  // rows of C per AVX2 outer-product tile
	outer256Vecs = 2  // ymm vectors per row (16 columns)
	dot512Rows   = 4  // rows of A per AVX-512 dot tile
	dot512Cols   = 6  // rows of B (columns of C) per AVX-512 dot tile
	dot256Rows   = 4
	dot256Cols   = 3
	unroll       = 4 // k-loop unrolling of the outer-product kernels
	// The outer-product kernels prefetch the row of b 1<<prefetchShift
	// steps ahead (b is often read in place, with a large stride).
	prefetchShift = 3
)

var (
	zmm = []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15,
		Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31}
	ymm = []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15,
		Y16, Y17, Y18, Y19, Y20, Y21, Y22, Y23, Y24, Y25, Y26, Y27, Y28, Y29, Y30, Y31}
	xmm = []VecPhysical{X0, X1, X2, X3, X4, X5, X6, X7, X8, X9, X10, X11, X12, X13, X14, X15,
		X16, X17, X18, X19, X20, X21, X22, X23, X24, X25, X26, X27, X28, X29, X30, X31}
)

const (
	sigOuter512  = "func(k int, a *float32, as int, b *float32, bs int, c *float32, ldc int, alpha float32, beta float32, beta0 int, mask int)"
	sigOuter256  = "func(k int, a *float32, as int, b *float32, bs int, c *float32, ldc int, alpha float32, beta float32, beta0 int, mask *int32)"
	sigOuter512r = "func(k int, a *float32, as int, b *float32, offs *int, c *float32, ldc int, alpha float32, beta float32, beta0 int, mask int)"
	sigDot512    = "func(kv int, tail int, mask int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha float32, beta float32, beta0 int)"
	sigDot256    = "func(kv int, tail int, mask *int32, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha float32, beta float32, beta0 int)"
)

func main() {
	tables := flag.String("tables", "../ktables_amd64.go", "Go file receiving the kernel tables")
	ConstraintExpr("!purego")

	for r := 1; r <= outer512Rows; r++ {
		for v := 1; v <= outer512Vecs; v++ {
			outer512(r, v, false)
			outer512(r, v, true)
		}
	}
	for r := 1; r <= outer512Rows; r++ {
		for v := 1; v <= outer512Vecs; v++ {
			outer512r(r, v, false)
			outer512r(r, v, true)
		}
	}
	for r := 1; r <= outer256Rows; r++ {
		for v := 1; v <= outer256Vecs; v++ {
			outer256(r, v, false)
			outer256(r, v, true)
		}
	}
	for r := 1; r <= dot512Rows; r++ {
		for n := 1; n <= dot512Cols; n++ {
			dot512(r, n)
		}
	}
	for r := 1; r <= dot256Rows; r++ {
		for n := 1; n <= dot256Cols; n++ {
			dot256(r, n)
		}
	}
	transpose4x8()
	copy2D()
	copy2D512()
	fmaPeak("AVX2", ymm, 12)
	fmaPeak("AVX512", zmm, 24)
	Generate()
	if err := writeTables(*tables); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func outerName(isa string, r, v int, masked bool) string {
	s := fmt.Sprintf("outer%s_%dx%d", isa, r, v)
	if masked {
		s += "m"
	}
	return s
}

func dotName(isa string, r, n int) string { return fmt.Sprintf("dot%s_%dx%d", isa, r, n) }

// outer512 emits C[r rows, v*16 cols] = alpha*sum_p a(r,p)*b(p,:) + beta*C.
//
// a(r,p) is at a + r*4 + p*as, b(p,j) at b + j*4 + p*bs, C(r,j) at
// c + r*ldc + j*4 (all byte offsets). If masked, lanes of the last vector
// outside mask are neither read from b or C nor written to C.
// Registers: Z0,Z1 hold a row of b, Z2,Z3 broadcasts of a, Z4.. the
// accumulators (row r, vector v in Z[4+r*vecs+v]).
func outer512(rows, vecs int, masked bool) { outer512x(rows, vecs, masked, false) }

// outer512r is outer512 with the rows of b read through a table of
// offsets: b(p,j) at b + 4*(offs[p] + j), offs an []int. (No prefetch:
// the rows are meant to be in cache, an image read in place.)
func outer512r(rows, vecs int, masked bool) { outer512x(rows, vecs, masked, true) }

func outer512x(rows, vecs int, masked, rowsB bool) {
	name, sig := outerName("AVX512", rows, vecs, masked), sigOuter512
	if rowsB {
		name, sig = outerName("AVX512r", rows, vecs, masked), sigOuter512r
	}
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	k := Load(Param("k"), GP64())
	a := Load(Param("a"), GP64())
	as := Load(Param("as"), GP64())
	b := Load(Param("b"), GP64())
	var bs, offs, off Register
	if rowsB {
		offs = Load(Param("offs"), GP64())
		off = GP64()
	} else {
		bs = Load(Param("bs"), GP64())
	}
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	if masked {
		mask := GP64()
		Load(Param("mask"), mask)
		KMOVW(mask.As32(), K1)
	}
	acc := func(r, v int) VecPhysical { return zmm[4+r*vecs+v] }

	// Prefetch the C tile and clear the accumulators.
	cp := GP64()
	MOVQ(c, cp)
	for r := 0; r < rows; r++ {
		for v := 0; v < vecs; v++ {
			PREFETCHT0(Mem{Base: cp, Disp: 64 * v})
			VPXORD(acc(r, v), acc(r, v), acc(r, v))
		}
		if r+1 < rows {
			ADDQ(ldc, cp)
		}
	}

	// pf runs prefetchDist rows of b ahead of the loads.
	var pf Register
	if !rowsB {
		pf = GP64()
		MOVQ(bs, pf)
		SHLQ(U8(prefetchShift), pf)
		ADDQ(b, pf)
	}
	body := func() {
		if rowsB {
			MOVQ(Mem{Base: offs}, off)
			ADDQ(U8(8), offs)
		} else {
			for v := 0; v < vecs; v++ {
				PREFETCHT0(Mem{Base: pf, Disp: 64 * v})
			}
			ADDQ(bs, pf)
		}
		for v := 0; v < vecs; v++ {
			m := Mem{Base: b, Disp: 64 * v}
			if rowsB {
				m = Mem{Base: b, Index: off, Scale: 4, Disp: 64 * v}
			}
			if masked && v == vecs-1 {
				VMOVUPS_Z(m, K1, zmm[v])
			} else {
				VMOVUPS(m, zmm[v])
			}
		}
		for r := 0; r < rows; r++ {
			t := zmm[2+r%2]
			VBROADCASTSS(Mem{Base: a, Disp: 4 * r}, t)
			for v := 0; v < vecs; v++ {
				VFMADD231PS(zmm[v], t, acc(r, v))
			}
		}
		ADDQ(as, a)
		if !rowsB {
			ADDQ(bs, b)
		}
	}
	kloops(k, body)

	// Epilogue: acc *= alpha; if !beta0 { acc += beta*C }; C = acc.
	VBROADCASTSS(paramAddr("alpha"), Z0)
	beta0 := Load(Param("beta0"), GP64())
	TESTQ(beta0, beta0)
	JNZ(LabelRef("overwrite"))
	VBROADCASTSS(paramAddr("beta"), Z1)
	MOVQ(c, cp)
	for r := 0; r < rows; r++ {
		for v := 0; v < vecs; v++ {
			m := Mem{Base: cp, Disp: 64 * v}
			VMULPS(Z0, acc(r, v), acc(r, v))
			if masked && v == vecs-1 {
				VMOVUPS_Z(m, K1, Z2)
				VFMADD231PS(Z1, Z2, acc(r, v))
				VMOVUPS(acc(r, v), K1, m)
			} else {
				VFMADD231PS(m, Z1, acc(r, v))
				VMOVUPS(acc(r, v), m)
			}
		}
		if r+1 < rows {
			ADDQ(ldc, cp)
		}
	}
	VZEROUPPER()
	RET()

	Label("overwrite")
	for r := 0; r < rows; r++ {
		for v := 0; v < vecs; v++ {
			m := Mem{Base: c, Disp: 64 * v}
			VMULPS(Z0, acc(r, v), acc(r, v))
			if masked && v == vecs-1 {
				VMOVUPS(acc(r, v), K1, m)
			} else {
				VMOVUPS(acc(r, v), m)
			}
		}
		if r+1 < rows {
			ADDQ(ldc, c)
		}
	}
	VZEROUPPER()
	RET()
}

// outer256 is outer512 for AVX2+FMA: ymm vectors of 8 columns, the mask of
// the last vector is a ymm (sign bits) loaded from *mask.
// Registers: Y0..Y11 accumulators (row r, vector v in Y[r*vecs+v]), Y12,Y13
// a row of b, Y14 the broadcast of a, Y15 the mask.
func outer256(rows, vecs int, masked bool) {
	TEXT(outerName("AVX2", rows, vecs, masked), NOSPLIT, sigOuter256)
	Pragma("noescape")
	k := Load(Param("k"), GP64())
	a := Load(Param("a"), GP64())
	as := Load(Param("as"), GP64())
	b := Load(Param("b"), GP64())
	bs := Load(Param("bs"), GP64())
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	if masked {
		mask := Load(Param("mask"), GP64())
		VMOVDQU(Mem{Base: mask}, Y15)
	}
	acc := func(r, v int) VecPhysical { return ymm[r*vecs+v] }

	cp := GP64()
	MOVQ(c, cp)
	for r := 0; r < rows; r++ {
		for v := 0; v < vecs; v++ {
			if v%2 == 0 {
				PREFETCHT0(Mem{Base: cp, Disp: 32 * v})
			}
			VXORPS(acc(r, v), acc(r, v), acc(r, v))
		}
		if r+1 < rows {
			ADDQ(ldc, cp)
		}
	}

	pf := GP64()
	MOVQ(bs, pf)
	SHLQ(U8(prefetchShift), pf)
	ADDQ(b, pf)
	body := func() {
		PREFETCHT0(Mem{Base: pf})
		ADDQ(bs, pf)
		for v := 0; v < vecs; v++ {
			m := Mem{Base: b, Disp: 32 * v}
			if masked && v == vecs-1 {
				VMASKMOVPS(m, Y15, ymm[12+v])
			} else {
				VMOVUPS(m, ymm[12+v])
			}
		}
		for r := 0; r < rows; r++ {
			VBROADCASTSS(Mem{Base: a, Disp: 4 * r}, Y14)
			for v := 0; v < vecs; v++ {
				VFMADD231PS(ymm[12+v], Y14, acc(r, v))
			}
		}
		ADDQ(as, a)
		ADDQ(bs, b)
	}
	kloops(k, body)

	VBROADCASTSS(paramAddr("alpha"), Y12)
	beta0 := Load(Param("beta0"), GP64())
	TESTQ(beta0, beta0)
	JNZ(LabelRef("overwrite"))
	VBROADCASTSS(paramAddr("beta"), Y13)
	MOVQ(c, cp)
	for r := 0; r < rows; r++ {
		for v := 0; v < vecs; v++ {
			m := Mem{Base: cp, Disp: 32 * v}
			VMULPS(Y12, acc(r, v), acc(r, v))
			if masked && v == vecs-1 {
				VMASKMOVPS(m, Y15, Y14)
				VFMADD231PS(Y13, Y14, acc(r, v))
				VMASKMOVPS(acc(r, v), Y15, m)
			} else {
				VFMADD231PS(m, Y13, acc(r, v))
				VMOVUPS(acc(r, v), m)
			}
		}
		if r+1 < rows {
			ADDQ(ldc, cp)
		}
	}
	VZEROUPPER()
	RET()

	Label("overwrite")
	for r := 0; r < rows; r++ {
		for v := 0; v < vecs; v++ {
			m := Mem{Base: c, Disp: 32 * v}
			VMULPS(Y12, acc(r, v), acc(r, v))
			if masked && v == vecs-1 {
				VMASKMOVPS(acc(r, v), Y15, m)
			} else {
				VMOVUPS(acc(r, v), m)
			}
		}
		if r+1 < rows {
			ADDQ(ldc, c)
		}
	}
	VZEROUPPER()
	RET()
}

// kloops runs body k times: an unrolled loop, then a remainder loop.
func kloops(k Register, body func()) {
	n := GP64()
	MOVQ(k, n)
	SHRQ(U8(2), n)
	ANDQ(U32(unroll-1), k)
	TESTQ(n, n)
	JZ(LabelRef("rem"))
	Label("loop")
	for u := 0; u < unroll; u++ {
		body()
	}
	DECQ(n)
	JNZ(LabelRef("loop"))
	Label("rem")
	TESTQ(k, k)
	JZ(LabelRef("done"))
	Label("remloop")
	body()
	DECQ(k)
	JNZ(LabelRef("remloop"))
	Label("done")
}

// rowAddrs returns memory operands for n rows starting at base with a
// byte stride, using base pointers base, base+2*stride and base+4*stride
// and the stride as index (scales 1 and 2 only, so every address is
// base_i + {0,1}*stride). It returns the base registers to advance.
func rowAddrs(base, stride Register, n int) ([]Mem, []Register) {
	bases := []Register{base}
	for i := 2; i < n; i += 2 {
		r := GP64()
		LEAQ(Mem{Base: bases[len(bases)-1], Index: stride, Scale: 2}, r)
		bases = append(bases, r)
	}
	var ms []Mem
	for i := 0; i < n; i++ {
		m := Mem{Base: bases[i/2]}
		if i%2 == 1 {
			m.Index = stride
			m.Scale = 1
		}
		ms = append(ms, m)
	}
	return ms, bases
}

// hsum4 reduces up to four xmm registers of four partial sums each so that
// lane i of xs[0] holds the total of xs[i]. Every total is computed with
// the same tree, (x0+x1)+(x2+x3), whatever len(xs) is.
func hsum4(xs []VecPhysical) {
	switch len(xs) {
	case 1:
		VHADDPS(xs[0], xs[0], xs[0])
		VHADDPS(xs[0], xs[0], xs[0])
	case 2:
		VHADDPS(xs[1], xs[0], xs[0])
		VHADDPS(xs[0], xs[0], xs[0])
	case 3:
		VHADDPS(xs[1], xs[0], xs[0])
		VHADDPS(xs[2], xs[2], xs[2])
		VHADDPS(xs[2], xs[0], xs[0])
	case 4:
		VHADDPS(xs[1], xs[0], xs[0])
		VHADDPS(xs[3], xs[2], xs[2])
		VHADDPS(xs[2], xs[0], xs[0])
	default:
		panic("hsum4")
	}
}

// dot512 emits C[rows x cols] = alpha*A*B^T + beta*C where row i of A and
// row j of B are read along k: A(i,p) at a + i*lda + 4p, B(j,p) at
// b + j*ldb + 4p. The first tail = k mod 16 elements are loaded under the
// opmask mask and multiplied (this initialises the accumulators), then kv
// full vectors follow.
// Registers: Z0..Z5 rows of B, Z6 a row of A, Z8.. accumulators
// (A row i, B row j in Z[8+i*6+j]).
func dot512(rows, cols int) {
	TEXT(dotName("AVX512", rows, cols), NOSPLIT, sigDot512)
	Pragma("noescape")
	kv := Load(Param("kv"), GP64())
	tail := Load(Param("tail"), GP64())
	a := Load(Param("a"), GP64())
	lda := Load(Param("lda"), GP64())
	b := Load(Param("b"), GP64())
	ldb := Load(Param("ldb"), GP64())
	acc := func(i, j int) VecPhysical { return zmm[8+i*dot512Cols+j] }
	am, abases := rowAddrs(a, lda, rows)
	bm, bbases := rowAddrs(b, ldb, cols)
	advance := func(d Op) {
		for _, r := range abases {
			ADDQ(d, r)
		}
		for _, r := range bbases {
			ADDQ(d, r)
		}
	}

	TESTQ(tail, tail)
	JZ(LabelRef("notail"))
	mask := GP64()
	Load(Param("mask"), mask)
	KMOVW(mask.As32(), K1)
	for j := 0; j < cols; j++ {
		VMOVUPS_Z(bm[j], K1, zmm[j])
	}
	for i := 0; i < rows; i++ {
		VMOVUPS_Z(am[i], K1, Z6)
		for j := 0; j < cols; j++ {
			VMULPS(zmm[j], Z6, acc(i, j))
		}
	}
	SHLQ(U8(2), tail)
	advance(tail)
	JMP(LabelRef("main"))
	Label("notail")
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			VPXORD(acc(i, j), acc(i, j), acc(i, j))
		}
	}
	Label("main")
	TESTQ(kv, kv)
	JZ(LabelRef("reduce"))
	Label("loop")
	for j := 0; j < cols; j++ {
		VMOVUPS(bm[j], zmm[j])
	}
	for i := 0; i < rows; i++ {
		VMOVUPS(am[i], Z6)
		for j := 0; j < cols; j++ {
			VFMADD231PS(zmm[j], Z6, acc(i, j))
		}
	}
	advance(U32(64))
	DECQ(kv)
	JNZ(LabelRef("loop"))

	Label("reduce")
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	beta0 := Load(Param("beta0"), GP64())
	g0, g1 := cols, 0
	if cols > 4 {
		g0, g1 = 4, cols-4
	}
	km := GP32()
	if g0 < 4 {
		MOVL(U32(1<<g0-1), km)
		KMOVW(km, K2)
	}
	if g1 > 0 && g1 < 4 {
		MOVL(U32(1<<g1-1), km)
		KMOVW(km, K3)
	}
	VBROADCASTSS(paramAddr("alpha"), X6)
	VBROADCASTSS(paramAddr("beta"), X7)
	for i := 0; i < rows; i++ {
		// 16 lanes -> 4 lanes, into X0..X5:
		// lane l = (z[l]+z[l+8]) + (z[l+4]+z[l+12]).
		for j := 0; j < cols; j++ {
			z := acc(i, j)
			y := ymm[8+i*dot512Cols+j]
			x := xmm[8+i*dot512Cols+j]
			VEXTRACTF64X4(U8(1), z, ymm[j])
			VADDPS(ymm[j], y, ymm[j])
			VEXTRACTF32X4(U8(1), ymm[j], x)
			VADDPS(x, xmm[j], xmm[j])
		}
		hsum4(xmm[0:g0])
		if g1 > 0 {
			hsum4(xmm[4 : 4+g1])
		}
		// C = alpha*s + beta*C (the C read is skipped when beta0).
		group := func(s, tmp VecPhysical, g int, k OpmaskPhysical, off int) {
			m := Mem{Base: c, Disp: off}
			skip := fmt.Sprintf("store%d_%d", i, off)
			VMULPS(X6, s, s)
			TESTQ(beta0, beta0)
			JNZ(LabelRef(skip))
			if g == 4 {
				VFMADD231PS(m, X7, s)
			} else {
				VMOVUPS_Z(m, k, tmp)
				VFMADD231PS(tmp, X7, s)
			}
			Label(skip)
			if g == 4 {
				VMOVUPS(s, m)
			} else {
				VMOVUPS(s, k, m)
			}
		}
		group(X0, X1, g0, K2, 0)
		if g1 > 0 {
			group(X4, X5, g1, K3, 16)
		}
		if i+1 < rows {
			ADDQ(ldc, c)
		}
	}
	VZEROUPPER()
	RET()
}

// dot256 is dot512 for AVX2+FMA: 8-lane vectors, a tail of k mod 8
// elements loaded through VMASKMOVPS with the mask at *mask.
// Registers: Y0..Y11 accumulators (A row i, B row j in Y[i*3+j]), Y12..Y14
// rows of B, Y15 a row of A (the mask during the tail).
func dot256(rows, cols int) {
	TEXT(dotName("AVX2", rows, cols), NOSPLIT, sigDot256)
	Pragma("noescape")
	kv := Load(Param("kv"), GP64())
	tail := Load(Param("tail"), GP64())
	a := Load(Param("a"), GP64())
	lda := Load(Param("lda"), GP64())
	b := Load(Param("b"), GP64())
	ldb := Load(Param("ldb"), GP64())
	acc := func(i, j int) VecPhysical { return ymm[i*dot256Cols+j] }
	am, abases := rowAddrs(a, lda, rows)
	bm, bbases := rowAddrs(b, ldb, cols)
	advance := func(d Op) {
		for _, r := range abases {
			ADDQ(d, r)
		}
		for _, r := range bbases {
			ADDQ(d, r)
		}
	}

	TESTQ(tail, tail)
	JZ(LabelRef("notail"))
	mask := Load(Param("mask"), GP64())
	VMOVDQU(Mem{Base: mask}, Y15)
	for j := 0; j < cols; j++ {
		VMASKMOVPS(bm[j], Y15, ymm[12+j])
	}
	for i := 0; i < rows; i++ {
		// The first accumulator of the row holds the row of A.
		VMASKMOVPS(am[i], Y15, acc(i, 0))
		for j := cols - 1; j >= 0; j-- {
			VMULPS(ymm[12+j], acc(i, 0), acc(i, j))
		}
	}
	SHLQ(U8(2), tail)
	advance(tail)
	JMP(LabelRef("main"))
	Label("notail")
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			VXORPS(acc(i, j), acc(i, j), acc(i, j))
		}
	}
	Label("main")
	TESTQ(kv, kv)
	JZ(LabelRef("reduce"))
	Label("loop")
	for j := 0; j < cols; j++ {
		VMOVUPS(bm[j], ymm[12+j])
	}
	for i := 0; i < rows; i++ {
		VMOVUPS(am[i], Y15)
		for j := 0; j < cols; j++ {
			VFMADD231PS(ymm[12+j], Y15, acc(i, j))
		}
	}
	advance(U32(32))
	DECQ(kv)
	JNZ(LabelRef("loop"))

	Label("reduce")
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	beta0 := Load(Param("beta0"), GP64())
	VMOVSS(paramAddr("alpha"), X14)
	VMOVSS(paramAddr("beta"), X15)
	for i := 0; i < rows; i++ {
		// 8 lanes -> 4 lanes: lane l = z[l] + z[l+4].
		var xs []VecPhysical
		for j := 0; j < cols; j++ {
			x := xmm[i*dot256Cols+j]
			VEXTRACTF128(U8(1), acc(i, j), X12)
			VADDPS(X12, x, x)
			xs = append(xs, x)
		}
		hsum4(xs)
		s := xs[0]
		for j := 0; j < cols; j++ {
			m := Mem{Base: c, Disp: 4 * j}
			skip := fmt.Sprintf("store%d_%d", i, j)
			if j == 0 {
				VMULSS(X14, s, X13)
			} else {
				VPERMILPS(U8(j), s, X13)
				VMULSS(X14, X13, X13)
			}
			TESTQ(beta0, beta0)
			JNZ(LabelRef(skip))
			VFMADD231SS(m, X15, X13)
			Label(skip)
			VMOVSS(X13, m)
		}
		if i+1 < rows {
			ADDQ(ldc, c)
		}
	}
	VZEROUPPER()
	RET()
}

// transpose4x8 emits the packing helper
//
//	func transpose4x8AVX(n8 int, dst *float32, ld int, src *float32, lds int)
//
// which reads four rows of 8*n8 floats, row r at src + r*lds (bytes), and
// writes column q (four floats: the q-th value of each row) at
// dst + q*ld (bytes). It is the inner loop of packing op(A) = A and
// op(B) = B^T; it only moves values.
func transpose4x8() {
	TEXT("transpose4x8AVX", NOSPLIT, "func(n8 int, dst *float32, ld int, src *float32, lds int)")
	Pragma("noescape")
	n := Load(Param("n8"), GP64())
	dst := Load(Param("dst"), GP64())
	ld := Load(Param("ld"), GP64())
	src := Load(Param("src"), GP64())
	lds := Load(Param("lds"), GP64())
	s2 := GP64()
	LEAQ(Mem{Base: src, Index: lds, Scale: 2}, s2)
	ld3 := GP64()
	LEAQ(Mem{Base: ld, Index: ld, Scale: 2}, ld3)
	// The next four rows (those a following call reads, the rows of A
	// being consecutive in memory), prefetched at the same column.
	p4, p6 := GP64(), GP64()
	LEAQ(Mem{Base: s2, Index: lds, Scale: 2}, p4)
	LEAQ(Mem{Base: p4, Index: lds, Scale: 2}, p6)
	TESTQ(n, n)
	JZ(LabelRef("done"))
	Label("loop")
	PREFETCHT0(Mem{Base: p4})
	PREFETCHT0(Mem{Base: p4, Index: lds, Scale: 1})
	PREFETCHT0(Mem{Base: p6})
	PREFETCHT0(Mem{Base: p6, Index: lds, Scale: 1})
	VMOVUPS(Mem{Base: src}, Y0)
	VMOVUPS(Mem{Base: src, Index: lds, Scale: 1}, Y1)
	VMOVUPS(Mem{Base: s2}, Y2)
	VMOVUPS(Mem{Base: s2, Index: lds, Scale: 1}, Y3)
	// t0 = r0_0 r1_0 r0_1 r1_1 | r0_4 r1_4 r0_5 r1_5, t1 = the _2,_3 | _6,_7 pairs.
	VUNPCKLPS(Y1, Y0, Y4)
	VUNPCKHPS(Y1, Y0, Y5)
	VUNPCKLPS(Y3, Y2, Y6)
	VUNPCKHPS(Y3, Y2, Y7)
	// Columns q | q+4 in Y0..Y3.
	VSHUFPS(U8(0x44), Y6, Y4, Y0)
	VSHUFPS(U8(0xEE), Y6, Y4, Y1)
	VSHUFPS(U8(0x44), Y7, Y5, Y2)
	VSHUFPS(U8(0xEE), Y7, Y5, Y3)
	VMOVUPS(X0, Mem{Base: dst})
	VMOVUPS(X1, Mem{Base: dst, Index: ld, Scale: 1})
	VMOVUPS(X2, Mem{Base: dst, Index: ld, Scale: 2})
	VMOVUPS(X3, Mem{Base: dst, Index: ld3, Scale: 1})
	LEAQ(Mem{Base: dst, Index: ld, Scale: 4}, dst)
	VEXTRACTF128(U8(1), Y0, Mem{Base: dst})
	VEXTRACTF128(U8(1), Y1, Mem{Base: dst, Index: ld, Scale: 1})
	VEXTRACTF128(U8(1), Y2, Mem{Base: dst, Index: ld, Scale: 2})
	VEXTRACTF128(U8(1), Y3, Mem{Base: dst, Index: ld3, Scale: 1})
	LEAQ(Mem{Base: dst, Index: ld, Scale: 4}, dst)
	ADDQ(U8(32), src)
	ADDQ(U8(32), s2)
	ADDQ(U8(32), p4)
	ADDQ(U8(32), p6)
	DECQ(n)
	JNZ(LabelRef("loop"))
	Label("done")
	VZEROUPPER()
	RET()
}

// copy2D emits the two-level row copy behind Copy2D:
//
//	for i < n1, j < n2: copy cols floats from src + i*s1 + j*s2 to dst + i*d1 + j*d2
//
// (byte strides), with cols >= 8. A row is copied eight floats at a time,
// the last eight ending at the row's end (overlapping the previous ones
// when cols is not a multiple of 8: the same values are stored twice), so
// nothing outside a row is read or written.
func copy2D() {
	TEXT("copy2DAVX", NOSPLIT, "func(n1 int, n2 int, cols int, dst *float32, d1 int, d2 int, src *float32, s1 int, s2 int)")
	Pragma("noescape")
	n1 := Load(Param("n1"), GP64())
	dRow := Load(Param("dst"), GP64())
	sRow := Load(Param("src"), GP64())
	tail := Load(Param("cols"), GP64())
	SHLQ(U8(2), tail)
	SUBQ(U8(32), tail) // byte offset of the last eight floats
	d, s, j, i2 := GP64(), GP64(), GP64(), GP64()
	TESTQ(n1, n1)
	JZ(LabelRef("done"))
	Label("outer")
	MOVQ(dRow, d)
	MOVQ(sRow, s)
	Load(Param("n2"), i2)
	TESTQ(i2, i2)
	JZ(LabelRef("next"))
	Label("row")
	XORQ(j, j)
	CMPQ(j, tail)
	JGE(LabelRef("last"))
	Label("vec")
	VMOVUPS(Mem{Base: s, Index: j, Scale: 1}, Y0)
	VMOVUPS(Y0, Mem{Base: d, Index: j, Scale: 1})
	ADDQ(U8(32), j)
	CMPQ(j, tail)
	JL(LabelRef("vec"))
	Label("last")
	VMOVUPS(Mem{Base: s, Index: tail, Scale: 1}, Y0)
	VMOVUPS(Y0, Mem{Base: d, Index: tail, Scale: 1})
	ADDQ(paramAddr("d2"), d)
	ADDQ(paramAddr("s2"), s)
	DECQ(i2)
	JNZ(LabelRef("row"))
	Label("next")
	ADDQ(paramAddr("d1"), dRow)
	ADDQ(paramAddr("s1"), sRow)
	DECQ(n1)
	JNZ(LabelRef("outer"))
	Label("done")
	VZEROUPPER()
	RET()
}

// copy2D512 is copy2D with zmm vectors and an opmask for the last one:
// 16 floats at a time, the tail (1 to 16 floats) under K1, so that a row
// of up to 16 floats (im2col of a 14-wide image) is one load and one
// store.
func copy2D512() {
	TEXT("copy2DAVX512", NOSPLIT, "func(n1 int, n2 int, cols int, dst *float32, d1 int, d2 int, src *float32, s1 int, s2 int)")
	Pragma("noescape")
	n1 := Load(Param("n1"), GP64())
	dRow := Load(Param("dst"), GP64())
	sRow := Load(Param("src"), GP64())
	cols := GP64()
	Load(Param("cols"), cols)
	// tail = byte offset of the last (masked) vector: 64*((cols-1)/16);
	// K1 = its lanes: 1<<(cols - 16*((cols-1)/16)) - 1.
	tail, m, one := GP64(), GP64(), GP64()
	LEAQ(Mem{Base: cols, Disp: -1}, tail)
	SHRQ(U8(4), tail)
	SHLQ(U8(4), tail) // 16*((cols-1)/16) floats
	MOVQ(cols, m)
	SUBQ(tail, m)
	MOVQ(U32(1), one)
	SHLXQ(m, one, m)
	DECQ(m)
	KMOVW(m.As32(), K1)
	SHLQ(U8(2), tail)
	d, s, j, i2 := GP64(), GP64(), GP64(), GP64()
	TESTQ(n1, n1)
	JZ(LabelRef("done"))
	Label("outer")
	MOVQ(dRow, d)
	MOVQ(sRow, s)
	Load(Param("n2"), i2)
	TESTQ(i2, i2)
	JZ(LabelRef("next"))
	Label("row")
	XORQ(j, j)
	CMPQ(j, tail)
	JGE(LabelRef("last"))
	Label("vec")
	VMOVUPS(Mem{Base: s, Index: j, Scale: 1}, Z0)
	VMOVUPS(Z0, Mem{Base: d, Index: j, Scale: 1})
	ADDQ(U8(64), j)
	CMPQ(j, tail)
	JL(LabelRef("vec"))
	Label("last")
	VMOVUPS_Z(Mem{Base: s, Index: tail, Scale: 1}, K1, Z0)
	VMOVUPS(Z0, K1, Mem{Base: d, Index: tail, Scale: 1})
	ADDQ(paramAddr("d2"), d)
	ADDQ(paramAddr("s2"), s)
	DECQ(i2)
	JNZ(LabelRef("row"))
	Label("next")
	ADDQ(paramAddr("d1"), dRow)
	ADDQ(paramAddr("s1"), sRow)
	DECQ(n1)
	JNZ(LabelRef("outer"))
	Label("done")
	VZEROUPPER()
	RET()
}

// writeTables writes the Go tables that map a tile shape to its kernel.
func writeTables(path string) error {
	var w bytes.Buffer
	fmt.Fprintf(&w, "// Code generated by command: go run . (internal/gemm/asm). DO NOT EDIT.\n\n")
	fmt.Fprintf(&w, "//go:build !purego\n\npackage gemm\n\n")
	fmt.Fprintf(&w, "// Tile shapes of the generated kernels.\nconst (\n")
	fmt.Fprintf(&w, "\touter512Rows = %d\n\touter512Vecs = %d\n\touter256Rows = %d\n\touter256Vecs = %d\n",
		outer512Rows, outer512Vecs, outer256Rows, outer256Vecs)
	fmt.Fprintf(&w, "\tdot512Rows = %d\n\tdot512Cols = %d\n\tdot256Rows = %d\n\tdot256Cols = %d\n)\n\n",
		dot512Rows, dot512Cols, dot256Rows, dot256Cols)

	fmt.Fprintf(&w, "// outer512Tab[r-1][v-1][masked] is the AVX-512 outer-product kernel for r rows and v vectors.\n")
	fmt.Fprintf(&w, "var outer512Tab = [outer512Rows][outer512Vecs][2]func(k int, a *float32, as int, b *float32, bs int, c *float32, ldc int, alpha float32, beta float32, beta0 int, mask int){\n")
	for r := 1; r <= outer512Rows; r++ {
		fmt.Fprintf(&w, "\t{")
		for v := 1; v <= outer512Vecs; v++ {
			fmt.Fprintf(&w, "{%s, %s}, ", outerName("AVX512", r, v, false), outerName("AVX512", r, v, true))
		}
		fmt.Fprintf(&w, "},\n")
	}
	fmt.Fprintf(&w, "}\n\n")
	fmt.Fprintf(&w, "// outer512rTab[r-1][v-1][masked] is the AVX-512 outer-product kernel for r rows and v vectors, rows of b through a table of offsets.\n")
	fmt.Fprintf(&w, "var outer512rTab = [outer512Rows][outer512Vecs][2]func(k int, a *float32, as int, b *float32, offs *int, c *float32, ldc int, alpha float32, beta float32, beta0 int, mask int){\n")
	for r := 1; r <= outer512Rows; r++ {
		fmt.Fprintf(&w, "\t{")
		for v := 1; v <= outer512Vecs; v++ {
			fmt.Fprintf(&w, "{%s, %s}, ", outerName("AVX512r", r, v, false), outerName("AVX512r", r, v, true))
		}
		fmt.Fprintf(&w, "},\n")
	}
	fmt.Fprintf(&w, "}\n\n")
	fmt.Fprintf(&w, "// outer256Tab[r-1][v-1][masked] is the AVX2 outer-product kernel for r rows and v vectors.\n")
	fmt.Fprintf(&w, "var outer256Tab = [outer256Rows][outer256Vecs][2]func(k int, a *float32, as int, b *float32, bs int, c *float32, ldc int, alpha float32, beta float32, beta0 int, mask *int32){\n")
	for r := 1; r <= outer256Rows; r++ {
		fmt.Fprintf(&w, "\t{")
		for v := 1; v <= outer256Vecs; v++ {
			fmt.Fprintf(&w, "{%s, %s}, ", outerName("AVX2", r, v, false), outerName("AVX2", r, v, true))
		}
		fmt.Fprintf(&w, "},\n")
	}
	fmt.Fprintf(&w, "}\n\n")
	fmt.Fprintf(&w, "// dot512Tab[r-1][n-1] is the AVX-512 dot-product kernel for r rows of A and n rows of B.\n")
	fmt.Fprintf(&w, "var dot512Tab = [dot512Rows][dot512Cols]func(kv int, tail int, mask int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha float32, beta float32, beta0 int){\n")
	for r := 1; r <= dot512Rows; r++ {
		fmt.Fprintf(&w, "\t{")
		for n := 1; n <= dot512Cols; n++ {
			fmt.Fprintf(&w, "%s, ", dotName("AVX512", r, n))
		}
		fmt.Fprintf(&w, "},\n")
	}
	fmt.Fprintf(&w, "}\n\n")
	fmt.Fprintf(&w, "// dot256Tab[r-1][n-1] is the AVX2 dot-product kernel for r rows of A and n rows of B.\n")
	fmt.Fprintf(&w, "var dot256Tab = [dot256Rows][dot256Cols]func(kv int, tail int, mask *int32, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha float32, beta float32, beta0 int){\n")
	for r := 1; r <= dot256Rows; r++ {
		fmt.Fprintf(&w, "\t{")
		for n := 1; n <= dot256Cols; n++ {
			fmt.Fprintf(&w, "%s, ", dotName("AVX2", r, n))
		}
		fmt.Fprintf(&w, "},\n")
	}
	fmt.Fprintf(&w, "}\n")
	src, err := format.Source(w.Bytes())
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Clean(path), src, 0o644)
}

// paramAddr is the stack address of a scalar argument.
func paramAddr(name string) Mem {
	b, err := Param(name).Resolve()
	if err != nil {
		panic(err)
	}
	return b.Addr
}

// fmaPeak generates fmaPeak<isa>(n): n rounds of chains independent
// FMAs into as many accumulators as the set's largest register tile uses,
// with no loads, so that only the FMA units' throughput limits it. It
// measures the core's arithmetic ceiling at the clock it runs at now
// (BenchmarkFMAPeak), against which the tile kernels are judged.
func fmaPeak(isa string, reg []VecPhysical, chains int) {
	TEXT("fmaPeak"+isa, NOSPLIT, "func(n int)")
	n := Load(Param("n"), GP64())
	for i := 0; i < chains+2; i++ {
		if isa == "AVX512" {
			VPXORD(reg[i], reg[i], reg[i])
		} else {
			VXORPS(reg[i], reg[i], reg[i])
		}
	}
	TESTQ(n, n)
	JZ(LabelRef("done"))
	Label("loop")
	for i := 0; i < chains; i++ {
		VFMADD231PS(reg[chains], reg[chains+1], reg[i])
	}
	DECQ(n)
	JNZ(LabelRef("loop"))
	Label("done")
	VZEROUPPER()
	RET()
}
