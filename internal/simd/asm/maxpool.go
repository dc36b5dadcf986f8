package main

// Max pooling over 2x2 windows with stride 2 (package simd's MaxPool2x2
// and MaxUnpool2x2), AVX-512 only. Written with physical registers, like
// the GEMM kernels this code came from; hence the dot import of avo/reg in
// this file only.

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// int32Table declares a read-only table of 16 int32 values.
func int32Table(name string, v func(i int) int) Mem {
	m := GLOBL(name, RODATA|NOPTR)
	for i := 0; i < 16; i++ {
		DATA(4*i, U32(v(i)))
	}
	return m
}

var (
	evenIdx  Mem // 0, 2, ..., 30: the even lanes of two zmm (and twice the lane index)
	oddIdx   Mem // 1, 3, ..., 31
	zipLoIdx Mem // 0, 16, 1, 17, ..., 7, 23: interleave the low halves of two zmm
	zipHiIdx Mem // 8, 24, ..., 15, 31
)

func poolTables() {
	if evenIdx.Symbol.Name != "" {
		return
	}
	evenIdx = int32Table("pool_even", func(i int) int { return 2 * i })
	oddIdx = int32Table("pool_odd", func(i int) int { return 2*i + 1 })
	zipLoIdx = int32Table("pool_ziplo", func(i int) int { return i/2 + 16*(i%2) })
	zipHiIdx = int32Table("pool_ziphi", func(i int) int { return 8 + i/2 + 16*(i%2) })
}

// poolMasks sets K1 to the first rem lanes (the windows of a group) and
// K2, K3 to the first 2*rem lanes of two zmm (their inputs in a row):
// rem = min(16, ow - j0).
func poolMasks(ow, j0 Register) {
	rem, m := GP64(), GP64()
	MOVQ(ow, rem)
	SUBQ(j0, rem)
	CMPQ(rem, U8(16))
	JLE(LabelRef("rem_" + poolLabel()))
	MOVQ(U32(16), rem)
	Label("rem_" + poolLabel())
	// K1 = 1<<rem - 1 (SHLX: BMI2)
	one := GP64()
	MOVQ(U32(1), one)
	SHLXQ(rem, one, m)
	DECQ(m)
	KMOVW(m.As32(), K1)
	// K2:K3 = 1<<(2*rem) - 1
	ADDQ(rem, rem)
	SHLXQ(rem, one, m)
	DECQ(m)
	KMOVW(m.As32(), K2)
	SHRQ(U8(16), m)
	KMOVW(m.As32(), K3)
}

var poolLabelN = 0

func poolLabel() string { return fmt.Sprint(poolLabelN) }

// maxPool2x2 emits max pooling of rows of 2x2 windows with stride 2:
//
//	for i < oh, j < ow: the window x[2i][2j], x[2i][2j+1], x[2i+1][2j],
//	x[2i+1][2j+1] (rows of w values) gives y[i*ow+j] and argmax[i*ow+j],
//	the flat index of its maximum in x
//
// with the scalar code's rule: candidates in row-major order, a later one
// wins if it is greater (ordered compare, so the first maximum on ties)
// or NaN, and a NaN ends the window. Per group of 16 windows of a row: the
// two input rows are loaded (2 zmm each) and split into the four
// candidates a, b, c, d by even and odd lanes; the rule is evaluated with
// opmasks (take = (v > best or v is NaN) and no NaN taken yet).
func maxPool2x2() {
	poolTables()
	TEXT("maxPool2x2AVX512", NOSPLIT, "func(oh int, ow int, x *float32, w int, y *float32, argmax *int32)")
	Pragma("noescape")
	oh := Load(Param("oh"), GP64())
	ow := Load(Param("ow"), GP64())
	x := Load(Param("x"), GP64())
	w := GP64()
	Load(Param("w"), w)
	y := Load(Param("y"), GP64())
	am := Load(Param("argmax"), GP64())
	// Z31 even lanes, Z30 odd lanes, Z29 = 1, Z28 = w, Z27 = w+1 (offsets
	// of b, c, d from a).
	VMOVDQU32(evenIdx, Z31)
	VMOVDQU32(oddIdx, Z30)
	t := GP64()
	MOVQ(U32(1), t)
	VPBROADCASTD(t.As32(), Z29)
	VPBROADCASTD(w.As32(), Z28)
	LEAQ(Mem{Base: w, Disp: 1}, t)
	VPBROADCASTD(t.As32(), Z27)
	wb := GP64() // w in bytes
	MOVQ(w, wb)
	SHLQ(U8(2), wb)
	base := GP64() // 2*i*w, the flat index of the row pair
	XORQ(base, base)
	j0 := GP64()
	TESTQ(oh, oh)
	JZ(LabelRef("done"))
	Label("row")
	XORQ(j0, j0)
	Label("group")
	poolMasks(ow, j0)
	poolLabelN++
	r0 := GP64()
	LEAQ(Mem{Base: x, Index: j0, Scale: 8}, r0) // x + 8*j0 bytes = 2*j0 floats
	// Row 0: Z2 = a (even), Z0 = b (odd); row 1: Z5 = c, Z3 = d.
	VMOVUPS_Z(Mem{Base: r0}, K2, Z0)
	VMOVUPS_Z(Mem{Base: r0, Disp: 64}, K3, Z1)
	VMOVUPS_Z(Mem{Base: r0, Index: wb, Scale: 1}, K2, Z3)
	VMOVUPS_Z(Mem{Base: r0, Index: wb, Scale: 1, Disp: 64}, K3, Z4)
	VMOVAPS(Z0, Z2)
	VPERMT2PS(Z1, Z31, Z2)
	VPERMT2PS(Z1, Z30, Z0)
	VMOVAPS(Z3, Z5)
	VPERMT2PS(Z4, Z31, Z5)
	VPERMT2PS(Z4, Z30, Z3)
	// best = Z2 (a), offset Z7 = 0, K4 = a NaN has been taken.
	VPXORD(Z7, Z7, Z7)
	VCMPPS(U8(3), Z2, Z2, K4)
	for _, c := range []struct{ v, off VecPhysical }{{Z0, Z29}, {Z5, Z28}, {Z3, Z27}} {
		VCMPPS(U8(0x1E), Z2, c.v, K5) // v > best (ordered)
		VCMPPS(U8(3), c.v, c.v, K6)   // v is NaN
		KORW(K5, K6, K5)
		KANDNW(K5, K4, K5) // take = (v > best or NaN) and not done
		VMOVAPS(c.v, K5, Z2)
		VMOVDQA32(c.off, K5, Z7)
		KANDW(K5, K6, K6)
		KORW(K4, K6, K4)
	}
	// argmax = base + 2*(j0 + lane) + offset
	LEAQ(Mem{Base: base, Index: j0, Scale: 2}, t)
	VPBROADCASTD(t.As32(), Z8)
	VPADDD(Z31, Z8, Z8)
	VPADDD(Z7, Z8, Z8)
	VMOVUPS(Z2, K1, Mem{Base: y, Index: j0, Scale: 4})
	VMOVDQU32(Z8, K1, Mem{Base: am, Index: j0, Scale: 4})
	ADDQ(U8(16), j0)
	CMPQ(j0, ow)
	JL(LabelRef("group"))
	// Next row pair.
	LEAQ(Mem{Base: x, Index: wb, Scale: 2}, x)
	LEAQ(Mem{Base: base, Index: w, Scale: 2}, base)
	LEAQ(Mem{Base: y, Index: ow, Scale: 4}, y)
	LEAQ(Mem{Base: am, Index: ow, Scale: 4}, am)
	DECQ(oh)
	JNZ(LabelRef("row"))
	Label("done")
	VZEROUPPER()
	RET()
}

// maxUnpool2x2 emits the backward of maxPool2x2 when the windows tile the
// input: every input of window (i, j) gets dy[i*ow+j] if it is the
// recorded maximum, else 0.
func maxUnpool2x2() {
	poolTables()
	TEXT("maxUnpool2x2AVX512", NOSPLIT, "func(oh int, ow int, dy *float32, argmax *int32, w int, dx *float32)")
	Pragma("noescape")
	oh := Load(Param("oh"), GP64())
	ow := Load(Param("ow"), GP64())
	dy := Load(Param("dy"), GP64())
	am := Load(Param("argmax"), GP64())
	w := GP64()
	Load(Param("w"), w)
	dx := Load(Param("dx"), GP64())
	VMOVDQU32(evenIdx, Z31)
	VMOVDQU32(zipLoIdx, Z26)
	VMOVDQU32(zipHiIdx, Z25)
	t := GP64()
	MOVQ(U32(1), t)
	VPBROADCASTD(t.As32(), Z29)
	VPBROADCASTD(w.As32(), Z28)
	LEAQ(Mem{Base: w, Disp: 1}, t)
	VPBROADCASTD(t.As32(), Z27)
	VPXORD(Z24, Z24, Z24)
	wb := GP64()
	MOVQ(w, wb)
	SHLQ(U8(2), wb)
	base := GP64()
	XORQ(base, base)
	j0 := GP64()
	TESTQ(oh, oh)
	JZ(LabelRef("done"))
	Label("row")
	XORQ(j0, j0)
	Label("group")
	poolMasks(ow, j0)
	poolLabelN++
	VMOVUPS_Z(Mem{Base: dy, Index: j0, Scale: 4}, K1, Z0)
	VMOVDQU32_Z(Mem{Base: am, Index: j0, Scale: 4}, K1, Z1)
	// Z1 = argmax - (base + 2*(j0 + lane)): 0, 1, w or w+1
	LEAQ(Mem{Base: base, Index: j0, Scale: 2}, t)
	VPBROADCASTD(t.As32(), Z8)
	VPADDD(Z31, Z8, Z8)
	VPSUBD(Z8, Z1, Z1)
	for i, off := range []VecPhysical{Z24, Z29, Z28, Z27} {
		VPCMPEQD(off, Z1, K4)
		VMOVAPS_Z(Z0, K4, []VecPhysical{Z2, Z3, Z4, Z5}[i])
	}
	r0 := GP64()
	LEAQ(Mem{Base: dx, Index: j0, Scale: 8}, r0)
	for row, pair := range [][2]VecPhysical{{Z2, Z3}, {Z4, Z5}} {
		a, b := pair[0], pair[1]
		VMOVAPS(a, Z6)
		VPERMT2PS(b, Z26, Z6) // a0 b0 a1 b1 ... a7 b7
		VPERMT2PS(b, Z25, a)  // a8 b8 ... a15 b15
		m := Mem{Base: r0}
		if row == 1 {
			m = Mem{Base: r0, Index: wb, Scale: 1}
		}
		VMOVUPS(Z6, K2, m)
		m.Disp = 64
		VMOVUPS(a, K3, m)
	}
	ADDQ(U8(16), j0)
	CMPQ(j0, ow)
	JL(LabelRef("group"))
	LEAQ(Mem{Base: dx, Index: wb, Scale: 2}, dx)
	LEAQ(Mem{Base: base, Index: w, Scale: 2}, base)
	LEAQ(Mem{Base: dy, Index: ow, Scale: 4}, dy)
	LEAQ(Mem{Base: am, Index: ow, Scale: 4}, am)
	DECQ(oh)
	JNZ(LabelRef("row"))
	Label("done")
	VZEROUPPER()
	RET()
}
