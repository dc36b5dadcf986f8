package session

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/nettrain/nettrain/internal/checkpoint"
)

// block puts a non-empty directory where the file name of dir is (after
// moving the file aside), so that opening, replacing or removing it fails
// as on an immutable file; the returned function puts the file back.
func block(t *testing.T, dir, name string) func() {
	t.Helper()
	p := filepath.Join(dir, name)
	aside := p + ".aside"
	if err := os.Rename(p, aside); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(p, "blocked"), 0o755); err != nil {
		t.Fatal(err)
	}
	return func() {
		os.RemoveAll(p)
		os.Rename(aside, p)
	}
}

// fifo puts a named pipe where the file name of dir is; the returned
// function puts the file back.
func fifo(t *testing.T, dir, name string) func() {
	t.Helper()
	p := filepath.Join(dir, name)
	aside := p + ".aside"
	if err := os.Rename(p, aside); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	return func() {
		os.Remove(p)
		os.Rename(aside, p)
	}
}

// regularSnapshot is snapshot with the type of what is not a regular file
// in place of its content (a named pipe is not read).
func regularSnapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, e := range entries {
		if e.Type().IsRegular() {
			b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
			m[e.Name()] = string(b)
		} else {
			m[e.Name()] = e.Type().String()
		}
	}
	return m
}

// TestFailedResumeLeavesTheRunAsItWas: a resume that fails before it
// trains (a metrics file or config.yaml it cannot replace, a status.json
// it cannot remove) leaves the run directory exactly as it was: its
// status.json says the run finished, config.yaml is the run's. Before,
// status.json was removed and config.yaml rewritten first, and the board
// then listed the finished run as interrupted; a named pipe for a metrics
// file blocked the resume for ever.
func TestFailedResumeLeavesTheRunAsItWas(t *testing.T) {
	dir := t.TempDir()
	writeBlobs(t, dir, 200)
	base := filepath.Join(dir, "base")
	if _, err := Run(loadConfig(t, dir, blobsConfig, "training.epochs=2"), Options{OutDir: base}); err != nil {
		t.Fatal(err)
	}
	more := loadConfig(t, dir, blobsConfig, "training.epochs=4")
	for _, tc := range []struct {
		blocked string
		fifo    bool // a named pipe stands for it (which must not block)
	}{
		{"metrics.jsonl", false}, {"metrics.csv", false}, {"config.yaml", false}, {StatusFile, false},
		{"metrics.jsonl", true}, {"metrics.csv", true},
	} {
		blocked := tc.blocked
		name := blocked
		if tc.fifo {
			name += "-fifo"
		}
		t.Run(name, func(t *testing.T) {
			run := filepath.Join(dir, name)
			copyRun(t, base, run)
			last := filepath.Join(run, "last.safetensors")
			var unblock func()
			if tc.fifo {
				unblock = fifo(t, run, blocked)
			} else {
				unblock = block(t, run, blocked)
			}
			before := regularSnapshot(t, run)
			_, err := Run(more, Options{Resume: last})
			after := regularSnapshot(t, run)
			unblock()
			if err == nil || !strings.Contains(err.Error(), filepath.Join(run, blocked)) {
				t.Fatalf("resume with %s blocked: %v, want an error naming it", blocked, err)
			}
			if d := sameFiles(before, after); d != "" {
				t.Errorf("the failed resume changed the run directory: %s", d)
			}
			// Unblocked, the same resume trains on.
			if _, err := Run(more, Options{Resume: last}); err != nil {
				t.Fatal(err)
			}
			if b, _ := os.ReadFile(filepath.Join(run, "config.yaml")); !bytes.Contains(b, []byte("epochs: 4")) {
				t.Errorf("config.yaml after the resume:\n%s", b)
			}
		})
	}
}

// TestRunDirWithoutCheckpointSuggestsOverwrite: a directory that holds a
// run but no last.safetensors (one that failed before its first
// checkpoint, by an earlier nettrain) is refused without suggesting a
// --resume from a file that does not exist.
func TestRunDirWithoutCheckpointSuggestsOverwrite(t *testing.T) {
	dir := t.TempDir()
	writeBlobs(t, dir, 60)
	cfg := loadConfig(t, dir, blobsConfig, "training.epochs=1")
	for _, tc := range []struct {
		name       string
		files      []string
		wantResume bool
	}{
		{"no checkpoint", []string{"config.yaml", "metrics.csv", "metrics.jsonl"}, false},
		{"checkpoint", []string{"config.yaml", "metrics.csv", "metrics.jsonl", "last.safetensors"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
			os.MkdirAll(out, 0o755)
			for _, f := range tc.files {
				os.WriteFile(filepath.Join(out, f), nil, 0o644)
			}
			_, err := Run(cfg, Options{OutDir: out})
			if err == nil || !strings.Contains(err.Error(), "--overwrite") {
				t.Fatalf("%v, want a refusal suggesting --overwrite", err)
			}
			if got := strings.Contains(err.Error(), "--resume"); got != tc.wantResume {
				t.Errorf("suggests --resume: %v, want %v: %v", got, tc.wantResume, err)
			}
		})
	}
}

// TestNewRunFailingBeforeItsFirstCheckpointLeavesNothing: a new run whose
// metrics cannot be opened or written (a full or read-only disk) removes
// what it wrote, and its directory when it created it, so that the same
// command runs again; before, config.yaml and empty metrics were left, and
// the rerun was told to resume from a last.safetensors that did not exist.
// failingOpen is openMetricsFile (open) but for the metrics file failOn:
// its open fails as on a read-only disk, or with write it opens read-only
// so that its first write fails, as on a full disk.
func failingOpen(open func(string) (*os.File, error), failOn string, write bool) func(string) (*os.File, error) {
	return func(path string) (*os.File, error) {
		if filepath.Base(path) != failOn {
			return open(path)
		}
		if write {
			return os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o644)
		}
		return nil, &os.PathError{Op: "open", Path: path, Err: syscall.EROFS}
	}
}

func TestNewRunFailingBeforeItsFirstCheckpointLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	writeBlobs(t, dir, 60)
	open := openMetricsFile
	defer func() { openMetricsFile = open }()
	for _, tc := range []struct {
		name   string
		failOn string // the metrics file that fails
		write  bool   // opening works, writing fails
		exists bool   // the run directory exists (empty) before
		sets   []string
	}{
		{"csv open", "metrics.csv", false, false, nil},
		{"jsonl open", "metrics.jsonl", false, false, nil},
		{"csv header", "metrics.csv", true, false, nil},
		{"csv header in an existing directory", "metrics.csv", true, true, nil},
		{"tensorboard", "metrics.csv", true, false, []string{"training.tensorboard=true"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
			if tc.exists {
				os.Mkdir(out, 0o755)
			}
			openMetricsFile = failingOpen(open, tc.failOn, tc.write)
			cfg := loadConfig(t, dir, blobsConfig, append([]string{"training.epochs=1"}, tc.sets...)...)
			_, err := Run(cfg, Options{OutDir: out})
			if err == nil || !strings.Contains(err.Error(), tc.failOn) {
				t.Fatalf("%v, want an error naming %s", err, tc.failOn)
			}
			entries, statErr := os.ReadDir(out)
			if tc.exists && (statErr != nil || len(entries) > 0) || !tc.exists && !os.IsNotExist(statErr) {
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				t.Errorf("the failed run left %v (%v)", names, statErr)
			}
			openMetricsFile = open
			if _, err := Run(cfg, Options{OutDir: out}); err != nil {
				t.Errorf("the same command again: %v", err)
			}
		})
	}
}

// signalAtStart is a run's log that sends SIGINT on sig when the run says
// it starts training (its "training ..." line): a signal that comes once
// training has begun.
type signalAtStart struct {
	sig chan os.Signal
	buf bytes.Buffer
}

func (s *signalAtStart) Write(p []byte) (int, error) {
	if bytes.HasPrefix(p, []byte("training ")) {
		s.sig <- syscall.SIGINT
	}
	return s.buf.Write(p)
}

// TestSignalBeforeTrainingWritesNothing: a signal that comes before
// training starts (while the data loads, the checkpoint is checked) stops
// the run before it changes anything: no directory is created, an
// existing run (resumed or --overwrite) stays as it was, and the error
// names no checkpoint. Before, the run created its directory, trained a
// step and saved a checkpoint.
func TestSignalBeforeTrainingWritesNothing(t *testing.T) {
	dir := t.TempDir()
	writeBlobs(t, dir, 60)
	old := filepath.Join(dir, "old")
	if _, err := Run(loadConfig(t, dir, blobsConfig, "training.epochs=1"), Options{OutDir: old}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		o    Options
		dir  string // the directory that must stay as it was
	}{
		{"new run", Options{OutDir: filepath.Join(dir, "new")}, filepath.Join(dir, "new")},
		{"resume", Options{Resume: filepath.Join(old, "last.safetensors")}, old},
		{"overwrite", Options{OutDir: old, Overwrite: true}, old},
		{"resume into a new directory", Options{Resume: filepath.Join(old, "last.safetensors"), OutDir: filepath.Join(dir, "new2")}, filepath.Join(dir, "new2")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before map[string]string
			if _, err := os.Stat(tc.dir); err == nil {
				before = snapshot(t, tc.dir)
			}
			sig := make(chan os.Signal, 1)
			sig <- syscall.SIGTERM
			tc.o.Interrupt = sig
			_, err := Run(loadConfig(t, dir, blobsConfig, "training.epochs=3"), tc.o)
			var ie *InterruptedError
			if !errors.As(err, &ie) || ie.Checkpoint != "" || strings.Contains(err.Error(), "saved") {
				t.Fatalf("%v, want an interruption before training, without a checkpoint", err)
			}
			if before == nil {
				if _, err := os.Stat(tc.dir); !os.IsNotExist(err) {
					t.Errorf("the interrupted run created %s: %v", tc.dir, err)
				}
			} else if d := sameFiles(before, snapshot(t, tc.dir)); d != "" {
				t.Errorf("the interrupted run changed %s: %s", tc.dir, d)
			}
		})
	}
}

// TestSignalAfterTheLastStep: a signal that comes during the run's last
// step (training.steps, its last epoch) or its final evaluation leaves the
// run complete and recorded as finished: nothing was left to skip, and a
// resume would have nothing to do. (The signal comes as training starts;
// in all but the last case the first step is the last.) A signal before
// the last step still interrupts. Before, a run stopped by training.steps
// was recorded as interrupted (exit 130).
func TestSignalAfterTheLastStep(t *testing.T) {
	dir := t.TempDir()
	writeBlobs(t, dir, 200) // 160 training samples
	for _, tc := range []struct {
		name        string
		sets        []string
		interrupted bool
		step        int64 // of last.safetensors
	}{
		{"steps inside an epoch", []string{"training.steps=1"}, false, 1},
		{"steps at a measurement", []string{"training.steps=1", "training.eval_every_steps=1"}, false, 1},
		{"steps at an epoch's end", []string{"training.batch_size=160", "training.steps=1"}, false, 1},
		{"last epoch", []string{"training.batch_size=512", "training.epochs=1"}, false, 1},
		{"steps left", []string{"training.steps=5"}, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
			log := &signalAtStart{sig: make(chan os.Signal, 1)}
			_, err := Run(loadConfig(t, dir, blobsConfig, tc.sets...), Options{OutDir: out, Interrupt: log.sig, Log: log})
			var ie *InterruptedError
			if errors.As(err, &ie) != tc.interrupted || !tc.interrupted && err != nil {
				t.Fatalf("%v, want interrupted %v\n%s", err, tc.interrupted, log.buf.String())
			}
			var st Status
			b, _ := os.ReadFile(filepath.Join(out, StatusFile))
			json.Unmarshal(b, &st)
			want := StatusFinished
			if tc.interrupted {
				want = StatusInterrupted
			} else if !strings.Contains(log.buf.String(), "note: SIGINT came after the run's last step") {
				t.Errorf("the log does not say the signal came after the last step:\n%s", log.buf.String())
			}
			if st.Status != want {
				t.Errorf("status.json: %s, want %s", b, want)
			}
			if _, cs, err := checkpoint.Read(filepath.Join(out, "last.safetensors")); err != nil || cs.Step != tc.step {
				t.Errorf("last.safetensors at step %d (%v), want %d", cs.Step, err, tc.step)
			}
		})
	}
}

// TestSummaryNamesCurvesAsTheyAre: when drawing the curves fails (a full
// disk), the summary says they are missing or not up to date instead of
// naming them as current; each evaluation tries again, and once one
// succeeds the curves are current again.
func TestSummaryNamesCurvesAsTheyAre(t *testing.T) {
	dir := t.TempDir()
	writeBlobs(t, dir, 200)
	base := filepath.Join(dir, "base")
	if _, err := Run(loadConfig(t, dir, blobsConfig, "training.epochs=1"), Options{OutDir: base}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		blocked string // the file a directory stands for while the run trains
		unblock int    // at this metrics row (0: never)
		want    []string
		notWant string
	}{
		{"svg fails on a resume", "curves.svg", 0, []string{"curves.png (and .svg) not up to date: the last redraw failed", "curves.svg"}, "(and .svg); metrics"},
		{"png fails on a resume", "curves.png", 0, []string{"curves: none (", "curves.png"}, "(and .svg); metrics"},
		{"drawn again", "curves.png", 1, []string{"note: curves.png and curves.svg are drawn again", "curves.png (and .svg); metrics"}, "not up to date: the last"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
			copyRun(t, base, out)
			p := filepath.Join(out, tc.blocked)
			os.Remove(p)
			os.MkdirAll(filepath.Join(p, "blocked"), 0o755)
			log := &unblockAt{path: p, n: tc.unblock}
			_, err := Run(loadConfig(t, dir, blobsConfig, "training.epochs=3"), Options{Resume: filepath.Join(out, "last.safetensors"), Log: log})
			if err != nil {
				t.Fatal(err)
			}
			s := log.buf.String()
			summary := s[strings.Index(s, "\ndone: "):]
			for _, w := range tc.want {
				if !strings.Contains(s, w) {
					t.Errorf("the log lacks %q:\n%s", w, s)
				}
			}
			if strings.Contains(summary, tc.notWant) {
				t.Errorf("the summary has %q:\n%s", tc.notWant, summary)
			}
		})
	}
}

// unblockAt is a run's log that removes the directory at path once the
// run printed its n-th metrics row (n = 0: never).
type unblockAt struct {
	path string
	n    int
	rows int
	buf  bytes.Buffer
}

func (u *unblockAt) Write(p []byte) (int, error) {
	if bytes.HasPrefix(p, []byte("epoch ")) {
		if u.rows++; u.rows == u.n {
			os.RemoveAll(u.path)
		}
	}
	return u.buf.Write(p)
}
