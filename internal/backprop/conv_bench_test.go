package backprop

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/nettrain/nettrain/internal/gemm"
	"github.com/nettrain/nettrain/internal/parallel"
)

// BenchmarkCNNLayers times the forward and backward pass of each layer of
// the MNIST CNN (configs/mnist-cnn.yaml, batch 64) on 1 and 2 threads,
// float32, inside a full forward/backward so that the caches hold what a
// training step leaves in them. The first layer's backward computes no dx.
func BenchmarkCNNLayers(b *testing.B) {
	in, specs := mnistCNN()
	const n = 64
	for _, threads := range []int{1, 2} {
		pool := parallel.NewPool(threads)
		// Layerwise: every layer keeps its output and input gradient.
		ctx := &Ctx{Train: true, Layerwise: true, Pool: pool, Gemm: gemm.NewParallel(pool)}
		net := NewNetwork[float32](in, specs, CrossEntropy, n)
		net.Init(rand.New(rand.NewPCG(1, 1)))
		x := make([]float32, n*Prod(in))
		rng := rand.New(rand.NewPCG(2, 2))
		for i := range x {
			x[i] = rng.Float32()
		}
		labels := make([]int32, n)
		// One step records each layer's input and output gradient.
		net.Forward(ctx, x, n)
		net.Loss.Forward(net.Outs[len(net.Outs)-1], Target[float32]{Labels: labels}, n)
		net.Backward(ctx, net.Loss.Grad(n), n, false)
		ins := append([][]float32{x}, net.Outs[:len(net.Outs)-1]...)
		dys := append(append([][]float32{}, net.Dx[1:]...), net.Loss.Grad(n))
		for i, l := range net.Layers {
			name := fmt.Sprintf("%d_%s", i, specs[i].Kind())
			if specs[i].Kind() == "flatten" {
				continue
			}
			b.Run(fmt.Sprintf("threads=%d/%s/fwd", threads, name), func(b *testing.B) {
				for b.Loop() {
					l.Forward(ctx, ins[i], n)
				}
			})
			b.Run(fmt.Sprintf("threads=%d/%s/bwd", threads, name), func(b *testing.B) {
				l.Forward(ctx, ins[i], n)
				for b.Loop() {
					l.Backward(ctx, dys[i], n, i > 0)
				}
			})
		}
		pool.Close()
	}
}
