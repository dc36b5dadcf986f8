package backprop

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/nettrain/nettrain/internal/gemm"
	"github.com/nettrain/nettrain/internal/parallel"
)

// TestPredictEqualsForward: Predict, which fuses a convolution's ReLU into
// the convolution, gives the output of Forward bit for bit, on one thread
// and on two, for convolutions read in place (stride 1) and through
// im2col (stride 2), in float32 and float64; a ReLU after another kind of
// layer is left as it is.
func TestPredictEqualsForward(t *testing.T) {
	in := []int{2, 12, 12}
	c1 := conv(in, 4, 3, 3, 1, 1, 1, 1, 1, 1) // (4, 12, 12), read in place
	p1 := pool(PoolMax, c1.OutShape(), 2, 2, 0)
	c2 := conv(p1.OutShape(), 3, 3, 3, 2, 2, 1, 1, 1, 1) // stride 2: im2col
	fl := []int{3 * 3 * 3}
	specs := []Spec{c1, act(ReLU, c1.OutShape()), p1, c2, act(ReLU, c2.OutShape()),
		FlattenSpec{c2.OutShape()}, DenseSpec{In: fl, Units: 5, Bias: true}, act(ReLU, []int{5})}
	const n = 7
	check := func(t *testing.T, name string, got, want []float64) {
		t.Helper()
		for i := range want {
			if math.Float64bits(got[i]) != math.Float64bits(want[i]) && !(math.IsNaN(got[i]) && math.IsNaN(want[i])) {
				t.Fatalf("%s: output %d = %v, Forward gives %v", name, i, got[i], want[i])
			}
		}
	}
	for _, threads := range []int{1, 2} {
		pool := parallel.NewPool(threads)
		defer pool.Close()
		ctx := &Ctx{Pool: pool, Gemm: gemm.NewParallel(pool)}
		rng := rand.New(rand.NewPCG(3, uint64(threads)))
		x32 := make([]float32, n*Prod(in))
		x64 := make([]float64, len(x32))
		for i := range x32 {
			x32[i] = float32(rng.NormFloat64())
			x64[i] = float64(x32[i])
		}
		net32 := NewNetwork[float32](in, specs, "cross_entropy", n)
		net32.Init(rand.New(rand.NewPCG(1, 1)))
		want32 := widen(net32.Forward(ctx, x32, n))
		got32 := widen(net32.Predict(ctx, x32, n))
		check(t, "float32", got32, want32)
		net64 := NewNetwork[float64](in, specs, "cross_entropy", n)
		net64.Init(rand.New(rand.NewPCG(1, 1)))
		want64 := append([]float64(nil), net64.Forward(ctx, x64, n)...)
		check(t, "float64", net64.Predict(ctx, x64, n), want64)
		// The fusion is switched off again after Predict.
		check(t, "Forward after Predict", widen(net32.Forward(ctx, x32, n)), want32)
	}
}

func widen(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}
