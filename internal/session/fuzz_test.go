package session

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/nettrain/nettrain/internal/checkpoint"
	"github.com/nettrain/nettrain/internal/checkpoint/cktest"
)

// resumeKeys are the metadata keys a resume uses, the fuzz target's seeds.
var resumeKeys = []string{"format", "epoch", "batch_in_epoch", "step", "best_val_loss", "metrics_rows", "rng", "dtype",
	"epoch_loss_sum", "epoch_samples", "epoch_norm_sum", "epoch_steps", "elapsed_s", "lr_scale", "skipped", "early_stop_best", "early_stop_best_step", "early_stop_bad", "sched_lr",
	"sched_best", "sched_bad", "sched_cooldown", "resume_sections", "optimizer", "optimizer_steps", "lr", "metadata_checksum",
	"data_fingerprint"}

// FuzzResumeMetadata resumes a real interrupted run from its last
// checkpoint with one or two metadata entries changed ("\x00" deletes the
// entry), the metadata checksum recomputed or left stale. Whatever the
// change, the resume never panics, ends within a few seconds (the run is 3
// epochs of 3 batches), and never deletes a metrics row of the run being
// resumed: a refused resume leaves every file of the run directory as it
// was, an accepted one keeps the rows of the epochs up to the checkpoint's.
//
//	go test ./internal/session -run XXX -fuzz FuzzResumeMetadata -fuzztime 60s
func FuzzResumeMetadata(f *testing.F) {
	dir := f.TempDir()
	writeBlobs(f, dir, 60) // 48 training samples: 3 batches of 16
	template := filepath.Join(dir, "template")
	cfg := loadConfig(f, dir, blobsConfig, "training.steps=4") // stops at epoch 1, batch 1
	if _, err := Run(cfg, Options{OutDir: template}); err != nil {
		f.Fatal(err)
	}
	resume := loadConfig(f, dir, blobsConfig) // 3 epochs
	origRows := csvRows(f, filepath.Join(template, "metrics.csv"))

	for _, k := range resumeKeys {
		for i, v := range []string{"\x00", "-1", "0", "2", "5", "17", "NaN", "+Inf", "x"} {
			f.Add(k, v, "", "", i%3 != 0)
		}
	}
	f.Add("epoch", "2", "step", "7", true)
	f.Add("batch_in_epoch", "2", "step", "5", true)
	f.Add("epoch", "0", "step", "1", true)
	f.Add("metrics_rows", "0", "epoch", "0", true)
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string, fix bool) {
		if !utf8.ValidString(k1+v1+k2+v2) || k1 == "" || k1 == "__metadata__" || k2 == "__metadata__" {
			t.Skip("safetensors metadata is valid UTF-8 under other keys")
		}
		run := filepath.Join(t.TempDir(), "run")
		if err := os.CopyFS(run, os.DirFS(template)); err != nil {
			t.Fatal(err)
		}
		last := filepath.Join(run, "last.safetensors")
		edit := func(meta map[string]string, _ map[string]any) {
			for _, kv := range [][2]string{{k1, v1}, {k2, v2}} {
				switch {
				case kv[0] == "":
				case kv[1] == "\x00":
					delete(meta, kv[0])
				default:
					meta[kv[0]] = kv[1]
				}
			}
		}
		var err error
		if fix {
			err = cktest.Edit(last, last, edit)
		} else {
			err = cktest.EditStale(last, last, edit)
		}
		if err != nil {
			t.Skip(err)
		}
		before := snapshot(t, run)

		done := make(chan error, 1)
		go func() {
			_, err := Run(resume, Options{Resume: last})
			done <- err
		}()
		select {
		case err = <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("the resume with %q=%q, %q=%q (fix %v) is still running after 20s", k1, v1, k2, v2, fix)
		}
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("a message on more than one line: %q", err)
			}
			if d := sameFiles(before, snapshot(t, run)); d != "" {
				t.Fatalf("the refused resume (%v) changed the run directory: %s", err, d)
			}
			return
		}
		// Accepted: the rows of the epochs up to the checkpoint's are kept.
		accepted := acceptedEpoch(t, before["last.safetensors"], run)
		now := csvRows(t, filepath.Join(run, "metrics.csv"))
		for i, row := range origRows {
			if rowEpoch(row) > accepted {
				break
			}
			if i >= len(now) || now[i] != row {
				t.Fatalf("row %d of metrics.csv (%q) was lost or changed by the resume with %q=%q, %q=%q", i+1, row, k1, v1, k2, v2)
			}
		}
	})
}

// acceptedEpoch is the epoch of the checkpoint a resume started from (its
// bytes as they were), read with the package's own reader.
func acceptedEpoch(t *testing.T, ck string, dir string) int {
	t.Helper()
	p := filepath.Join(dir, "accepted.safetensors")
	os.WriteFile(p, []byte(ck), 0o644)
	_, st, err := checkpoint.Read(p)
	if err != nil {
		t.Fatalf("a resume accepted a checkpoint that Read refuses: %v", err)
	}
	return st.Epoch
}

// csvRows are the data rows of a metrics.csv.
func csvRows(t testing.TB, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	return lines[1:]
}

// rowEpoch is the epoch column of a metrics row.
func rowEpoch(row string) int {
	e, _, _ := strings.Cut(row, ",")
	n := 0
	for _, c := range e {
		n = n*10 + int(c-'0')
	}
	return n
}
