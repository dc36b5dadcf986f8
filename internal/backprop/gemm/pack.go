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
		for p := 0; p < kc; p++ {
			src := a[(p0+p)*lda+i0:]
			copy(dst[p*MR:p*MR+mr], src[:mr])
		}
		return
	}
	i := 0
	for ; i+4 <= mr; i += 4 {
		r0 := a[(i0+i)*lda+p0:][:kc]
		r1 := a[(i0+i+1)*lda+p0:][:kc]
		r2 := a[(i0+i+2)*lda+p0:][:kc]
		r3 := a[(i0+i+3)*lda+p0:][:kc]
		d := dst[i:]
		for p := range r0 {
			q := d[p*MR : p*MR+4]
			q[0], q[1], q[2], q[3] = r0[p], r1[p], r2[p], r3[p]
		}
	}
	for ; i < mr; i++ {
		r := a[(i0+i)*lda+p0:][:kc]
		d := dst[i:]
		for p, v := range r {
			d[p*MR] = v
		}
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
	for jj := 0; jj < nc; jj += NR {
		w := min(NR, nc-jj)
		d := dst[jj*kc:]
		if !tB {
			for p := 0; p < kc; p++ {
				copy(d[p*NR:p*NR+w], b[(p0+p)*ldb+j0+jj:][:w])
			}
			continue
		}
		j := 0
		for ; j+4 <= w; j += 4 {
			r0 := b[(j0+jj+j)*ldb+p0:][:kc]
			r1 := b[(j0+jj+j+1)*ldb+p0:][:kc]
			r2 := b[(j0+jj+j+2)*ldb+p0:][:kc]
			r3 := b[(j0+jj+j+3)*ldb+p0:][:kc]
			dj := d[j:]
			for p := range r0 {
				q := dj[p*NR : p*NR+4]
				q[0], q[1], q[2], q[3] = r0[p], r1[p], r2[p], r3[p]
			}
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
