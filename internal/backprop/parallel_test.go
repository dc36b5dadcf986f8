package backprop

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/nettrain/nettrain/internal/gemm"
	"github.com/nettrain/nettrain/internal/parallel"
)

// mnistCNN is configs/mnist-cnn.yaml: two 5x5 convolutions with ReLU and
// 2x2 max pooling, then two dense layers.
func mnistCNN() ([]int, []Spec) {
	in := []int{1, 28, 28}
	return in, chain(in,
		func(in []int) Spec { return conv(in, 16, 5, 5, 1, 1, 2, 2, 2, 2) },
		func(in []int) Spec { return act("relu", in) },
		func(in []int) Spec { return pool("max", in, 2, 2, 0) },
		func(in []int) Spec { return conv(in, 32, 5, 5, 1, 1, 2, 2, 2, 2) },
		func(in []int) Spec { return act("relu", in) },
		func(in []int) Spec { return pool("max", in, 2, 2, 0) },
		func(in []int) Spec { return FlattenSpec{in} },
		func(in []int) Spec { return denseS(in, 128) },
		func(in []int) Spec { return act("relu", in) },
		func(in []int) Spec { return denseS(in, 10) },
	)
}

// mixedCNN takes the other code paths: strided convolutions (im2col and
// col2im), a padding wider than the kernel (no transposed convolution),
// overlapping and padded max pooling, odd sizes (the 2x2 fast path that
// does not tile its input), average pooling, no bias, dropout.
func mixedCNN() ([]int, []Spec) {
	in := []int{3, 13, 11}
	return in, chain(in,
		func(in []int) Spec { return conv(in, 6, 3, 3, 2, 1, 1, 1, 1, 1) },
		func(in []int) Spec { return act("tanh", in) },
		func(in []int) Spec { return pool("max", in, 3, 2, 1) },
		func(in []int) Spec {
			c := conv(in, 5, 2, 3, 1, 1, 2, 3, 0, 1) // PadL 3 > KW-1
			c.Bias = false
			return c
		},
		func(in []int) Spec { return pool("max", in, 2, 2, 0) },
		func(in []int) Spec { return conv(in, 4, 3, 3, 1, 1, 1, 1, 1, 1) },
		func(in []int) Spec { return pool("avg", in, 2, 1, 0) },
		func(in []int) Spec { return FlattenSpec{in} },
		func(in []int) Spec { return DropoutSpec{In: in, P: 0.25} },
		func(in []int) Spec { return denseS(in, 7) },
	)
}

// globalCNN ends with a global average pooling.
func globalCNN() ([]int, []Spec) {
	in := []int{2, 9, 9}
	return in, chain(in,
		func(in []int) Spec { return conv(in, 8, 3, 3, 1, 1, 1, 1, 1, 1) },
		func(in []int) Spec { return act("relu", in) },
		func(in []int) Spec { return GlobalAvgPoolSpec{in} },
		func(in []int) Spec { return denseS(in, 3) },
	)
}

// trainSteps runs steps of plain SGD on one batch and returns the weights
// and the last output.
func trainSteps[T Float](in []int, specs []Spec, ctx *Ctx, n, steps int) (w, y []T) {
	net := NewNetwork[T](in, specs, CrossEntropy, n)
	net.Init(rand.New(rand.NewPCG(7, 7)))
	rng := rand.New(rand.NewPCG(8, 8))
	x := make([]T, n*Prod(in))
	for i := range x {
		x[i] = T(rng.Float64())
	}
	out := net.OutShape()
	labels := make([]int32, n)
	for i := range labels {
		labels[i] = int32(rng.IntN(out[len(out)-1]))
	}
	ctx.Train = true
	ctx.RNG = rand.New(rand.NewPCG(9, 9))
	for range steps {
		net.ZeroGrad()
		y = net.Forward(ctx, x, n)
		net.Loss.Forward(y, Target[T]{Labels: labels}, n)
		net.Backward(ctx, net.Loss.Grad(n), n, true)
		for i, g := range net.G {
			net.W[i] -= T(0.05) * g
		}
	}
	return append([]T(nil), net.W...), append([]T(nil), y...)
}

// TestThreadsBitIdenticalCNN trains a few steps on 1 to 4 threads (and
// without a pool) and compares the weights and outputs bit for bit.
func TestThreadsBitIdenticalCNN(t *testing.T) {
	for _, tc := range []struct {
		name string
		arch func() ([]int, []Spec)
		n    int
	}{{"mnist-cnn", mnistCNN, 19}, {"mixed", mixedCNN, 11}, {"global-avgpool", globalCNN, 70}} {
		t.Run(tc.name, func(t *testing.T) {
			in, specs := tc.arch()
			checkThreadsBitIdentical(t, in, specs, tc.n)
		})
	}
}

// TestTrainStepAllocatesNothingCNN is TestTrainStepAllocatesNothing for
// the MNIST CNN, on the caller and on a pool.
func TestTrainStepAllocatesNothingCNN(t *testing.T) {
	in, specs := mnistCNN()
	for _, threads := range []int{0, 2} {
		var pool *parallel.Pool
		if threads > 0 {
			pool = parallel.NewPool(threads)
		}
		net := NewNetwork[float32](in, specs, CrossEntropy, 64)
		net.Init(rand.New(rand.NewPCG(1, 1)))
		x := make([]float32, 64*Prod(in))
		labels := make([]int32, 64)
		ctx := &Ctx{Train: true, Pool: pool, Gemm: gemm.NewParallel(pool)}
		step := func() {
			net.ZeroGrad()
			y := net.Forward(ctx, x, 64)
			net.Loss.Forward(y, Target[float32]{Labels: labels}, 64)
			net.Backward(ctx, net.Loss.Grad(64), 64, false)
		}
		step()
		if a := testing.AllocsPerRun(5, step); a != 0 {
			t.Errorf("threads %d: training step allocates %v times", threads, a)
		}
		if pool != nil {
			pool.Close()
		}
	}
}

// naiveConvBackward is the gradient of naiveConv written from the
// definition: dW, db and dx for output gradient dy.
func naiveConvBackward(s Conv2DSpec, x, w, dy []float64, n int) (dw, db, dx []float64) {
	c, h, wd := s.In[0], s.In[1], s.In[2]
	oh, ow := s.OutHW()
	dw, db, dx = make([]float64, len(w)), make([]float64, s.Filters), make([]float64, len(x))
	for smp := 0; smp < n; smp++ {
		for f := 0; f < s.Filters; f++ {
			for i := 0; i < oh; i++ {
				for j := 0; j < ow; j++ {
					g := dy[((smp*s.Filters+f)*oh+i)*ow+j]
					db[f] += g
					for ch := 0; ch < c; ch++ {
						for u := 0; u < s.KH; u++ {
							for v := 0; v < s.KW; v++ {
								r, q := i*s.SH-s.PadT+u, j*s.SW-s.PadL+v
								if r < 0 || r >= h || q < 0 || q >= wd {
									continue
								}
								xi, wi := ((smp*c+ch)*h+r)*wd+q, ((f*c+ch)*s.KH+u)*s.KW+v
								dw[wi] += g * x[xi]
								dx[xi] += g * w[wi]
							}
						}
					}
				}
			}
		}
	}
	return dw, db, dx
}

// convSpecs cover every path of conv2d: stride 1 (the padded grid, the
// transposed convolution), strides other than 1 (im2col, col2im), padding
// beyond the kernel, no padding, 1x1, no bias, batches that are not a
// multiple of the chunk size.
var convSpecs = []Conv2DSpec{
	conv([]int{1, 28, 28}, 16, 5, 5, 1, 1, 2, 2, 2, 2),
	conv([]int{16, 14, 14}, 32, 5, 5, 1, 1, 2, 2, 2, 2),
	conv([]int{3, 9, 7}, 4, 3, 3, 2, 1, 1, 0, 2, 1),
	conv([]int{2, 6, 8}, 3, 5, 3, 3, 3, 2, 2, 2, 2),
	conv([]int{2, 7, 6}, 3, 2, 3, 1, 1, 2, 3, 0, 1),
	conv([]int{2, 6, 6}, 5, 1, 1, 1, 1, 0, 0, 0, 0),
	conv([]int{4, 5, 9}, 6, 3, 4, 1, 1, 0, 0, 0, 0),
	{In: []int{3, 8, 8}, Filters: 2, KH: 3, KW: 3, SH: 1, SW: 1, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
	conv([]int{2, 4, 3}, 2, 2, 2, 1, 1, 3, 3, 3, 3), // padding wider than the kernel on every side
	conv([]int{2, 9, 8}, 3, 3, 3, 2, 1, 1, 2, 1, 2), // stride 2 down, 1 across: im2col from the padded copy
	conv([]int{1, 3, 5}, 1, 3, 2, 1, 1, 0, 4, 2, 0), // one-sided wide padding
	conv([]int{2, 2, 2}, 3, 3, 3, 1, 1, 1, 1, 1, 1), // kernel larger than the image
	conv([]int{3, 1, 9}, 2, 1, 4, 1, 2, 0, 1, 0, 2), // one row, stride 2 across
}

// TestConvMatchesNaiveBackward checks forward and backward of every conv2d
// path against the definitions, in float64 (tight) and float32 (on a
// pool of 3 threads, to rounding), on the table above and on random
// geometries.
func TestConvMatchesNaiveBackward(t *testing.T) {
	pool := parallel.NewPool(3)
	defer pool.Close()
	pg := gemm.NewParallel(pool)
	specs := append([]Conv2DSpec(nil), convSpecs...)
	rng := rand.New(rand.NewPCG(21, 21))
	for len(specs) < len(convSpecs)+60 {
		s := Conv2DSpec{In: []int{1 + rng.IntN(3), 1 + rng.IntN(9), 1 + rng.IntN(9)}, Filters: 1 + rng.IntN(4),
			KH: 1 + rng.IntN(4), KW: 1 + rng.IntN(4), SH: 1 + rng.IntN(2), SW: 1 + rng.IntN(2),
			PadT: rng.IntN(4), PadL: rng.IntN(4), PadB: rng.IntN(4), PadR: rng.IntN(4), Bias: rng.IntN(3) > 0}
		if oh, ow := s.OutHW(); oh >= 1 && ow >= 1 {
			specs = append(specs, s)
		}
	}
	for _, s := range specs {
		t.Run(fmt.Sprint(s), func(t *testing.T) {
			const n = 5
			rng := rand.New(rand.NewPCG(11, 11))
			x := make([]float64, n*Prod(s.In))
			dy := make([]float64, n*Prod(s.OutShape()))
			for i := range x {
				x[i] = 2*rng.Float64() - 1
			}
			for i := range dy {
				dy[i] = 2*rng.Float64() - 1
			}
			net := NewNetwork[float64](s.In, []Spec{s}, MSE, n)
			net.Init(rand.New(rand.NewPCG(12, 12)))
			var b []float64
			if s.Bias {
				b = net.Params[1].W
			}
			wantY := naiveConv(s, x, net.Params[0].W, b, n)
			wantDW, wantDB, wantDX := naiveConvBackward(s, x, net.Params[0].W, dy, n)
			check := func(what string, got []float64, want []float64, tol float64) {
				t.Helper()
				scale := 0.0
				for _, v := range want {
					scale = max(scale, math.Abs(v))
				}
				for i := range want {
					if math.Abs(got[i]-want[i]) > tol*max(1, scale) {
						t.Fatalf("%s[%d] = %v, want %v", what, i, got[i], want[i])
					}
				}
			}
			// float64, on the caller
			ctx := &Ctx{}
			check("y", net.Forward(ctx, x, n), wantY, 1e-12)
			net.ZeroGrad()
			check("dx", net.Backward(ctx, dy, n, true), wantDX, 1e-12)
			check("dW", net.Params[0].G, wantDW, 1e-12)
			if s.Bias {
				check("db", net.Params[1].G, wantDB, 1e-12)
			}
			// float32 on the pool
			n32 := NewNetwork[float32](s.In, []Spec{s}, MSE, n)
			for i, v := range net.W {
				n32.W[i] = float32(v)
			}
			ctx = &Ctx{Pool: pool, Gemm: pg}
			to64 := func(v []float32) []float64 {
				out := make([]float64, len(v))
				for i, f := range v {
					out[i] = float64(f)
				}
				return out
			}
			x32, dy32 := make([]float32, len(x)), make([]float32, len(dy))
			for i, v := range x {
				x32[i] = float32(v)
			}
			for i, v := range dy {
				dy32[i] = float32(v)
			}
			check("float32 y", to64(n32.Forward(ctx, x32, n)), wantY, 1e-5)
			n32.ZeroGrad()
			check("float32 dx", to64(n32.Backward(ctx, dy32, n, true)), wantDX, 1e-5)
			check("float32 dW", to64(n32.Params[0].G), wantDW, 1e-5)
			if s.Bias {
				check("float32 db", to64(n32.Params[1].G), wantDB, 1e-5)
			}
		})
	}
}

// TestMaxPool2x2MatchesGeneral compares the 2x2 stride-2 fast path (the
// assembly for float32, Go for float64) with the general loop, on planes
// with ties, infinities and NaNs, even and odd sizes.
func TestMaxPool2x2MatchesGeneral(t *testing.T) {
	testMaxPool2x2[float32](t)
	testMaxPool2x2[float64](t)
}

func testMaxPool2x2[T Float](t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 13))
	for _, in := range [][]int{{3, 28, 28}, {2, 14, 14}, {2, 7, 7}, {1, 5, 9}, {4, 2, 34}, {1, 1, 4}} {
		s := pool("max", in, 2, 2, 0)
		for trial := 0; trial < 10; trial++ {
			const n = 3
			fast := newPool2D[T](s, n)
			slow := newPool2D[T](s, n)
			slow.fast, slow.tiles = false, false
			if !fast.fast {
				t.Fatalf("%v: no fast path", in)
			}
			x := make([]T, n*Prod(in))
			for i := range x {
				switch r := rng.IntN(20); {
				case r < 5:
					x[i] = 0
				case r == 5 && trial > 3:
					x[i] = T(math.NaN())
				case r == 6 && trial > 6:
					x[i] = T(math.Inf(2*rng.IntN(2) - 1))
				default:
					x[i] = T(rng.IntN(7) - 3)
				}
			}
			yf := append([]T(nil), fast.Forward(&Ctx{}, x, n)...)
			ys := slow.Forward(&Ctx{}, x, n)
			for i := range ys {
				if !(yf[i] == ys[i] || yf[i] != yf[i] && ys[i] != ys[i]) || fast.argmax[i] != slow.argmax[i] {
					t.Fatalf("%s %v trial %d: output %d = %v at %d, general %v at %d", DTypeName[T](), in, trial, i, yf[i], fast.argmax[i], ys[i], slow.argmax[i])
				}
			}
			dy := make([]T, len(ys))
			for i := range dy {
				dy[i] = T(i + 1)
			}
			dxf := fast.Backward(&Ctx{}, dy, n, true)
			dxs := slow.Backward(&Ctx{}, dy, n, true)
			for i := range dxs {
				if dxf[i] != dxs[i] {
					t.Fatalf("%s %v trial %d: dx[%d] = %v, general %v", DTypeName[T](), in, trial, i, dxf[i], dxs[i])
				}
			}
		}
	}
}
