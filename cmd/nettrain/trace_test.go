package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nettrain/nettrain/internal/checkpoint/cktest"
	"github.com/nettrain/nettrain/internal/inspect"
	"github.com/spf13/cobra"
)

// TestTraceFlags: --digits outside 1 to 17 (0 given explicitly too) and
// --samples below 1 are usage errors; an omitted --digits is the config's.
func TestTraceFlags(t *testing.T) {
	checkFlagCases(t, func(ran *bool) *cobra.Command {
		s, _, _ := streams()
		return NewCmdTrace(s, func(*TraceOptions) error { *ran = true; return nil })
	}, []flagCase{
		{[]string{"c.yaml"}, ""},
		{[]string{"c.yaml", "--digits", "17"}, ""},
		{[]string{"c.yaml", "--digits", "0"}, "--digits must be from 1 to 17, got 0"},
		{[]string{"c.yaml", "--digits", "-3"}, "--digits must be from 1 to 17, got -3"},
		{[]string{"c.yaml", "--digits", "18"}, "--digits must be from 1 to 17, got 18"},
		{[]string{"c.yaml", "--samples", "0"}, "--samples must be at least 1, got 0"},
		{[]string{"c.yaml", "--target", "1,2", "--output-grad", "1,2"}, "--target and --output-grad both say where backprop starts"},
		{[]string{"c.yaml", "--target", "1,2"}, ""},
	})
}

// TestTraceTypedInput: an --input that no file holds and that reads as a
// sample typed in with a mistake ("NaN,1") is refused for what is wrong
// with the value, as a command-line error (exit 2), not as a missing file
// or a missing data.train; a path stays a path.
func TestTraceTypedInput(t *testing.T) {
	const cfg = "../../configs/learn/mlp-relu.yaml" // no data.train
	for _, tc := range []struct {
		input string
		code  int
		want  string // the message; "" when it runs
	}{
		{"0.5,1", 0, ""},
		{"NaN,1", exitUsage, `--input "NaN,1": at column 1: expected a number, got "NaN"`},
		{"nan", exitUsage, `--input "nan": at column 1: expected a number, got "nan"`},
		{"1,x", exitUsage, `--input "1,x": at column 3: expected a number, got "x"`},
		{"-2,abc", exitUsage, `--input "-2,abc": at column 4: expected a number, got "abc"`},
		{"0.5,abc", exitUsage, `--input "0.5,abc": at column 5: expected a number, got "abc"`},
		{"0.1,NaN", exitUsage, `--input "0.1,NaN": at column 5: expected a number, got "NaN"`},
		{" ", exitUsage, "--input: empty"},
		{"1,2,3", exitUsage, "--input: has shape (3), but the model's input (model.input) is (2)"},
		{"nofile.csv", exitError, "--input needs the config's data.train"},
		{"1,2.csv", exitError, "--input needs the config's data.train"},
		// A second YAML document was silently dropped.
		{"[0.5, 1]\n...", 0, ""},
		{"[0.5, 1]\n--- [9, 9]", exitUsage, `--input "[0.5, 1]\n--- [9, 9]": a second YAML document starts on line 2; want a number or a list such as [[0.5, -1], [2, 0]] (JSON or YAML flow syntax)`},
	} {
		s, _, errOut := streams()
		code := Main([]string{"trace", cfg, "--input", tc.input, "--target", "0.6,-0.15"}, s)
		if msg := errOut.String(); code != tc.code || !strings.Contains(msg, tc.want) || tc.want != "" && strings.Count(msg, "\n") != 1 {
			t.Errorf("--input %q: exit %d, %q; want exit %d and %q", tc.input, code, msg, tc.code, tc.want)
		}
	}
}

// TestBatchNormNeedsTwoSamples: trace and gradcheck of one sample through
// a batchnorm over vectors (one value per channel in training mode) say
// to use more samples, instead of stopping with an internal error.
func TestBatchNormNeedsTwoSamples(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bn.yaml"), []byte("model:\n  input: [6]\n  layers: [{dense: {units: 5}}, batchnorm, tanh, {dense: {units: 3}}]\nloss: cross_entropy\n"), 0o644)
	for _, tc := range []struct {
		args []string
		want string // "" when it runs
	}{
		{[]string{"trace", "bn.yaml"}, "layer 1 (batchnorm) on [5] would see one value per channel in a batch of 1 sample(s) in training mode; torch refuses it too (\"Expected more than 1 value per channel when training\"): trace at least 2 samples (--samples 2)"},
		{[]string{"gradcheck", "bn.yaml", "--samples", "1"}, "check at least 2 samples (--samples 2), or the evaluation mode (--eval)"},
		{[]string{"trace", "bn.yaml", "--samples", "2"}, ""},
		{[]string{"gradcheck", "bn.yaml", "--samples", "1", "--eval"}, ""},
	} {
		out, err := nettrainCmd(t, dir, tc.args...).CombinedOutput()
		var exit *exec.ExitError
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v: %v\n%s", tc.args, err, out)
		case tc.want != "" && (!errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(string(out), tc.want) || strings.Count(string(out), "\n") != 1):
			t.Errorf("%v: %v\n%s\nwant exit 1 and one line with %q", tc.args, err, out, tc.want)
		}
	}
}

// TestTraceErrorsNameTheFlag: a missing --input file and a --samples too
// large for memory name the flag.
func TestTraceErrorsNameTheFlag(t *testing.T) {
	dir := trainSmall(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"trace", "config.yaml", "--input", "nofile.csv"}, "nettrain: --input nofile.csv: no such file or directory"},
		{[]string{"trace", "config.yaml", "--samples", "20", "--set", "training.memory_limit=1KB"}, "nettrain: --samples 20: config.yaml: the model with batch size 20 needs about"},
		{[]string{"gradcheck", "config.yaml", "--samples", "20", "--set", "training.memory_limit=1KB"}, "nettrain: --samples 20: config.yaml: the model with batch size 20 needs about"},
	} {
		out, err := nettrainCmd(t, dir, tc.args...).CombinedOutput()
		if err == nil || !strings.HasPrefix(string(out), tc.want) || strings.Count(string(out), "\n") != 1 {
			t.Errorf("%v: %v\n%s\nwant one line starting %q", tc.args, err, out, tc.want)
		}
	}
}

// TestTraceTypedInputOfNormalisedData: a sample typed in skips the data's
// normalisation, which a note says when the model's data has one.
func TestTraceTypedInputOfNormalisedData(t *testing.T) {
	dir := t.TempDir()
	var csv strings.Builder
	csv.WriteString("a,b,label\n")
	for i := range 20 {
		fmt.Fprintf(&csv, "%d,%d,%d\n", 10*i, 100+i%3, i%2)
	}
	if err := os.WriteFile(filepath.Join(dir, "d.csv"), []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		normalize, note string
	}{
		{"standardize", "nettrain: note: the sample typed in is the network's input as given, but this model's data is normalised (standardize, fitted on the training data): type it normalised, or give it in a file (--input FILE), which is read as in training\n"},
		{"minmax", "(minmax, fitted on the training data)"},
		{"none", ""},
		{"unit", ""}, // floats: unchanged
	} {
		cfg := filepath.Join(dir, tc.normalize+".yaml")
		src := "data: {train: d.csv, normalize: " + tc.normalize + ", csv: {label: label}}\nmodel:\n  layers:\n    - dense: {units: classes}\n"
		if err := os.WriteFile(cfg, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		s, _, errOut := streams()
		code := Main([]string{"trace", cfg, "--input", "1,2", "--target", "1"}, s)
		if msg := errOut.String(); code != 0 || !strings.Contains(msg, tc.note) || tc.note == "" && msg != "" {
			t.Errorf("%s: exit %d, stderr %q; want the note %q", tc.normalize, code, msg, tc.note)
		}
	}
}

// TestTraceTargetClassNames: --target takes the model's class names as
// well as ids, when its data names its classes: the same trace as the
// id's; an unknown name, or names for a model with ids, is a usage error
// naming the flag.
func TestTraceTargetClassNames(t *testing.T) {
	dir := t.TempDir()
	var csv strings.Builder
	csv.WriteString("a,b,animal\n")
	for i := range 20 {
		fmt.Fprintf(&csv, "%d,%d,%s\n", i, i%3, []string{"cat", "dog"}[i%2])
	}
	os.WriteFile(filepath.Join(dir, "d.csv"), []byte(csv.String()), 0o644)
	cfg := filepath.Join(dir, "c.yaml")
	os.WriteFile(cfg, []byte("data: {train: d.csv, normalize: none, csv: {label: animal}}\nmodel:\n  layers:\n    - dense: {units: classes}\n"), 0o644)
	trace := func(target string) (int, string, string) {
		s, out, errOut := streams()
		code := Main([]string{"trace", cfg, "--input", "1,2", "--target", target}, s)
		return code, out.String(), errOut.String()
	}
	_, byID0, _ := trace("0")
	_, byID1, _ := trace("1")
	for _, name := range []string{"cat", "dog", "[dog]", `"dog"`} {
		code, out, errOut := trace(name)
		if code != 0 || out != byID0 && out != byID1 || out == "" {
			t.Errorf("--target %s: exit %d, %s; want the trace of its class id", name, code, errOut)
		}
	}
	if _, a, _ := trace("cat"); a == byID1 {
		if _, b, _ := trace("dog"); b == byID1 {
			t.Error("cat and dog give the same trace")
		}
	}
	for _, c := range []struct{ cfg, target, want string }{
		{cfg, "cow", `--target: "cow" is not a class of the model; its classes: `},
		{cfg, "dogg", `(did you mean "dog"?)`},
		{"../../configs/learn/mlp-relu.yaml", "abc", `--target: "abc": class names need a model whose data names its classes`},
	} {
		s, _, errOut := streams()
		if code := Main([]string{"trace", c.cfg, "--input", "1,2", "--target", c.target}, s); code != exitUsage || !strings.Contains(errOut.String(), c.want) {
			t.Errorf("--target %s: exit %d, %q; want exit %d and %q", c.target, code, errOut, exitUsage, c.want)
		}
	}
}

// TestTraceStep: trace --step prints the parameters after one step of the
// config's optimizer: Matt Mazur's worked example's updated weights
// (sgd, lr 0.5), and, on a batch of the whole data, the weights training's
// first step writes (adam with warmup and both clippings), to rounding.
func TestTraceStep(t *testing.T) {
	dir := t.TempDir()
	mazur := filepath.Join(dir, "mazur.yaml")
	os.WriteFile(mazur, []byte("dtype: float64\nmodel:\n  input: [2]\n  layers:\n    - dense: {units: 2, weight: [[0.15, 0.20], [0.25, 0.30]], bias: [0.35, 0.35]}\n    - sigmoid\n    - dense: {units: 2, weight: [[0.40, 0.45], [0.50, 0.55]], bias: [0.60, 0.60]}\n    - sigmoid\nloss: half_sse\noptimizer: {name: sgd, lr: 0.5}\ntrace:\n  input: [0.05, 0.10]\n  target: [0.01, 0.99]\n"), 0o644)
	step := func(args ...string) *inspect.TraceStep {
		t.Helper()
		s, out, errOut := streams()
		if code := Main(append([]string{"trace"}, append(args, "--step", "--json")...), s); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		var tr inspect.Trace
		if err := json.Unmarshal(out.Bytes(), &tr); err != nil || tr.Step == nil {
			t.Fatalf("%v: %v, step %v", args, err, tr.Step)
		}
		return tr.Step
	}
	st := step(mazur)
	want := map[string][]float64{ // w1..w4 and w5..w8 of the tutorial
		"0.weight": {0.149780716, 0.19956143, 0.24975114, 0.29950229},
		"2.weight": {0.35891648, 0.408666186, 0.511301270, 0.561370121},
	}
	for _, p := range st.Params {
		for i, w := range want[p.Name] {
			if math.Abs(p.Value.Data[i]-w) > 5e-9 {
				t.Errorf("%s[%d] after the step = %.10g, want %.9g", p.Name, i, p.Value.Data[i], w)
			}
		}
	}
	if st.Optimizer != "sgd" || st.LR != 0.5 {
		t.Errorf("step of %s at lr %g, want sgd at 0.5", st.Optimizer, st.LR)
	}

	// Against training's first step: 8 samples, one batch of all of them.
	var csv strings.Builder
	csv.WriteString("a,b,c,y\n")
	for i := range 8 {
		fmt.Fprintf(&csv, "%g,%g,%g,%g\n", float64(i)/3, float64(i%3)-1, math.Sin(float64(i)), 2*float64(i%4)-3)
	}
	os.WriteFile(filepath.Join(dir, "d.csv"), []byte(csv.String()), 0o644)
	cfg := filepath.Join(dir, "c.yaml")
	os.WriteFile(cfg, []byte(`dtype: float64
data: {train: d.csv, validation_split: 0, normalize: none, csv: {label: y}}
model:
  layers: [{dense: {units: 5}}, tanh, {dense: {units: 1}}]
loss: mse
optimizer: {name: adam, lr: 0.05}
schedule: {name: cosine, warmup: 4}
training: {batch_size: 8, epochs: 1, clip_value: 0.3, clip_norm: 0.5}
`), 0o644)
	st = step(cfg, "--samples", "8")
	if st.Clipped == "" || st.LR != 0.05/4 {
		t.Errorf("clipped %q at lr %g, want both clippings at the warmup's first rate %g", st.Clipped, st.LR, 0.05/4)
	}
	runNettrain(t, dir, "train", "c.yaml", "--out", "run", "--set", "training.steps=1")
	trained := map[string][]float64{}
	if err := cktest.Edit(filepath.Join(dir, "run", "last.safetensors"), filepath.Join(dir, "copy.safetensors"), func(_ map[string]string, ts map[string]any) {
		for name, v := range ts {
			if w, ok := v.([]float64); ok {
				trained[name] = w
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	for _, p := range st.Params {
		w, ok := trained[p.Name]
		if !ok || len(w) != len(p.Value.Data) {
			t.Fatalf("%s: not in the checkpoint (%v)", p.Name, ok)
		}
		for i := range w {
			if math.Abs(w[i]-p.Value.Data[i]) > 1e-12 {
				t.Errorf("%s[%d]: trace's step %.15g, training's %.15g", p.Name, i, p.Value.Data[i], w[i])
			}
		}
	}
}
