package backprop

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/nettrain/nettrain/internal/gemm"
	"github.com/nettrain/nettrain/internal/parallel"
)

// TestPredictEqualsForward: Predict, which fuses into a convolution the
// ReLU after it and the pooling layer after that (each sample finished as
// it is written), gives the output of Forward bit for bit, and the same
// output of every layer it runs on its own, on one thread and on two, for
// convolutions read in place (stride 1) and through im2col (stride 2), in
// float32 and float64: max pooling's 2x2 kernel on planes it tiles and on
// odd ones, its general path, average pooling, a pooling layer straight
// after a convolution, a ReLU after another kind of layer (left as it is),
// and inputs with NaNs and infinities; without allocating.
func TestPredictEqualsForward(t *testing.T) {
	in := []int{2, 12, 12}
	c1 := conv(in, 4, 3, 3, 1, 1, 1, 1, 1, 1) // (4, 12, 12), read in place
	c1o := c1.OutShape()
	odd := conv(in, 4, 3, 3, 1, 1, 0, 0, 0, 0) // (4, 10, 10), pooled to (4, 5, 5), then 2x2 on 5x5 planes
	cases := []struct {
		name  string
		specs []Spec
		nan   bool
	}{
		{"conv relu maxpool, conv/2 relu dense relu", func() []Spec {
			p1 := pool(PoolMax, c1o, 2, 2, 0)
			c2 := conv(p1.OutShape(), 3, 3, 3, 2, 2, 1, 1, 1, 1) // stride 2: im2col
			return []Spec{c1, act(ReLU, c1o), p1, c2, act(ReLU, c2.OutShape()),
				FlattenSpec{c2.OutShape()}, DenseSpec{In: []int{27}, Units: 5, Bias: true}, act(ReLU, []int{5})}
		}(), false},
		{"conv maxpool (no ReLU)", []Spec{c1, pool(PoolMax, c1o, 2, 2, 0)}, false},
		{"conv relu maxpool 3x3/2 pad 1", []Spec{c1, act(ReLU, c1o), pool(PoolMax, c1o, 3, 2, 1)}, false},
		{"conv relu avgpool", []Spec{c1, act(ReLU, c1o), pool(PoolAvg, c1o, 2, 2, 0)}, false},
		{"conv/2 relu maxpool 2x2 on odd planes", func() []Spec {
			c := conv(in, 4, 3, 3, 2, 2, 1, 1, 1, 1) // (4, 6, 6)
			p := pool(PoolMax, c.OutShape(), 3, 3, 0)
			return []Spec{c, act(ReLU, c.OutShape()), p, pool(PoolMax, p.OutShape(), 2, 2, 0)}
		}(), false},
		{"odd planes, 2x2 max", []Spec{odd, act(ReLU, odd.OutShape()), pool(PoolMax, odd.OutShape(), 2, 2, 0),
			pool(PoolMax, []int{4, 5, 5}, 2, 2, 0)}, false},
		{"NaN and Inf inputs", []Spec{c1, act(ReLU, c1o), pool(PoolMax, c1o, 2, 2, 0)}, true},
	}
	const n = 7
	check := func(t *testing.T, name string, got, want []float64) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: %d outputs, Forward gives %d", name, len(got), len(want))
		}
		for i := range want {
			if math.Float64bits(got[i]) != math.Float64bits(want[i]) && !(math.IsNaN(got[i]) && math.IsNaN(want[i])) {
				t.Fatalf("%s: output %d = %v, Forward gives %v", name, i, got[i], want[i])
			}
		}
	}
	for _, c := range cases {
		for _, threads := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s/%d threads", c.name, threads), func(t *testing.T) {
				pool := parallel.NewPool(threads)
				defer pool.Close()
				ctx := &Ctx{Pool: pool, Gemm: gemm.NewParallel(pool)}
				rng := rand.New(rand.NewPCG(3, uint64(threads)))
				x32 := make([]float32, n*Prod(in))
				x64 := make([]float64, len(x32))
				for i := range x32 {
					x32[i] = float32(rng.NormFloat64())
					if c.nan && i%37 == 5 {
						x32[i] = float32([]float64{math.NaN(), math.Inf(1), math.Inf(-1)}[i%3])
					}
					x64[i] = float64(x32[i])
				}
				net32 := NewNetwork[float32](in, c.specs, "mse", n)
				net32.Init(rand.New(rand.NewPCG(1, 1)))
				want32 := widen(net32.Forward(ctx, x32, n))
				outs := make([][]float64, len(c.specs))
				for i, o := range net32.Outs {
					outs[i] = widen(o)
				}
				// Other values in every buffer first, so that an output
				// Predict left unwritten shows.
				other := make([]float32, len(x32))
				for i := range other {
					other[i] = float32(rng.NormFloat64())
				}
				net32.Forward(ctx, other, n)
				check(t, "float32", widen(net32.Predict(ctx, x32, n)), want32)
				for i, o := range net32.Outs {
					if i+1 < len(c.specs) && c.specs[i+1].Kind() == "relu" && c.specs[i].Kind() == "conv2d" {
						continue // holds the ReLU's output (Predict's doc)
					}
					check(t, fmt.Sprintf("float32, layer %d (%s)", i, c.specs[i].Kind()), widen(o), outs[i])
				}
				net64 := NewNetwork[float64](in, c.specs, "mse", n)
				net64.Init(rand.New(rand.NewPCG(1, 1)))
				want64 := append([]float64(nil), net64.Forward(ctx, x64, n)...)
				net64.Forward(ctx, widen(other), n)
				check(t, "float64", net64.Predict(ctx, x64, n), want64)
				if a := testing.AllocsPerRun(3, func() { net32.Predict(ctx, x32, n) }); a != 0 {
					t.Errorf("Predict: %v allocations per call", a)
				}
				// The fusion is switched off again after Predict.
				check(t, "Forward after Predict", widen(net32.Forward(ctx, x32, n)), want32)
			})
		}
	}
}

func widen(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}
