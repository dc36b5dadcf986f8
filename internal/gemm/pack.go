package gemm

// packA copies the sliver op(A)[i0:i0+mr, p0:p0+kc] into dst so that
// element (i, p) lands at dst[p*MR+i]: for each p, the mr values the kernel
// broadcasts are contiguous. Rows mr..MR-1 of the sliver are left as they
// are; the kernel for mr rows never reads them.
//
// op(A) = A (m x k, row i at a[i*lda:]) needs a transpose; op(A) = A^T
// (A stored k x m) is a copy of mr contiguous values per p.
func packA(dst []float32, tA bool, a []float32, lda, i0, mr, p0, kc, MR int) {
	if tA {
		Copy2D(1, kc, mr, dst, 0, MR, a[p0*lda+i0:], 0, lda)
		return
	}
	i := 0
	for ; i+4 <= mr; i += 4 {
		transpose4(dst[i:], MR, a[(i0+i)*lda+p0:], lda, kc)
	}
	if i < mr && mr >= 4 {
		// The last rows again as a group of four, overlapping the previous
		// group (rewriting the same values).
		i = mr - 4
		transpose4(dst[i:], MR, a[(i0+i)*lda+p0:], lda, kc)
		i = mr
	}
	for ; i < mr; i++ {
		r := a[(i0+i)*lda+p0:][:kc]
		d := dst[i:]
		for p, v := range r {
			d[p*MR] = v
		}
	}
}

// transpose4 writes src[r*lds+p] to d[p*ld+r] for the four rows r < 4 and
// every p < n: four rows of a matrix become n groups of four contiguous
// values. With AVX it runs eight columns at a time in assembly.
func transpose4(d []float32, ld int, src []float32, lds, n int) {
	p := 0
	if n8 := n / 8; n8 > 0 && transpose4x8 != nil {
		_ = src[3*lds+8*n8-1] // the assembly reads rows 0..3, 8*n8 values each
		_ = d[(8*n8-1)*ld+3]  // and writes 8*n8 groups of four
		transpose4x8(n8, &d[0], 4*ld, &src[0], 4*lds)
		p = 8 * n8
	}
	if p == n {
		return
	}
	r0 := src[p:n]
	r1 := src[lds+p : lds+n]
	r2 := src[2*lds+p : 2*lds+n]
	r3 := src[3*lds+p : 3*lds+n]
	d = d[p*ld:]
	for q := range r0 {
		g := d[q*ld : q*ld+4]
		g[0], g[1], g[2], g[3] = r0[q], r1[q], r2[q], r3[q]
	}
}

// packB copies the block op(B)[p0:p0+kc, j0:j0+nc] into dst as NR-wide
// slivers: element (p, j) lands at dst[(j/NR)*kc*NR + p*NR + j%NR]. The
// last sliver may be narrower than NR; its unused columns are not written
// (the masked kernels never read them).
//
// op(B) = B (k x n) is a copy of up to NR contiguous values per p;
// op(B) = B^T (B stored n x k) needs a transpose.
func packB(dst []float32, tB bool, b []float32, ldb, p0, kc, j0, nc, NR int) {
	if !tB {
		// Every full sliver in one call, then the narrower last one.
		full := nc / NR
		src := b[p0*ldb+j0:]
		Copy2D(kc, full, NR, dst, NR, kc*NR, src, ldb, NR)
		if w := nc - full*NR; w > 0 {
			Copy2D(1, kc, w, dst[full*NR*kc:], 0, NR, src[full*NR:], 0, ldb)
		}
		return
	}
	for jj := 0; jj < nc; jj += NR {
		w := min(NR, nc-jj)
		d := dst[jj*kc:]
		j := 0
		for ; j+4 <= w; j += 4 {
			transpose4(d[j:], NR, b[(j0+jj+j)*ldb+p0:], ldb, kc)
		}
		if j < w && w >= 4 {
			j = w - 4 // overlap the previous group, as in packA
			transpose4(d[j:], NR, b[(j0+jj+j)*ldb+p0:], ldb, kc)
			j = w
		}
		for ; j < w; j++ {
			r := b[(j0+jj+j)*ldb+p0:][:kc]
			dj := d[j:]
			for p, v := range r {
				dj[p*NR] = v
			}
		}
	}
}
