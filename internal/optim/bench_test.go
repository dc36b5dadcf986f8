package optim

import (
	"fmt"
	"testing"

	"github.com/nettrain/nettrain/internal/parallel"
)

// updateChunks is the trainer's update loop without the clipping: the
// optimizer's Update over chunks of the slab on a pool.
type updateChunks struct {
	o    Optimizer[float32]
	w, g []float32
}

func (u *updateChunks) Run(_, lo, hi int) { u.o.Update(u.w, u.g, lo, hi) }

// BenchmarkAdamThreads times one Adam update of the MNIST MLP's 235,146
// parameters (and of a million) on 1 and 2 threads, in the trainer's
// chunks of 16K values, with the data staying where each thread last
// touched it: the update's own scaling, without a training step around it.
func BenchmarkAdamThreads(b *testing.B) {
	for _, n := range []int{235146, 1 << 20} {
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("params=%d/threads=%d", n, threads), func(b *testing.B) {
				c, _ := Defaults("adam")
				o := New[float32](c, n)
				w, g := make([]float32, n), make([]float32, n)
				for i := range g {
					g[i] = 1e-3 * float32(i%7-3)
				}
				p := parallel.NewPool(threads)
				defer p.Close()
				u := &updateChunks{o: o, w: w, g: g}
				b.ReportAllocs()
				for b.Loop() {
					o.Begin()
					p.For(n, 1<<14, u)
				}
			})
		}
	}
}
