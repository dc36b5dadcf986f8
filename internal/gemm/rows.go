package gemm

import "fmt"

// SgemmRows computes C = alpha*op(A)*B + beta*C on the calling goroutine,
// like Sgemm with op(B) = B, except that row p of B (k x n) is the n
// values starting at b[offs[p]]:
//
//	B(p, j) = b[offs[p] + j]
//
// Rows may overlap. This reads an image in place as the patch matrix of a
// stride-1 convolution: with the image stored with zero borders, the row
// of patch element (c, u, v) is the image shifted by c*channel + u*pitch +
// v (see backprop's conv2d), so the GEMM needs no im2col.
//
// It always takes the outer-product loop nest (see the package
// documentation) with the same blocking as Sgemm. With the AVX-512
// kernels, B is read in place through the offsets; with the others, each
// kc x nc block of B is first packed as Sgemm packs B^T. As for Sgemm the
// bits do not depend on how C is cut (and, though SgemmRows itself runs on
// one goroutine, on which goroutine runs it). It panics if an offset is
// negative or leaves fewer than n values in b, besides Sgemm's checks on A
// and C.
func SgemmRows(tA bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, offs []int, beta float32, c []float32, ldc int) {
	checkRowsArgs(tA, m, n, k, a, lda, b, offs, c, ldc)
	sgemmRowsWS(nil, tA, m, n, k, alpha, a, lda, b, offs, beta, c, ldc)
}

// checkRowsArgs panics as SgemmRows documents.
func checkRowsArgs(tA bool, m, n, k int, a []float32, lda int, b []float32, offs []int, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("gemm: negative dimension (m=%d, n=%d, k=%d)", m, n, k))
	}
	aRows, aCols := m, k
	if tA {
		aRows, aCols = k, m
	}
	checkMatrix("A", aRows, aCols, a, lda)
	checkMatrix("C", m, n, c, ldc)
	if len(offs) < k {
		panic(fmt.Sprintf("gemm: SgemmRows with %d offsets for k=%d", len(offs), k))
	}
	if n > 0 {
		for p, o := range offs[:k] {
			if o < 0 || o > len(b)-n {
				panic(fmt.Sprintf("gemm: SgemmRows offset %d of row %d out of range for n=%d and len(b)=%d", o, p, n, len(b)))
			}
		}
	}
}

// sgemmRowsWS is SgemmRows after the argument checks, in workspace own
// when it is not nil, else in one from the shared free list.
func sgemmRowsWS(own *workspace, tA bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, offs []int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	ks := activeKernels()
	p := plan{ks: ks, packA: !tA || m > directAMaxRows, packB: ks.outerRows == nil}
	ws := takeWorkspace(own, p.packs())
	outerGemmRows(ws, &p, tA, m, n, k, alpha, a, lda, b, offs, beta, c, ldc)
	releaseWorkspace(own, ws)
}

// outerGemmRows is outerGemm (see there) for SgemmRows: op(B) = B with
// rows through offs, read in place by ks.outerRows or packed.
func outerGemmRows(ws *workspace, p *plan, tA bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, offs []int, beta float32, c []float32, ldc int) {
	ks := p.ks
	MR, NR, KC, MC, NC := ks.mr, ks.nr, ks.kc, ks.mc, ks.nc
	if ws != nil {
		ws.ensure(p)
	}
	panels := (m + MC - 1) / MC
	MC = (m + panels - 1) / panels
	for pc := 0; pc < k; pc += KC {
		kc := min(KC, k-pc)
		op := offs[pc : pc+kc]
		bt, b0 := beta, beta == 0
		if pc > 0 {
			bt, b0 = 1, false
		}
		for ic := 0; ic < m; ic += MC {
			mc := min(MC, m-ic)
			slivers, rows, extra := packSlivers(ws, p.packA, tA, a, lda, ic, mc, pc, kc, MR)
			for jc := 0; jc < n; jc += NC {
				nc := min(NC, n-jc)
				var bp []float32
				if p.packB {
					bp = ws.b[:kc*roundUp(nc, NR)]
					packBRows(bp, b, op, jc, nc, NR)
				}
				for s, ir := 0, ic; s < slivers; s++ {
					mr := rows + b2i(s < extra)
					var ap []float32
					as := MR
					if p.packA {
						ap = ws.a[s*kc*MR:]
					} else {
						ap, as = a[pc*lda+ir:], lda
					}
					cr := c[ir*ldc+jc:]
					for jr, t := 0, 0; jr < nc; jr, t = jr+NR, t+1 {
						w := min(NR, nc-jr)
						if p.packB {
							ks.outer(mr, w, kc, ap, as, bp[t*kc*NR:], NR, cr[jr:], ldc, alpha, bt, b0)
						} else {
							ks.outerRows(mr, w, kc, ap, as, b[jc+jr:], op, cr[jr:], ldc, alpha, bt, b0)
						}
					}
					ir += mr
				}
			}
		}
	}
}

// packBRows packs columns [j0, j0+nc) of the rows b[offs[p]:] into NR-wide
// slivers, element (p, j) at dst[(j/NR)*kc*NR + p*NR + j%NR], as packB.
func packBRows(dst, b []float32, offs []int, j0, nc, NR int) {
	kc := len(offs)
	for jj := 0; jj < nc; jj += NR {
		w := min(NR, nc-jj)
		d := dst[jj*kc:]
		for p, o := range offs {
			copy(d[p*NR:p*NR+w], b[o+j0+jj:][:w])
		}
	}
}
