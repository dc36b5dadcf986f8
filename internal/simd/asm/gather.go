package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
)

// gatherRows emits gatherRowsAVX512(rows int, src *float32, srcStride int,
// dst *float32, dstStride int, p *gatherParams): for r < rows and j <
// cols, dst[r*dstStride + j] = src[r*srcStride + idx[j]], with p = {idx
// [16]int32, lo, hi, out uint16}: the 32 values from src[r*srcStride] on
// are read as two zmm through the opmasks lo and hi (the values the
// indices reach, so nothing past them is read), VPERMT2PS picks the lanes
// idx names, and the opmask out stores the first cols of them. Strides are
// in floats.
func gatherRows() {
	TEXT("gatherRowsAVX512", NOSPLIT, "func(rows int, src *float32, srcStride int, dst *float32, dstStride int, p *[10]uint64)")
	Pragma("noescape")
	rows := Load(Param("rows"), GP64())
	src := Load(Param("src"), GP64())
	ss := Load(Param("srcStride"), GP64())
	dst := Load(Param("dst"), GP64())
	ds := Load(Param("dstStride"), GP64())
	p := Load(Param("p"), GP64())
	SHLQ(U8(2), ss)
	SHLQ(U8(2), ds)
	idx := ZMM()
	VMOVDQU32(Mem{Base: p}, idx)
	klo, khi, kout := K(), K(), K()
	KMOVW(Mem{Base: p, Disp: 64}, klo)
	KMOVW(Mem{Base: p, Disp: 66}, khi)
	KMOVW(Mem{Base: p, Disp: 68}, kout)
	TESTQ(rows, rows)
	JZ(LabelRef("done"))
	Label("row")
	a, b := ZMM(), ZMM()
	VMOVUPS_Z(Mem{Base: src}, klo, a)
	VMOVUPS_Z(Mem{Base: src, Disp: 64}, khi, b)
	VPERMT2PS(b, idx, a) // a = (a, b)[idx]
	VMOVUPS(a, kout, Mem{Base: dst})
	ADDQ(ss, src)
	ADDQ(ds, dst)
	DECQ(rows)
	JNZ(LabelRef("row"))
	Label("done")
	VZEROUPPER()
	RET()
}
