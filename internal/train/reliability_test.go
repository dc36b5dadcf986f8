package train

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOnNaN(t *testing.T) {
	dir := t.TempDir()
	writeBlobs(t, dir, 200)
	// SGD with a huge rate overflows within a few steps.
	huge := []string{"optimizer={name: sgd, lr: 1e30}", "model.layers.2.dropout.p=0"}

	cfg := loadConfig(t, dir, blobsConfig, huge...)
	_, err := Run(cfg, Options{OutDir: filepath.Join(dir, "stop")})
	var de *DivergedError
	if !errors.As(err, &de) {
		t.Fatalf("on_nan stop: %v", err)
	}
	for _, want := range []string{"training diverged at step", "the first non-finite value is", "(dense)", "last good checkpoint is " + filepath.Join(dir, "stop", "last.safetensors")} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message lacks %q: %v", want, err)
		}
	}
	if _, _, err := ReadCheckpoint(filepath.Join(dir, "stop", "last.safetensors")); err != nil {
		t.Errorf("the last good checkpoint is unreadable: %v", err)
	}

	var log strings.Builder
	cfg = loadConfig(t, dir, blobsConfig, append(huge, "training.on_nan=skip_batch")...)
	res, err := Run(cfg, Options{OutDir: filepath.Join(dir, "skip"), Log: &log})
	if err != nil || len(res.Rows) != 3 || !strings.Contains(log.String(), "batch skipped") {
		t.Errorf("on_nan skip_batch: %v, %d rows\n%s", err, len(res.Rows), log.String())
	}

	// Rollback halves the rate until training is stable again.
	log.Reset()
	cfg = loadConfig(t, dir, blobsConfig, "optimizer={name: sgd, lr: 50}", "training.on_nan=rollback")
	res, err = Run(cfg, Options{OutDir: filepath.Join(dir, "rollback"), Log: &log})
	if err != nil {
		t.Fatalf("on_nan rollback: %v\n%s", err, log.String())
	}
	if !strings.Contains(log.String(), "rolled back to") || len(res.Rows) != 3 {
		t.Errorf("rollback log:\n%s", log.String())
	}
	_, st, err := ReadCheckpoint(filepath.Join(dir, "rollback", "last.safetensors"))
	if err != nil || !(st.LRScale < 1) {
		t.Errorf("after rollbacks: lr scale %v, %v", st.LRScale, err)
	}
}

func TestCorruptCheckpoints(t *testing.T) {
	dir := t.TempDir()
	writeBlobs(t, dir, 60)
	cfg := loadConfig(t, dir, blobsConfig, "training.epochs=1")
	out := filepath.Join(dir, "run")
	if _, err := Run(cfg, Options{OutDir: out}); err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(filepath.Join(out, "last.safetensors"))
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o644)
		return p
	}
	flipped := append([]byte(nil), good...)
	flipped[len(flipped)-3] ^= 0x40 // a bit in the last tensor's data
	tests := []struct {
		path, want string
	}{
		{write("flip.safetensors", flipped), `fails its checksum`},
		{write("trunc.safetensors", good[:len(good)-100]), `flip`[:0] + "trunc.safetensors"},
		{write("empty.safetensors", nil), "empty.safetensors"},
		{filepath.Join(dir, "missing.safetensors"), "missing.safetensors"},
	}
	for _, tc := range tests {
		_, err := EvalCheckpoint(cfg, tc.path, "train", 1)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", filepath.Base(tc.path), err, tc.want)
		} else {
			t.Logf("%s: %v", filepath.Base(tc.path), err)
		}
	}
}

func TestStepCheckpointsAndKeep(t *testing.T) {
	dir := t.TempDir()
	writeBlobs(t, dir, 200) // 10 batches per epoch
	cfg := loadConfig(t, dir, blobsConfig, "checkpoint.every_steps=4", "checkpoint.keep=2")
	out := filepath.Join(dir, "run")
	if _, err := Run(cfg, Options{OutDir: out}); err != nil {
		t.Fatal(err)
	}
	steps, _ := filepath.Glob(filepath.Join(out, "step-*.safetensors"))
	if len(steps) != 2 || !strings.HasSuffix(steps[1], "step-000000028.safetensors") {
		t.Errorf("step checkpoints %v, want the newest 2 (..., 28)", steps)
	}
	// Resuming from a step checkpoint continues exactly.
	full := filepath.Join(dir, "full")
	if _, err := Run(cfg, Options{OutDir: full}); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(cfg, Options{OutDir: out, Resume: steps[0]}); err != nil {
		t.Fatal(err)
	}
	sameWeights(t, weights(t, filepath.Join(full, "last.safetensors")), weights(t, filepath.Join(out, "last.safetensors")))
}

func TestMemoryLimit(t *testing.T) {
	dir := t.TempDir()
	writeBlobs(t, dir, 60)
	cfg := loadConfig(t, dir, blobsConfig, "training.memory_limit=64KiB", "model.layers.0.dense.units=4096")
	_, err := Run(cfg, Options{OutDir: filepath.Join(dir, "run")})
	if err == nil || !strings.Contains(err.Error(), "needs about") || !strings.Contains(err.Error(), "more than training.memory_limit 64KiB") {
		t.Errorf("memory limit: %v", err)
	}
}

func TestCheckpointWriteFailure(t *testing.T) {
	dir := t.TempDir()
	writeBlobs(t, dir, 60)
	cfg := loadConfig(t, dir, blobsConfig, "training.epochs=1")
	// The run directory's path goes through a regular file: nothing can be
	// created under it.
	os.WriteFile(filepath.Join(dir, "file"), nil, 0o644)
	_, err := Run(cfg, Options{OutDir: filepath.Join(dir, "file", "run")})
	if err == nil || !strings.Contains(err.Error(), "cannot create run directory") {
		t.Errorf("unwritable run directory: %v", err)
	}
}

// TestAbsurdSizes: every command that builds a network refuses one that
// cannot fit, with an estimate, instead of crashing on the allocation.
func TestAbsurdSizes(t *testing.T) {
	dir := t.TempDir()
	writeBlobs(t, dir, 60)
	cfg := loadConfig(t, dir, blobsConfig, "model.layers.0.dense.units=4000000000000", "training.epochs=1")
	if _, err := Run(cfg, Options{OutDir: filepath.Join(dir, "run")}); err == nil || !strings.Contains(err.Error(), "needs about") {
		t.Errorf("train: %v", err)
	}
	if _, err := RunTrace(cfg, TraceOptions{Samples: 1}); err == nil || !strings.Contains(err.Error(), "needs about") {
		t.Errorf("trace: %v", err)
	}
	if _, err := EvalCheckpoint(cfg, filepath.Join(dir, "none.safetensors"), "train", 1); err == nil {
		t.Error("eval of an absurd model succeeded")
	}
}
