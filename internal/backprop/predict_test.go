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
// convolutions read in place (stride 1) and through im2col (stride 2,
// with chunks of several samples and of one), in float32 and float64: max
// pooling's 2x2 kernel fused on planes it tiles and on odd ones (pooling a
// stride-1 convolution's grid in place, and a strided one's output), its
// general path, average pooling, a pooling layer straight after a
// convolution, a ReLU after another kind of layer (left as it is), and
// inputs with NaNs and infinities; at batch sizes of one chunk, of two
// with a one-sample last chunk, and of three shared by two threads;
// without allocating.
func TestPredictEqualsForward(t *testing.T) {
	in := []int{2, 12, 12}
	c1 := conv(in, 4, 3, 3, 1, 1, 1, 1, 1, 1) // (4, 12, 12), read in place
	c1o := c1.OutShape()
	odd := conv(in, 4, 3, 3, 2, 2, 0, 0, 0, 0) // stride 2: (4, 5, 5), which 2x2 windows do not tile
	big := []int{1, 128, 128}
	cb := conv(big, 2, 3, 3, 2, 2, 1, 1, 1, 1) // stride 2, (2, 64, 64): chunks of one sample
	cases := []struct {
		name  string
		in    []int
		specs []Spec
		nan   bool
	}{
		{"conv relu maxpool, conv/2 relu dense relu", in, func() []Spec {
			p1 := pool(PoolMax, c1o, 2, 2, 0)
			c2 := conv(p1.OutShape(), 3, 3, 3, 2, 2, 1, 1, 1, 1) // stride 2: im2col
			return []Spec{c1, act(ReLU, c1o), p1, c2, act(ReLU, c2.OutShape()),
				FlattenSpec{c2.OutShape()}, DenseSpec{In: []int{27}, Units: 5, Bias: true}, act(ReLU, []int{5})}
		}(), false},
		{"conv maxpool (no ReLU)", in, []Spec{c1, pool(PoolMax, c1o, 2, 2, 0)}, false},
		{"conv relu maxpool 2x2 on 9x9 planes (stride 1)", []int{2, 9, 9}, func() []Spec {
			c := conv([]int{2, 9, 9}, 3, 3, 3, 1, 1, 1, 1, 1, 1) // (3, 9, 9), read in place: pooled from its grid
			return []Spec{c, act(ReLU, c.OutShape()), pool(PoolMax, c.OutShape(), 2, 2, 0)}
		}(), false},
		{"conv relu maxpool 3x3/2 pad 1", in, []Spec{c1, act(ReLU, c1o), pool(PoolMax, c1o, 3, 2, 1)}, false},
		{"conv relu avgpool", in, []Spec{c1, act(ReLU, c1o), pool(PoolAvg, c1o, 2, 2, 0)}, false},
		{"conv/2 relu maxpool 2x2 on 5x5 planes", in, []Spec{odd, act(ReLU, odd.OutShape()), pool(PoolMax, odd.OutShape(), 2, 2, 0)}, false},
		{"conv/2 maxpool 2x2 on 5x5 planes (no ReLU)", in, []Spec{odd, pool(PoolMax, odd.OutShape(), 2, 2, 0)}, false},
		{"conv/2 relu maxpool 3x3/3, then maxpool 2x2 (not fused)", in, func() []Spec {
			c := conv(in, 4, 3, 3, 2, 2, 1, 1, 1, 1) // (4, 6, 6)
			p := pool(PoolMax, c.OutShape(), 3, 3, 0)
			return []Spec{c, act(ReLU, c.OutShape()), p, pool(PoolMax, p.OutShape(), 2, 2, 0)}
		}(), false},
		{"conv/2 in chunks of one sample, relu maxpool", big, []Spec{cb, act(ReLU, cb.OutShape()), pool(PoolMax, cb.OutShape(), 2, 2, 0)}, false},
		{"NaN and Inf inputs", in, []Spec{c1, act(ReLU, c1o), pool(PoolMax, c1o, 2, 2, 0)}, true},
	}
	for _, c := range cases {
		for _, n := range []int{1, 9, 20} { // the convolutions' chunks here are 8 samples or 1
			for _, threads := range []int{1, 2} {
				t.Run(fmt.Sprintf("%s/batch %d/%d threads", c.name, n, threads), func(t *testing.T) {
					predictMatches(t, c.in, c.specs, c.nan, n, threads)
				})
			}
		}
	}
}

// predictMatches is one case of TestPredictEqualsForward.
func predictMatches(t *testing.T, in []int, specs []Spec, nan bool, n, threads int) {
	pool := parallel.NewPool(threads)
	defer pool.Close()
	// Layerwise: Forward, the reference, keeps every layer's output
	// (Predict's fusions do not depend on it).
	ctx := &Ctx{Layerwise: true, Pool: pool, Gemm: gemm.NewParallel(pool)}
	rng := rand.New(rand.NewPCG(3, uint64(threads)))
	x32 := make([]float32, n*Prod(in))
	other := make([]float32, len(x32))
	for i := range x32 {
		x32[i] = float32(rng.NormFloat64())
		if nan && i%37 == 5 {
			x32[i] = float32([]float64{math.NaN(), math.Inf(1), math.Inf(-1)}[i%3])
		}
		other[i] = float32(rng.NormFloat64())
	}
	// pooledAway: the outputs Predict leaves nil, a convolution's and its
	// ReLU's when a pooling layer follows (fused into the convolution);
	// fused: the outputs it leaves holding a later layer's, a
	// convolution's when only a ReLU follows (Predict's doc).
	pooledAway := func(i int) bool {
		j := i
		if specs[j].Kind() == "relu" && j > 0 && specs[j-1].Kind() == "conv2d" {
			j--
		}
		if specs[j].Kind() != "conv2d" {
			return false
		}
		k := i + 1
		if k < len(specs) && specs[k].Kind() == "relu" {
			k++
		}
		return k < len(specs) && specs[k].Kind() == "maxpool2d" || k < len(specs) && specs[k].Kind() == "avgpool2d"
	}
	fused := func(i int) bool {
		return i+1 < len(specs) && specs[i+1].Kind() == "relu" && specs[i].Kind() == "conv2d"
	}
	checkOuts := func(t *testing.T, outs [][]float64, got func(i int) []float64, isNil func(i int) bool) {
		t.Helper()
		for i := range specs {
			name := fmt.Sprintf("layer %d (%s)", i, specs[i].Kind())
			switch {
			case pooledAway(i):
				if !isNil(i) {
					t.Fatalf("%s: Predict left its output set; want nil (pooled from the convolution)", name)
				}
			case !fused(i):
				checkBits(t, name, got(i), outs[i])
			}
		}
	}
	t.Run("float32", func(t *testing.T) {
		net := NewNetwork[float32](in, specs, "mse", n)
		net.Init(rand.New(rand.NewPCG(1, 1)))
		want := widen(net.Forward(ctx, x32, n))
		outs := make([][]float64, len(specs))
		for i, o := range net.Outs {
			outs[i] = widen(o)
		}
		// Other values in every buffer first, so that an output Predict
		// left unwritten shows.
		net.Forward(ctx, other, n)
		checkBits(t, "output", widen(net.Predict(ctx, x32, n)), want)
		checkOuts(t, outs, func(i int) []float64 { return widen(net.Outs[i]) }, func(i int) bool { return net.Outs[i] == nil })
		if a := testing.AllocsPerRun(3, func() { net.Predict(ctx, x32, n) }); a != 0 {
			t.Errorf("Predict: %v allocations per call", a)
		}
		// The fusion is switched off again after Predict.
		checkBits(t, "Forward after Predict", widen(net.Forward(ctx, x32, n)), want)
	})
	t.Run("float64", func(t *testing.T) {
		x64, other64 := widen(x32), widen(other)
		net := NewNetwork[float64](in, specs, "mse", n)
		net.Init(rand.New(rand.NewPCG(1, 1)))
		want := append([]float64(nil), net.Forward(ctx, x64, n)...)
		outs := make([][]float64, len(specs))
		for i, o := range net.Outs {
			outs[i] = append([]float64(nil), o...)
		}
		net.Forward(ctx, other64, n)
		checkBits(t, "output", net.Predict(ctx, x64, n), want)
		checkOuts(t, outs, func(i int) []float64 { return net.Outs[i] }, func(i int) bool { return net.Outs[i] == nil })
	})
}

// checkBits fails unless got and want hold the same values bit for bit
// (any NaN matching any NaN).
func checkBits(t *testing.T, name string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, Forward gives %d", name, len(got), len(want))
	}
	for i := range want {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) && !(math.IsNaN(got[i]) && math.IsNaN(want[i])) {
			t.Fatalf("%s: value %d = %v, Forward gives %v", name, i, got[i], want[i])
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
