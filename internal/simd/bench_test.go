package simd

import (
	"github.com/nettrain/nettrain/internal/simd/simdtest"

	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkKernels times every kernel on each kernel set for a slab the
// size of the MNIST MLP's parameters (235,146) and for one LSTM row
// (H = 128), reporting ns per element and the bytes read and written per
// second (b.SetBytes).
func BenchmarkKernels(b *testing.B) {
	const n = 235146
	rng := rand.New(rand.NewPCG(1, 1))
	w, g := simdtest.RandSlice(rng, n, -1, 1), simdtest.RandSlice(rng, n, -0.1, 0.1)
	s1, s2, s3 := simdtest.RandSlice(rng, n, 0, 0.01), simdtest.RandSlice(rng, n, 0, 0.01), simdtest.RandSlice(rng, n, 0, 0.01)
	y := make([]float32, n)
	acc := make([]float64, n)
	const h = 128
	z, c, tc, hs := lstmInputs(h, 3)
	dz := make([]float32, 4*h)
	type kernel struct {
		name  string
		elems int
		bytes int // per element
		run   func()
	}
	ap := AdamParams{B1: 0.9, C1: 0.1, B2: 0.999, C2: 0.001, StepSize: -1e-3, BC2Sqrt: 0.03, Eps: 1e-8}
	kernels := []kernel{
		{"adam", n, 4*4 + 3*4, func() { Adam(w, g, s1, s2, nil, &ap) }},
		{"adam_amsgrad", n, 5*4 + 4*4, func() { Adam(w, g, s1, s2, s3, &ap) }},
		{"sgd_momentum", n, 3*4 + 2*4, func() { SGD(w, g, s1, &SGDParams{LR: 1e-3, Momentum: 0.9, Damp: 1}, false, false) }},
		{"adagrad", n, 3*4 + 2*4, func() { Adagrad(w, g, s1, &AdagradParams{CLR: -1e-3, Eps: 1e-10}) }},
		{"rmsprop", n, 3*4 + 2*4, func() { RMSprop(w, g, s1, nil, nil, &RMSpropParams{Alpha: 0.99, C1: 0.01, NegLR: -1e-3}) }},
		{"adadelta", n, 4*4 + 3*4, func() { Adadelta(w, g, s1, s2, &AdadeltaParams{Rho: 0.9, C1: 0.1, Eps: 1e-6, NegLR: -1}) }},
		{"sumsq", n, 4, func() { _ = SumSquares(g) }},
		{"scale", n, 8, func() { Scale(y, 0.999) }},
		{"axpy", n, 12, func() { Axpy(y, 1e-3, g) }},
		{"addwiden", n, 20, func() { AddWiden(acc, g) }},
		{"relu", n, 8, func() { ReLU(y, w) }},
		{"relu_backward", n, 12, func() { ReLUBackward(y, g, w) }},
		{"exp", n, 8, func() { Exp(y, w) }},
		{"sigmoid", n, 8, func() { Sigmoid(y, w) }},
		{"tanh", n, 8, func() { Tanh(y, w) }},
		{"lstm_forward_row", h, 4 * (8 + 4), func() {
			copy(z, w[:4*h])
			LSTMForward(z, c[:h], c[h:], tc, hs)
		}},
		{"lstm_backward_row", h, 4 * (8 + 7), func() { LSTMBackward(dz, z, tc, tc, hs, hs, c[:h]) }},
	}
	for _, s := range supportedKernels() {
		for _, k := range kernels {
			b.Run(fmt.Sprintf("%s/%s", k.name, s.name), func(b *testing.B) {
				defer UseKernels(s.name)()
				b.ReportAllocs()
				b.SetBytes(int64(k.elems * k.bytes))
				for b.Loop() {
					k.run()
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(k.elems), "ns/elem")
			})
		}
	}
}
