package tracepage

import (
	"bytes"
	"encoding/json"
	"math"
	"regexp"
	"strings"
	"testing"

	"github.com/nettrain/nettrain/internal/browsertest"
	"github.com/nettrain/nettrain/internal/inspect"
	"github.com/nettrain/nettrain/internal/model"
)

const (
	workedExample = "../../configs/cnn-worked-example.yaml"
	overlapCNN    = "testdata/overlap-cnn.yaml"
	kindsCNN      = "testdata/kinds-cnn.yaml"
	// The hand examples of configs/learn: their samples, targets or
	// output gradients are typed in the config.
	learnMLP  = "../../configs/learn/mlp-relu.yaml"
	learnCNN  = "../../configs/learn/cnn-overlapping-maxpool.yaml"
	learnLSTM = "../../configs/learn/lstm-window.yaml"
)

func traceOf(t *testing.T, path string, samples int) (*model.Config, *inspect.Trace) {
	t.Helper()
	cfg, err := model.Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := inspect.RunTrace(cfg, inspect.TraceOptions{Samples: samples}.WithConfig(cfg))
	if err != nil {
		t.Fatal(err)
	}
	return cfg, tr
}

var dataRE = regexp.MustCompile(`(?s)<script type="application/json" id="trace-data">(.*?)</script>`)

// embedded returns the JSON the page embeds.
func embedded(t *testing.T, html []byte) []byte {
	t.Helper()
	m := dataRE.FindSubmatch(html)
	if m == nil {
		t.Fatal("no trace-data script in the page")
	}
	return m[1]
}

type jTensor struct {
	Shape []int `json:"shape"`
	Data  []any `json:"data"`
}

func (j jTensor) floats(t *testing.T) []float64 {
	out := make([]float64, len(j.Data))
	for i, v := range j.Data {
		switch v := v.(type) {
		case float64:
			out[i] = v
		case string:
			switch v {
			case "NaN":
				out[i] = math.NaN()
			case "Infinity":
				out[i] = math.Inf(1)
			case "-Infinity":
				out[i] = math.Inf(-1)
			default:
				t.Fatalf("value %q", v)
			}
		default:
			t.Fatalf("value %v (%T)", v, v)
		}
	}
	return out
}

type jPage struct {
	Title  string  `json:"title"`
	Source string  `json:"source"`
	Loss   float64 `json:"loss"`
	Input  jTensor `json:"input"`
	Layers []struct {
		Kind       string    `json:"kind"`
		About      string    `json:"about"`
		In         []int     `json:"in"`
		Out        []int     `json:"out"`
		Conv       *Geometry `json:"conv"`
		PoolG      *Geometry `json:"pool"`
		Argmax     []int     `json:"argmax"`
		Output     jTensor   `json:"output"`
		GradOutput *jTensor  `json:"grad_output"`
		GradInput  *jTensor  `json:"grad_input"`
		Params     []struct {
			Name  string  `json:"name"`
			Role  string  `json:"role"`
			Value jTensor `json:"value"`
			Grad  jTensor `json:"grad"`
		} `json:"params"`
	} `json:"layers"`
}

func same(t *testing.T, what string, got jTensor, want inspect.Tensor) {
	t.Helper()
	if !slicesEqual(got.Shape, want.Shape) {
		t.Errorf("%s: shape %v, want %v", what, got.Shape, want.Shape)
		return
	}
	g := got.floats(t)
	if len(g) != len(want.Data) {
		t.Errorf("%s: %d values, want %d", what, len(g), len(want.Data))
		return
	}
	for i := range g {
		w := want.Data[i]
		if len(g) > ExactLimit { // rounded to 7 digits
			if math.Abs(g[i]-w) > 1e-6*math.Abs(w) {
				t.Errorf("%s[%d] = %v, want %v", what, i, g[i], w)
				return
			}
		} else if g[i] != w && !(math.IsNaN(g[i]) && math.IsNaN(w)) {
			t.Errorf("%s[%d] = %v, want exactly %v", what, i, g[i], w)
			return
		}
	}
}

func slicesEqual(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestPageDataMatchesTrace: the JSON the page embeds holds the trace's
// values exactly, layer by layer, with the geometry of the convolution and
// the pooling and each pooling window's argmax, as worked out by hand.
func TestPageDataMatchesTrace(t *testing.T) {
	cfg, tr := traceOf(t, workedExample, 1)
	var b bytes.Buffer
	if err := Build(cfg, tr).WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	var p jPage
	if err := json.Unmarshal(embedded(t, b.Bytes()), &p); err != nil {
		t.Fatal(err)
	}
	if p.Title != "cnn-worked-example" || p.Loss != tr.Loss || p.Source != tr.Source {
		t.Errorf("title %q loss %v source %q", p.Title, p.Loss, p.Source)
	}
	same(t, "input", p.Input, tr.Input)
	if len(p.Layers) != len(tr.Layers) {
		t.Fatalf("%d layers, want %d", len(p.Layers), len(tr.Layers))
	}
	for i, l := range tr.Layers {
		pl := p.Layers[i]
		if pl.Kind != l.Kind {
			t.Errorf("layer %d: kind %q, want %q", i, pl.Kind, l.Kind)
		}
		same(t, l.Kind+" y", pl.Output, l.Output)
		if (pl.GradOutput == nil) != (l.GradOutput == nil) || (pl.GradInput == nil) != (l.GradInput == nil) {
			t.Fatalf("layer %d: gradients present differ", i)
		}
		if l.GradOutput != nil {
			same(t, l.Kind+" dL/dy", *pl.GradOutput, *l.GradOutput)
		}
		if l.GradInput != nil {
			same(t, l.Kind+" dL/dx", *pl.GradInput, *l.GradInput)
		}
		if len(pl.Params) != len(l.Params) {
			t.Fatalf("layer %d: %d params, want %d", i, len(pl.Params), len(l.Params))
		}
		for k, pr := range l.Params {
			same(t, pr.Name, pl.Params[k].Value, pr.Value)
			same(t, "dL/d"+pr.Name, pl.Params[k].Grad, pr.Grad)
		}
	}
	conv, pool := p.Layers[0].Conv, p.Layers[1].PoolG
	if conv == nil || *conv != (Geometry{KH: 2, KW: 2, SH: 1, SW: 1, OutH: 4, OutW: 4}) {
		t.Errorf("conv geometry %+v", conv)
	}
	if pool == nil || *pool != (Geometry{KH: 2, KW: 2, SH: 2, SW: 2, OutH: 2, OutW: 2, Op: "max"}) {
		t.Errorf("pool geometry %+v", pool)
	}
	// The conv output [[-1.5 -1 0.5 1] [-2 1.5 -1 0] [1.5 0.5 -0.5 -2] [2 0.5 -1.5 -2]]:
	// the maxima 1.5 at (1,1), 1 at (0,3), 2 at (3,0), -0.5 at (2,2).
	if got, want := p.Layers[1].Argmax, []int{5, 3, 12, 10}; !slicesEqual(got, want) {
		t.Errorf("argmax %v, want %v", got, want)
	}
	if p.Layers[0].About != "conv2d 1 filters 2x2, stride 1, padding 0" || p.Layers[1].About != "maxpool2d 2x2, stride 2, padding 0" {
		t.Errorf("about %q, %q", p.Layers[0].About, p.Layers[1].About)
	}
	if p.Layers[4].Params[0].Role != "weight" || p.Layers[4].Params[1].Role != "bias" {
		t.Errorf("roles %q %q", p.Layers[4].Params[0].Role, p.Layers[4].Params[1].Role)
	}
}

// TestArgmaxOverlapping: windows of 2x2 with stride 1 share cells; a cell
// can be the maximum of several windows; the first maximum wins ties, NaN
// wins, padding never does.
func TestArgmaxOverlapping(t *testing.T) {
	x := inspect.Tensor{Shape: []int{1, 1, 3, 3}, Data: []float64{
		1, 2, 0,
		0, 9, 3,
		4, 4, 5}}
	g := &Geometry{KH: 2, KW: 2, SH: 1, SW: 1, OutH: 2, OutW: 2}
	if got, want := argmax(x, g), []int{4, 4, 4, 4}; !slicesEqual(got, want) {
		t.Errorf("argmax %v, want %v", got, want)
	}
	x.Data[4] = 0
	// windows: {1,2,0,0} {2,0,0,3} {0,0,4,4} {0,3,4,5}
	if got, want := argmax(x, g), []int{1, 5, 6, 8}; !slicesEqual(got, want) {
		t.Errorf("argmax %v, want %v", got, want)
	}
	x.Data[0] = math.NaN()
	if got := argmax(x, g); got[0] != 0 {
		t.Errorf("NaN does not win: %v", got)
	}
	neg := inspect.Tensor{Shape: []int{1, 1, 2, 2}, Data: []float64{-3, -2, -1, -4}}
	pad := &Geometry{KH: 2, KW: 2, SH: 2, SW: 2, PadT: 1, PadL: 1, PadB: 1, PadR: 1, OutH: 2, OutW: 2}
	if got, want := argmax(neg, pad), []int{0, 1, 2, 3}; !slicesEqual(got, want) {
		t.Errorf("padding won: %v, want %v", got, want)
	}
}

// TestPageEscaping: strings from files cannot end the script that holds
// them or add markup; NaN and infinities survive as strings; the page
// makes no requests.
func TestPageEscaping(t *testing.T) {
	evil := "</script><script>alert(1)</script><!-- & \u2028"
	p := &Page{Title: evil, Source: "</SCRIPT >", Samples: 1, LossFn: "mse", Input: Tensor{Shape: []int{1, 3}, Data: []float64{math.NaN(), math.Inf(1), math.Inf(-1)}},
		Layers: []Layer{{Index: 0, Kind: "relu", About: evil, In: []int{3}, Out: []int{3}, Output: Tensor{Shape: []int{1, 3}, Data: []float64{0, 1, 2}}, Params: []Param{}}}}
	var b bytes.Buffer
	if err := p.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	if n := strings.Count(strings.ToLower(html), "<script"); n != 2 {
		t.Errorf("%d <script in the page, want 2 (the data and the code)", n)
	}
	if n := strings.Count(strings.ToLower(html), "</script"); n != 2 {
		t.Errorf("%d </script in the page, want 2", n)
	}
	var back struct {
		Title  string  `json:"title"`
		Source string  `json:"source"`
		Input  jTensor `json:"input"`
	}
	if err := json.Unmarshal(embedded(t, b.Bytes()), &back); err != nil {
		t.Fatal(err)
	}
	if back.Title != evil || back.Source != "</SCRIPT >" {
		t.Errorf("title %q source %q", back.Title, back.Source)
	}
	v := back.Input.floats(t)
	if !math.IsNaN(v[0]) || !math.IsInf(v[1], 1) || !math.IsInf(v[2], -1) {
		t.Errorf("input %v", v)
	}
	for _, bad := range []string{"src=", "href=", "http://", "https://", "fetch(", "XMLHttpRequest", "@import", "url("} {
		if strings.Contains(html, bad) {
			t.Errorf("the page has %q: it must make no requests", bad)
		}
	}
}

// TestTensorRounding: large tensors are embedded to 7 digits, small ones
// exactly.
func TestTensorRounding(t *testing.T) {
	small, _ := json.Marshal(Tensor{Shape: []int{1}, Data: []float64{0.1234567890123}})
	if string(small) != `{"shape":[1],"data":[0.1234567890123]}` {
		t.Errorf("small: %s", small)
	}
	d := make([]float64, ExactLimit+1)
	d[0] = 0.1234567890123
	large, _ := json.Marshal(Tensor{Shape: []int{len(d)}, Data: d})
	if !bytes.Contains(large, []byte(`"data":[0.1234568,0,`)) {
		t.Errorf("large: %.60s", large)
	}
}

// TestPNG: the picture is drawn, not blank, for the worked example and a
// CNN with overlapping pooling and two samples.
func TestPNG(t *testing.T) {
	for _, c := range []struct {
		path    string
		samples int
	}{{workedExample, 1}, {overlapCNN, 2}, {kindsCNN, 2}, {learnMLP, 1}, {learnCNN, 1}, {learnLSTM, 1}} {
		cfg, tr := traceOf(t, c.path, c.samples)
		var b bytes.Buffer
		if err := Build(cfg, tr).WritePNG(&b); err != nil {
			t.Fatal(err)
		}
		st, err := browsertest.Inspect(b.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if st.Width != pngWidth || st.Height < 800 || st.Colours < 100 || st.NonWhite < 0.05 {
			t.Errorf("%s: the PNG looks blank: %+v", c.path, st)
		}
	}
}

// TestNonFiniteLoss: a loss that overflowed is shown as it is, in the
// page's data and the PNG's text (it read "loss = 0"), and a heatmap whose
// values include Inf or NaN says its scale is of the finite ones.
func TestNonFiniteLoss(t *testing.T) {
	for _, tc := range []struct {
		loss      float64
		json, png string
	}{
		{math.Inf(1), `"loss":"Infinity"`, "loss half_sse = +Inf"},
		{math.Inf(-1), `"loss":"-Infinity"`, "loss half_sse = -Inf"},
		{math.NaN(), `"loss":"NaN"`, "loss half_sse = NaN"},
		{0.25, `"loss":0.25`, "loss half_sse = 0.25"},
	} {
		p := &Page{Samples: 1, LossFn: "half_sse", Loss: Number(tc.loss), Input: Tensor{Shape: []int{1, 1}, Data: []float64{1}}, Layers: []Layer{}}
		b, err := p.JSON()
		if err != nil {
			t.Fatalf("%v: %v", tc.loss, err)
		}
		if !strings.Contains(string(b), tc.json) {
			t.Errorf("%v: the page's data lacks %s:\n%s", tc.loss, tc.json, b)
		}
		if got := p.lossText(); got != tc.png {
			t.Errorf("%v: the PNG reads %q, want %q", tc.loss, got, tc.png)
		}
	}
	if h := newHeat("g", []float64{math.Inf(1), 2}, []int{2}); !strings.Contains(h.sub, "|max| 2 (finite values; some are Inf or NaN)") {
		t.Errorf("heatmap subtitle %q", h.sub)
	}
	if h := newHeat("g", []float64{1, 2}, []int{2}); strings.Contains(h.sub, "Inf") {
		t.Errorf("heatmap subtitle %q", h.sub)
	}
}

// TestLossDigits: the page and the picture write the loss with
// trace.digits significant digits, as `nettrain trace` prints it (the PNG
// had 10 whatever the digits, the page the raw float).
func TestLossDigits(t *testing.T) {
	for _, tc := range []struct {
		sets   []string
		digits string // in the page's data
		png    string
	}{
		{nil, `"digits":6`, "loss half_sse = 0.05"},
		{[]string{"trace.digits=3"}, `"digits":3`, "loss half_sse = 0.05"},
		{[]string{"trace.digits=16"}, `"digits":16`, "loss half_sse = 0.04999999999999998"},
		{[]string{"trace.digits=17"}, `"digits":17`, "loss half_sse = 0.049999999999999975"},
	} {
		cfg, tr := traceLearnMLP(t, tc.sets)
		p := Build(cfg, tr)
		if got := p.lossText(); got != tc.png {
			t.Errorf("%v: the PNG reads %q, want %q", tc.sets, got, tc.png)
		}
		b, err := p.JSON()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), tc.digits) {
			t.Errorf("%v: the page's data lacks %s", tc.sets, tc.digits)
		}
	}
}

// TestPNGLossBand: the picture ends with the loss's band, as the page
// does: the loss, and the first sample's targets as a heatmap or the
// labels in words (it had the loss alone).
func TestPNGLossBand(t *testing.T) {
	many := &Page{Samples: 64, LossFn: "cross_entropy", Loss: 2.5, Input: Tensor{Shape: []int{64, 1}, Data: make([]float64, 64)}, Layers: []Layer{}}
	for i := 0; i < 64; i++ {
		many.Labels = append(many.Labels, int32(i%10))
	}
	noLoss := &Page{Samples: 1, Input: Tensor{Shape: []int{1, 1}, Data: []float64{1}}, Layers: []Layer{}}
	for _, tc := range []struct {
		name    string
		page    func() *Page
		title   string
		lines   []string
		targets []float64 // the heatmap's values; nil: none
		shape   []int
	}{
		{"mlp-relu", func() *Page { return Build(traceOf(t, learnMLP, 1)) }, "loss half_sse = 0.05", nil, []float64{0.6, -0.15}, []int{2}},
		{"worked example", func() *Page { return Build(traceOf(t, workedExample, 1)) }, "loss half_sse = 0.160095", nil, []float64{1, 0}, []int{2}},
		{"lstm", func() *Page { return Build(traceOf(t, learnLSTM, 1)) }, "loss half_sse = 0.134555", nil, []float64{0.5}, []int{1}},
		{"two samples of a classifier", func() *Page {
			p := Build(traceOf(t, overlapCNN, 2))
			p.Labels = []int32{2, 1}
			return p
		}, "", []string{"labels: 2, 1   (the first sample's: 2)"}, nil, nil},
		{"64 samples", func() *Page { return many }, "loss cross_entropy = 2.5",
			[]string{"labels: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, … (64 in all)   (the first sample's: 0)"}, nil, nil},
		{"no loss", func() *Page { return noLoss }, "no loss: backprop starts from the gradient given at the output", nil, nil, nil},
	} {
		p := tc.page()
		bs := p.bands()
		b := bs[len(bs)-1]
		if want := tc.title; want == "" && b.title != p.lossText() || want != "" && b.title != want {
			t.Errorf("%s: the last band is %q, want the loss, %q", tc.name, b.title, p.lossText())
		}
		if strings.Join(b.lines, "\n") != strings.Join(tc.lines, "\n") {
			t.Errorf("%s: the loss band's lines %q, want %q", tc.name, b.lines, tc.lines)
		}
		if len(b.bwd) != 0 {
			t.Errorf("%s: the loss band has %d backward panels", tc.name, len(b.bwd))
		}
		if tc.targets == nil {
			if len(b.fwd) != 0 {
				t.Errorf("%s: the loss band has %d panels, want none", tc.name, len(b.fwd))
			}
			continue
		}
		if len(b.fwd) != 1 {
			t.Fatalf("%s: the loss band has %d panels, want the targets'", tc.name, len(b.fwd))
		}
		h := b.fwd[0]
		if !strings.HasPrefix(h.cap, "t, the targets") || !slicesEqual(h.shape, tc.shape) || len(h.data) != len(tc.targets) {
			t.Fatalf("%s: the loss band's panel %q %v %v, want the targets %v %v", tc.name, h.cap, h.shape, h.data, tc.shape, tc.targets)
		}
		for i, v := range tc.targets {
			if h.data[i] != v {
				t.Errorf("%s: target %d is %v, want %v", tc.name, i, h.data[i], v)
			}
		}
	}
}

// TestCellDigits: the picture's cells and scales have 3 significant
// digits, fewer when trace.digits (or --digits) are fewer, as the text
// prints them.
func TestCellDigits(t *testing.T) {
	for _, tc := range []struct {
		sets []string
		sub  string // of layer 0's dL/dx, -0.245 and 0.21
	}{
		{nil, "(2)  |max| 0.245"},
		{[]string{"trace.digits=3"}, "(2)  |max| 0.245"},
		{[]string{"trace.digits=2"}, "(2)  |max| 0.24"},
		{[]string{"trace.digits=1"}, "(2)  |max| 0.2"},
	} {
		cfg, tr := traceLearnMLP(t, tc.sets)
		var got []string
		for _, h := range Build(cfg, tr).bands()[1].bwd {
			if h.cap == "dL/dx (passed below)" {
				got = append(got, h.sub)
			}
		}
		if len(got) != 1 || got[0] != tc.sub {
			t.Errorf("%v: layer 0's dL/dx reads %q, want %q", tc.sets, got, tc.sub)
		}
	}
}

// traceLearnMLP traces the mlp-relu example with the overrides sets.
func traceLearnMLP(t *testing.T, sets []string) (*model.Config, *inspect.Trace) {
	t.Helper()
	cfg, err := model.Load(learnMLP, sets)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := inspect.RunTrace(cfg, inspect.TraceOptions{Samples: 1}.WithConfig(cfg))
	if err != nil {
		t.Fatal(err)
	}
	return cfg, tr
}
