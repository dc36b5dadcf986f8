package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestSgemmRows compares SgemmRows with Sgemm on B materialised from the
// offsets, on every kernel set: the results must be bit-identical when
// both take the outer-product path with the same blocking, which they do
// for op(B) = B.
func TestSgemmRows(t *testing.T) {
	for _, set := range []string{"avx512", "avx2", "generic"} {
		restore, ok := useKernels(set)
		if !ok {
			continue
		}
		t.Run(set, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(5, 5))
			for _, c := range []struct {
				tA      bool
				m, n, k int
				beta    float32
			}{
				{true, 32, 224, 401, 0}, {true, 16, 224, 800, 1}, {false, 7, 33, 5, 0.5},
				{true, 1, 1, 1, 0}, {true, 13, 70, 300, 0}, {false, 600, 40, 20, 1}, {true, 530, 17, 3, 0},
			} {
				t.Run(fmt.Sprint(c), func(t *testing.T) {
					// An "image" whose rows overlap: row p starts at a random offset.
					b := randMatrix(rng, 1, 3*c.n+c.k, 3*c.n+c.k)
					offs := make([]int, c.k+2)
					bm := make([]float32, c.k*c.n)
					for p := range offs {
						offs[p] = rng.IntN(len(b) - c.n + 1)
					}
					for p := 0; p < c.k; p++ {
						copy(bm[p*c.n:(p+1)*c.n], b[offs[p]:])
					}
					lda := c.k
					if c.tA {
						lda = c.m
					}
					a := randMatrix(rng, 1, c.m*c.k, c.m*c.k)
					c0 := randMatrix(rng, c.m, c.n, c.n)
					got, want := append([]float32(nil), c0...), append([]float32(nil), c0...)
					SgemmRows(c.tA, c.m, c.n, c.k, 0.75, a, lda, b, offs, c.beta, got, c.n)
					// Sgemm with op(B) = B takes the outer path too unless
					// it chooses the dot path, which needs tB: never here.
					Sgemm(c.tA, false, c.m, c.n, c.k, 0.75, a, lda, bm, c.n, c.beta, want, c.n)
					for i := range want {
						if got[i] != want[i] {
							t.Fatalf("C[%d] = %v, want %v (Sgemm on the materialised B)", i, got[i], want[i])
						}
					}
				})
			}
		})
		restore()
	}
}

func TestSgemmRowsPanics(t *testing.T) {
	a, c := make([]float32, 4), make([]float32, 4)
	b := make([]float32, 10)
	for _, tc := range []struct {
		name string
		offs []int
	}{{"negative", []int{0, -1}}, {"past the end", []int{0, 9}}, {"too few", []int{0}}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", tc.name)
				}
			}()
			SgemmRows(true, 2, 2, 2, 1, a, 2, b, tc.offs, 0, c, 2)
		}()
	}
}

func TestSgemmRowsNoAllocs(t *testing.T) {
	b := make([]float32, 4096)
	offs := make([]int, 400)
	for p := range offs {
		offs[p] = p
	}
	a, c := make([]float32, 400*32), make([]float32, 32*224)
	for _, tA := range []bool{true, false} {
		run := func() { SgemmRows(tA, 32, 224, 400, 1, a, 32, b, offs, 0, c, 224) }
		if !tA {
			run = func() { SgemmRows(tA, 32, 224, 400, 1, a, 400, b, offs, 0, c, 224) }
		}
		run()
		if n := testing.AllocsPerRun(10, run); n != 0 {
			t.Errorf("tA=%v: %v allocs per call", tA, n)
		}
	}
}
