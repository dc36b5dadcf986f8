package simd

import (
	"math"
	"math/rand/v2"
	"testing"
)

// maxPoolRef is the scalar rule MaxPool2x2 implements.
func maxPoolRef(y []float32, argmax []int32, x []float32, w, oh, ow int) {
	for i := 0; i < oh; i++ {
		for j := 0; j < ow; j++ {
			best, at := float32(math.Inf(-1)), int32(2*i*w+2*j)
		window:
			for a := 2 * i; a < 2*i+2; a++ {
				for b := 2 * j; b < 2*j+2; b++ {
					if v := x[a*w+b]; v > best || v != v {
						best, at = v, int32(a*w+b)
						if v != v {
							break window
						}
					}
				}
			}
			y[i*ow+j], argmax[i*ow+j] = best, at
		}
	}
}

func TestMaxPool2x2(t *testing.T) {
	if !hasMaxPoolAsm {
		t.Skip("no max-pooling assembly")
	}
	rng := rand.New(rand.NewPCG(3, 3))
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for _, c := range []struct{ oh, ow, w int }{{1, 1, 2}, {3, 7, 14}, {3, 7, 15}, {14, 14, 28}, {2, 16, 32}, {2, 17, 35}, {5, 40, 80}} {
		for trial := 0; trial < 20; trial++ {
			x := make([]float32, 2*c.oh*c.w)
			for i := range x {
				switch r := rng.IntN(20); {
				case r < 6:
					x[i] = 0 // ties, as after a ReLU
				case r == 6 && trial > 10:
					x[i] = nan
				case r == 7 && trial > 5:
					x[i] = [...]float32{inf, -inf}[rng.IntN(2)]
				default:
					x[i] = float32(rng.IntN(5)) - 2
				}
			}
			n := c.oh * c.ow
			y, am := make([]float32, n+1), make([]int32, n+1)
			y[n], am[n] = 99, 99
			wy, wam := make([]float32, n), make([]int32, n)
			maxPoolRef(wy, wam, x, c.w, c.oh, c.ow)
			if !MaxPool2x2(y[:n], am[:n], x, c.w, c.oh, c.ow) {
				t.Fatal("MaxPool2x2 reported no assembly")
			}
			for i := 0; i < n; i++ {
				same := y[i] == wy[i] || (y[i] != y[i] && wy[i] != wy[i])
				if !same || am[i] != wam[i] {
					t.Fatalf("%+v trial %d: output %d = %v at %d, want %v at %d", c, trial, i, y[i], am[i], wy[i], wam[i])
				}
			}
			if y[n] != 99 || am[n] != 99 {
				t.Fatalf("%+v: wrote past the outputs", c)
			}
			if 2*c.ow != c.w {
				continue
			}
			// Backward: route dy to the maxima, zero elsewhere.
			dy := make([]float32, n)
			for i := range dy {
				dy[i] = float32(i + 1)
			}
			dx := make([]float32, len(x)+1)
			for i := range dx {
				dx[i] = -7
			}
			if !MaxUnpool2x2(dx[:len(x)], dy, am[:n], c.w, c.oh, c.ow) {
				t.Fatal("MaxUnpool2x2 reported no assembly")
			}
			want := make([]float32, len(x))
			for i, a := range wam {
				want[a] = dy[i]
			}
			for i := range want {
				if dx[i] != want[i] {
					t.Fatalf("%+v trial %d: dx[%d] = %v, want %v", c, trial, i, dx[i], want[i])
				}
			}
			if dx[len(x)] != -7 {
				t.Fatalf("%+v: dx written past the plane", c)
			}
		}
	}
}
