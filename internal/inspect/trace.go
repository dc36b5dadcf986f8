package inspect

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/checkpoint"
	"github.com/nettrain/nettrain/internal/data"
	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/optim"
	"github.com/nettrain/nettrain/internal/train"
)

// Tensor is a tensor copied out of the engine for reports, in float64.
type Tensor struct {
	Shape []int     `json:"shape"`
	Data  []float64 `json:"data"`
}

func tensorOf[T backprop.Float](shape []int, v []T) Tensor {
	d := make([]float64, len(v))
	for i, x := range v {
		d[i] = float64(x)
	}
	return Tensor{Shape: shape, Data: d}
}

// TraceParam is a parameter's value and gradient.
type TraceParam struct {
	Name  string `json:"name"`
	Value Tensor `json:"value"`
	Grad  Tensor `json:"grad"`
}

// TraceLayer is one layer's forward output and backward gradients.
type TraceLayer struct {
	Index int    `json:"index"`
	Kind  string `json:"kind"`
	// Path is the layer's state_dict prefix: "3", or "3.body.1" for a
	// layer inside block 3 (Inner); a block's inner rows follow its row.
	Path       string       `json:"path"`
	Inner      bool         `json:"inner,omitempty"`
	Output     Tensor       `json:"output"`      // the layer's output (y; z for dense and conv2d)
	GradOutput *Tensor      `json:"grad_output"` // dL/d(output), arriving from above (nil: not needed)
	GradInput  *Tensor      `json:"grad_input"`  // dL/d(input), passed below (nil: token ids have none)
	Params     []TraceParam `json:"params,omitempty"`
	// Labels name the output and the gradients as a textbook does: an
	// affine layer's output is z and dL/dz the delta; an activation
	// takes z, gives y = f(z), receives dL/dy and passes dL/dz below.
	Labels backprop.TraceDoc `json:"labels"`
}

// Trace is one forward and backward pass, layer by layer.
type Trace struct {
	Samples int `json:"samples"`
	// Source says where the samples came from (random ones for a config
	// without data).
	Source  string  `json:"source"`
	Input   Tensor  `json:"input"`
	Labels  []int32 `json:"labels,omitempty"`
	Targets *Tensor `json:"targets,omitempty"`
	Loss    float64 `json:"loss"`    // 0 when backprop starts from OutputGrad
	LossFn  string  `json:"loss_fn"` // NoLoss when backprop starts from OutputGrad
	// OutputGrad is the gradient dL/dy at the network's output that
	// backprop started from, when given instead of a loss.
	OutputGrad *Tensor      `json:"output_grad,omitempty"`
	Layers     []TraceLayer `json:"layers"`
	// Unnormalised names the normalisation of the model's data that a
	// sample typed in did not go through (it is the network's input as
	// given): "" when there is none, or no data.
	Unnormalised string `json:"unnormalised,omitempty"`
	// Step, with TraceOptions.Step, is the parameters after one step of
	// the config's optimizer.
	Step *TraceStep `json:"step,omitempty"`
}

// normalisation describes the preprocessing p applies to raw inputs, ""
// when it leaves them as they are (none; unit on floats; token ids).
func normalisation(p *checkpoint.Preprocess) string {
	switch {
	case p == nil || p.Kind == checkpoint.KindText || p.Normalize == string(data.None):
		return ""
	case p.Normalize == string(data.Unit) && !p.Bytes:
		return ""
	case p.Normalize == string(data.Unit):
		return "unit: bytes divided by 255"
	}
	return p.Normalize + ", fitted on the training data"
}

// TraceOptions says what to trace.
type TraceOptions struct {
	Weights string // checkpoint or weights file; "" = the config's initialisation
	Input   string // data file (any format data.Load reads); "" = the training data
	Samples int    // how many samples (from the start of the data)
	// Literal, when not nil, is the input typed in (trace --input
	// "[[...]]" or trace.input) instead of a file's samples: the
	// network's input as given, no normalisation.
	Literal *Literal
	// Target, when not nil, is the target typed in: class ids for
	// cross_entropy, else the output values; it replaces the data's.
	Target *Literal
	// OutputGrad, when not nil, is the gradient dL/dy at the output that
	// backprop starts from, instead of the loss's.
	OutputGrad *Literal
	// Step takes one step of the config's optimizer from the gradients
	// and records the parameters after it (Trace.Step).
	Step bool
}

// TraceStep is the parameters after one step of the config's optimizer
// from the traced gradients: training's first step on this batch.
type TraceStep struct {
	Optimizer string  `json:"optimizer"`
	LR        float64 `json:"lr"` // the first step's rate (the schedule's, warmup included)
	// Clipped says how training.clip_value or clip_norm changed the
	// gradients first, "" when they did not.
	Clipped string       `json:"clipped,omitempty"`
	Params  []TraceParam `json:"params"` // Value: after the step; Grad: the gradient it used
}

// NoLoss is Trace.LossFn when backprop starts from a given output
// gradient.
const NoLoss = "none"

// RunTrace runs samples forward and backward in float64 and records every
// layer's output, the gradients flowing through it and its parameters'
// gradients.
func RunTrace(cfg *model.Config, o TraceOptions) (*Trace, error) {
	m, err := train.Load[float64](cfg)
	if err != nil {
		return nil, err
	}
	if o.Target != nil && o.OutputGrad != nil {
		return nil, fmt.Errorf("%s and %s both say where backprop starts: a target starts it from the loss, an output gradient from the output; give one", o.Target.Key, o.OutputGrad.Key)
	}
	if o.Target != nil && o.Target.Names != nil {
		var names []string
		if m.Data != nil {
			names = m.Data.ClassNames
		}
		if err := o.Target.classNames(cfg, names); err != nil {
			return nil, err
		}
	}
	var in input
	if o.Literal != nil {
		in, err = literalInput(m, o)
	} else {
		in, err = inputOf(m, o.Input, o.Samples)
	}
	if err != nil {
		return nil, err
	}
	n := in.n
	if o.Target != nil && o.Literal == nil {
		t := &literalSplit{perVals: backprop.Prod(m.Graph.OutShape())}
		if in.classes > 0 {
			t.perLab = t.perVals / in.classes
		}
		if err := setTarget(cfg, t, o.Target, in.classes, m.Graph.OutShape(), n); err != nil {
			return nil, err
		}
		in.split = overrideTarget{in.split, t}
	}
	var gradOut []float64
	if g := o.OutputGrad; g != nil {
		k, err := g.samples(cfg, m.Graph.OutShape(), "the model's output")
		if err != nil {
			return nil, err
		}
		if k != n {
			return nil, g.errf(cfg, "gives the output gradient of %d sample(s), but the input has %d", k, n)
		}
		gradOut = g.Values
	}
	if err := model.CheckBatchNormBatch(cfg, m.Graph, n, "trace at least 2 samples (--samples 2)"); err != nil {
		return nil, err
	}
	if err := m.CheckMemory(n); err != nil {
		if o.Literal != nil {
			return nil, err // the samples typed in
		}
		return nil, fmt.Errorf("--samples %d: %w", o.Samples, err) // the batch is the samples traced
	}
	net, err := m.InitNetwork(n)
	if err != nil {
		return nil, err
	}
	if o.Weights != "" {
		if err := m.LoadWeights(net, o.Weights); err != nil {
			return nil, err
		}
	}
	buf := train.NewBatch(net, in.classes > 0)
	x := buf.FillFirst(in.split, 0, n)
	out := net.OutShape()
	tgt := buf.Target(n)
	// Layerwise: every layer keeps its output and input gradient to show.
	ctx := &backprop.Ctx{Train: true, Layerwise: true, RNG: rand.New(rand.NewPCG(cfg.Seed, train.StreamDropout))}
	y := net.Forward(ctx, x, n)
	batched := func(shape []int) []int { return append([]int{n}, shape...) }
	tr := &Trace{Samples: n, Source: in.source, Input: tensorOf(batched(net.In), x), LossFn: cfg.Loss}
	if o.Literal != nil && m.Data != nil {
		tr.Unnormalised = normalisation(m.Data.Preprocess())
	}
	if gradOut == nil {
		tr.Loss, _, _ = net.Loss.Forward(y, tgt, n)
		gradOut = net.Loss.Grad(n)
	} else {
		tr.LossFn = NoLoss
		g := tensorOf(batched(out), gradOut)
		tr.OutputGrad = &g
	}
	net.ZeroGrad()
	net.Backward(ctx, gradOut, n, true)

	switch {
	case tr.LossFn == NoLoss:
	case tgt.Labels != nil:
		tr.Labels = append([]int32(nil), tgt.Labels...)
	default:
		t := tensorOf(batched(out), tgt.Values)
		tr.Targets = &t
	}
	for i, sp := range net.Specs {
		gy := gradOut
		if i+1 < len(net.Specs) {
			gy = net.Dx[i+1]
		}
		l := TraceLayer{Index: i, Path: fmt.Sprint(i), Kind: sp.Kind(), Output: tensorOf(batched(sp.OutShape()), net.Outs[i]), Labels: labelsOf(sp.Kind())}
		if len(gy) > 0 { // empty when the layer above takes its input as token ids
			g := tensorOf(batched(sp.OutShape()), gy)
			l.GradOutput = &g
		}
		if len(net.Dx[i]) > 0 && !(i == 0 && backprop.DiscreteInput(net.Specs)) {
			gx := tensorOf(batched(sp.InShape()), net.Dx[i])
			l.GradInput = &gx
		}
		for _, p := range net.ByLayer[i] {
			l.Params = append(l.Params, TraceParam{Name: p.Name, Value: tensorOf(p.Shape, p.W), Grad: tensorOf(p.Shape, p.G)})
		}
		tr.Layers = append(tr.Layers, l)
		tr.Layers = append(tr.Layers, traceInner(i, l.Path, sp, net.Layers[i], append(net.ByLayer[i], net.BufByLayer[i]...), gy, batched)...)
	}
	if o.Step {
		tr.Step = optimizerStep(cfg, net)
	}
	return tr, nil
}

// optimizerStep takes one step of the config's optimizer from the
// network's gradients, as training's first step does (clipping, then the
// update at the schedule's first rate), and returns the parameters after
// it with the gradients it used.
func optimizerStep(cfg *model.Config, net *backprop.Network[float64]) *TraceStep {
	lr := optim.NewScheduler(cfg.Schedule.Sched, cfg.Optimizer.Optim.LearningRate(), 1).LR(0)
	st := &TraceStep{Optimizer: cfg.Optimizer.Name, LR: lr}
	g := net.G
	norm := net.GradNorm() // before clipping, as Trainer.Update
	if c := cfg.Training.ClipValue; c != nil {
		before := slices.Clone(g)
		optim.ClipValue(g, *c)
		if !slices.Equal(before, g) {
			st.Clipped = fmt.Sprintf("clip_value %g", *c)
		}
	}
	if c := cfg.Training.ClipNorm; c != nil {
		if coef := *c / (norm + 1e-6); coef < 1 {
			for i := range g {
				g[i] *= coef
			}
			st.Clipped = strings.TrimPrefix(st.Clipped+fmt.Sprintf(", clip_norm %g (gradient norm %.6g scaled by %.6g)", *c, norm, coef), ", ")
		}
	}
	opt := optim.New[float64](cfg.Optimizer.Optim, len(net.W))
	opt.SetLR(lr)
	opt.Begin()
	opt.Update(net.W, g, 0, len(net.W))
	for i := range net.Specs {
		for _, p := range net.ByLayer[i] {
			st.Params = append(st.Params, TraceParam{Name: p.Name, Value: tensorOf(p.Shape, p.W), Grad: tensorOf(p.Shape, p.G)})
		}
	}
	return st
}

// labelsOf names a layer kind's quantities: the registry's names with the
// defaults filled in.
func labelsOf(kind string) backprop.TraceDoc {
	k, _ := backprop.LookupKind(kind)
	d := k.Trace
	if d.Out == "" {
		d.Out = "y"
	}
	if d.GradOut == "" {
		d.GradOut = "dL/dy (from above)"
	}
	if d.GradIn == "" {
		d.GradIn = "dL/dx (passed below)"
	}
	return d
}

// traceInner are the rows of a block's inner layers (none for other
// layers), depth first: the body's layers, each with the output it
// passed on and the gradients it received and passed below, then the
// projection's. gy is dL/dy of the block; ps its parameters and buffers.
func traceInner(i int, path string, sp backprop.Spec, layer backprop.Layer[float64], ps []*backprop.Param[float64], gy []float64, batched func([]int) []int) []TraceLayer {
	p, ok := sp.(backprop.Parent)
	r, ok2 := layer.(*backprop.Residual[float64])
	if !ok || !ok2 {
		return nil
	}
	var rows []TraceLayer
	names, children := p.ChildNames(), p.Children()
	parts := backprop.SplitTensors(children, ps)
	for j, c := range children {
		out, dx, inner, dy := r.ProjOut, r.ProjDx, r.Proj, gy
		if j < len(r.Body) {
			out, dx, inner = r.Outs[j], r.Dx[j], r.Body[j]
			if j+1 < len(r.Body) {
				dy = r.Dx[j+1]
			}
		}
		l := TraceLayer{Index: i, Path: path + "." + names[j], Inner: true, Kind: c.Kind(), Output: tensorOf(batched(c.OutShape()), out), Labels: labelsOf(c.Kind())}
		g := tensorOf(batched(c.OutShape()), dy)
		l.GradOutput = &g
		if len(dx) > 0 {
			gx := tensorOf(batched(c.InShape()), dx)
			l.GradInput = &gx
		}
		for _, q := range parts[j][:len(c.Params())] {
			l.Params = append(l.Params, TraceParam{Name: q.Name, Value: tensorOf(q.Shape, q.W), Grad: tensorOf(q.Shape, q.G)})
		}
		rows = append(rows, l)
		rows = append(rows, traceInner(i, l.Path, c, inner, parts[j], dy, batched)...)
	}
	return rows
}

// GradCheckOptions says what to check.
type GradCheckOptions struct {
	Samples    int     // batch size of the check
	MaxEntries int     // entries checked per tensor (seeded subset of larger ones); 0 = all
	Tol        float64 // pass threshold for the maximum relative error
	Jitter     float64 // uniform noise added to the inputs to move them off ties and kinks
	// AllowUnchecked lets a tensor none of whose sampled entries could be
	// checked (all at kinks or ties) pass; by default it fails the check.
	AllowUnchecked bool
	// Eval checks the evaluation-mode network (batchnorm on its running
	// statistics); by default the training mode's, as training differentiates.
	Eval bool
}

// GradCheckReport is the result per tensor and the verdict.
type GradCheckReport struct {
	// Source says where the samples came from (random ones for a config
	// without data).
	Source  string                 `json:"source"`
	Results []backprop.CheckResult `json:"results"`
	Tol     float64                `json:"tolerance"`
	Pass    bool                   `json:"pass"`
	// Unchecked names the tensors none of whose sampled entries could be
	// checked: a pass that checked nothing is not a pass.
	Unchecked []string `json:"unchecked,omitempty"`
	Loss      float64  `json:"loss"`
	// Jitter is the largest noise added to each input value (0: none,
	// as for token ids): the loss is of the jittered inputs.
	Jitter  float64 `json:"jitter"`
	Samples int     `json:"samples"`
	// TraceInput is true when the samples are the config's trace.input
	// (with its trace.target).
	TraceInput bool `json:"trace_input,omitempty"`
}

// RunGradCheck builds the config's network in float64 and compares the
// analytic gradient of every parameter tensor and of the input with central
// finite differences on a batch of training samples, or on the config's
// trace.input with its trace.target when it has both.
func RunGradCheck(cfg *model.Config, o GradCheckOptions) (*GradCheckReport, error) {
	m, err := train.Load[float64](cfg)
	if err != nil {
		return nil, err
	}
	var in input
	tc := cfg.Trace
	typed := tc != nil && tc.Input != nil && tc.Target != nil
	if typed {
		// The sample the config types in (a textbook example), with its
		// target: a loss to differentiate. (An output gradient gives
		// none: the data's or random samples then.)
		in, err = literalInput(m, TraceOptions{Literal: &Literal{Tensor: tc.Input, Key: "trace.input"}, Target: &Literal{Tensor: tc.Target, Key: "trace.target"}})
	} else {
		in, err = inputOf(m, "", o.Samples)
	}
	if err != nil {
		return nil, err
	}
	n := in.n
	if !o.Eval {
		if err := model.CheckBatchNormBatch(cfg, m.Graph, n, "check at least 2 samples (--samples 2), or the evaluation mode (--eval)"); err != nil {
			return nil, err
		}
	}
	if err := m.CheckMemory(n); err != nil {
		return nil, fmt.Errorf("--samples %d: %w", o.Samples, err) // the batch is the samples checked
	}
	net, err := m.InitNetwork(n)
	if err != nil {
		return nil, err
	}
	buf := train.NewBatch(net, in.classes > 0)
	x := buf.FillFirst(in.split, 0, n)
	jitter := 0.0
	if !backprop.DiscreteInput(net.Specs) { // token ids stay ids
		jitter = o.Jitter
	}
	if jitter > 0 {
		rng := rand.New(rand.NewPCG(cfg.Seed, 99))
		for i := range x {
			x[i] += jitter * (2*rng.Float64() - 1)
		}
	}
	tgt := buf.Target(n)
	res := backprop.GradCheck(net, x, tgt, n, backprop.CheckOptions{MaxPerTensor: o.MaxEntries, Seed: cfg.Seed, Input: true, Eval: o.Eval})
	rep := &GradCheckReport{Results: res, Tol: o.Tol, Source: in.source, Samples: n, Jitter: jitter, TraceInput: typed}
	rep.Pass, rep.Unchecked = judge(res, o.Tol, o.AllowUnchecked)
	y := net.Forward(&backprop.Ctx{Train: !o.Eval, RNG: rand.New(rand.NewPCG(cfg.Seed, 0x9e3779b97f4a7c15))}, x, n)
	rep.Loss, _, _ = net.Loss.Forward(y, tgt, n)
	if math.IsNaN(rep.Loss) {
		return nil, fmt.Errorf("the loss is NaN on these samples; gradients cannot be checked")
	}
	return rep, nil
}

// judge is the check's verdict: it passes when every tensor's largest
// relative error is within tol and every tensor had an entry checked (a
// tensor whose sampled entries all sat on kinks or ties fails unless
// allowUnchecked). unchecked names those tensors.
func judge(res []backprop.CheckResult, tol float64, allowUnchecked bool) (pass bool, unchecked []string) {
	pass = true
	for _, r := range res {
		if !(r.MaxErr <= tol) {
			pass = false
		}
		if r.Checked == 0 && r.Total > 0 {
			unchecked = append(unchecked, r.Tensor)
			if !allowUnchecked {
				pass = false
			}
		}
	}
	return pass, unchecked
}
