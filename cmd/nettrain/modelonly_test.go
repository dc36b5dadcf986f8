package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestModelOnlyConfigs: a config whose model states its input shape and
// output size needs no data for summary, trace and gradcheck (random
// samples from the seed, said in the output); one that takes a size from
// the data says which key to set.
func TestModelOnlyConfigs(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	conv := write("conv.yaml", "model:\n  input: [3, 32, 32]\n  layers:\n    - conv2d: {filters: 32, kernel: 5}\nloss: mse\n")
	mlp := write("mlp.yaml", "dtype: float64\nmodel:\n  input: [6]\n  layers:\n    - dense: {units: 5}\n    - tanh\n    - dense: {units: 3}\n")
	text := write("text.yaml", "model:\n  input: [4]\n  layers:\n    - embedding: {dim: 3, vocab: 7}\n    - lstm: {units: 5}\n    - dense: {units: 7}\n")
	classes := write("classes.yaml", "model:\n  input: [6]\n  layers:\n    - dense: {units: classes}\n")
	noInput := write("noinput.yaml", "model:\n  layers:\n    - dense: {units: 3}\n")
	// Matt Mazur's worked example: the sample and target typed in.
	mazur := write("mazur.yaml", "dtype: float64\nmodel:\n  input: [2]\n  layers:\n    - dense: {units: 2, weight: [[0.15, 0.20], [0.25, 0.30]], bias: [0.35, 0.35]}\n    - sigmoid\n    - dense: {units: 2, weight: [[0.40, 0.45], [0.50, 0.55]], bias: [0.60, 0.60]}\n    - sigmoid\nloss: half_sse\ntrace:\n  input: [0.05, 0.10]\n  target: [0.01, 0.99]\n")
	mazurGrad := write("mazur-grad.yaml", "dtype: float64\nmodel:\n  input: [2]\n  layers:\n    - dense: {units: 2}\nloss: half_sse\ntrace:\n  input: [0.05, 0.10]\n  output_grad: [1, 1]\n")
	tests := []struct {
		args []string
		code int
		want []string // in stdout (code 0) or stderr
	}{
		{[]string{"summary", conv}, 0, []string{"(32, 28, 28)  32x3x5x5 = 2,400  32", "Total parameters: 2,432 (2,400 weights, 32 biases)"}},
		{[]string{"summary", conv, "--json"}, 0, []string{`"total_params": 2432`}},
		{[]string{"trace", conv, "--limit", "4"}, 0, []string{"random sample(s) drawn from seed 1 (the config has no data.train)", "dL/d0.weight"}},
		{[]string{"gradcheck", conv, "--max-entries", "8"}, 0, []string{"random sample(s) drawn from seed 1", "PASS"}},
		{[]string{"trace", mlp, "--samples", "2"}, 0, []string{"2 random sample(s)", "labels ["}},
		{[]string{"gradcheck", mlp}, 0, []string{"PASS"}},
		{[]string{"gradcheck", text, "--samples", "2"}, 0, []string{"PASS"}},
		// The loss of the sample typed in: 0.298371109 without jitter
		// (Mazur's 0.298371109); with it, close.
		{[]string{"gradcheck", mazur, "--jitter", "0"}, 0, []string{"on the 1 sample(s) of trace.input in " + mazur, "loss 0.298371", "PASS"}},
		{[]string{"gradcheck", mazurGrad}, 0, []string{"random sample(s) drawn from seed", "PASS"}},
		{[]string{"summary", classes}, 1, []string{"classes.yaml:4:22: layer 0 (dense): units: is \"classes\", the number of classes in the data, and there is no data; set units or give data.train"}},
		{[]string{"trace", noInput}, 1, []string{"noinput.yaml:2:3: model.input: not set, and there is no data to take the input shape from"}},
		{[]string{"train", conv}, 1, []string{"data.train: required to train"}},
		{[]string{"eval", conv, "--checkpoint", "x.safetensors"}, 1, []string{"data.train: required to evaluate"}},
	}
	// trace.input's samples are checked whatever the default --samples;
	// a --samples given is told it is not used.
	for _, c := range []struct {
		args []string
		note string
	}{
		{[]string{"gradcheck", mazur}, ""},
		{[]string{"gradcheck", mazur, "--samples", "3"}, "nettrain: note: --samples 3: checking the 1 sample(s) of the config's trace.input\n"},
	} {
		s, _, errOut := streams()
		if code := Main(c.args, s); code != 0 || errOut.String() != c.note {
			t.Errorf("%v: exit %d, stderr %q, want %q", c.args, code, errOut, c.note)
		}
	}
	for _, tc := range tests {
		s, out, errOut := streams()
		code := Main(tc.args, s)
		got := out.String()
		if tc.code != 0 {
			got = errOut.String()
		}
		if code != tc.code {
			t.Errorf("%v: exit %d, want %d\nstdout: %s\nstderr: %s", tc.args, code, tc.code, out, errOut)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%v: output lacks %q:\n%s", tc.args, w, got)
			}
		}
	}
}
