package session

import (
	"errors"
	"fmt"
	"github.com/nettrain/nettrain/internal/model"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nettrain/nettrain/internal/checkpoint"
	"github.com/nettrain/nettrain/internal/infer"
	"github.com/nettrain/nettrain/internal/inspect"
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
	if _, _, err := checkpoint.Read(filepath.Join(dir, "stop", "last.safetensors")); err != nil {
		t.Errorf("the last good checkpoint is unreadable: %v", err)
	}

	// Skipping goes on while batches keep failing, up to a limit.
	var log strings.Builder
	cfg = loadConfig(t, dir, blobsConfig, append(huge, "training.on_nan=skip_batch")...)
	_, err = Run(cfg, Options{OutDir: filepath.Join(dir, "skip"), Log: &log})
	if err == nil || !strings.Contains(err.Error(), "gave up after 10 batches in a row were skipped") || !strings.Contains(log.String(), "batch skipped") {
		t.Errorf("on_nan skip_batch: %v\n%s", err, log.String())
	}

	// Rollback halves the rate until training is stable again.
	log.Reset()
	cfg = loadConfig(t, dir, blobsConfig, "optimizer={name: sgd, lr: 50}", "training.on_nan=rollback")
	res, err := Run(cfg, Options{OutDir: filepath.Join(dir, "rollback"), Log: &log})
	if err != nil {
		t.Fatalf("on_nan rollback: %v\n%s", err, log.String())
	}
	if !strings.Contains(log.String(), "rolled back to") || len(res.Rows) != 3 {
		t.Errorf("rollback log:\n%s", log.String())
	}
	_, st, err := checkpoint.Read(filepath.Join(dir, "rollback", "last.safetensors"))
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
		_, err := infer.EvalCheckpoint(cfg, tc.path, "train", 1)
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
	if err == nil || !strings.Contains(err.Error(), "cannot create the run directory") {
		t.Errorf("unwritable run directory: %v", err)
	}
}

// TestAbsurdSizes: every command that builds a network refuses one that
// cannot fit, with an estimate, instead of crashing on the allocation.
func TestAbsurdSizes(t *testing.T) {
	dir := t.TempDir()
	writeBlobs(t, dir, 60)
	cfg := loadConfig(t, dir, blobsConfig, "model.layers.0.dense.units=100000000000", "training.epochs=1")
	if _, err := Run(cfg, Options{OutDir: filepath.Join(dir, "run")}); err == nil || !strings.Contains(err.Error(), "needs about") {
		t.Errorf("train: %v", err)
	}
	if _, err := inspect.RunTrace(cfg, inspect.TraceOptions{Samples: 1}); err == nil || !strings.Contains(err.Error(), "needs about") {
		t.Errorf("trace: %v", err)
	}
	if _, err := infer.EvalCheckpoint(cfg, filepath.Join(dir, "none.safetensors"), "train", 1); err == nil {
		t.Error("eval of an absurd model succeeded")
	}
}

func TestResumeSafety(t *testing.T) {
	dir := t.TempDir()
	writeBlobs(t, dir, 120)
	t.Chdir(dir)
	cfg := loadConfig(t, dir, blobsConfig, "training.epochs=1")
	if _, err := Run(cfg, Options{OutDir: "a"}); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(cfg, Options{OutDir: "b"}); err != nil {
		t.Fatal(err)
	}
	// Resuming a into b's directory would clobber b.
	more := loadConfig(t, dir, blobsConfig, "training.epochs=2")
	if _, err := Run(more, Options{OutDir: "b", Resume: "a/last.safetensors"}); err == nil || !strings.Contains(err.Error(), "already holds another run") {
		t.Errorf("resume into another run's directory: %v", err)
	}
	// Without --out, a resume continues in the checkpoint's directory; more
	// epochs are allowed.
	res, err := Run(more, Options{Resume: "a/last.safetensors"})
	if err != nil || res.RunDir != "a" || len(res.Rows) != 1 {
		t.Fatalf("resume: %v, %+v", err, res)
	}
	// A different seed (another validation split) or optimizer is refused.
	other := loadConfig(t, dir, blobsConfig, "training.epochs=3", "seed=4", "optimizer.lr=0.5")
	_, err = Run(other, Options{Resume: "a/last.safetensors"})
	if err == nil || !strings.Contains(err.Error(), "was trained with other settings of seed, optimizer than") {
		t.Errorf("resume with another seed and rate: %v", err)
	}
	// A run stopped by training.steps is done: resuming it adds no step.
	steps := loadConfig(t, dir, blobsConfig, "training.steps=5")
	if _, err := Run(steps, Options{OutDir: "c"}); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	if _, err := Run(steps, Options{Resume: "c/last.safetensors", Log: &log}); err != nil || !strings.Contains(log.String(), "nothing to do") {
		t.Errorf("resume at the step limit: %v\n%s", err, log.String())
	}
	if _, st, _ := checkpoint.Read("c/last.safetensors"); st.Step != 5 {
		t.Errorf("step %d after resuming a finished run, want 5", st.Step)
	}
	// A run that finished its epochs resumes after its last one, not at
	// an epoch past the end.
	one := loadConfig(t, dir, blobsConfig, "training.epochs=1")
	if _, err := Run(one, Options{OutDir: "e"}); err != nil {
		t.Fatal(err)
	}
	log.Reset()
	if _, err := Run(one, Options{Resume: "e/last.safetensors", Log: &log}); err != nil ||
		!strings.Contains(log.String(), "resuming e/last.safetensors, which ended after epoch 1, step ") ||
		!strings.Contains(log.String(), "the run already finished its 1 epoch (training.epochs is 1): nothing to do") || strings.Contains(log.String(), "at epoch 2") {
		t.Errorf("resume of a run that finished its epochs: %v\n%s", err, log.String())
	}
	// --overwrite clears step checkpoints and stale temporary files too.
	os.WriteFile("a/step-000000099.safetensors", []byte("x"), 0o644)
	os.WriteFile("a/.last.safetensors.tmp123", []byte("x"), 0o644)
	if _, err := Run(cfg, Options{OutDir: "a", Overwrite: true}); err != nil {
		t.Fatal(err)
	}
	left, _ := filepath.Glob("a/*step-*")
	tmp, _ := filepath.Glob("a/.*tmp*")
	if len(left)+len(tmp) > 0 {
		t.Errorf("left behind: %v %v", left, tmp)
	}
	if st, _ := os.Stat("a/config.yaml"); st == nil || st.Mode().Perm() != 0o644 {
		t.Errorf("config.yaml mode %v", st.Mode())
	}
}

// TestEvalSplitGuard: evaluating on the validation split with another seed
// (another split) is refused; the run's own config.yaml works from anywhere.
func TestEvalSplitGuard(t *testing.T) {
	dir := t.TempDir()
	writeBlobs(t, dir, 120)
	cfg := loadConfig(t, dir, blobsConfig, "training.epochs=1", "seed=7")
	out := filepath.Join(dir, "run")
	if _, err := Run(cfg, Options{OutDir: out}); err != nil {
		t.Fatal(err)
	}
	plain := loadConfig(t, dir, blobsConfig)
	if _, err := infer.EvalCheckpoint(plain, filepath.Join(out, "best.safetensors"), "validation", 1); err == nil || !strings.Contains(err.Error(), "other settings of seed") {
		t.Errorf("validation with another seed: %v", err)
	}
	saved, err := model.Load(filepath.Join(out, "config.yaml"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := infer.EvalCheckpoint(saved, filepath.Join(out, "best.safetensors"), "validation", 1); err != nil {
		t.Errorf("eval with the run's config.yaml: %v", err)
	}
}

// TestClassesFromTraining: validation and test files are read with the
// training file's classes.
func TestClassesFromTraining(t *testing.T) {
	dir := t.TempDir()
	var tr, va, te strings.Builder
	tr.WriteString("x,y\n")
	for i := 0; i < 60; i++ {
		fmt.Fprintf(&tr, "%d,%s\n", i%3, []string{"bird", "cat", "dog"}[i%3])
	}
	va.WriteString("x,y\n1,cat\n2,dog\n1,cat\n")
	te.WriteString("x,y\n1,cat\n0,fish\n")
	os.WriteFile(filepath.Join(dir, "tr.csv"), []byte(tr.String()), 0o644)
	os.WriteFile(filepath.Join(dir, "va.csv"), []byte(va.String()), 0o644)
	os.WriteFile(filepath.Join(dir, "te.csv"), []byte(te.String()), 0o644)
	src := `name: cls
data: {train: tr.csv, validation: va.csv, test: te.csv, normalize: none}
model:
  input: [1]
  layers: [{dense: {units: 8}}, tanh, {dense: {units: 3}}]
optimizer: {name: adam, lr: 0.05}
training: {epochs: 30, batch_size: 10}
`
	cfg := loadConfig(t, dir, src)
	out := filepath.Join(dir, "run")
	if _, err := Run(cfg, Options{OutDir: out}); err != nil {
		t.Fatal(err)
	}
	r, err := infer.EvalCheckpoint(cfg, filepath.Join(out, "best.safetensors"), "validation", 1)
	if err != nil {
		t.Fatal(err)
	}
	// "cat" is class 1 and "dog" class 2 as in training, not 0 and 1.
	if r.Support[0] != 0 || r.Support[1] != 2 || r.Support[2] != 1 || *r.Accuracy != 1 {
		t.Errorf("validation support %v accuracy %v", r.Support, *r.Accuracy)
	}
	if _, err := infer.EvalCheckpoint(cfg, filepath.Join(out, "best.safetensors"), "test", 1); err == nil || !strings.Contains(err.Error(), `unknown class "fish"`) {
		t.Errorf("test file with an unknown class: %v", err)
	}
}

// TestInterruptAndStopAtAnEpochsEnd: a signal that arrives during an
// epoch's last batch stops the run there with last.safetensors saved at
// that step, and so does training.steps ending on an epoch boundary, even
// when checkpoint.every_epochs would not save that epoch.
func TestInterruptAndStopAtAnEpochsEnd(t *testing.T) {
	dir := t.TempDir()
	writeBlobs(t, dir, 200)
	// One batch per epoch: every step is an epoch's last.
	cfg := loadConfig(t, dir, blobsConfig, "training.batch_size=512", "training.epochs=5", "checkpoint.every_epochs=1000")
	// The signal comes once training started (one before stops the run
	// before it writes anything).
	log := &signalAtStart{sig: make(chan os.Signal, 1)}
	_, err := Run(cfg, Options{OutDir: filepath.Join(dir, "int"), Interrupt: log.sig, Log: log})
	var ie *InterruptedError
	if !errors.As(err, &ie) || ie.Step != 1 {
		t.Fatalf("want an interruption after step 1, got %v", err)
	}
	if _, st, err := checkpoint.Read(filepath.Join(dir, "int", "last.safetensors")); err != nil || st.Step != 1 || st.Epoch != 1 {
		t.Errorf("last.safetensors at epoch %d step %d (%v), want epoch 1 step 1", st.Epoch, st.Step, err)
	}
	// training.steps on an epoch boundary (2 batches per epoch here).
	cfg = loadConfig(t, dir, blobsConfig, "training.batch_size=96", "training.epochs=5", "checkpoint.every_epochs=1000", "training.steps=4")
	if _, err := Run(cfg, Options{OutDir: filepath.Join(dir, "steps")}); err != nil {
		t.Fatal(err)
	}
	if _, st, err := checkpoint.Read(filepath.Join(dir, "steps", "last.safetensors")); err != nil || st.Step != 4 || st.Epoch != 2 {
		t.Errorf("last.safetensors at epoch %d step %d (%v), want epoch 2 step 4", st.Epoch, st.Step, err)
	}
}
