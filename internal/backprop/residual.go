package backprop

import (
	"fmt"
	"slices"
	"strconv"
	"time"
)

// ResidualSpec is a residual block: a chain of layers (the body) whose
// output is added to the block's input, or to a projection of it when the
// body changes the shape:
//
//	y = x + body(x)               (Projection nil: body keeps the shape)
//	y = proj(x) + body(x)         (proj a 1x1 conv2d with a stride, or a dense layer)
//
// Backward: the gradient dy fans out to both paths and their input
// gradients add up,
//
//	dx = dy + dbody(dy)           or   dx = dproj(dy) + dbody(dy)
//
// where dbody is the body's backward pass (each inner layer accumulating
// its parameter gradients) and dproj the projection's.
//
// The inner layers are ordinary layers, each in its own file; the block only
// chains them and adds the skip. Names follow the PyTorch module
//
//	class Residual(nn.Module):
//	    def __init__(self, body, projection=None):
//	        super().__init__()
//	        self.body = nn.Sequential(*body)
//	        self.projection = projection
//	    def forward(self, x):
//	        return (x if self.projection is None else self.projection(x)) + self.body(x)
//
// so block i's inner layer j has "i.body.j.weight" and its projection
// "i.projection.weight" (the body's parameters first, as torch's
// state_dict and initialisation order).
type ResidualSpec struct {
	In         []int
	Body       []Spec
	Projection Spec // nil: the identity skip
}

func (s ResidualSpec) Kind() string    { return "residual" }
func (s ResidualSpec) InShape() []int  { return s.In }
func (s ResidualSpec) OutShape() []int { return s.Body[len(s.Body)-1].OutShape() }

// Children are the inner layers: the body's, then the projection.
func (s ResidualSpec) Children() []Spec {
	c := append([]Spec(nil), s.Body...)
	if s.Projection != nil {
		c = append(c, s.Projection)
	}
	return c
}

// ChildNames are the state_dict prefixes of Children: "body.0", ...,
// "projection".
func (s ResidualSpec) ChildNames() []string {
	var n []string
	for j := range s.Body {
		n = append(n, "body."+strconv.Itoa(j))
	}
	if s.Projection != nil {
		n = append(n, "projection")
	}
	return n
}

func (s ResidualSpec) Params() []ParamSpec { return s.nested(Spec.Params) }

func (s ResidualSpec) Buffers() []ParamSpec { return s.nested(BuffersOf) }

func (s ResidualSpec) nested(get func(Spec) []ParamSpec) []ParamSpec {
	var ps []ParamSpec
	names := s.ChildNames()
	for j, c := range s.Children() {
		for _, p := range get(c) {
			p.Name = names[j] + "." + p.Name
			ps = append(ps, p)
		}
	}
	return ps
}

func (s ResidualSpec) FLOPs() int64 {
	f := int64(Prod(s.OutShape())) // the addition
	for _, c := range s.Children() {
		f += c.FLOPs()
	}
	return f
}

// WorkspaceElems is the inner layers' buffers per sample, for the memory
// estimate: their inputs, outputs and workspaces, and the block's own
// output and input gradient.
func (s ResidualSpec) WorkspaceElems() int64 {
	n := int64(Prod(s.In) + Prod(s.OutShape()))
	for _, c := range s.Children() {
		n += int64(Prod(c.InShape()) + Prod(c.OutShape()))
		if w, ok := c.(workspacer); ok {
			n += w.WorkspaceElems()
		}
	}
	return n
}

// BufferElems is the inner layers' buffers that do not grow with the batch
// alone (fixedWorkspacer, bufferer), for the memory estimate.
func (s ResidualSpec) BufferElems(maxBatch, threads int, elemSize int64) int64 {
	var n int64
	for _, c := range s.Children() {
		if w, ok := c.(fixedWorkspacer); ok {
			n += w.FixedWorkspaceElems()
		}
		if b, ok := c.(bufferer); ok {
			n += b.BufferElems(maxBatch, threads, elemSize)
		}
	}
	return n
}

// SplitTensors splits the tensors a layer of a block receives (all its
// parameters, then all its buffers, in order) into each child's (its
// parameters, then its buffers), as each child's constructor takes them.
func SplitTensors[T Float](children []Spec, p []*Param[T]) [][]*Param[T] {
	np := 0
	for _, c := range children {
		np += len(c.Params())
	}
	params, bufs := p[:np], p[np:]
	parts := make([][]*Param[T], len(children))
	for j, c := range children {
		k, b := len(c.Params()), len(BuffersOf(c))
		parts[j] = append(append([]*Param[T](nil), params[:k]...), bufs[:b]...)
		params, bufs = params[k:], bufs[b:]
	}
	return parts
}

func (s ResidualSpec) new32(p []*Param[float32], maxBatch int) Layer[float32] {
	return newResidual(s, p, maxBatch)
}
func (s ResidualSpec) new64(p []*Param[float64], maxBatch int) Layer[float64] {
	return newResidual(s, p, maxBatch)
}

// Residual is a residual block's layer. Its inner layers, their outputs
// (Outs, from the last Forward) and input gradients (Dx, from the last
// Backward) are visible for tracing and timing.
type Residual[T Float] struct {
	Body     []Layer[T]
	Proj     Layer[T] // nil: the identity skip
	Outs, Dx [][]T    // per body layer
	// ProjOut and ProjDx are the projection's output and input gradient.
	ProjOut, ProjDx []T
	// FwdTime and BwdTime accumulate the time of each inner layer (the
	// body's, then the projection) while Ctx.Timing is set.
	FwdTime, BwdTime []time.Duration
	in, out          int // values per sample
	y, dx            []T
	add              addTask[T]
}

func newResidual[T Float](s ResidualSpec, p []*Param[T], maxBatch int) *Residual[T] {
	parts := SplitTensors(s.Children(), p)
	l := &Residual[T]{in: Prod(s.In), out: Prod(s.OutShape())}
	for j, c := range s.Body {
		l.Body = append(l.Body, newLayer(c, parts[j], maxBatch))
	}
	if s.Projection != nil {
		l.Proj = newLayer(s.Projection, parts[len(s.Body)], maxBatch)
	}
	l.Outs, l.Dx = make([][]T, len(s.Body)), make([][]T, len(s.Body))
	l.FwdTime, l.BwdTime = make([]time.Duration, len(s.Children())), make([]time.Duration, len(s.Children()))
	l.y, l.dx = make([]T, maxBatch*l.out), make([]T, maxBatch*l.in)
	return l
}

// addTask is z = a + b over a parallel loop's chunks.
type addTask[T Float] struct{ z, a, b []T }

func (t *addTask[T]) Run(_, lo, hi int) {
	z, a, b := t.z[lo:hi], t.a[lo:hi], t.b[lo:hi]
	for i := range z {
		z[i] = a[i] + b[i]
	}
}

func (l *Residual[T]) Forward(ctx *Ctx, x []T, n int) []T {
	timing := ctx != nil && ctx.Timing
	var t0 time.Time
	h := x
	for j, b := range l.Body {
		if timing {
			t0 = time.Now()
		}
		h = b.Forward(ctx, h, n)
		l.Outs[j] = h
		if timing {
			l.FwdTime[j] += time.Since(t0)
		}
	}
	var skip []T
	if l.Proj != nil {
		if timing {
			t0 = time.Now()
		}
		skip = l.Proj.Forward(ctx, x, n)
		l.ProjOut = skip
		if timing {
			l.FwdTime[len(l.Body)] += time.Since(t0)
		}
	} else {
		skip = x[:n*l.in] // in == out
	}
	y := l.y[:n*l.out]
	l.add = addTask[T]{z: y, a: skip, b: h}
	ctx.For(len(y), ElemGrain, &l.add)
	l.add = addTask[T]{}
	return y
}

func (l *Residual[T]) Backward(ctx *Ctx, dy []T, n int, needDx bool) []T {
	timing := ctx != nil && ctx.Timing
	var t0 time.Time
	g := dy[:n*l.out]
	for j := len(l.Body) - 1; j >= 0; j-- {
		if timing {
			t0 = time.Now()
		}
		g = l.Body[j].Backward(ctx, g, n, j > 0 || needDx)
		l.Dx[j] = g
		if timing {
			l.BwdTime[j] += time.Since(t0)
		}
	}
	var skip []T
	if l.Proj != nil {
		if timing {
			t0 = time.Now()
		}
		skip = l.Proj.Backward(ctx, dy[:n*l.out], n, needDx)
		l.ProjDx = skip
		if timing {
			l.BwdTime[len(l.Body)] += time.Since(t0)
		}
	} else {
		skip = dy[:n*l.in] // in == out
	}
	if !needDx {
		return nil
	}
	dx := l.dx[:n*l.in]
	l.add = addTask[T]{z: dx, a: skip, b: g}
	ctx.For(len(dx), ElemGrain, &l.add)
	l.add = addTask[T]{}
	return dx
}

// ResidualParams are the config parameters of residual: `residual:
// [layers...]` or `residual: {layers: [...], projection: conv | dense}`.
// The decoder builds the layers (Kind.Block) and hands their specs over
// through SetBody.
type ResidualParams struct {
	Projection string `yaml:"projection"` // "" (none), conv or dense
	// Layers only names the key for the decoder's messages: it decodes
	// the list itself (Kind.Block) and calls SetBody.
	Layers []any `yaml:"layers" json:"-"`
	body   []Spec
}

// SetBody implements BlockParams.
func (p *ResidualParams) SetBody(body []Spec) { p.body = body }

// BlockParams are the parameters of a block kind (Kind.Block): the decoder
// builds the block's inner layers from its input shape and sets their
// specs before calling Build.
type BlockParams interface {
	SetBody(body []Spec)
}

func init() {
	Register("residual", Kind{
		Trace: TraceDoc{
			Out:     "y = x + body(x) (or projection(x) + body(x)); the inner layers' rows follow",
			GradOut: "dL/dy (from above), which reaches both paths",
			GradIn:  "dL/dx = dL/dy (the skip, or through the projection) + the body's dL/dx: the two paths add up (passed below)",
		},
		Block:  true,
		Params: func() any { return &ResidualParams{} },
		Build: func(p any, in []int, _ *DataInfo) (Spec, error) {
			rp := p.(*ResidualParams)
			if len(rp.body) == 0 {
				return nil, ParamErr("layers", "a residual block needs at least one layer")
			}
			s := ResidualSpec{In: in, Body: rp.body}
			out := s.OutShape()
			switch rp.Projection {
			case "":
				if !slices.Equal(in, out) {
					return nil, fmt.Errorf("the block's layers turn %v into %v, which cannot be added to the input; add projection: conv (a 1x1 conv2d with a stride) or dense", in, out)
				}
			case "conv":
				if len(in) != 3 || len(out) != 3 {
					return nil, ParamErr("projection", "conv needs (channels, height, width) in and out, got %v -> %v; use dense for vectors", in, out)
				}
				stride := (in[1] + out[1] - 1) / out[1]
				c := Conv2DSpec{In: in, Filters: out[0], KH: 1, KW: 1, SH: stride, SW: stride, Bias: true}
				if oh, ow := c.OutHW(); oh != out[1] || ow != out[2] {
					return nil, ParamErr("projection", "no 1x1 convolution with one stride turns %v into %v (stride %d gives %dx%d)", in, out, stride, oh, ow)
				}
				s.Projection = c
			case "dense":
				if len(in) > 2 || len(out) != len(in) || !slices.Equal(in[:len(in)-1], out[:len(out)-1]) {
					return nil, ParamErr("projection", "dense maps the last axis of a vector or sequence, but the block turns %v into %v", in, out)
				}
				s.Projection = DenseSpec{In: in, Units: out[len(out)-1], Bias: true}
			default:
				return nil, ParamErr("projection", "expected conv or dense, got %q", rp.Projection)
			}
			return s, nil
		},
		Doc: "residual block: the input (or its projection) plus the output of its layers",
	})
}
