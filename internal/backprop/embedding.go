package backprop

import "fmt"

// discrete is implemented by layers whose input is token ids, not values
// that can be differentiated (embedding, onehot): they must come first, and
// a gradient check skips the input.
type discrete interface{ DiscreteInput() bool }

// DiscreteInput reports whether a network built from specs takes token ids.
func DiscreteInput(specs []Spec) bool {
	if len(specs) == 0 {
		return false
	}
	d, ok := specs[0].(discrete)
	return ok && d.DiscreteInput()
}

// EmbeddingSpec maps token ids to learned vectors, PyTorch's nn.Embedding:
// the input (T) holds ids in [0, Vocab) (as numbers), the output is (T, Dim):
//
//	y[t] = W[id_t]         dW[id_t] += dy[t]
//
// Parameter "weight" (Vocab, Dim), initialised N(0, 1) as PyTorch.
type EmbeddingSpec struct {
	In    []int // [T]
	Vocab int
	Dim   int
}

func (s EmbeddingSpec) Kind() string        { return "embedding" }
func (s EmbeddingSpec) InShape() []int      { return s.In }
func (s EmbeddingSpec) OutShape() []int     { return []int{s.In[0], s.Dim} }
func (s EmbeddingSpec) FLOPs() int64        { return 0 }
func (s EmbeddingSpec) DiscreteInput() bool { return true }
func (s EmbeddingSpec) Params() []ParamSpec {
	return []ParamSpec{{Name: "weight", Shape: []int{s.Vocab, s.Dim}, Init: Init{Kind: "normal", Bound: 1}}}
}
func (s EmbeddingSpec) new32(p []*Param[float32], maxBatch int) Layer[float32] {
	return newEmbedding(s, p[0], maxBatch)
}
func (s EmbeddingSpec) new64(p []*Param[float64], maxBatch int) Layer[float64] {
	return newEmbedding(s, p[0], maxBatch)
}

type embedding[T Float] struct {
	steps, vocab, dim int
	w                 *Param[T]
	ids               []T // input of the last Forward (not owned)
	y, dx             []T
}

func newEmbedding[T Float](s EmbeddingSpec, w *Param[T], maxBatch int) *embedding[T] {
	return &embedding[T]{steps: s.In[0], vocab: s.Vocab, dim: s.Dim, w: w,
		y: make([]T, maxBatch*s.In[0]*s.Dim), dx: make([]T, maxBatch*s.In[0])}
}

func tokenID[T Float](v T, vocab int) int {
	id := int(v)
	if T(id) != v || id < 0 || id >= vocab {
		panic(fmt.Sprintf("backprop: token id %v outside the vocabulary [0, %d)", v, vocab))
	}
	return id
}

func (l *embedding[T]) Forward(_ *Ctx, x []T, n int) []T {
	l.ids = x[:n*l.steps]
	y := l.y[:n*l.steps*l.dim]
	for r, v := range l.ids {
		id := tokenID(v, l.vocab)
		copy(y[r*l.dim:(r+1)*l.dim], l.w.W[id*l.dim:(id+1)*l.dim])
	}
	return y
}

func (l *embedding[T]) Backward(_ *Ctx, dy []T, n int, needDx bool) []T {
	for r, v := range l.ids {
		id := int(v)
		g := l.w.G[id*l.dim : (id+1)*l.dim]
		for j, d := range dy[r*l.dim : (r+1)*l.dim] {
			g[j] += d
		}
	}
	if !needDx {
		return nil
	}
	return l.dx[:n*l.steps] // ids have no gradient
}

// OneHotSpec expands token ids (T) into one-hot vectors (T, Vocab):
// y[t][k] = 1 if k = id_t else 0. No parameters, no input gradient.
type OneHotSpec struct {
	In    []int // [T]
	Vocab int
}

func (s OneHotSpec) Kind() string        { return "onehot" }
func (s OneHotSpec) InShape() []int      { return s.In }
func (s OneHotSpec) OutShape() []int     { return []int{s.In[0], s.Vocab} }
func (s OneHotSpec) FLOPs() int64        { return 0 }
func (s OneHotSpec) DiscreteInput() bool { return true }
func (s OneHotSpec) Params() []ParamSpec { return nil }
func (s OneHotSpec) new32(_ []*Param[float32], maxBatch int) Layer[float32] {
	return newOneHot[float32](s, maxBatch)
}
func (s OneHotSpec) new64(_ []*Param[float64], maxBatch int) Layer[float64] {
	return newOneHot[float64](s, maxBatch)
}

type onehot[T Float] struct {
	steps, vocab int
	y, dx        []T
}

func newOneHot[T Float](s OneHotSpec, maxBatch int) *onehot[T] {
	return &onehot[T]{steps: s.In[0], vocab: s.Vocab, y: make([]T, maxBatch*s.In[0]*s.Vocab), dx: make([]T, maxBatch*s.In[0])}
}

func (l *onehot[T]) Forward(_ *Ctx, x []T, n int) []T {
	y := l.y[:n*l.steps*l.vocab]
	clear(y)
	for r, v := range x[:n*l.steps] {
		y[r*l.vocab+tokenID(v, l.vocab)] = 1
	}
	return y
}

func (l *onehot[T]) Backward(_ *Ctx, _ []T, n int, needDx bool) []T {
	if !needDx {
		return nil
	}
	return l.dx[:n*l.steps]
}
