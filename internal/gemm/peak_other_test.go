//go:build !amd64 || purego

package gemm

// fmaPeaks is empty where there is no assembly: the generic set has no
// FMA loop of its own.
var fmaPeaks = map[string]fmaLoop{}
