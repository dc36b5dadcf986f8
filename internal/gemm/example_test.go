package gemm_test

import (
	"fmt"

	"github.com/nettrain/nettrain/internal/gemm"
	"github.com/nettrain/nettrain/internal/parallel"
)

// A dense layer's forward pass, Y = X * W^T, for a batch of 2 inputs of 3
// features and 2 output units: op(A) = X is 2x3, op(B) = W^T with W 2x3.
func ExampleSgemm() {
	x := []float32{ // (B, in) = (2, 3)
		1, 2, 3,
		4, 5, 6,
	}
	w := []float32{ // (out, in) = (2, 3)
		1, 0, -1,
		0.5, 0.5, 0.5,
	}
	y := make([]float32, 2*2) // (B, out) = (2, 2)
	gemm.Sgemm(false, true, 2, 2, 3, 1, x, 3, w, 3, 0, y, 2)
	fmt.Println(y)
	// Output: [-2 3 -2 7.5]
}

// The same product on a pool of goroutines; the bits of the result do not
// depend on the number of threads.
func ExampleParallel() {
	pool := parallel.NewPool(2)
	defer pool.Close()
	g := gemm.NewParallel(pool)
	x := []float32{1, 2, 3, 4, 5, 6}
	w := []float32{1, 0, -1, 0.5, 0.5, 0.5}
	y := []float32{10, 10, 10, 10}
	// Accumulate: y = 1*x*w^T + 1*y.
	g.Sgemm(false, true, 2, 2, 3, 1, x, 3, w, 3, 1, y, 2)
	fmt.Println(y)
	// Output: [8 13 8 17.5]
}
