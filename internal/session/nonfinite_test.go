package session

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nettrain/nettrain/internal/checkpoint/cktest"
	"github.com/nettrain/nettrain/internal/infer"
)

// TestNonFiniteCheckpointsRefused: a NaN weight or a negative exp_avg_sq,
// with valid checksums, is refused by eval, by model.init_from and by a
// resume, naming the tensor and the index; nothing calls such a file "the
// last good checkpoint".
func TestNonFiniteCheckpointsRefused(t *testing.T) {
	dir := t.TempDir()
	writeBlobs(t, dir, 60)
	cfg := loadConfig(t, dir, blobsConfig, "training.epochs=1")
	out := filepath.Join(dir, "run")
	if _, err := Run(cfg, Options{OutDir: out}); err != nil {
		t.Fatal(err)
	}
	last := filepath.Join(out, "last.safetensors")
	edit := func(name, tensor string, i int, v float32) string {
		p := filepath.Join(out, name)
		err := cktest.Edit(last, p, func(_ map[string]string, ts map[string]any) { ts[tensor].([]float32)[i] = v })
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	nan := edit("nan.safetensors", "3.weight", 5, float32(math.NaN()))
	neg := edit("neg.safetensors", "optimizer.exp_avg_sq.0.bias", 7, -2)
	const wantNaN, wantNeg = `tensor "3.weight" holds NaN at index [0 5]`, `"optimizer.exp_avg_sq.0.bias" holds -2 at index [7]`

	check := func(what string, err error, want string) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "training diverged") {
			t.Errorf("%s: %v\nwant an error containing %s", what, err, want)
		}
	}
	for _, split := range []infer.Split{infer.Training, infer.Validation} {
		_, err := infer.EvalCheckpoint(cfg, nan, split, 1)
		check("eval --split "+string(split), err, wantNaN)
	}
	init := loadConfig(t, dir, blobsConfig, "training.epochs=1", "model.init_from="+nan)
	_, err := Run(init, Options{OutDir: filepath.Join(dir, "init")})
	check("model.init_from", err, wantNaN)

	more := loadConfig(t, dir, blobsConfig, "training.epochs=2")
	_, err = Run(more, Options{OutDir: out, Resume: nan})
	check("resume from a NaN weight", err, wantNaN)
	_, err = Run(more, Options{OutDir: out, Resume: neg})
	check("resume from a negative exp_avg_sq", err, wantNeg)
}
