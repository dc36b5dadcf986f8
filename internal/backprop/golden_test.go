package backprop_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/spf13/viper"

	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/optim"
)

// Golden network cases from PyTorch: testdata/golden/<case>.json, written
// by scripts/golden/gen.py (see scripts/golden/README.md). Each case is a
// network in nettrain's YAML layer syntax with torch's initial parameters,
// one batch and its targets, and what torch computed in float64: every
// layer's output, the loss, dL/dx (none for token-id inputs, which have no
// gradient), every parameter gradient, and the loss before each of a few
// training steps and the parameters after them for several optimizers
// (and, for the cases that have them, 10-step runs of every optimizer). The
// test builds the network through model.Parse, as the CLI does, copies the
// parameters in, and compares every tensor.
//
// Adding a case needs no change here: a row in gen.py's NETWORK_CASES and
// a regeneration.

// goldenPrecisions are the element types the cases run in, with the
// tolerance on the max-norm relative error of every tensor (see relErr).
// float64 is the check against torch; float32 rounds torch's float64
// parameters and inputs and computes in float32, so it can only agree to a
// few float32 ulps times the depth of the computation. optTol is the
// tolerance of the 10-step optimizer runs (optimizer_training): in float64
// the optimizers' own 1e-6 (internal/optim's golden test).
var goldenPrecisions = []struct {
	name   string
	tol    float64
	optTol float64
	run    func(t *testing.T, c *goldenCase, tol, optTol float64) (float64, string)
}{
	{"float64", 1e-12, 1e-12, runGolden[float64]}, // float64 end to end: torch agrees to ~1e-15
	{"float32", 1e-4, 1e-5, runGolden[float32]},
}

type goldenTensor struct {
	Shape []int     `json:"shape"`
	Data  []float64 `json:"data"`
}

type namedTensor struct {
	Name  string    `json:"name"` // state_dict name
	Shape []int     `json:"shape"`
	Data  []float64 `json:"data"`
}

type goldenCase struct {
	Generator          string `json:"generator"`
	Torch              string `json:"torch"`
	ATenCPUCapability  string `json:"aten_cpu_capability"`
	CPUCapabilityUsage string `json:"cpu_capability_usage"`
	DType              string `json:"dtype"`

	Name string `json:"name"`
	// Mode is "eval" for a case run in evaluation mode (batchnorm on its
	// running statistics); "train" or absent: training mode.
	Mode   string          `json:"mode"`
	Input  []int           `json:"input"`  // per-sample input shape
	Layers json.RawMessage `json:"layers"` // nettrain YAML layer list (JSON is YAML)
	Loss   string          `json:"loss"`
	Batch  int             `json:"batch"`

	Params []namedTensor `json:"params"` // initial parameters, state_dict order
	// Buffers are the initial buffers (batchnorm's running statistics).
	Buffers []namedTensor `json:"buffers"`
	X       goldenTensor  `json:"x"`      // (batch, input...)
	Labels  *goldenTensor `json:"labels"` // class labels (batch, positions...), or
	Values  *goldenTensor `json:"values"` // real targets shaped like the output

	Outs      []goldenTensor `json:"outs"` // every layer's output
	LossValue float64        `json:"loss_value"`
	Dx        *goldenTensor  `json:"dx"`    // dL/dx; none for token-id inputs
	Grads     []namedTensor  `json:"grads"` // dL/dW, state_dict order

	Training []goldenRun `json:"training"`
	// OptimizerTraining are longer runs (10 steps) of every optimizer,
	// held to optTol; only some cases have them.
	OptimizerTraining []goldenRun `json:"optimizer_training"`
}

// goldenRun is training steps on the case's batch: zero_grad, forward,
// loss, backward, optimizer step.
type goldenRun struct {
	Name      string          `json:"name"`
	Optimizer string          `json:"optimizer"`
	Options   json.RawMessage `json:"options"` // nettrain YAML hyperparameters
	Losses    []float64       `json:"losses"`  // the loss before each step
	Params    []namedTensor   `json:"params"`  // the parameters after the last step
	Buffers   []namedTensor   `json:"buffers"` // the buffers after the last step
}

func TestGoldenNetworks(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no golden cases in testdata/golden; run scripts/golden/gen.py")
	}
	for _, f := range files {
		c := loadCase(t, f)
		t.Run(c.Name, func(t *testing.T) {
			for _, p := range goldenPrecisions {
				t.Run(p.name, func(t *testing.T) {
					worst, where := p.run(t, c, p.tol, p.optTol)
					t.Logf("max relative error %.3g (%s; tolerance %g)", worst, where, p.tol)
				})
			}
		})
	}
}

func loadCase(t *testing.T, path string) *goldenCase {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var c goldenCase
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if c.DType != "float64" {
		t.Fatalf("%s: references in %s, want float64", path, c.DType)
	}
	if (c.Labels == nil) == (c.Values == nil) {
		t.Fatalf("%s: want exactly one of labels and values", path)
	}
	return &c
}

// parseConfig builds the case's config as a user would write it, with the
// optimizer {name: optimizer, options...} when optimizer is not empty.
func parseConfig(c *goldenCase, optimizer string, options json.RawMessage) (*model.Config, error) {
	input, _ := json.Marshal(c.Input)
	src := fmt.Sprintf("data: {train: \"mnist:train\"}\nmodel:\n  input: %s\n  layers: %s\nloss: %s\n", input, c.Layers, c.Loss)
	if optimizer != "" {
		opts := map[string]any{}
		if err := json.Unmarshal(options, &opts); err != nil {
			return nil, err
		}
		opts["name"] = optimizer
		b, _ := json.Marshal(opts)
		src += fmt.Sprintf("optimizer: %s\n", b)
	}
	return model.Parse(c.Name+".yaml", []byte(src), nil, viper.New())
}

// checker compares tensors against torch's, failing the test on any beyond
// tol and remembering the worst.
type checker struct {
	t     *testing.T
	tol   float64
	worst float64
	where string
}

func check[T backprop.Float](ck *checker, name string, got []T, want []float64) {
	ck.t.Helper()
	e, i := relErr(got, want)
	if e > ck.worst || ck.where == "" || math.IsInf(e, 1) {
		ck.worst, ck.where = e, name
	}
	switch {
	case len(got) != len(want):
		ck.t.Errorf("%s: %d values, torch has %d", name, len(got), len(want))
	case !(e <= ck.tol):
		ck.t.Errorf("%s: relative error %.3g > %g at [%d]: got %.17g, torch %.17g", name, e, ck.tol, i, got[i], want[i])
	}
}

// mustGraph builds a config's model, failing the test on an error.
func mustGraph(t *testing.T, cfg *model.Config) *model.Graph {
	t.Helper()
	g, err := model.Build(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// runGolden checks one case in precision T and returns the largest relative
// error and the tensor it was in.
func runGolden[T backprop.Float](t *testing.T, c *goldenCase, tol, optTol float64) (float64, string) {
	cfg, err := parseConfig(c, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	g := mustGraph(t, cfg)
	if g.Loss != c.Loss || !slices.Equal(g.Input, c.Input) {
		t.Fatalf("config has loss %s, input %v", g.Loss, g.Input)
	}
	n := c.Batch
	net := backprop.NewNetwork[T](g.Input, g.Specs, g.Loss, n)
	setParams(t, net, c.Params, c.Buffers)
	if want := append([]int{n}, c.Input...); !slices.Equal(c.X.Shape, want) {
		t.Fatalf("x has shape %v, want %v", c.X.Shape, want)
	}
	// Token ids (an embedding or onehot first layer) have no gradient:
	// torch records none, and the engine's is a zero buffer.
	if tokens := backprop.DiscreteInput(g.Specs); tokens != (c.Dx == nil) {
		t.Fatalf("token input %v, but torch recorded dL/dx: %v", tokens, c.Dx != nil)
	}
	x := convert[T](c.X.Data)
	target := goldenTarget[T](c)
	ck := &checker{t: t, tol: tol}

	// Forward, loss, backward, as torch did with the initial parameters.
	// Layerwise: every layer's output is compared (a ReLU fused into the
	// pooling after it keeps none; TestReLUPoolFusedEqualsLayerwise holds
	// the fused path to these bits).
	ctx := &backprop.Ctx{Train: c.Mode != "eval", Layerwise: true}
	y := net.Forward(ctx, x, n)
	if len(c.Outs) != len(net.Layers) {
		t.Fatalf("torch recorded %d layer outputs, the network has %d layers", len(c.Outs), len(net.Layers))
	}
	for i, want := range c.Outs {
		if wantShape := append([]int{n}, g.Specs[i].OutShape()...); !slices.Equal(want.Shape, wantShape) {
			t.Errorf("layer %d output: torch shape %v, nettrain %v", i, want.Shape, wantShape)
		}
		check(ck, fmt.Sprintf("layer %d (%s) output", i, g.Specs[i].Kind()), net.Outs[i], want.Data)
	}
	mean, _, _ := net.Loss.Forward(y, target, n)
	check(ck, "loss", []float64{mean}, []float64{c.LossValue})
	net.ZeroGrad()
	dx := net.Backward(ctx, net.Loss.Grad(n), n, true)
	if c.Dx != nil {
		check(ck, "dL/dx", dx, c.Dx.Data)
	}
	checkParams(t, ck, "grad ", net, c.Grads, func(p *backprop.Param[T]) []T { return p.G })

	// Training steps from the same initial parameters, one run per
	// optimizer, as training runs them (a ReLU inside the pooling after it).
	ctx = &backprop.Ctx{Train: c.Mode != "eval"}
	for _, run := range c.Training {
		train(t, ck, c, &run, net, ctx, x, target)
	}
	if len(c.OptimizerTraining) > 0 {
		ok := &checker{t: t, tol: optTol}
		for _, run := range c.OptimizerTraining {
			train(t, ok, c, &run, net, ctx, x, target)
		}
		t.Logf("%d-step optimizer runs: max relative error %.3g (%s; tolerance %g)",
			len(c.OptimizerTraining[0].Losses), ok.worst, ok.where, optTol)
	}
	return ck.worst, ck.where
}

// train replays a training run from the case's initial parameters with the
// optimizer the config builds, checking the loss before every step and the
// final parameters.
func train[T backprop.Float](t *testing.T, ck *checker, c *goldenCase, run *goldenRun, net *backprop.Network[T], ctx *backprop.Ctx, x []T, target backprop.Target[T]) {
	t.Helper()
	cfg, err := parseConfig(c, run.Optimizer, run.Options)
	if err != nil {
		t.Fatalf("%s: %v", run.Name, err)
	}
	if cfg.Optimizer.Name != run.Optimizer {
		t.Fatalf("%s: the config names optimizer %q", run.Name, cfg.Optimizer.Name)
	}
	n := c.Batch
	setParams(t, net, c.Params, c.Buffers)
	opt := optim.New[T](cfg.Optimizer.Optim, net.NumParams())
	for step, want := range run.Losses {
		net.ZeroGrad()
		y := net.Forward(ctx, x, n)
		mean, _, _ := net.Loss.Forward(y, target, n)
		net.Backward(ctx, net.Loss.Grad(n), n, false)
		optim.Step(opt, net.W, net.G)
		check(ck, fmt.Sprintf("%s: loss at step %d", run.Name, step+1), []float64{mean}, []float64{want})
	}
	checkParams(t, ck, run.Name+": final ", net, run.Params, func(p *backprop.Param[T]) []T { return p.W })
	if len(run.Buffers) != len(net.Buffers) {
		t.Fatalf("%s: torch has %d buffers, the network %d", run.Name, len(run.Buffers), len(net.Buffers))
	}
	for i, w := range run.Buffers {
		if b := net.Buffers[i]; b.Name != w.Name {
			t.Fatalf("%s: buffer %d: nettrain %s, torch %s", run.Name, i, b.Name, w.Name)
		}
		check(ck, run.Name+": final "+w.Name, net.Buffers[i].W, w.Data)
	}
}

// setParams copies torch's parameters and buffers in, checking that the
// network has the same state_dict names, order and shapes.
func setParams[T backprop.Float](t *testing.T, net *backprop.Network[T], params, buffers []namedTensor) {
	t.Helper()
	if len(params) != len(net.Params) || len(buffers) != len(net.Buffers) {
		t.Fatalf("torch has %d parameters and %d buffers, the network %d and %d", len(params), len(buffers), len(net.Params), len(net.Buffers))
	}
	for i, want := range buffers {
		b := net.Buffers[i]
		if b.Name != want.Name || !slices.Equal(b.Shape, want.Shape) {
			t.Fatalf("buffer %d: nettrain %s %v, torch %s %v", i, b.Name, b.Shape, want.Name, want.Shape)
		}
		copy(b.W, convert[T](want.Data))
	}
	for i, want := range params {
		p := net.Params[i]
		if p.Name != want.Name || !slices.Equal(p.Shape, want.Shape) {
			t.Fatalf("parameter %d: nettrain %s %v, torch %s %v", i, p.Name, p.Shape, want.Name, want.Shape)
		}
		copy(p.W, convert[T](want.Data))
	}
}

// checkParams compares one tensor per parameter (its values or gradients).
func checkParams[T backprop.Float](t *testing.T, ck *checker, prefix string, net *backprop.Network[T], want []namedTensor, get func(*backprop.Param[T]) []T) {
	t.Helper()
	if len(want) != len(net.Params) {
		t.Fatalf("%storch has %d tensors, the network %d parameters", prefix, len(want), len(net.Params))
	}
	for i, w := range want {
		p := net.Params[i]
		if p.Name != w.Name {
			t.Fatalf("%sparameter %d: nettrain %s, torch %s", prefix, i, p.Name, w.Name)
		}
		check(ck, prefix+p.Name, get(p), w.Data)
	}
}

func goldenTarget[T backprop.Float](c *goldenCase) backprop.Target[T] {
	if c.Labels != nil {
		labels := make([]int32, len(c.Labels.Data))
		for i, v := range c.Labels.Data {
			labels[i] = int32(v)
		}
		return backprop.Target[T]{Labels: labels}
	}
	return backprop.Target[T]{Values: convert[T](c.Values.Data)}
}

func convert[T backprop.Float](v []float64) []T {
	out := make([]T, len(v))
	for i, x := range v {
		out[i] = T(x)
	}
	return out
}

// relErr is the max-norm relative error of got against the reference want,
//
//	max_i |got_i - want_i| / max(max_i |want_i|, 1e-12),
//
// one number per tensor, so every entry is held to the scale of the
// tensor's largest (the floor only keeps an all-zero reference finite). It
// also returns the index of the largest difference. A length mismatch or a
// NaN gives +Inf.
func relErr[T backprop.Float](got []T, want []float64) (float64, int) {
	if len(got) != len(want) {
		return math.Inf(1), 0
	}
	var diff, scale float64
	worst := 0
	for i, w := range want {
		d := math.Abs(float64(got[i]) - w)
		if math.IsNaN(d) {
			return math.Inf(1), i
		}
		if d > diff {
			diff, worst = d, i
		}
		scale = max(scale, math.Abs(w))
	}
	return diff / max(scale, 1e-12), worst
}

// TestEveryLayerKindHasAGoldenCase: a registered layer kind without a case
// generated by PyTorch (scripts/golden/gen.py) is not checked against the
// reference; adding a kind without one fails here.
func TestEveryLayerKindHasAGoldenCase(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for _, f := range files {
		c := loadCase(t, f)
		var layers []any
		if err := json.Unmarshal(c.Layers, &layers); err != nil {
			t.Fatalf("%s: layers: %v", f, err)
		}
		for _, l := range layers {
			switch v := l.(type) {
			case string:
				used[v] = true
			case map[string]any:
				for k := range v {
					used[k] = true
				}
			}
		}
	}
	for _, kind := range backprop.KindNames() {
		if !used[kind] {
			t.Errorf("layer kind %s has no golden case in testdata/golden: add NETWORK_CASES rows to scripts/golden/gen.py", kind)
		}
	}
}
