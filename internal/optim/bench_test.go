package optim

import (
	"fmt"
	"math"
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

// BenchmarkAdamSubnormal times one Adam update of the MNIST MLP's 235,146
// parameters on one thread when a share of its 16-value vectors hold a
// subnormal first moment with a zero gradient, as Adam's moments of a
// weight whose input is rarely non-zero do after a few hundred steps
// (about 5% of the MLP's after two epochs): on x86 a float32 multiply or
// divide with a subnormal operand or result takes a microcode assist, per
// instruction, which the kernels' float64 pass for such vectors avoids
// (internal/simd/asm/guard.go). "tiny" holds 1e-20 instead, as a control:
// normal, and above the 2^-100 below which the kernels' probe sends a
// vector to the float64 pass.
func BenchmarkAdamSubnormal(b *testing.B) {
	const n = 235146
	for _, c := range []struct {
		name  string
		m     float32
		share int // percent of the vectors
	}{{"none", 0, 0}, {"subnormal-5pct", math.Float32frombits(0x00400000), 5}, {"subnormal-all", math.Float32frombits(0x00400000), 100}, {"tiny-all", 1e-20, 100}} {
		b.Run(c.name, func(b *testing.B) {
			cfg, _ := Defaults("adam")
			o := New[float32](cfg, n).(*adam[float32])
			w, g := make([]float32, n), make([]float32, n)
			set := func() {
				for i := range g {
					if (i/16)%100 < c.share {
						g[i], o.m[i] = 0, c.m
					} else {
						g[i], o.m[i] = 1e-3*float32(i%7-3), 1e-4
					}
					o.v[i] = 1e-8
				}
			}
			o.Begin()
			for b.Loop() {
				b.StopTimer()
				set()
				b.StartTimer()
				o.Update(w, g, 0, n)
			}
		})
	}
}
