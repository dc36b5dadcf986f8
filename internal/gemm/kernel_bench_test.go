package gemm

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkMicroKernel measures the register-tile kernels alone on
// L1-resident packed operands: the ceiling for the loop nests around them.
func BenchmarkMicroKernel(b *testing.B) {
	const k = 256
	for _, ks := range supportedKernels() {
		b.Run(ks.name+"/outer", func(b *testing.B) { benchOuter(b, ks, k) })
		b.Run(ks.name+"/dot", func(b *testing.B) {
			a := make([]float32, k*ks.dmr)
			bb := make([]float32, k*ks.dnr)
			c := make([]float32, ks.dmr*ks.dnr)
			b.ReportAllocs()
			for b.Loop() {
				ks.dot(ks.dmr, ks.dnr, k, a, k, bb, k, c, ks.dnr, 1, 1, false)
			}
			b.ReportMetric(2*float64(ks.dmr*ks.dnr*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkFMAPeak runs each assembly set's FMA loop (12 ymm or 24 zmm
// accumulators, no loads): the most GFLOP/s the core gives at the clock it
// runs at during the benchmark, against which BenchmarkMicroKernel's tiles
// are judged. The host's clock moves, so compare the two within one run.
func BenchmarkFMAPeak(b *testing.B) {
	const rounds = 1 << 16
	for _, ks := range supportedKernels() {
		peak, ok := fmaPeaks[ks.name]
		if !ok {
			continue
		}
		b.Run(ks.name, func(b *testing.B) {
			for b.Loop() {
				peak.run(rounds)
			}
			b.ReportMetric(float64(peak.flops*rounds)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkTileOfPeak times each assembly set's outer-product tile at
// depth 256 and its FMA loop in turns, each turn about 50 us of each, so
// that both see the same clock: the host's speed moves between
// benchmarks by more than the two differ. It reports the tile's and the
// loop's GFLOP/s over all turns and the tile's share of the loop's
// ("%peak").
func BenchmarkTileOfPeak(b *testing.B) {
	const k = 256
	for _, ks := range supportedKernels() {
		peak, ok := fmaPeaks[ks.name]
		if !ok {
			continue
		}
		b.Run(ks.name, func(b *testing.B) {
			a := make([]float32, k*ks.mr)
			bb := make([]float32, k*ks.nr)
			c := make([]float32, ks.mr*ks.nr)
			tileFlops := 2 * ks.mr * ks.nr * k
			calls := max(1, 2_000_000/tileFlops) // about 2 MFLOP a turn
			rounds := max(1, calls*tileFlops/peak.flops)
			var tileTime, peakTime time.Duration
			for b.Loop() {
				t0 := time.Now()
				for range calls {
					ks.outer(ks.mr, ks.nr, k, a, ks.mr, bb, ks.nr, c, ks.nr, 1, 1, false)
				}
				t1 := time.Now()
				peak.run(rounds)
				tileTime += t1.Sub(t0)
				peakTime += time.Since(t1)
			}
			tile := float64(tileFlops*calls*b.N) / tileTime.Seconds() / 1e9
			ceiling := float64(peak.flops*rounds*b.N) / peakTime.Seconds() / 1e9
			b.ReportMetric(tile, "tile-GFLOP/s")
			b.ReportMetric(ceiling, "peak-GFLOP/s")
			b.ReportMetric(100*tile/ceiling, "%peak")
		})
	}
}

// fmaLoop is an FMA-throughput loop: run(n) does n rounds of flops each.
type fmaLoop struct {
	run   func(n int)
	flops int
}

// BenchmarkMicroKernelDepth is BenchmarkMicroKernel's outer-product
// kernels at depths from 64 to 1024: what a call costs beyond its
// arithmetic (at the deepest, the B sliver no longer fits in L1 with
// every set's width).
func BenchmarkMicroKernelDepth(b *testing.B) {
	for _, ks := range supportedKernels() {
		for _, k := range []int{64, 128, 256, 512, 1024} {
			b.Run(fmt.Sprintf("%s/k=%d", ks.name, k), func(b *testing.B) { benchOuter(b, ks, k) })
		}
	}
}

// benchOuter times ks's full register tile at depth k on packed operands
// that stay in L1 (at the shallower depths).
func benchOuter(b *testing.B, ks *kernelSet, k int) {
	a := make([]float32, k*ks.mr)
	bb := make([]float32, k*ks.nr)
	c := make([]float32, ks.mr*ks.nr)
	b.ReportAllocs()
	for b.Loop() {
		ks.outer(ks.mr, ks.nr, k, a, ks.mr, bb, ks.nr, c, ks.nr, 1, 1, false)
	}
	b.ReportMetric(2*float64(ks.mr*ks.nr*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
