package backprop

import "testing"

func pool1(op PoolOp, k, stride, pad int) func([]int) Spec {
	return func(in []int) Spec { return Pool1DSpec{Op: op, In: in, K: k, Stride: stride, Pad: pad} }
}

// TestPool1D: the gradient check through maxpool1d and avgpool1d
// (overlapping and padded windows, a window of the whole sequence), and
// the values of a small case by hand.
func TestPool1D(t *testing.T) {
	var cases []gradCase
	for _, op := range []PoolOp{PoolMax, PoolAvg} {
		name := string(op)
		cases = append(cases,
			gradCase{name + " 2", []int{6, 3}, []func([]int) Spec{pool1(op, 2, 2, 0), flat, denseTo(2)}, MSE, 2},
			gradCase{name + " 3 stride 1 (overlapping)", []int{7, 2}, []func([]int) Spec{pool1(op, 3, 1, 0)}, HalfSSE, 2},
			gradCase{name + " 3 stride 2 padding 1", []int{7, 3}, []func([]int) Spec{conv1(nil, 4, 2, 1, 0, 0, 1, true), pool1(op, 3, 2, 1), denseTo(3)}, CrossEntropy, 3},
			gradCase{name + " whole sequence", []int{5, 2}, []func([]int) Spec{pool1(op, 5, 5, 0)}, MSE, 1},
		)
	}
	runGradCases(t, cases)

	x := []float64{ // (T=5, C=2)
		1, -1,
		3, -2,
		2, -3,
		5, 0,
		4, 7,
	}
	for _, c := range []struct {
		op      PoolOp
		y, dx   []float64
		k, s, p int
	}{
		// windows [pad, 1, 3], [3, 2, 5], [5, 4, pad]
		{PoolMax, []float64{3, -1, 5, 0, 5, 7}, []float64{0, 1, 1, 0, 0, 0, 2, 1, 0, 1}, 3, 2, 1},
		{PoolAvg, []float64{4.0 / 3, -1, 10.0 / 3, -5.0 / 3, 3, 7.0 / 3}, nil, 3, 2, 1},
	} {
		l := newLayer[float64](Pool1DSpec{Op: c.op, In: []int{5, 2}, K: c.k, Stride: c.s, Pad: c.p}, nil, 1)
		y := l.Forward(nil, x, 1)
		dx := l.Backward(nil, []float64{1, 1, 1, 1, 1, 1}, 1, true)
		for i := range c.y {
			if d := y[i] - c.y[i]; d > 1e-15 || d < -1e-15 {
				t.Errorf("%s: y = %v, want %v", c.op, y, c.y)
				break
			}
		}
		for i := range c.dx {
			if dx[i] != c.dx[i] {
				t.Errorf("%s: dx = %v, want %v", c.op, dx, c.dx)
				break
			}
		}
	}
}
