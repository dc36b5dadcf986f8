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
	task    lossTask[T]
}

// lossTask computes the loss of one chunk into part[chunk] and its
// gradient: rows of rowGrain rows (cross_entropy) or chunks of ElemGrain
// elements (mse, half_sse).
type lossTask[T Float] struct {
	l     *LossFn[T]
	y, dy []T
	t     Target[T]
	scale float64     // dy = scale * (softmax - onehot), or scale * (y - t)
	part  []float64   // the sum of each chunk
	ex    [][]float64 // per goroutine: exp(z - max) of one row
}

// rowGrain is the chunk, in rows, of the cross-entropy loop: about 1024
// values, where each costs an exp.
func (l *LossFn[T]) rowGrain() int { return max(1, 1024/l.classes) }

// NewLoss builds a loss for outputs of the given per-sample shape.
func NewLoss[T Float](kind string, out []int, maxBatch int) *LossFn[T] {
	size := Prod(out)
	l := &LossFn[T]{Kind: kind, size: size, classes: out[len(out)-1], dy: make([]T, maxBatch*size)}
	rows, elems := maxBatch*size/l.classes, maxBatch*size
	l.task = lossTask[T]{l: l, part: make([]float64, max((rows+l.rowGrain()-1)/l.rowGrain(), (elems+ElemGrain-1)/ElemGrain))}
	return l
}

// Positions is the number of labels one sample needs (cross_entropy: one per
// row of the last axis).
func (l *LossFn[T]) Positions() int { return l.size / l.classes }

// Classes is the length of the output's last axis.
func (l *LossFn[T]) Classes() int { return l.classes }

// Forward is ForwardCtx on the calling goroutine.
func (l *LossFn[T]) Forward(y []T, t Target[T], n int) (mean, sum float64, count int) {
	return l.ForwardCtx(nil, y, t, n)
}

// ForwardCtx computes the batch loss of outputs y (n, out...) and stores
// its gradient dL/dy, which Grad returns, on ctx's threads. It returns the
// mean loss (what the gradient is of) and the sum and count it is the mean
// of, so that losses over many batches can be combined exactly. The sum is
// accumulated in float64 per chunk of rows (cross_entropy) or of values
// (mse, half_sse), fixed by the batch size, and the chunks' sums are added
// in order: the same bits on any number of threads.
func (l *LossFn[T]) ForwardCtx(ctx *Ctx, y []T, t Target[T], n int) (mean, sum float64, count int) {
	m := n * l.size
	k := &l.task
	k.y, k.dy, k.t = y[:m], l.dy[:m], t
	var chunks int
	switch l.Kind {
	case CrossEntropy:
		rows := m / l.classes
		if th := ctx.Threads(); len(k.ex) < th {
			k.ex = make([][]float64, th)
		}
		// Every goroutine's row buffer, here rather than at its first
		// chunk: which goroutine runs which chunk depends on timing, and a
		// worker's first chunk may come long after the warm-up.
		for w := range k.ex {
			if len(k.ex[w]) < l.classes {
				k.ex[w] = make([]float64, l.classes)
			}
		}
		k.scale = 1 / float64(rows)
		ctx.For(rows, l.rowGrain(), k)
		chunks = (rows + l.rowGrain() - 1) / l.rowGrain()
		count = rows
	case MSE, HalfSSE:
		k.scale = 2 / float64(m) // mse
		if l.Kind == HalfSSE {
			k.scale = 1 / float64(n)
		}
		ctx.For(m, ElemGrain, k)
		chunks = (m + ElemGrain - 1) / ElemGrain
		count = m
	default:
		panic(fmt.Sprintf("backprop: unknown loss %q", l.Kind))
	}
	k.y, k.dy, k.t = nil, nil, Target[T]{} // drop the references to the caller's slices
	for _, p := range k.part[:chunks] {
		sum += p
	}
	switch l.Kind {
	case CrossEntropy:
		return sum * k.scale, sum, count
	case HalfSSE:
		return sum / 2 / float64(n), sum / 2, n
	}
	return sum / float64(count), sum, count
}

func (k *lossTask[T]) Run(w, lo, hi int) {
	l := k.l
	var sum float64
	if l.Kind != CrossEntropy {
		for i, v := range k.y[lo:hi] {
			d := float64(v) - l.target(k.t, lo+i)
			sum += d * d
			k.dy[lo+i] = T(d * k.scale)
		}
		k.part[lo/ElemGrain] = sum
		return
	}
	cl := l.classes
	ex := k.ex[w][:cl]
	for r := lo; r < hi; r++ {
		z, g := k.y[r*cl:(r+1)*cl], k.dy[r*cl:(r+1)*cl]
		c := int(k.t.Labels[r])
		mx := z[0]
		for _, v := range z {
			mx = max(mx, v)
		}
		// L = log sum_j exp(z_j - mx) + mx - z_c,  dz_j = exp(z_j - mx) / s / rows
		var s float64
		for j, v := range z {
			e := math.Exp(float64(v - mx))
			ex[j] = e
			s += e
		}
		sum += math.Log(s) + float64(mx) - float64(z[c])
		f := k.scale / s
		for j, e := range ex {
			g[j] = T(e * f)
		}
		g[c] -= T(k.scale)
	}
	k.part[lo/l.rowGrain()] = sum
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
