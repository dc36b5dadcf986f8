package gemm

import "testing"

// BenchmarkPack measures the packing routines on a 12 x 256 sliver of A and
// a 256 x 512 block of B^T (the shapes the AVX-512 path packs), reporting
// nanoseconds per packed element.
func BenchmarkPack(b *testing.B) {
	const MR, NR, kc, nc, ld = 12, 32, 256, 512, 1024
	src := make([]float32, 1024*ld)
	dst := make([]float32, kc*nc)
	b.Run("A_transpose", func(b *testing.B) {
		for b.Loop() {
			packA(dst, false, src, ld, 0, MR, 0, kc, MR)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*MR*kc), "ns/elem")
	})
	b.Run("A_copy", func(b *testing.B) {
		for b.Loop() {
			packA(dst, true, src, ld, 0, MR, 0, kc, MR)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*MR*kc), "ns/elem")
	})
	b.Run("B_transpose", func(b *testing.B) {
		for b.Loop() {
			packB(dst, true, src, ld, 0, kc, 0, nc, NR)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*nc*kc), "ns/elem")
	})
	b.Run("B_copy", func(b *testing.B) {
		for b.Loop() {
			packB(dst, false, src, ld, 0, kc, 0, nc, NR)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*nc*kc), "ns/elem")
	})
}
