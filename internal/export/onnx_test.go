package export_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/export"
	"github.com/nettrain/nettrain/internal/export/exporttest"
	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/testutil"
)

// layerCase is a small network of one layer kind (or a few), exported and
// run by onnxruntime against nettrain's forward pass.
type layerCase struct {
	name   string
	input  string // model.input
	layers string // model.layers, YAML flow list
	loss   string // default mse
	norm   *export.Normalization
	// normLast: the normalisation has one value per feature of the last
	// axis, else per value of a sample (norm is drawn when either is set).
	normSample, normLast bool
	// denorm: the output is mapped back to the targets' units.
	denorm bool
}

var layerCases = []layerCase{
	{name: "dense", input: "[5]", layers: "[{dense: {units: 4}}, {dense: {units: 3, bias: false}}]"},
	{name: "dense on a sequence", input: "[4, 5]", layers: "[{dense: {units: 3}}, {dense: {units: 2, bias: false}}]"},
	{name: "conv2d stride and padding", input: "[2, 7, 6]", layers: "[{conv2d: {filters: 3, kernel: [3, 2], stride: 2, padding: [1, 0]}}]"},
	{name: "conv2d same padding, no bias", input: "[1, 6, 5]", layers: "[{conv2d: {filters: 2, kernel: 4, padding: same, bias: false}}]"},
	{name: "maxpool2d", input: "[2, 6, 6]", layers: "[{maxpool2d: {size: 2}}]"},
	{name: "maxpool2d overlapping padded", input: "[2, 7, 6]", layers: "[{maxpool2d: {size: 3, stride: 2, padding: 1}}]"},
	{name: "avgpool2d padded", input: "[2, 7, 6]", layers: "[{avgpool2d: {size: [3, 2], stride: [2, 1], padding: [1, 1]}}]"},
	{name: "global_avgpool", input: "[3, 4, 5]", layers: "[global_avgpool, {dense: {units: 2}}]"},
	{name: "conv1d", input: "[7, 3]", layers: "[{conv1d: {filters: 4, kernel: 3}}]"},
	{name: "conv1d stride padding dilation", input: "[9, 2]", layers: "[{conv1d: {filters: 3, kernel: 3, stride: 2, padding: 1, dilation: 2}}, flatten, {dense: {units: 2}}]"},
	{name: "conv1d same even kernel, no bias", input: "[6, 2]", layers: "[{conv1d: {filters: 3, kernel: 4, padding: same, bias: false}}]"},
	{name: "maxpool1d", input: "[6, 3]", layers: "[{maxpool1d: {size: 2}}]"},
	{name: "maxpool1d overlapping padded", input: "[7, 2]", layers: "[{maxpool1d: {size: 3, stride: 2, padding: 1}}]"},
	{name: "avgpool1d padded", input: "[7, 2]", layers: "[{avgpool1d: {size: 3, stride: 2, padding: 1}}, {dense: {units: 2}}]"},
	{name: "global_maxpool", input: "[3, 4, 5]", layers: "[global_maxpool, {dense: {units: 2}}]"},
	{name: "flatten", input: "[2, 5, 5]", layers: "[{conv2d: {filters: 3, kernel: 3}}, flatten, {dense: {units: 4}}]"},
	{name: "relu", input: "[6]", layers: "[{dense: {units: 8}}, relu]"},
	{name: "sigmoid", input: "[6]", layers: "[{dense: {units: 8}}, sigmoid]"},
	{name: "tanh", input: "[6]", layers: "[{dense: {units: 8}}, tanh]"},
	{name: "softmax", input: "[6]", layers: "[{dense: {units: 8}}, softmax]"},
	{name: "softmax on a sequence", input: "[3, 6]", layers: "[softmax]"},
	{name: "leaky_relu", input: "[6]", layers: "[{dense: {units: 8}}, {leaky_relu: {negative_slope: 0.2}}]"},
	{name: "elu", input: "[6]", layers: "[{dense: {units: 8}}, {elu: {alpha: 0.7}}]"},
	{name: "gelu", input: "[3, 6]", layers: "[{dense: {units: 8}}, gelu]"},
	{name: "gelu tanh", input: "[6]", layers: "[{dense: {units: 8}}, {gelu: {approximate: tanh}}]"},
	{name: "silu", input: "[6]", layers: "[{dense: {units: 8}}, silu]"},
	{name: "layernorm", input: "[6]", layers: "[{dense: {units: 8}}, layernorm]"},
	{name: "layernorm on a sequence, no affine", input: "[3, 5]", layers: "[{layernorm: {eps: 0.01, affine: false}}, {dense: {units: 2}}]"},
	{name: "dropout", input: "[6]", layers: "[{dense: {units: 8}}, {dropout: {p: 0.5}}, {dense: {units: 3}}]"},
	{name: "embedding", input: "[4]", layers: "[{embedding: {dim: 3, vocab: 7}}, {dense: {units: 2}}]"},
	{name: "onehot lstm", input: "[5]", layers: "[{onehot: {vocab: 6}}, {lstm: {units: 4}}, {dense: {units: 6}}]", loss: "cross_entropy"},
	{name: "lstm last step", input: "[5, 3]", layers: "[{lstm: {units: 4}}]"},
	{name: "lstm return_sequences", input: "[5, 3]", layers: "[{lstm: {units: 4, return_sequences: true}}, {dense: {units: 2}}]"},
	{name: "lstm 2 layers", input: "[6, 3]", layers: "[{lstm: {units: 4, layers: 2}}]"},
	{name: "lstm 3 layers return_sequences forget_bias", input: "[4, 2]", layers: "[{lstm: {units: 3, layers: 3, return_sequences: true, forget_bias: 1}}]"},
	{name: "gru last step", input: "[5, 3]", layers: "[{gru: {units: 4}}]"},
	{name: "gru return_sequences", input: "[5, 3]", layers: "[{gru: {units: 4, return_sequences: true}}, {dense: {units: 2}}]"},
	{name: "gru 3 layers", input: "[6, 2]", layers: "[{gru: {units: 3, layers: 3}}]"},
	{name: "gru 2 layers return_sequences", input: "[4, 3]", layers: "[{gru: {units: 5, layers: 2, return_sequences: true}}]"},
	{name: "conv1d gru", input: "[8, 2]", layers: "[{conv1d: {filters: 3, kernel: 3, padding: same}}, {maxpool1d: {size: 2}}, {gru: {units: 4}}, {dense: {units: 1}}]"},
	{name: "embedding gru", input: "[5]", layers: "[{embedding: {dim: 3, vocab: 9}}, {gru: {units: 4}}, {dense: {units: 9}}]", loss: "cross_entropy"},
	{name: "embedding lstm lstm", input: "[5]", layers: "[{embedding: {dim: 3, vocab: 9}}, {lstm: {units: 4, return_sequences: true}}, {lstm: {units: 5}}, {dense: {units: 9}}]", loss: "cross_entropy"},
	{name: "batchnorm 2d", input: "[3, 4, 5]", layers: "[{conv2d: {filters: 4, kernel: 3, padding: 1, bias: false}}, {batchnorm: {eps: 0.001}}]"},
	{name: "batchnorm 1d no affine", input: "[6]", layers: "[{dense: {units: 5}}, {batchnorm: {affine: false}}]"},
	{name: "batchnorm on a sequence", input: "[4, 3]", layers: "[batchnorm, {dense: {units: 2}}]"},
	{name: "residual identity", input: "[2, 5, 5]", layers: "[{residual: [{conv2d: {filters: 2, kernel: 3, padding: 1}}, batchnorm, relu]}, relu]"},
	{name: "residual conv projection", input: "[2, 6, 6]", layers: "[{residual: {layers: [{conv2d: {filters: 3, kernel: 3, stride: 2, padding: 1}}, batchnorm], projection: conv}}, global_avgpool]"},
	{name: "residual dense projection", input: "[4]", layers: "[{residual: {layers: [{dense: {units: 3}}, tanh], projection: dense}}, {residual: [{dense: {units: 3}}]}]", loss: "cross_entropy"},
	{name: "classifier", input: "[1, 6, 6]", layers: "[{conv2d: {filters: 2, kernel: 3}}, relu, {maxpool2d: {size: 2}}, flatten, {dense: {units: 5}}]", loss: "cross_entropy"},
	{name: "normalised per value", input: "[2, 3, 3]", layers: "[flatten, {dense: {units: 3}}]", normSample: true},
	{name: "normalised per feature of a window", input: "[4, 3]", layers: "[{lstm: {units: 3}}, {dense: {units: 1}}]", normLast: true},
	{name: "series in and out of its units", input: "[4, 2]", layers: "[{lstm: {units: 3, return_sequences: true}}, {dense: {units: 2}}]", normLast: true, denorm: true},
}

const batch = 3

// buildCase builds the case's network with weights drawn from a seed,
// a batch of inputs, and the exported model in dir.
func buildCase(t *testing.T, dir string, i int, c layerCase) (net *backprop.Network[float32], x []float32, raw []float32, path string, opts export.Options) {
	loss := c.loss
	if loss == "" {
		loss = "mse"
	}
	src := fmt.Sprintf("model:\n  input: %s\n  layers: %s\nloss: %s\n", c.input, c.layers, loss)
	cfg := testutil.LoadConfig(t, t.TempDir(), src)
	g, err := model.Build(cfg, nil)
	if err != nil {
		t.Fatalf("%s: %v", c.name, err)
	}
	net = backprop.NewNetwork[float32](g.Input, g.Specs, g.Loss, batch)
	rng := rand.New(rand.NewPCG(uint64(i)+1, 7))
	net.Init(rng)
	for j := range net.B { // batchnorm's running statistics, > 0
		net.B[j] = float32(0.5 + rng.Float64())
	}
	n := backprop.Prod(g.Input)
	raw = make([]float32, batch*n)
	tokens := backprop.DiscreteInput(g.Specs)
	for j := range raw {
		if tokens {
			raw[j] = float32(rng.IntN(tokenVocab(g.Specs[0])))
		} else {
			raw[j] = float32(rng.NormFloat64())
		}
	}
	x = raw
	opts = export.Options{Classifier: loss == "cross_entropy", Name: c.name}
	if c.normSample || c.normLast {
		m := n
		if c.normLast {
			m = g.Input[len(g.Input)-1]
		}
		norm := &export.Normalization{Offset: make([]float64, m), Scale: make([]float64, m)}
		for j := range m {
			norm.Offset[j] = 3 * rng.NormFloat64()
			norm.Scale[j] = 0.5 + rng.Float64()
		}
		opts.Norm = norm
		// onnxruntime gets the raw values, nettrain's forward pass the
		// values normalised as training's batches are (in float64).
		x = make([]float32, len(raw))
		for j := range raw {
			x[j] = float32((float64(raw[j]) - norm.Offset[j%m]) * norm.Scale[j%m])
		}
	}
	if c.denorm {
		k := g.Specs[len(g.Specs)-1].OutShape()
		d := &export.Normalization{}
		for range k[len(k)-1] {
			d.Offset = append(d.Offset, 100*rng.NormFloat64())
			d.Scale = append(d.Scale, 0.01+rng.Float64())
		}
		opts.Denorm = d
	}
	b, err := export.MarshalONNX(net, opts)
	if err != nil {
		t.Fatalf("%s: %v", c.name, err)
	}
	path = filepath.Join(dir, fmt.Sprintf("case%d.onnx", i))
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return net, x, raw, path, opts
}

func tokenVocab(s backprop.Spec) int {
	switch s := s.(type) {
	case backprop.EmbeddingSpec:
		return s.Vocab
	case backprop.OneHotSpec:
		return s.Vocab
	}
	panic("not a token layer")
}

// TestONNXLayerKinds exports a small network of every layer kind and
// checks onnxruntime's outputs against nettrain's forward pass.
func TestONNXLayerKinds(t *testing.T) {
	exporttest.Need(t)
	dir := t.TempDir()
	type built struct {
		net  *backprop.Network[float32]
		x    []float32
		opts export.Options
	}
	var jobs []exporttest.Job
	var nets []built
	for i, c := range layerCases {
		net, x, raw, path, opts := buildCase(t, dir, i, c)
		dims := append([]int{batch}, net.In...)
		in := exporttest.Float32(dims, raw)
		if backprop.DiscreteInput(net.Specs) {
			in = exporttest.Int64(dims, raw)
		}
		jobs = append(jobs, exporttest.Job{Model: path, Inputs: map[string]exporttest.Tensor{export.InputName: in}})
		nets = append(nets, built{net, x, opts})
	}
	outs := exporttest.Run(t, jobs)
	for i, c := range layerCases {
		t.Run(c.name, func(t *testing.T) {
			b := nets[i]
			y := b.net.Forward(&backprop.Ctx{}, b.x, batch)
			dims := append([]int{batch}, b.net.OutShape()...)
			if d := b.opts.Denorm; d != nil {
				k := len(d.Offset)
				u := make([]float32, len(y))
				for j, v := range y {
					u[j] = float32(float64(v)/d.Scale[j%k] + d.Offset[j%k])
				}
				y = u
			}
			if !b.opts.Classifier {
				exporttest.Compare(t, export.OutputName, outs[i][export.OutputName], dims, y)
				return
			}
			exporttest.Compare(t, export.LogitsName, outs[i][export.LogitsName], dims, y)
			exporttest.Compare(t, export.ProbabilitiesName, outs[i][export.ProbabilitiesName], dims, softmax(y, dims[len(dims)-1]))
			if len(outs[i]) != 2 {
				t.Errorf("outputs %d, want logits and probabilities", len(outs[i]))
			}
		})
	}
}

// softmax over rows of k values, in float64.
func softmax(y []float32, k int) []float64 {
	p := make([]float64, len(y))
	for r := 0; r < len(y); r += k {
		mx := math.Inf(-1)
		for _, v := range y[r : r+k] {
			mx = math.Max(mx, float64(v))
		}
		var s float64
		for j, v := range y[r : r+k] {
			p[r+j] = math.Exp(float64(v) - mx)
			s += p[r+j]
		}
		for j := range k {
			p[r+j] /= s
		}
	}
	return p
}

// TestEveryLayerKindIsExported fails when a registered layer kind has no
// case in layerCases (and so no checked ONNX export).
func TestEveryLayerKindIsExported(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range layerCases {
		loss := c.loss
		if loss == "" {
			loss = "mse"
		}
		cfg := testutil.LoadConfig(t, t.TempDir(), fmt.Sprintf("model:\n  input: %s\n  layers: %s\nloss: %s\n", c.input, c.layers, loss))
		g, err := model.Build(cfg, nil)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		for _, s := range g.Specs {
			seen[s.Kind()] = true
		}
	}
	for _, k := range backprop.KindNames() {
		if !seen[k] {
			t.Errorf("layer kind %s has no case in layerCases: add one (and its nodes in layers.go)", k)
		}
	}
}
