package train

import "github.com/nettrain/nettrain/internal/backprop"

// Batch holds one batch's input and targets, sized for a network's largest
// batch: X is (MaxBatch, In...), Labels one class per output position
// (classification) or Values shaped like the output (regression); the
// other is nil. Pos is scratch for the batch's sample positions.
type Batch[T backprop.Float] struct {
	X      []T
	Labels []int32
	Values []T
	Pos    []int

	positions, outSize int
}

// NewBatch allocates the buffers of a batch for net: labels when classify,
// else target values.
func NewBatch[T backprop.Float](net *backprop.Network[T], classify bool) *Batch[T] {
	b := &Batch[T]{X: make([]T, net.MaxBatch*backprop.Prod(net.In)), Pos: make([]int, net.MaxBatch),
		positions: net.Loss.Positions(), outSize: backprop.Prod(net.OutShape())}
	if classify {
		b.Labels = make([]int32, net.MaxBatch*b.positions)
	} else {
		b.Values = make([]T, net.MaxBatch*b.outSize)
	}
	return b
}

// Target is the targets of the first n samples, for the loss.
func (b *Batch[T]) Target(n int) backprop.Target[T] {
	if b.Labels != nil {
		return backprop.Target[T]{Labels: b.Labels[:n*b.positions]}
	}
	return backprop.Target[T]{Values: b.Values[:n*b.outSize]}
}

// FillFirst fills the batch with samples [start, start+n) of s and returns
// their input (n, In...).
func (b *Batch[T]) FillFirst(s Split[T], start, n int) []T {
	pos := b.Pos[:n]
	for i := range pos {
		pos[i] = start + i
	}
	s.Fill(pos, b.X, b.Labels, b.Values)
	return b.X[:n*(len(b.X)/len(b.Pos))]
}
