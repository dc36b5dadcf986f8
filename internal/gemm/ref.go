package gemm

// SgemmRef is the reference for Sgemm: the same contract (arguments,
// panics, beta == 0 overwriting C, alpha == 0 not reading A and B) computed
// by the obvious triple loop, accumulating in float64. Tests compare the
// fast paths against it; it is far too slow for anything else.
func SgemmRef(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkArgs(tA, tB, m, n, k, a, lda, b, ldb, c, ldc)
	opA := func(i, p int) float64 {
		if tA {
			return float64(a[p*lda+i])
		}
		return float64(a[i*lda+p])
	}
	opB := func(p, j int) float64 {
		if tB {
			return float64(b[j*ldb+p])
		}
		return float64(b[p*ldb+j])
	}
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			if alpha != 0 {
				for p := 0; p < k; p++ {
					s += opA(i, p) * opB(p, j)
				}
			}
			v := float64(alpha) * s
			if beta != 0 {
				v += float64(beta) * float64(c[i*ldc+j])
			}
			c[i*ldc+j] = float32(v)
		}
	}
}
