package session

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nettrain/nettrain/internal/checkpoint"
	"github.com/nettrain/nettrain/internal/checkpoint/cktest"
	"github.com/nettrain/nettrain/internal/infer"
)

// interruptedRun trains blobs (160 training samples: 10 batches of 16 per
// epoch) and stops after 14 steps, inside epoch 2: its last.safetensors
// is at epoch 1, batch 4, step 14, and keeps 1 of the 2 rows of
// metrics.csv (the second is epoch 2's partial row, which a resume redoes).
func interruptedRun(t *testing.T, dir, out string) {
	t.Helper()
	cfg := loadConfig(t, dir, blobsConfig, "training.steps=14")
	if _, err := Run(cfg, Options{OutDir: out}); err != nil {
		t.Fatal(err)
	}
}

// copyRun copies the files of run directory src into a new directory dst.
func copyRun(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
}

// snapshot is the name and content of every file in dir.
func snapshot(t testing.TB, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		m[e.Name()] = string(b)
	}
	return m
}

// sameFiles reports the first difference between two snapshots.
func sameFiles(a, b map[string]string) string {
	for name, v := range a {
		if w, ok := b[name]; !ok {
			return name + " was removed"
		} else if v != w {
			return name + " changed"
		}
	}
	for name := range b {
		if _, ok := a[name]; !ok {
			return name + " was created"
		}
	}
	return ""
}

// TestResumeChecksTheCheckpoint: a resume refuses a checkpoint whose
// metadata (with valid checksums) does not fit the config, the data or the
// run directory, and one without nettrain's training state, with one line
// naming the file and the field, before it changes anything in the run
// directory (no file is written, removed or changed). Before, these looped forever writing NaN rows, deleted
// metrics rows, or restarted the run at epoch 1.
func TestResumeChecksTheCheckpoint(t *testing.T) {
	dir := t.TempDir()
	writeBlobs(t, dir, 200)
	orig := filepath.Join(dir, "orig")
	interruptedRun(t, dir, orig)

	set := func(kv ...string) func(map[string]string, map[string]any) {
		return func(meta map[string]string, _ map[string]any) {
			for i := 0; i < len(kv); i += 2 {
				if kv[i+1] == "" {
					delete(meta, kv[i])
				} else {
					meta[kv[i]] = kv[i+1]
				}
			}
		}
	}
	tests := []struct {
		name  string
		edit  func(map[string]string, map[string]any)
		setup func(run string) // changes the run directory
		want  string           // |-separated parts, in order
	}{
		{name: "batch_in_epoch at the epoch's end", edit: set("batch_in_epoch", "10", "step", "20"),
			want: `metadata "batch_in_epoch" is 10, but an epoch has 10 batches`},
		{name: "batch_in_epoch beyond the epoch", edit: set("batch_in_epoch", "26", "step", "36"),
			want: `metadata "batch_in_epoch" is 26, but an epoch has 10 batches`},
		{name: "epoch beyond training.epochs", edit: set("epoch", "4", "step", "44"),
			want: `metadata "epoch" is 4, but training.epochs is 3`},
		{name: "step off the position", edit: set("step", "15"),
			want: `metadata "step" is 15, but epoch 1 and batch 4 of 10 batches per epoch make 14 steps`},
		{name: "more epoch samples than batches done", edit: set("epoch_samples", "65"),
			want: `metadata "epoch_samples" is 65, more than the 64 samples of the 4 batches done`},
		{name: "metrics_rows short of the finished epochs", edit: set("metrics_rows", "0"),
			want: `metadata "metrics_rows" is 0, but |metrics.csv holds 1 row before step 14 (the checkpoint's)`},
		{name: "metrics_rows beyond metrics.csv", setup: func(run string) {
			os.WriteFile(filepath.Join(run, "metrics.csv"), []byte(strings.Join(metricsHeader, ",")+"\n"), 0o644)
		}, want: `metadata "metrics_rows" is 1, but |metrics.csv holds 0 rows`},
		{name: "no metadata", edit: func(meta map[string]string, _ map[string]any) { clear(meta) },
			want: "holds no nettrain training state"},
		{name: "unknown format", edit: set("format", "nettrain-checkpoint/9"),
			want: `metadata "format" is "nettrain-checkpoint/9"`},
		// The stored config is what the model is checked against: one that
		// does not read, or none, is refused rather than left unchecked.
		{name: "stored config unreadable", edit: set("config", "model: [layers"),
			want: `metadata "config" (the config the run trained with) does not read, so the model it was trained with cannot be checked against|invalid YAML`},
		{name: "stored config removed", edit: set("config", ""),
			want: `metadata "config" (the config the run trained with) is missing or empty`},
		{name: "stored config of another activation", edit: func(meta map[string]string, _ map[string]any) {
			delete(meta, "resume_sections") // as in a checkpoint written before them
			meta["config"] = strings.Replace(meta["config"], "- relu", "- tanh", 1)
		}, want: `model.layers.1: layer 1 is relu, but |was trained with tanh there`},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			run := filepath.Join(dir, "run"+string(rune('a'+i)))
			copyRun(t, orig, run)
			last := filepath.Join(run, "last.safetensors")
			if tc.edit != nil {
				if err := cktest.Edit(last, last, tc.edit); err != nil {
					t.Fatal(err)
				}
			}
			if tc.setup != nil {
				tc.setup(run)
			}
			before := snapshot(t, run)
			cfg := loadConfig(t, dir, blobsConfig)
			done := make(chan error, 1)
			go func() {
				_, err := Run(cfg, Options{Resume: last})
				done <- err
			}()
			var err error
			select {
			case err = <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("the resume is still running after 30s")
			}
			if err == nil || !containsInOrder(err.Error(), strings.Split(tc.want, "|")) || !strings.Contains(err.Error(), last) {
				t.Fatalf("resume: %v\nwant an error naming %s and containing %s", err, last, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("the message takes more than one line: %q", err)
			}
			if d := sameFiles(before, snapshot(t, run)); d != "" {
				t.Errorf("the refused resume changed the run directory: %s", d)
			}
		})
	}
}

// containsInOrder reports whether s holds every part, in order.
func containsInOrder(s string, parts []string) bool {
	for _, p := range parts {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return true
}

// TestResumeIntoANewDirectoryTwice: a run resumed into a new --out
// directory starts its metrics there, and its own checkpoints count the
// rows that directory holds, so it resumes again (the rows of the first
// directory's epochs are not there to keep).
func TestResumeIntoANewDirectoryTwice(t *testing.T) {
	dir := t.TempDir()
	writeBlobs(t, dir, 200)
	interruptedRun(t, dir, filepath.Join(dir, "a"))
	// Into b, stopping again inside epoch 3; then on to the end in b.
	steps := loadConfig(t, dir, blobsConfig, "training.steps=25")
	if _, err := Run(steps, Options{OutDir: filepath.Join(dir, "b"), Resume: filepath.Join(dir, "a", "last.safetensors")}); err != nil {
		t.Fatal(err)
	}
	full := loadConfig(t, dir, blobsConfig)
	res, err := Run(full, Options{Resume: filepath.Join(dir, "b", "last.safetensors")})
	if err != nil {
		t.Fatal(err)
	}
	rows := stable(t, filepath.Join(dir, "b", "metrics.csv"))
	if len(rows) != 3 || !strings.HasPrefix(rows[1], "2,") || !strings.HasPrefix(rows[2], "3,") || len(res.Rows) != 1 {
		t.Errorf("b's metrics: %q", rows)
	}
	// Into b again with --overwrite: b's rows belong to the run being
	// replaced, not to a's checkpoint, and are cleared.
	if _, err := Run(full, Options{OutDir: filepath.Join(dir, "b"), Resume: filepath.Join(dir, "a", "last.safetensors"), Overwrite: true}); err != nil {
		t.Fatal(err)
	}
	if rows := stable(t, filepath.Join(dir, "b", "metrics.csv")); len(rows) != 3 || !strings.HasPrefix(rows[1], "2,") {
		t.Errorf("b's metrics after --overwrite: %q", rows)
	}
}

// TestResumedSummaryWithoutABest: a run resumed into a new directory that
// stops before any evaluation that could beat the best it resumed with
// writes no best.safetensors there, and its summary sends the user to
// the last checkpoint, not to a file that does not exist.
func TestResumedSummaryWithoutABest(t *testing.T) {
	dir := t.TempDir()
	writeBlobs(t, dir, 200)
	interruptedRun(t, dir, filepath.Join(dir, "a")) // step 14, inside epoch 2
	var log strings.Builder
	cfg := loadConfig(t, dir, blobsConfig, "training.steps=17")
	if _, err := Run(cfg, Options{OutDir: filepath.Join(dir, "c"), Resume: filepath.Join(dir, "a", "last.safetensors"), Log: &log}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "c", "best.safetensors")); err == nil {
		t.Fatal("c has a best.safetensors: this test needs a resumed run that evaluates no candidate")
	}
	if strings.Contains(log.String(), filepath.Join(dir, "c", "best.safetensors")) ||
		!strings.Contains(log.String(), "--checkpoint "+filepath.Join(dir, "c", "last.safetensors")) ||
		!strings.Contains(log.String(), "no evaluation of this run beat the best it resumed with") {
		t.Errorf("the summary of a run resumed into c:\n%s", log.String())
	}
}

// TestChangedDataIsRefused: a resume, and an evaluation on the training or
// validation split, refuse data whose contents differ from what the
// checkpoint was trained on, naming the data key and what changed. Before,
// a CSV shrunk after an interruption resumed into an endless loop of
// identical rows, and changed values went unnoticed (only the config's text
// was hashed).
func TestChangedDataIsRefused(t *testing.T) {
	dir := t.TempDir()
	writeBlobs(t, dir, 200)
	orig := filepath.Join(dir, "orig")
	interruptedRun(t, dir, orig)
	csv := filepath.Join(dir, "blobs.csv")
	good, _ := os.ReadFile(csv)
	lines := strings.SplitAfter(string(good), "\n")
	edited := append([]string(nil), lines...)
	edited[7] = "9,9,9,9,1\n" // one sample's values, the same count

	tests := []struct {
		name string
		data string
		want string
	}{
		{"shrunk", strings.Join(lines[:181], ""), "data.train (blobs.csv): the file has 180 samples, the checkpoint was trained on 200"},
		{"grown", string(good) + "1,1,1,1,2\n", "data.train (blobs.csv): the file has 201 samples, the checkpoint was trained on 200"},
		{"one sample changed", strings.Join(edited, ""), "data.train (blobs.csv): the samples differ from those the checkpoint was trained on (the same 200 samples"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			os.WriteFile(csv, []byte(tc.data), 0o644)
			defer os.WriteFile(csv, good, 0o644)
			run := filepath.Join(dir, "run"+string(rune('a'+i)))
			copyRun(t, orig, run)
			last := filepath.Join(run, "last.safetensors")
			before := snapshot(t, run)
			cfg := loadConfig(t, dir, blobsConfig)
			done := make(chan error, 1)
			go func() {
				_, err := Run(cfg, Options{Resume: last})
				done <- err
			}()
			var err error
			select {
			case err = <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("the resume is still running after 30s")
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), last) {
				t.Errorf("resume: %v\nwant an error naming %s and containing %s", err, last, tc.want)
			}
			if d := sameFiles(before, snapshot(t, run)); d != "" {
				t.Errorf("the refused resume changed the run directory: %s", d)
			}
			for _, split := range []infer.Split{infer.Validation, infer.Training} {
				_, err := infer.EvalCheckpoint(cfg, last, split, 1)
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("eval --split %s: %v\nwant an error containing %s", split, err, tc.want)
				}
			}
		})
	}
	// The data as it was: both work.
	cfg := loadConfig(t, dir, blobsConfig)
	if _, err := infer.EvalCheckpoint(cfg, filepath.Join(orig, "last.safetensors"), infer.Validation, 1); err != nil {
		t.Errorf("eval on the unchanged data: %v", err)
	}
	if _, err := Run(cfg, Options{Resume: filepath.Join(orig, "last.safetensors")}); err != nil {
		t.Errorf("resume on the unchanged data: %v", err)
	}
}

// TestPlainWeightsStillLoad: a checkpoint without nettrain's metadata (as
// exported from PyTorch, or stripped), which a resume refuses, still works
// as model.init_from and for eval.
func TestPlainWeightsStillLoad(t *testing.T) {
	dir := t.TempDir()
	writeBlobs(t, dir, 60)
	cfg := loadConfig(t, dir, blobsConfig, "training.epochs=1")
	if _, err := Run(cfg, Options{OutDir: filepath.Join(dir, "run")}); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(dir, "plain.safetensors")
	err := cktest.Edit(filepath.Join(dir, "run", "last.safetensors"), plain, func(meta map[string]string, ts map[string]any) {
		clear(meta)
		for name := range ts {
			if strings.HasPrefix(name, "optimizer.") {
				delete(ts, name)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := infer.EvalCheckpoint(cfg, plain, infer.Validation, 1); err != nil {
		t.Errorf("eval: %v", err)
	}
	init := loadConfig(t, dir, blobsConfig, "training.epochs=1", "model.init_from="+plain)
	if _, err := Run(init, Options{OutDir: filepath.Join(dir, "init")}); err != nil {
		t.Errorf("model.init_from: %v", err)
	}
	if _, err := Run(cfg, Options{OutDir: filepath.Join(dir, "resumed"), Resume: plain}); err == nil || !strings.Contains(err.Error(), "holds no nettrain training state") {
		t.Errorf("resume: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "resumed")); !os.IsNotExist(err) {
		t.Errorf("the refused resume left its directory behind: %v", err)
	}
}

// TestWrittenCheckpointsLoad: every checkpoint training writes passes the
// checks on its stored preprocessing (a known method, no column named
// twice, scales > 0 and within data.MaxScale), whatever the normalisation
// and dtype, with a constant column (scale 1) and one whose spread is a
// few of float32's smallest normal numbers (a scale near 2^126), for
// tables and series: the checks refuse only what training never writes.
func TestWrittenCheckpointsLoad(t *testing.T) {
	dir := t.TempDir()
	var tab, ser strings.Builder
	tab.WriteString("a,const,tiny,label\n")
	ser.WriteString("a,const,tiny\n")
	for i := range 60 {
		tiny := float32(0)
		if i%2 == 1 {
			tiny = 0x1p-124
		}
		fmt.Fprintf(&tab, "%g,7,%g,%d\n", float64(i%5)-2, tiny, i%3)
		fmt.Fprintf(&ser, "%g,7,%g\n", float64(i%5)-2+float64(i)/10, tiny)
	}
	os.WriteFile(filepath.Join(dir, "t.csv"), []byte(tab.String()), 0o644)
	os.WriteFile(filepath.Join(dir, "s.csv"), []byte(ser.String()), 0o644)
	const table = `data: {train: t.csv, validation_split: 0.2}
model:
  layers: [{dense: {units: 4}}, relu, {dense: {units: classes}}]
training: {epochs: 1, batch_size: 16}
`
	const series = `data:
  train: s.csv
  validation_split: 0.2
  sequence: {kind: series, window: 3, difference: true}
model:
  layers: [{lstm: {units: 4}}, {dense: {units: 3}}]
loss: mse
training: {epochs: 1, batch_size: 16}
`
	for _, src := range []struct{ name, cfg string }{{"table", table}, {"series", series}} {
		for _, dtype := range []string{"float32", "float64"} {
			for _, norm := range []string{"none", "unit", "standardize", "minmax"} {
				name := src.name + "-" + dtype + "-" + norm
				t.Run(name, func(t *testing.T) {
					cfg := loadConfig(t, dir, src.cfg, "name="+name, "dtype="+dtype, "data.normalize="+norm)
					out := filepath.Join(dir, name)
					if _, err := Run(cfg, Options{OutDir: out}); err != nil {
						t.Fatal(err)
					}
					_, st, err := checkpoint.Read(filepath.Join(out, "last.safetensors"))
					if err != nil {
						t.Fatal(err)
					}
					// A series stores unit as none: floats are left as they are.
					if p := st.Preprocess; p == nil || p.Normalize != norm && !(norm == "unit" && p.Normalize == "none") {
						t.Fatalf("preprocess %+v", st.Preprocess)
					}
					if _, err := infer.EvalCheckpoint(cfg, filepath.Join(out, "last.safetensors"), infer.Validation, 1); err != nil {
						t.Errorf("eval: %v", err)
					}
				})
			}
		}
	}
}
