package backprop

import (
	"fmt"
	"math"
)

// Loss kinds. All are means over the batch, as PyTorch's default
// reduction="mean":
//
//	cross_entropy: softmax fused with the negative log-likelihood, taking
//	    logits z (the last axis holds C classes; any leading axes are extra
//	    positions, e.g. time steps). Over the P = n*positions rows:
//	        L  = (1/P) sum_p [ logsumexp(z_p) - z_p[y_p] ]
//	        dz = (softmax(z_p) - onehot(y_p)) / P
//	    computed with the maximum subtracted, so it never overflows. Exactly
//	    torch.nn.CrossEntropyLoss on logits (so no softmax layer before it).
//	mse: the mean of (y - t)^2 over all E = n*outputs elements, exactly
//	    torch.nn.MSELoss:  L = (1/E) sum (y - t)^2,  dy = 2 (y - t) / E.
//	half_sse: half the summed squared error per sample, averaged over the
//	    n samples, the form of the classic backprop derivations, whose output
//	    delta is simply y - t:  L = (1/n) sum_i 1/2 sum_k (y_ik - t_ik)^2,
//	    dy = (y - t) / n.
//
// With class labels as targets, mse and half_sse compare against the one-hot
// encoding of the label.
const (
	CrossEntropy = "cross_entropy"
	MSE          = "mse"
	HalfSSE      = "half_sse"
)

// Losses lists the loss kinds.
var Losses = []string{CrossEntropy, MSE, HalfSSE}

// Target holds the targets of a batch: class labels (one per position) or
// values shaped like the network output. Exactly one is set.
type Target[T Float] struct {
	Labels []int32
	Values []T
}

// LossFn evaluates a loss and its gradient on batches of network outputs.
type LossFn[T Float] struct {
	Kind    string
	size    int // output elements per sample
	classes int // length of the last axis
	dy      []T
}

// NewLoss builds a loss for outputs of the given per-sample shape.
func NewLoss[T Float](kind string, out []int, maxBatch int) *LossFn[T] {
	size := Prod(out)
	return &LossFn[T]{Kind: kind, size: size, classes: out[len(out)-1], dy: make([]T, maxBatch*size)}
}

// Positions is the number of labels one sample needs (cross_entropy: one per
// row of the last axis).
func (l *LossFn[T]) Positions() int { return l.size / l.classes }

// Classes is the length of the output's last axis.
func (l *LossFn[T]) Classes() int { return l.classes }

// Forward computes the batch loss of outputs y (n, out...) and stores its
// gradient dL/dy, which Grad returns. It returns the mean loss (what the
// gradient is of) and the sum and count it is the mean of, so that losses
// over many batches can be combined exactly.
func (l *LossFn[T]) Forward(y []T, t Target[T], n int) (mean, sum float64, count int) {
	m := n * l.size
	y, dy := y[:m], l.dy[:m]
	switch l.Kind {
	case CrossEntropy:
		rows := m / l.classes
		inv := 1 / float64(rows)
		for r := 0; r < rows; r++ {
			z, g := y[r*l.classes:(r+1)*l.classes], dy[r*l.classes:(r+1)*l.classes]
			c := int(t.Labels[r])
			mx := z[0]
			for _, v := range z {
				mx = max(mx, v)
			}
			var s float64
			for _, v := range z {
				s += math.Exp(float64(v - mx))
			}
			lse := math.Log(s) + float64(mx)
			sum += lse - float64(z[c])
			for j, v := range z {
				g[j] = T(math.Exp(float64(v)-lse) * inv)
			}
			g[c] -= T(inv)
		}
		return sum * inv, sum, rows
	case MSE, HalfSSE:
		scale := 2 / float64(m) // mse
		if l.Kind == HalfSSE {
			scale = 1 / float64(n)
		}
		for i, v := range y {
			d := float64(v) - l.target(t, i)
			sum += d * d
			dy[i] = T(d * scale)
		}
		if l.Kind == HalfSSE {
			return sum / 2 / float64(n), sum / 2, n
		}
		return sum / float64(m), sum, m
	}
	panic(fmt.Sprintf("backprop: unknown loss %q", l.Kind))
}

// target is the target value of output element i.
func (l *LossFn[T]) target(t Target[T], i int) float64 {
	if t.Values != nil {
		return float64(t.Values[i])
	}
	if int(t.Labels[i/l.classes]) == i%l.classes {
		return 1
	}
	return 0
}

// Grad returns dL/dy of the last Forward, (n, out...).
func (l *LossFn[T]) Grad(n int) []T { return l.dy[:n*l.size] }
