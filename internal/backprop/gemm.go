package backprop

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
)

// SgemmFunc computes C = alpha*op(A)*op(B) + beta*C for row-major float32
// matrices (op(A) is m x k, op(B) is k x n, C is m x n), the BLAS contract.
type SgemmFunc func(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)

// DgemmFunc is SgemmFunc for float64.
type DgemmFunc func(tA, tB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int)

func trans(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// GonumSgemm is gonum's pure-Go blas32 Sgemm behind the SgemmFunc contract.
func GonumSgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	blas32.Implementation().Sgemm(trans(tA), trans(tB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// GonumDgemm is gonum's pure-Go blas64 Dgemm behind the DgemmFunc contract.
func GonumDgemm(tA, tB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	blas64.Implementation().Dgemm(trans(tA), trans(tB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Gemm computes C = alpha*op(A)*op(B) + beta*C through the context's GEMM
// for T. It is the engine's one matrix-product helper: every layer's
// products go through it.
func Gemm[T Float](ctx *Ctx, tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if ctx != nil && ctx.GemmLog != nil {
		ctx.GemmLog(GemmCall{TA: tA, TB: tB, M: m, N: n, K: k})
	}
	if Is32[T]() {
		ctx.sgemm()(tA, tB, m, n, k, float32(alpha), as32(a), lda, as32(b), ldb, float32(beta), as32(c), ldc)
		return
	}
	ctx.dgemm()(tA, tB, m, n, k, float64(alpha), as64(a), lda, as64(b), ldb, float64(beta), as64(c), ldc)
}
