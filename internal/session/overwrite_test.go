package session

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOverwriteFailingBeforeItsFirstCheckpointKeepsTheOldRun: --overwrite
// sets the old run aside and puts it back when the new run fails before
// its first last.safetensors (a metrics file that cannot be opened or
// written: a read-only or full disk), and the error says so; before, the
// old run's files were removed first and lost with the failed run.
func TestOverwriteFailingBeforeItsFirstCheckpointKeepsTheOldRun(t *testing.T) {
	dir := t.TempDir()
	writeBlobs(t, dir, 60)
	open := openMetricsFile
	defer func() { openMetricsFile = open }()
	for _, tc := range []struct {
		name   string
		failOn string // the metrics file that fails
		write  bool   // opening works, writing fails
		sets   []string
	}{
		{"csv open", "metrics.csv", false, nil},
		{"jsonl open", "metrics.jsonl", false, nil},
		{"csv header", "metrics.csv", true, nil},
		{"jsonl header with tensorboard", "metrics.jsonl", true, []string{"training.tensorboard=true"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
			cfg := loadConfig(t, dir, blobsConfig, append([]string{"training.epochs=1", "checkpoint.every_steps=2"}, tc.sets...)...)
			if _, err := Run(cfg, Options{OutDir: old}); err != nil {
				t.Fatal(err)
			}
			before := snapshot(t, old)
			openMetricsFile = failingOpen(open, tc.failOn, tc.write)
			_, err := Run(cfg, Options{OutDir: old, Overwrite: true})
			openMetricsFile = open
			if err == nil || !strings.Contains(err.Error(), tc.failOn) || !strings.Contains(err.Error(), "is back in") || strings.Contains(err.Error(), "\n") {
				t.Errorf("%v, want a one-line error naming %s and saying the old run is back", err, tc.failOn)
			}
			if d := sameFiles(before, snapshot(t, old)); d != "" {
				t.Errorf("the failed --overwrite changed the old run: %s", d)
			}
			// The same command again, without the failure, replaces the old run.
			if _, err := Run(cfg, Options{OutDir: old, Overwrite: true}); err != nil {
				t.Fatalf("--overwrite again: %v", err)
			}
			if _, err := os.Stat(filepath.Join(old, asideName)); !os.IsNotExist(err) {
				t.Errorf("a successful --overwrite left %s: %v", asideName, err)
			}
		})
	}
}

// TestKilledOverwriteIsRecovered: a run killed (kill -9) while --overwrite
// had the old run set aside leaves it in the hidden .nettrain-overwritten,
// and the next run in the directory finishes or undoes the overwrite
// before its checks: the old run is put back when the new one had no
// checkpoint (whether or not the move aside was complete), and removed
// when it had. A locked directory (the overwrite still running) is left
// alone.
func TestKilledOverwriteIsRecovered(t *testing.T) {
	dir := t.TempDir()
	writeBlobs(t, dir, 60)
	cfg := loadConfig(t, dir, blobsConfig, "training.epochs=1")
	src := filepath.Join(dir, "src")
	if _, err := Run(cfg, Options{OutDir: src}); err != nil {
		t.Fatal(err)
	}
	oldRun := snapshot(t, src)
	newRun := map[string]string{"config.yaml": "new", "metrics.csv": "epoch\n", "metrics.jsonl": ""}
	for _, tc := range []struct {
		name     string
		inDir    map[string]string // the run directory's files as the kill left them
		aside    []string          // the old run's files moved aside
		complete bool              // the move aside was complete
		locked   bool              // the killed run still holds the lock
		want     map[string]string // the directory afterwards
		note     string
	}{
		{"killed during the move", map[string]string{"metrics.csv": oldRun["metrics.csv"], "status.json": oldRun["status.json"]},
			[]string{"last.safetensors", "best.safetensors", "config.yaml", "metrics.jsonl", "curves.png", "curves.svg"}, false, false, oldRun, "put back"},
		{"killed before the first checkpoint", newRun, nil, true, false, oldRun, "put back"},
		{"killed after the first checkpoint", map[string]string{"config.yaml": "new", "last.safetensors": "new"}, nil, true, false,
			map[string]string{"config.yaml": "new", "last.safetensors": "new"}, "removed"},
		{"still running", newRun, nil, true, true, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
			sub := filepath.Join(out, asideName)
			os.MkdirAll(sub, 0o755)
			aside := tc.aside
			if tc.complete {
				aside = nil
				for n := range oldRun {
					aside = append(aside, n)
				}
				os.WriteFile(filepath.Join(sub, asideDone), nil, 0o644)
			}
			for _, n := range aside {
				os.WriteFile(filepath.Join(sub, n), []byte(oldRun[n]), 0o644)
			}
			for n, v := range tc.inDir {
				os.WriteFile(filepath.Join(out, n), []byte(v), 0o644)
			}
			want := tc.want
			if tc.locked {
				l, err := lockDir(out, "run directory", nil)
				if err != nil {
					t.Fatal(err)
				}
				defer l.unlock()
				want = snapshot(t, out)
				wantAside := snapshot(t, sub)
				defer func() {
					if d := sameFiles(wantAside, snapshot(t, sub)); d != "" {
						t.Errorf("a run in a locked directory changed %s: %s", asideName, d)
					}
				}()
			}
			var log bytes.Buffer
			_, err := Run(cfg, Options{OutDir: out, Log: &log}) // refused: the directory holds a run
			if err == nil {
				t.Fatal("a run into a directory holding a run was not refused")
			}
			if tc.locked {
				if !strings.Contains(err.Error(), "in use") {
					t.Errorf("%v, want the lock's refusal", err)
				}
			} else if !strings.Contains(log.String(), tc.note) || !strings.Contains(log.String(), asideName) {
				t.Errorf("log %q, want a note that the old run was %s", log.String(), tc.note)
			}
			if !tc.locked {
				if _, err := os.Stat(sub); !os.IsNotExist(err) {
					t.Errorf("%s is still there: %v", asideName, err)
				}
			}
			if d := sameFiles(want, snapshot(t, out)); d != "" {
				t.Errorf("the run directory afterwards: %s", d)
			}
		})
	}
}

// TestMoveBackDropsTheMarkerFirst: putting an overwritten run back starts
// by removing the marker of a complete move aside, so that a process
// stopped halfway (here: a file in the way) leaves a state recoverAside
// moves back, not one it takes for a new run's first checkpoint (the old
// last.safetensors already back) and deletes.
func TestMoveBackDropsTheMarkerFirst(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, asideName)
	os.MkdirAll(sub, 0o755)
	old := map[string]string{"best.safetensors": "old best", "last.safetensors": "old last", "metrics.csv": "old metrics"}
	for n, v := range old {
		os.WriteFile(filepath.Join(sub, n), []byte(v), 0o644)
	}
	os.WriteFile(filepath.Join(sub, asideDone), nil, 0o644)
	os.WriteFile(filepath.Join(dir, "metrics.csv"), []byte("in the way"), 0o644)
	a := &aside{dir: dir, sub: sub}
	if err := a.moveBack(); err == nil {
		t.Fatal("moveBack over a file in the way succeeded")
	}
	if _, err := os.Stat(filepath.Join(sub, asideDone)); err == nil {
		t.Fatal("the marker is still there with the old last.safetensors back: recovery would delete the old run")
	}
	os.Remove(filepath.Join(dir, "metrics.csv"))
	var log bytes.Buffer
	if err := recoverAside(dir, &log); err != nil {
		t.Fatal(err)
	}
	for n, v := range old {
		if b, err := os.ReadFile(filepath.Join(dir, n)); err != nil || string(b) != v {
			t.Errorf("%s: %q %v, want %q", n, b, err, v)
		}
	}
	if _, err := os.Stat(sub); err == nil {
		t.Errorf("%s is left", asideName)
	}
}

// TestResumeFromASetAsideRun: resuming into another directory from a
// checkpoint that an interrupted --overwrite set aside says where it is and
// how to put it back, rather than only that the file does not exist.
func TestResumeFromASetAsideRun(t *testing.T) {
	dir := t.TempDir()
	writeBlobs(t, dir, 60)
	cfg := loadConfig(t, dir, blobsConfig, "training.epochs=1")
	src := filepath.Join(dir, "src")
	sub := filepath.Join(src, asideName)
	os.MkdirAll(sub, 0o755)
	os.WriteFile(filepath.Join(sub, "last.safetensors"), []byte("old"), 0o644)
	_, err := Run(cfg, Options{OutDir: filepath.Join(dir, "other"), Resume: filepath.Join(src, "last.safetensors"), Log: io.Discard})
	want := "an interrupted --overwrite set the run of " + src + " aside in " + sub + ": run nettrain train with --out " + src + " to put it back first"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v\nwant it to say %q", err, want)
	}
}
