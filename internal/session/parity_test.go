package session

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nettrain/nettrain/internal/safetensors"
)

// parityTensor is a tensor of testdata/parity/*.json: row-major data.
type parityTensor struct {
	Name  string    `json:"name"`
	Shape []int     `json:"shape"`
	Data  []float64 `json:"data"`
}

// parityCase is one file written by scripts/golden/gen.py (PARITY_CASES):
// a data set, a network with its initial parameters, and torch's float64
// parameters after Steps full-batch optimizer steps.
type parityCase struct {
	Name    string         `json:"name"`
	Kind    string         `json:"kind"` // csv, safetensors or series
	Input   []int          `json:"input"`
	Layers  []any          `json:"layers"`
	Loss    string         `json:"loss"`
	Opt     string         `json:"optimizer"`
	Options map[string]any `json:"options"`
	X       *parityTensor  `json:"x"`
	Labels  *parityTensor  `json:"labels"`
	Values  *parityTensor  `json:"values"`
	Series  *parityTensor  `json:"series"`
	Columns []string       `json:"columns"`
	Inputs  []string       `json:"inputs"`
	Targets []string       `json:"target_cols"`
	Window  int            `json:"window"`
	Steps   int            `json:"steps"`
	Params  []parityTensor `json:"params"`
	Final   []parityTensor `json:"final"`
}

// TestFloat64ParityWithTorch trains small networks with dtype float64 on
// data files whose values have 17 significant digits (a CSV file, a
// safetensors file, a series read in windows) and compares the parameters
// after 3 optimizer steps with torch's float64 run on the same numbers:
// to 1e-12 relative, which holds only when no value is stored in float32
// on its way from the file to the loss (that costs about 1e-8).
func TestFloat64ParityWithTorch(t *testing.T) {
	files, err := filepath.Glob("testdata/parity/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no parity cases in testdata/parity (%v)", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".json"), func(t *testing.T) {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var c parityCase
			if err := json.Unmarshal(b, &c); err != nil {
				t.Fatal(err)
			}
			runParity(t, &c)
		})
	}
}

func runParity(t *testing.T, c *parityCase) {
	dir := t.TempDir()
	init := make([]safetensors.Tensor, len(c.Params))
	for i, p := range c.Params {
		init[i] = safetensors.Tensor{Name: p.Name, Shape: p.Shape, Data: p.Data}
	}
	if err := safetensors.Write(filepath.Join(dir, "init.safetensors"), init, nil); err != nil {
		t.Fatal(err)
	}
	num := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	var dataKeys string
	var n int
	switch c.Kind {
	case "csv":
		n = c.X.Shape[0]
		f := len(c.X.Data) / n
		y := c.Values
		var b strings.Builder
		for i := range n {
			for _, v := range c.X.Data[i*f : (i+1)*f] {
				b.WriteString(num(v) + ",")
			}
			td := len(y.Data) / n
			for k, v := range y.Data[i*td : (i+1)*td] {
				if k > 0 {
					b.WriteString(",")
				}
				b.WriteString(num(v))
			}
			b.WriteString("\n")
		}
		writeFile(t, filepath.Join(dir, "data.csv"), b.String())
		var targets []string
		for k := range len(y.Data) / n {
			targets = append(targets, strconv.Itoa(f+k))
		}
		dataKeys = fmt.Sprintf("train: data.csv\n  csv: {header: false, targets: [%s]}", strings.Join(targets, ", "))
	case "safetensors":
		n = c.X.Shape[0]
		labels := make([]int64, len(c.Labels.Data))
		for i, v := range c.Labels.Data {
			labels[i] = int64(v)
		}
		err := safetensors.Write(filepath.Join(dir, "data.safetensors"), []safetensors.Tensor{
			{Name: "x", Shape: c.X.Shape, Data: c.X.Data},
			{Name: "y", Shape: c.Labels.Shape, Data: labels},
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		dataKeys = "train: data.safetensors"
	case "series":
		rows, cols := c.Series.Shape[0], c.Series.Shape[1]
		n = rows - c.Window
		var b strings.Builder
		b.WriteString(strings.Join(c.Columns, ",") + "\n")
		for i := range rows {
			for j := range cols {
				if j > 0 {
					b.WriteString(",")
				}
				b.WriteString(num(c.Series.Data[i*cols+j]))
			}
			b.WriteString("\n")
		}
		writeFile(t, filepath.Join(dir, "series.csv"), b.String())
		dataKeys = fmt.Sprintf("train: series.csv\n  sequence: {kind: series, window: %d, inputs: [%s], targets: [%s]}",
			c.Window, strings.Join(c.Inputs, ", "), strings.Join(c.Targets, ", "))
	default:
		t.Fatalf("unknown kind %q", c.Kind)
	}
	layers, _ := json.Marshal(c.Layers)
	opt := map[string]any{"name": c.Opt}
	for k, v := range c.Options {
		opt[k] = v
	}
	optJSON, _ := json.Marshal(opt)
	src := fmt.Sprintf(`name: parity
dtype: float64
data:
  %s
  validation_split: 0
  normalize: none
model:
  input: %v
  init_from: init.safetensors
  layers: %s
loss: %s
optimizer: %s
training: {epochs: %d, batch_size: %d, threads: 1}
`, dataKeys, strings.Join(strings.Fields(fmt.Sprint(c.Input)), ", "), layers, c.Loss, optJSON, c.Steps, n)
	cfg := loadConfig(t, dir, src)
	out := filepath.Join(dir, "run")
	if _, err := Run(cfg, Options{OutDir: out}); err != nil {
		t.Fatalf("%v\nconfig:\n%s", err, src)
	}
	f, err := safetensors.Read(filepath.Join(out, "last.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	const tol = 1e-12
	for _, want := range c.Final {
		got, shape, err := f.Float64(want.Name)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(shape) != fmt.Sprint(want.Shape) {
			t.Fatalf("%s: shape %v, torch %v", want.Name, shape, want.Shape)
		}
		var diff, scale float64
		for i, w := range want.Data {
			diff = max(diff, math.Abs(got[i]-w))
			scale = max(scale, math.Abs(w))
		}
		rel := diff / max(scale, 1e-12)
		t.Logf("%s: max relative error %.3g", want.Name, rel)
		if !(rel <= tol) {
			t.Errorf("%s after %d steps: max relative error %.3g against torch, want at most %g", want.Name, c.Steps, rel, tol)
		}
	}
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}
