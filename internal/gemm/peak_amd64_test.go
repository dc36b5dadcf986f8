//go:build !purego

package gemm

// fmaPeaks are the generated FMA-throughput loops (asm/main.go's fmaPeak)
// by kernel set: 12 ymm or 24 zmm accumulators, 2 flops a lane.
var fmaPeaks = map[string]fmaLoop{
	"avx512": {fmaPeakAVX512, 2 * 24 * 16},
	"avx2":   {fmaPeakAVX2, 2 * 12 * 8},
}
