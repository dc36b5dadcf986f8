package backprop

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/nettrain/nettrain/internal/gemm"
	"github.com/nettrain/nettrain/internal/parallel"
)

// BenchmarkLSTMLayer times the forward and backward pass of the LSTM of
// configs/text-lstm.yaml (one-hot input over 76 symbols, 32 steps, 128
// units, batch 64, many-to-one) on 1 and 2 threads, float32.
func BenchmarkLSTMLayer(b *testing.B) {
	const n, steps, vocab, units = 64, 32, 76, 128
	s := LSTMSpec{In: []int{steps, vocab}, Units: units, Layers: 1, OneHot: true}
	for _, threads := range []int{1, 2} {
		pool := parallel.NewPool(threads)
		ctx := &Ctx{Train: true, Pool: pool, Gemm: gemm.NewParallel(pool)}
		net := NewNetwork[float32](s.In, []Spec{s}, MSE, n)
		net.Init(rand.New(rand.NewPCG(1, 1)))
		rng := rand.New(rand.NewPCG(2, 2))
		x := make([]float32, n*steps*vocab)
		for r := 0; r < n*steps; r++ {
			x[r*vocab+rng.IntN(vocab)] = 1
		}
		dy := make([]float32, n*units)
		for i := range dy {
			dy[i] = rng.Float32() - 0.5
		}
		l := net.Layers[0]
		b.Run(fmt.Sprintf("threads=%d/fwd", threads), func(b *testing.B) {
			for b.Loop() {
				l.Forward(ctx, x, n)
			}
		})
		b.Run(fmt.Sprintf("threads=%d/bwd", threads), func(b *testing.B) {
			l.Forward(ctx, x, n)
			for b.Loop() {
				l.Backward(ctx, dy, n, false)
			}
		})
		pool.Close()
	}
}

// BenchmarkGRULayer times the forward and backward pass of the GRU of
// configs/series-gru.yaml (12 steps of 16 features, 32 units, batch 16,
// many-to-one) on 1 and 2 threads, float32.
func BenchmarkGRULayer(b *testing.B) {
	const n, steps, in, units = 16, 12, 16, 32
	s := GRUSpec{In: []int{steps, in}, Units: units, Layers: 1}
	for _, threads := range []int{1, 2} {
		pool := parallel.NewPool(threads)
		ctx := &Ctx{Train: true, Pool: pool, Gemm: gemm.NewParallel(pool)}
		net := NewNetwork[float32](s.In, []Spec{s}, MSE, n)
		net.Init(rand.New(rand.NewPCG(1, 1)))
		rng := rand.New(rand.NewPCG(2, 2))
		x := make([]float32, n*steps*in)
		for i := range x {
			x[i] = rng.Float32() - 0.5
		}
		dy := make([]float32, n*units)
		for i := range dy {
			dy[i] = rng.Float32() - 0.5
		}
		l := net.Layers[0]
		b.Run(fmt.Sprintf("threads=%d/fwd", threads), func(b *testing.B) {
			for b.Loop() {
				l.Forward(ctx, x, n)
			}
		})
		b.Run(fmt.Sprintf("threads=%d/bwd", threads), func(b *testing.B) {
			l.Forward(ctx, x, n)
			for b.Loop() {
				l.Backward(ctx, dy, n, true)
			}
		})
		pool.Close()
	}
}
