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
	return []ParamSpec{{Name: "weight", Shape: []int{s.Vocab, s.Dim}, Init: Init{Kind: InitNormal, Bound: 1}}}
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
	dy                []T // Backward's dy during the call
	badRow            []int
	fwd               embeddingForward[T]
	bwd               embeddingBackward[T]
}

// tokenGrain is the chunk, in tokens, of the embedding and onehot loops.
const tokenGrain = 512

func newEmbedding[T Float](s EmbeddingSpec, w *Param[T], maxBatch int) *embedding[T] {
	rows := maxBatch * s.In[0]
	l := &embedding[T]{steps: s.In[0], vocab: s.Vocab, dim: s.Dim, w: w,
		y: make([]T, rows*s.Dim), dx: make([]T, rows), badRow: make([]int, (rows+tokenGrain-1)/tokenGrain)}
	l.fwd.l, l.bwd.l = l, l
	return l
}

func tokenID[T Float](v T, vocab int) int {
	id, ok := validToken(v, vocab)
	if !ok {
		panic(fmt.Sprintf("backprop: token id %v outside the vocabulary [0, %d)", v, vocab))
	}
	return id
}

func validToken[T Float](v T, vocab int) (int, bool) {
	id := int(v)
	return id, T(id) == v && id >= 0 && id < vocab
}

// checkTokens panics, on the caller's goroutine, on the first token that a
// parallel loop over ids found outside the vocabulary: badRow holds per
// chunk of tokenGrain tokens the first bad one, or -1.
func checkTokens[T Float](ids []T, badRow []int, vocab int) {
	for _, r := range badRow[:(len(ids)+tokenGrain-1)/tokenGrain] {
		if r >= 0 {
			tokenID(ids[r], vocab)
		}
	}
}

func (l *embedding[T]) Forward(ctx *Ctx, x []T, n int) []T {
	l.ids = x[:n*l.steps]
	ctx.For(len(l.ids), tokenGrain, &l.fwd)
	checkTokens(l.ids, l.badRow, l.vocab)
	return l.y[:n*l.steps*l.dim]
}

// embeddingForward copies the rows of W of the tokens [lo, hi).
type embeddingForward[T Float] struct{ l *embedding[T] }

func (t *embeddingForward[T]) Run(_, lo, hi int) {
	l := t.l
	bad := -1
	for r := lo; r < hi; r++ {
		id, ok := validToken(l.ids[r], l.vocab)
		if !ok {
			bad = r
			break
		}
		copy(l.y[r*l.dim:(r+1)*l.dim], l.w.W[id*l.dim:(id+1)*l.dim])
	}
	l.badRow[lo/tokenGrain] = bad
}

func (l *embedding[T]) Backward(ctx *Ctx, dy []T, n int, needDx bool) []T {
	// dW[id_r] += dy[r] in order of r, for chunks of at least 16 columns.
	l.dy = dy
	ctx.For(l.dim, max(16, ElemGrain/max(1, len(l.ids))), &l.bwd)
	l.dy = nil
	if !needDx {
		return nil
	}
	return l.dx[:n*l.steps] // ids have no gradient
}

// embeddingBackward adds dy to the rows of dW of the tokens, for the
// columns [lo, hi) (tokens repeat, so rows cannot be split).
type embeddingBackward[T Float] struct{ l *embedding[T] }

func (t *embeddingBackward[T]) Run(_, lo, hi int) {
	l := t.l
	for r, v := range l.ids {
		id := int(v)
		g := l.w.G[id*l.dim+lo : id*l.dim+hi]
		for j, d := range l.dy[r*l.dim+lo : r*l.dim+hi] {
			g[j] += d
		}
	}
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
	x            []T // Forward's input during the call
	badRow       []int
	fwd          onehotForward[T]
}

func newOneHot[T Float](s OneHotSpec, maxBatch int) *onehot[T] {
	rows := maxBatch * s.In[0]
	l := &onehot[T]{steps: s.In[0], vocab: s.Vocab, y: make([]T, rows*s.Vocab), dx: make([]T, rows),
		badRow: make([]int, (rows+tokenGrain-1)/tokenGrain)}
	l.fwd.l = l
	return l
}

func (l *onehot[T]) Forward(ctx *Ctx, x []T, n int) []T {
	l.x = x[:n*l.steps]
	ctx.For(len(l.x), tokenGrain, &l.fwd)
	checkTokens(l.x, l.badRow, l.vocab)
	l.x = nil
	return l.y[:n*l.steps*l.vocab]
}

// onehotForward writes the one-hot rows of the tokens [lo, hi).
type onehotForward[T Float] struct{ l *onehot[T] }

func (t *onehotForward[T]) Run(_, lo, hi int) {
	l := t.l
	y := l.y[lo*l.vocab : hi*l.vocab]
	clear(y)
	bad := -1
	for r, v := range l.x[lo:hi] {
		id, ok := validToken(v, l.vocab)
		if !ok {
			bad = lo + r
			break
		}
		y[r*l.vocab+id] = 1
	}
	l.badRow[lo/tokenGrain] = bad
}

func (l *onehot[T]) Backward(_ *Ctx, _ []T, n int, needDx bool) []T {
	if !needDx {
		return nil
	}
	return l.dx[:n*l.steps]
}

// EmbeddingParams are the parameters of an embedding layer.
type EmbeddingParams struct {
	Dim int `yaml:"dim"`
	// Vocab is the number of token ids; null (default) takes the data's
	// vocabulary size.
	Vocab *int `yaml:"vocab"`
}

// OneHotParams are the parameters of a onehot layer.
type OneHotParams struct {
	Vocab *int `yaml:"vocab"` // null (default): the data's vocabulary size
}

// need1D refuses an input that is not a sequence of token ids (T).
func need1D(in []int) error {
	if len(in) != 1 {
		return fmt.Errorf("takes a sequence of token ids (T), got the input shape %v", in)
	}
	return nil
}

func init() {
	Register("embedding", Kind{
		Trace: TraceDoc{Out: "y = the rows of weight for the token ids", GradOut: "dL/dy (from above)",
			GradIn: "none: token ids have no gradient", Params: map[string]string{"weight": "dL/dy added into the row of each token id"}},
		Params: func() any { return &EmbeddingParams{} },
		Build: func(p any, in []int, info *DataInfo) (Spec, error) {
			ep := p.(*EmbeddingParams)
			if err := need1D(in); err != nil {
				return nil, err
			}
			if ep.Dim < 1 {
				return nil, ParamErr("dim", "must be at least 1, got %d%s", ep.Dim, required(ep.Dim, "the size of each token's vector, e.g. dim: 16"))
			}
			v, err := vocabOf(ep.Vocab, info)
			if err != nil {
				return nil, err
			}
			return EmbeddingSpec{In: in, Vocab: v, Dim: ep.Dim}, nil
		},
		Doc: "token ids -> learned vectors (T) -> (T, dim), PyTorch nn.Embedding",
	})
	Register("onehot", Kind{
		Trace:  TraceDoc{Out: "y = one-hot rows of the token ids", GradOut: "dL/dy (from above)", GradIn: "none: token ids have no gradient"},
		Params: func() any { return &OneHotParams{} },
		Build: func(p any, in []int, info *DataInfo) (Spec, error) {
			op := p.(*OneHotParams)
			if err := need1D(in); err != nil {
				return nil, err
			}
			v, err := vocabOf(op.Vocab, info)
			if err != nil {
				return nil, err
			}
			return OneHotSpec{In: in, Vocab: v}, nil
		},
		Doc: "token ids -> one-hot vectors (T) -> (T, vocab)",
	})
}
