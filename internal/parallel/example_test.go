package parallel_test

import (
	"fmt"

	"github.com/nettrain/nettrain/internal/parallel"
)

// sumTask sums each chunk of x into its own slot: chunk c of grain items
// writes part[c] only, so the chunks need no locking.
type sumTask struct {
	x, part []float64
	grain   int
}

func (t *sumTask) Run(_, lo, hi int) {
	s := 0.0
	for _, v := range t.x[lo:hi] {
		s += v
	}
	t.part[lo/t.grain] = s
}

// A sum whose bits do not depend on the thread count: partial sums over
// fixed chunks, added in chunk order by the caller.
func ExamplePool_For() {
	pool := parallel.NewPool(2)
	defer pool.Close()
	x := make([]float64, 1000)
	for i := range x {
		x[i] = 0.1 * float64(i)
	}
	const grain = 64
	task := &sumTask{x: x, part: make([]float64, (len(x)+grain-1)/grain), grain: grain}
	pool.For(len(x), grain, task) // task is a pointer: no allocation
	total := 0.0
	for _, p := range task.part {
		total += p
	}
	fmt.Printf("%.1f\n", total)
	// Output: 49950.0
}
