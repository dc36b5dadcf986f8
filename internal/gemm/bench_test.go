package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// benchShapes are the GEMMs of a batch-64 MLP on MNIST (784-256-128-10)
// and of a small CNN (5x5 convolutions as im2col GEMMs), plus a square
// 1024^3 for comparison with BLAS figures.
var benchShapes = []struct {
	name    string
	tA, tB  bool
	m, n, k int
}{
	{"mlp_fwd_64x256x784_NT", false, true, 64, 256, 784},  // X * W^T
	{"mlp_fwd_64x128x256_NT", false, true, 64, 128, 256},  // X * W^T
	{"mlp_fwd_64x10x128_NT", false, true, 64, 10, 128},    // X * W^T
	{"mlp_dx_64x784x256_NN", false, false, 64, 784, 256},  // dY * W
	{"mlp_dx_64x128x10_NN", false, false, 64, 128, 10},    // the last layer's dY * W
	{"mlp_dw_256x784x64_TN", true, false, 256, 784, 64},   // dY^T * X
	{"conv1_fwd_16x784x25_NN", false, false, 16, 784, 25}, // W * col
	{"conv1_dw_16x25x784_NT", false, true, 16, 25, 784},   // dY * col^T
	{"conv1_dx_25x784x16_TN", true, false, 25, 784, 16},   // W^T * dY
	{"conv2_fwd_32x196x400_NN", false, false, 32, 196, 400},
	{"conv2_dw_32x400x196_NT", false, true, 32, 400, 196},
	{"conv2_dx_400x196x32_TN", true, false, 400, 196, 32},
	{"cnn_dense_fwd_64x128x1568_NT", false, true, 64, 128, 1568}, // X * W^T, the CNN's dense layer
	{"lstm_step_64x512x128_NN", false, false, 64, 512, 128},      // h_{t-1} * W_hh^T
	{"lstm_step_32x512x128_NN", false, false, 32, 512, 128},      // half the batch
	{"lstm_step_16x512x128_NN", false, false, 16, 512, 128},
	{"lstm_dh_16x128x512_NN", false, false, 16, 128, 512},
	{"lstm_dh_64x128x512_NN", false, false, 64, 128, 512},    // dz_t * W_hh
	{"lstm_dh_32x128x512_NN", false, false, 32, 128, 512},    // half the batch
	{"lstm_dw_512x128x1984_TN", true, false, 512, 128, 1984}, // dz^T * h_prev
	{"square_1024_NN", false, false, 1024, 1024, 1024},
	{"square_1024_NT", false, true, 1024, 1024, 1024},
}

// BenchmarkSgemm reports GFLOP/s (2mnk per call) for each shape with
// gonum's blas32.Gemm as the yardstick, the package function on one
// thread, a Parallel on a pool of 2, and the AVX2 kernels forced on one
// thread.
func BenchmarkSgemm(b *testing.B) {
	pool, stop := newParallel(2)
	defer stop()
	for _, s := range benchShapes {
		rng := rand.New(rand.NewPCG(1, 1))
		o := newOperands(rng, gemmCase{tA: s.tA, tB: s.tB, m: s.m, n: s.n, k: s.k})
		flops := 2 * float64(s.m) * float64(s.n) * float64(s.k)
		impls := []struct {
			name string
			run  func()
		}{
			{"gonum", func() {
				tA, tB := blas.NoTrans, blas.NoTrans
				if s.tA {
					tA = blas.Trans
				}
				if s.tB {
					tB = blas.Trans
				}
				blas32.Gemm(tA, tB, 1,
					blas32.General{Rows: o.aRows, Cols: o.aCols, Stride: o.lda, Data: o.a},
					blas32.General{Rows: o.bRows, Cols: o.bCols, Stride: o.ldb, Data: o.b},
					0, blas32.General{Rows: s.m, Cols: s.n, Stride: o.ldc, Data: o.c})
			}},
			{"st", func() { Sgemm(s.tA, s.tB, s.m, s.n, s.k, 1, o.a, o.lda, o.b, o.ldb, 0, o.c, o.ldc) }},
			{"pool2", func() { pool.Sgemm(s.tA, s.tB, s.m, s.n, s.k, 1, o.a, o.lda, o.b, o.ldb, 0, o.c, o.ldc) }},
			{"st_avx2", nil},
		}
		for _, im := range impls {
			b.Run(fmt.Sprintf("%s/%s", s.name, im.name), func(b *testing.B) {
				run := im.run
				if run == nil {
					restore, ok := useKernels("avx2")
					if !ok {
						b.Skip("AVX2 kernels unavailable")
					}
					defer restore()
					run = impls[1].run
				}
				b.ReportAllocs()
				for b.Loop() {
					run()
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkSgemmRows reports GFLOP/s (2mnk per call, on the padded grid)
// for the stride-1 convolutions of the MNIST CNN read in place: the
// forward products of conv1 (1 -> 16 channels, 28x28, pitch 30) and conv2
// (16 -> 32, 14x14, pitch 16), with the bias row, and the transposed
// convolution of conv2 (dx, 32 -> 16).
func BenchmarkSgemmRows(b *testing.B) {
	for _, c := range []struct {
		name                string
		m, ch, k5, oh, rows int
		pitch               int
		bias                bool
	}{
		{"conv1_fwd_16x840x26", 16, 1, 5, 28, 32, 30, true},
		{"conv2_fwd_32x224x401", 32, 16, 5, 14, 18, 16, true},
		{"conv2_dx_16x224x800", 16, 32, 5, 14, 18, 16, false},
	} {
		rng := rand.New(rand.NewPCG(1, 1))
		cs, n := c.rows*c.pitch, c.oh*c.pitch
		img := randMatrix(rng, 1, c.ch*cs+c.k5+n, c.ch*cs+c.k5+n)
		var offs []int
		for ch := 0; ch < c.ch; ch++ {
			for u := 0; u < c.k5; u++ {
				for v := 0; v < c.k5; v++ {
					offs = append(offs, ch*cs+u*c.pitch+v)
				}
			}
		}
		if c.bias {
			offs = append(offs, c.ch*cs+c.k5)
		}
		k := len(offs)
		a := randMatrix(rng, k, c.m, c.m)
		cc := make([]float32, c.m*n)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				SgemmRows(true, c.m, n, k, 1, a, c.m, img, offs, 0, cc, n)
			}
			b.ReportMetric(2*float64(c.m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkSgemmBlocking times the 1024^3 products (op(B) = B and B^T) on
// one thread with the blocking Select gives this CPU ("selected") and with
// other panel heights mc and block widths nc, and at other depths kc (which
// the kernel set fixes, since it decides the rounding) with Select's mc and
// nc and with the mc and nc that keep the packed blocks' sizes: how far the
// selection is from the best blocking on the machine at hand. Run it
// pinned, with -count, and compare medians (NETTRAIN_GEMM_KERNELS=avx2 for
// the AVX2 set's):
//
//	taskset -c 0 go test ./internal/gemm -run - -bench SgemmBlocking -count 5
func BenchmarkSgemmBlocking(b *testing.B) {
	sel := KernelSelection()
	base := activeKernels()
	rng := rand.New(rand.NewPCG(1, 1))
	mcs := []int{roundUp(384, base.mr), roundUp(1024, base.mr), roundUp(2048, base.mr), sel.MC}
	ncs := []int{256, 512, 1024, sel.NC}
	for _, tB := range []bool{false, true} {
		o := newOperands(rng, gemmCase{tB: tB, m: 1024, n: 1024, k: 1024})
		seen := map[[2]int]bool{}
		for _, mc := range mcs {
			for _, nc := range ncs {
				if seen[[2]int{mc, nc}] {
					continue
				}
				seen[[2]int{mc, nc}] = true
				s := sel
				s.MC, s.NC = mc, nc
				name := fmt.Sprintf("tB=%v/mc=%d/nc=%d", tB, mc, nc)
				if mc == sel.MC && nc == sel.NC {
					name += "/selected"
				}
				b.Run(name, func(b *testing.B) { timeBlocking(b, base.tuned(s), tB, o) })
			}
		}
		for _, kc := range []int{320, 384, 512} {
			// Select's nc, and the nc that keeps the B block's size
			// (kc*nc) Select's; mc likewise for the A panel.
			for _, nc := range []int{sel.NC, roundUp(sel.NC*base.kc/kc, base.nr)} {
				ks := base.tuned(sel)
				ks.kc, ks.nc = kc, nc
				if nc != sel.NC {
					ks.mc = roundUp(sel.MC*base.kc/kc, base.mr)
				}
				b.Run(fmt.Sprintf("tB=%v/mc=%d/nc=%d/kc=%d", tB, ks.mc, nc, kc), func(b *testing.B) { timeBlocking(b, ks, tB, o) })
			}
		}
	}
}

func timeBlocking(b *testing.B, ks *kernelSet, tB bool, o *operands) {
	defer useKernelSet(ks)()
	b.ReportAllocs()
	for b.Loop() {
		Sgemm(false, tB, 1024, 1024, 1024, 1, o.a, o.lda, o.b, o.ldb, 0, o.c, o.ldc)
	}
	b.ReportMetric(2*1024*1024*1024*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
