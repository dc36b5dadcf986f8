package gemm

import "math"

// The pure-Go kernels: the fallback on CPUs without AVX2+FMA and on other
// architectures (or with the purego build tag). Like the assembly kernels,
// every element of C goes through one fixed sequence of operations
// whichever tile or edge it falls in: acc += A(i,p)*B(p,j) for p in order,
// then epilogue. Every product is converted with float32(...), which the
// Go spec defines as a rounding: it stops the compiler from fusing some
// multiply-adds into FMAs and not others (it does fuse with GOAMD64=v3),
// which would make the bits depend on the tiling and so on the threads.

var genericKernels = &kernelSet{
	name:         "generic",
	mr:           4,
	nr:           2,
	kc:           256,
	mc:           256,
	nc:           512,
	outer:        outerGeneric,
	dmr:          2,
	dnr:          2,
	dot:          dotGeneric,
	dotRule:      bigDot,
	packBMinRows: math.MaxInt,
}

// epilogue returns alpha*acc + beta*c, or alpha*acc when beta0.
func epilogue(acc, alpha, beta, c float32, beta0 bool) float32 {
	acc = float32(acc * alpha)
	if beta0 {
		return acc
	}
	return float32(beta*c) + acc
}

func outerGeneric(mr, nr, k int, a []float32, as int, b []float32, bs int, c []float32, ldc int, alpha, beta float32, beta0 bool) {
	if mr == 4 && nr == 2 {
		outerGeneric4x2(k, a, as, b, bs, c, ldc, alpha, beta, beta0)
		return
	}
	for i := 0; i < mr; i++ {
		for j := 0; j < nr; j++ {
			var acc float32
			for p := 0; p < k; p++ {
				acc += float32(a[p*as+i] * b[p*bs+j])
			}
			c[i*ldc+j] = epilogue(acc, alpha, beta, c[i*ldc+j], beta0)
		}
	}
}

// outerGeneric4x2 is the full tile: 8 accumulators, 4+2 operands, which
// fit the 15 float registers Go uses on amd64 (a 4x4 tile spills).
func outerGeneric4x2(k int, a []float32, as int, b []float32, bs int, c []float32, ldc int, alpha, beta float32, beta0 bool) {
	var c00, c01, c10, c11, c20, c21, c30, c31 float32
	for p := 0; p < k; p++ {
		ap := a[p*as : p*as+4 : p*as+4]
		bp := b[p*bs : p*bs+2 : p*bs+2]
		b0, b1 := bp[0], bp[1]
		a0, a1, a2, a3 := ap[0], ap[1], ap[2], ap[3]
		c00 += float32(a0 * b0)
		c01 += float32(a0 * b1)
		c10 += float32(a1 * b0)
		c11 += float32(a1 * b1)
		c20 += float32(a2 * b0)
		c21 += float32(a2 * b1)
		c30 += float32(a3 * b0)
		c31 += float32(a3 * b1)
	}
	acc := [4][2]float32{{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}}
	for i := range acc {
		row := c[i*ldc : i*ldc+2]
		for j := range row {
			row[j] = epilogue(acc[i][j], alpha, beta, row[j], beta0)
		}
	}
}

// dotGeneric computes each element as dot4(A row, B row) (see dot4).
func dotGeneric(mr, nr, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32, beta0 bool) {
	for i := 0; i < mr; i++ {
		ai := a[i*lda : i*lda+k]
		for j := 0; j < nr; j++ {
			s := dot4(ai, b[j*ldb:j*ldb+k])
			c[i*ldc+j] = epilogue(s, alpha, beta, c[i*ldc+j], beta0)
		}
	}
}

// dot4 returns the dot product of x and y (same length) with four partial
// sums over p mod 4, combined as (s0+s1)+(s2+s3), then the tail in order.
func dot4(x, y []float32) float32 {
	var s0, s1, s2, s3 float32
	n := len(x) &^ 3
	y = y[:len(x)]
	for p := 0; p < n; p += 4 {
		xp, yp := x[p:p+4], y[p:p+4]
		s0 += float32(xp[0] * yp[0])
		s1 += float32(xp[1] * yp[1])
		s2 += float32(xp[2] * yp[2])
		s3 += float32(xp[3] * yp[3])
	}
	s := (s0 + s1) + (s2 + s3)
	for p := n; p < len(x); p++ {
		s += float32(x[p] * y[p])
	}
	return s
}
