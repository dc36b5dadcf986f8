package backprop

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/nettrain/nettrain/internal/gemm"
	"github.com/nettrain/nettrain/internal/parallel"
)

// TestReLUPoolFusedEqualsLayerwise: Network.Forward and Backward, which
// run a ReLU inside the 2x2 max pooling after it, give the bits of every
// layer run on its own (Ctx.Layerwise) — output, loss gradient's input
// gradient and every parameter gradient, with and without the input
// gradient asked for — on inputs with zeros of both signs, ties,
// negatives only, NaNs and infinities, in float32 and float64, on 1 and 2
// threads with planes enough for several chunks, and a batch smaller than
// the network's maximum; and the fusion happens where it should, and only
// there.
func TestReLUPoolFusedEqualsLayerwise(t *testing.T) {
	testReLUPoolFused[float32](t)
	testReLUPoolFused[float64](t)
}

func testReLUPoolFused[T Float](t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    []int
		specs func(in []int) []Spec
		fused []int // the ReLUs that run inside a pooling
	}{
		{"relu then pool on the input", []int{2, 8, 6}, func(in []int) []Spec {
			return []Spec{act(ReLU, in), pool(PoolMax, in, 2, 2, 0), FlattenSpec{[]int{2, 4, 3}}, denseS([]int{24}, 5)}
		}, []int{0}},
		// 32x32 planes: 8 to a chunk of the pooling's loops, 15 planes.
		{"relu then pool, several chunks", []int{3, 32, 32}, func(in []int) []Spec {
			return []Spec{act(ReLU, in), pool(PoolMax, in, 2, 2, 0), FlattenSpec{[]int{3, 16, 16}}, denseS([]int{768}, 4)}
		}, []int{0}},
		{"conv, then relu and pool in several chunks", []int{1, 32, 32}, func(in []int) []Spec {
			return []Spec{conv(in, 3, 3, 3, 1, 1, 1, 1, 1, 1), act(ReLU, []int{3, 32, 32}), pool(PoolMax, []int{3, 32, 32}, 2, 2, 0),
				FlattenSpec{[]int{3, 16, 16}}, denseS([]int{768}, 4)}
		}, []int{1}},
		{"conv, relu, pool twice", []int{1, 12, 12}, func(in []int) []Spec {
			c1 := conv(in, 4, 3, 3, 1, 1, 1, 1, 1, 1) // (4, 12, 12)
			c2 := conv([]int{4, 6, 6}, 3, 3, 3, 1, 1, 1, 1, 1, 1)
			return []Spec{c1, act(ReLU, []int{4, 12, 12}), pool(PoolMax, []int{4, 12, 12}, 2, 2, 0),
				c2, act(ReLU, []int{3, 6, 6}), pool(PoolMax, []int{3, 6, 6}, 2, 2, 0),
				FlattenSpec{[]int{3, 3, 3}}, denseS([]int{27}, 4)}
		}, []int{1, 4}},
		{"odd plane: the windows do not tile, no fusion", []int{2, 7, 7}, func(in []int) []Spec {
			return []Spec{act(ReLU, in), pool(PoolMax, in, 2, 2, 0), FlattenSpec{[]int{2, 3, 3}}, denseS([]int{18}, 3)}
		}, nil},
		{"tanh before the pool: no fusion", []int{2, 4, 4}, func(in []int) []Spec {
			return []Spec{act(Tanh, in), pool(PoolMax, in, 2, 2, 0), FlattenSpec{[]int{2, 2, 2}}, denseS([]int{8}, 3)}
		}, nil},
	} {
		for _, threads := range []int{1, 2} {
			pl := parallel.NewPool(threads)
			for trial := range 8 {
				const n, maxBatch = 5, 7
				specs := tc.specs(tc.in)
				rng := rand.New(rand.NewPCG(uint64(trial), 3))
				x := make([]T, n*Prod(tc.in))
				for i := range x {
					switch r := rng.IntN(20); {
					case r < 2:
						x[i] = 0
					case r < 4:
						x[i] = T(math.Copysign(0, -1))
					case r == 4 && trial >= 4:
						x[i] = T(math.NaN())
					case r == 5 && trial >= 6:
						x[i] = T(math.Inf(2*rng.IntN(2) - 1))
					case trial == 2: // negatives only: no gradient reaches the input
						x[i] = -T(rng.IntN(4) + 1)
					default:
						x[i] = T(rng.IntN(7) - 3) // ties
					}
				}
				var outs [2][4][]T // fused, layerwise: y, dx, grads, grads without dx
				for k, layerwise := range []bool{false, true} {
					net := NewNetwork[T](tc.in, specs, CrossEntropy, maxBatch)
					net.Init(rand.New(rand.NewPCG(7, 7)))
					ctx := &Ctx{Train: true, Layerwise: layerwise, Pool: pl, Gemm: gemm.NewParallel(pl)}
					labels := make([]int32, n)
					for i := range labels {
						labels[i] = int32(i % 3)
					}
					for _, needDx := range []bool{true, false} {
						net.ZeroGrad()
						y := net.Forward(ctx, x, n)
						net.Loss.Forward(y, Target[T]{Labels: labels}, n)
						dx := net.Backward(ctx, net.Loss.Grad(n), n, needDx)
						if needDx {
							outs[k][0], outs[k][1], outs[k][2] = append([]T(nil), y...), append([]T(nil), dx...), append([]T(nil), net.G...)
						} else if outs[k][3] = append([]T(nil), net.G...); dx != nil {
							t.Fatalf("%s, layerwise %v: Backward without needDx gave an input gradient", tc.name, layerwise)
						}
					}
					for i := range net.Layers {
						want := !layerwise && contains(tc.fused, i)
						if net.fused[i] != want || (net.Outs[i] == nil) != want {
							t.Fatalf("%s, layerwise %v: layer %d fused %v (Outs nil %v), want %v", tc.name, layerwise, i, net.fused[i], net.Outs[i] == nil, want)
						}
					}
				}
				for j, what := range []string{"output", "dL/dx", "gradients", "gradients without dL/dx"} {
					f, l := outs[0][j], outs[1][j]
					for i := range l {
						if math.Float64bits(float64(f[i])) != math.Float64bits(float64(l[i])) {
							t.Fatalf("%s %s, %d threads, trial %d: %s[%d] fused %v, layerwise %v", DTypeName[T](), tc.name, threads, trial, what, i, f[i], l[i])
						}
					}
				}
			}
			pl.Close()
		}
	}
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
