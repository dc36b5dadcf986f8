package backprop

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/nettrain/nettrain/internal/gemm"
	"github.com/nettrain/nettrain/internal/parallel"
)

// benchRecurrent times the forward and backward pass (with dx when
// needDx) of one recurrent layer s at batch n, many-to-one, on 1 and 2
// threads, float32, on the input x.
func benchRecurrent(b *testing.B, s Spec, n int, x []float32, needDx bool) {
	units := Prod(s.OutShape())
	rng := rand.New(rand.NewPCG(2, 2))
	dy := make([]float32, n*units)
	for i := range dy {
		dy[i] = rng.Float32() - 0.5
	}
	for _, threads := range []int{1, 2} {
		pool := parallel.NewPool(threads)
		ctx := &Ctx{Train: true, Pool: pool, Gemm: gemm.NewParallel(pool)}
		net := NewNetwork[float32](s.InShape(), []Spec{s}, MSE, n)
		net.Init(rand.New(rand.NewPCG(1, 1)))
		l := net.Layers[0]
		b.Run(fmt.Sprintf("threads=%d/fwd", threads), func(b *testing.B) {
			for b.Loop() {
				l.Forward(ctx, x, n)
			}
		})
		b.Run(fmt.Sprintf("threads=%d/bwd", threads), func(b *testing.B) {
			l.Forward(ctx, x, n)
			for b.Loop() {
				l.Backward(ctx, dy, n, needDx)
			}
		})
		pool.Close()
	}
}

// BenchmarkLSTMLayer times the LSTM of configs/text-lstm.yaml (one-hot
// input over 76 symbols, 32 steps, 128 units, batch 64).
func BenchmarkLSTMLayer(b *testing.B) {
	const n, steps, vocab = 64, 32, 76
	rng := rand.New(rand.NewPCG(3, 3))
	x := make([]float32, n*steps*vocab)
	for r := 0; r < n*steps; r++ {
		x[r*vocab+rng.IntN(vocab)] = 1
	}
	benchRecurrent(b, LSTMSpec{In: []int{steps, vocab}, Units: 128, Layers: 1, OneHot: true}, n, x, false)
}

// BenchmarkGRULayer times the GRU of configs/series-gru.yaml (12 steps of
// 16 features, 32 units, batch 16; dx, as below its conv1d and silu).
func BenchmarkGRULayer(b *testing.B) {
	const n, steps, in = 16, 12, 16
	rng := rand.New(rand.NewPCG(3, 3))
	x := make([]float32, n*steps*in)
	for i := range x {
		x[i] = rng.Float32() - 0.5
	}
	benchRecurrent(b, GRUSpec{In: []int{steps, in}, Units: 32, Layers: 1}, n, x, true)
}
