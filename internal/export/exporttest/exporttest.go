// Package exporttest runs exported ONNX models in a real runtime for the
// tests of package export and of the export command: onnxruntime-node
// 1.30.0 through scripts/onnxcheck/run.js. Nothing outside tests imports
// it.
//
// It needs node and the script's node_modules (`cd scripts/onnxcheck &&
// npm ci --ignore-scripts`, which .ci/run does): without them a test that
// asks for the runtime is skipped, saying so, except in CI (CI=true),
// where it fails.
package exporttest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Tensor is one input or output: Type "float32" or "int64" (inputs
// only), Dims, and the values row-major (float32 values are exact as
// float64; token ids are small integers).
type Tensor struct {
	Type string    `json:"type,omitempty"`
	Dims []int     `json:"dims"`
	Data []float64 `json:"data"`
}

// Job is one model to run on its inputs.
type Job struct {
	Model  string            `json:"model"`
	Inputs map[string]Tensor `json:"inputs"`
}

// Float32 is a float32 input tensor.
func Float32[T float32 | float64](dims []int, v []T) Tensor {
	d := make([]float64, len(v))
	for i, x := range v {
		d[i] = float64(float32(x))
	}
	return Tensor{Type: "float32", Dims: dims, Data: d}
}

// Int64 is an int64 input tensor of token ids (given as numbers).
func Int64[T float32 | float64](dims []int, v []T) Tensor {
	d := make([]float64, len(v))
	for i, x := range v {
		d[i] = float64(int64(x))
	}
	return Tensor{Type: "int64", Dims: dims, Data: d}
}

// scriptDir finds scripts/onnxcheck from the working directory up.
func scriptDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "scripts", "onnxcheck"), nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = up
	}
}

// Need skips the test (fails it in CI) when the runtime is missing, and
// returns the script's directory.
func Need(t testing.TB) string {
	t.Helper()
	missing := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI: "+format, args...)
		}
		t.Skipf(format, args...)
	}
	dir, err := scriptDir()
	if err != nil {
		missing("cannot find scripts/onnxcheck: %v", err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing("node is not installed: the ONNX export is checked with onnxruntime-node")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "onnxruntime-node", "package.json")); err != nil {
		missing("onnxruntime-node is not installed: run (cd scripts/onnxcheck && npm ci --ignore-scripts)")
	}
	return dir
}

// Run runs the jobs in one node process and returns each job's outputs
// by name. It fails the test on any error of the runtime (a model it
// refuses, an input of the wrong shape).
func Run(t testing.TB, jobs []Job) []map[string]Tensor {
	t.Helper()
	dir := Need(t)
	f := filepath.Join(t.TempDir(), "jobs.json")
	b, err := json.Marshal(jobs)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f, b, 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("node", filepath.Join(dir, "run.js"), f)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("onnxruntime-node: %v: %s", err, stderr.Bytes())
	}
	var outs []map[string]Tensor
	if err := json.Unmarshal(stdout.Bytes(), &outs); err != nil {
		t.Fatalf("onnxruntime-node's output: %v", err)
	}
	if len(outs) != len(jobs) {
		t.Fatalf("onnxruntime-node answered %d jobs of %d", len(outs), len(jobs))
	}
	return outs
}

// Tolerances of Compare: a value agrees when |got - want| <= Abs + Rel
// |want|. float32 runtimes sum in different orders (and ORT's kernels
// approximate exp and tanh to a few ulp), hence not bit-exact.
const (
	Rel = 1e-5
	Abs = 1e-5
)

// Compare checks got (the runtime's output) against want (nettrain's
// forward pass, shaped dims) and reports the worst difference.
func Compare[T float32 | float64](t testing.TB, what string, got Tensor, dims []int, want []T) {
	t.Helper()
	if fmt.Sprint(got.Dims) != fmt.Sprint(dims) {
		t.Errorf("%s: dims %v, want %v", what, got.Dims, dims)
		return
	}
	if len(got.Data) != len(want) {
		t.Errorf("%s: %d values, want %d", what, len(got.Data), len(want))
		return
	}
	worst, at := 0.0, -1
	for i, w := range want {
		d := math.Abs(got.Data[i] - float64(w))
		if !(d <= Abs+Rel*math.Abs(float64(w))) && (at < 0 || d > worst || math.IsNaN(d)) {
			worst, at = d, i
		}
	}
	if at >= 0 {
		t.Errorf("%s: value %d is %g, nettrain computes %g (difference %g, tolerance %g + %g relative)", what, at, got.Data[at], want[at], worst, Abs, Rel)
	}
}
