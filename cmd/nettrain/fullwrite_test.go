package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// capFileSize limits the size of every file the process writes to n bytes
// (RLIMIT_FSIZE; Go ignores the SIGXFSZ that follows, so the write fails
// with EFBIG): a disk that fills up after n bytes of each file.
func capFileSize(n string) {
	lim, err := strconv.ParseUint(n, 10, 64)
	if err != nil {
		return
	}
	syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: lim, Max: lim})
}

// nettrainCapped runs nettrain in dir with every file it writes capped at
// size bytes, and returns its output and whether it failed.
func nettrainCapped(t *testing.T, dir string, size int, args ...string) (string, bool) {
	t.Helper()
	cmd := nettrainCmd(t, dir, args...)
	cmd.Env = append(cmd.Env, "GO_TEST_FILE_SIZE="+strconv.Itoa(size))
	out, err := cmd.CombinedOutput()
	return string(out), err != nil
}

// reportFiles reads the report files in dir (all but the trial records).
func reportFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, e := range entries {
		if n := e.Name(); !e.IsDir() && n != "trials.jsonl" && n != "nettrain.lock" {
			b, _ := os.ReadFile(filepath.Join(dir, n))
			files[n] = string(b)
		}
	}
	return files
}

// TestFailedReportLeavesTheOldOne: a report that cannot be written whole
// (here every file is capped at 8000 bytes, so trials.csv fits and the
// plots do not) leaves the report already in its directory as it was,
// byte for byte, rather than a new trials.csv beside the old summary; a
// run's own report and a merged one alike. The trial records are not
// touched.
func TestFailedReportLeavesTheOldOne(t *testing.T) {
	dir := t.TempDir()
	writeSmallSweep(t, dir)
	runNettrain(t, dir, "compare-optimizers", "c.yaml", "--optimizers", "sgd,adam", "--lr-grid", "2", "--seeds", "1", "--epochs", "1", "--out", "a", "--workers", "2")
	runNettrain(t, dir, "compare-optimizers", "c.yaml", "--optimizers", "sgd,adam", "--lr-grid", "2", "--seeds", "1", "--epochs", "2", "--out", "b", "--workers", "2")
	runNettrain(t, dir, "sweep", "c.yaml", "--grid", "training.batch_size=10,30", "--seeds", "1", "--epochs", "1", "--out", "s", "--workers", "2")
	runNettrain(t, dir, "sweep", "c.yaml", "--grid", "training.batch_size=15,50", "--seeds", "1", "--epochs", "1", "--out", "s2", "--workers", "2")
	tests := []struct {
		name string
		out  string // holds a good report before
		args []string
	}{
		{"compare-optimizers report --out", "a", []string{"compare-optimizers", "report", "b", "--out", "a"}},
		{"sweep report --out", "s", []string{"sweep", "report", "s2", "--out", "s"}},
		// A rerun whose trials are all done writes only its report.
		{"a comparison's rerun", "b", []string{"compare-optimizers", "c.yaml", "--optimizers", "sgd,adam", "--lr-grid", "2", "--seeds", "1", "--epochs", "2", "--out", "b", "--workers", "2", "--target-loss", "0.5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := reportFiles(t, filepath.Join(dir, tt.out))
			records, _ := os.ReadFile(filepath.Join(dir, tt.out, "trials.jsonl"))
			if len(before["trials.csv"]) > 8000 || len(before["curves.png"]) < 8000 {
				t.Fatalf("the cap does not fall between trials.csv (%d bytes) and curves.png (%d)", len(before["trials.csv"]), len(before["curves.png"]))
			}
			out, failed := nettrainCapped(t, dir, 8000, tt.args...)
			lines := strings.Split(strings.TrimSpace(out), "\n")
			last := lines[len(lines)-1]
			if !failed || !strings.HasPrefix(last, "nettrain: cannot write "+filepath.Join(tt.out, "")) ||
				!strings.HasSuffix(last, "; the report already in "+tt.out+" is left as it was") {
				t.Errorf("failed %v, last line %q", failed, last)
			}
			after := reportFiles(t, filepath.Join(dir, tt.out))
			for name, b := range before {
				if after[name] != b {
					t.Errorf("%s changed", name)
				}
			}
			for name := range after {
				if _, ok := before[name]; !ok {
					t.Errorf("%s appeared", name)
				}
			}
			if now, _ := os.ReadFile(filepath.Join(dir, tt.out, "trials.jsonl")); string(now) != string(records) {
				t.Errorf("the trial records changed")
			}
		})
	}
}

// TestFailureBeforeAnyTrialLeavesNothing: compare-optimizers and sweep
// that cannot record their first trial (every file capped at 100 bytes,
// less than a record) leave the output directory as they found it, as an
// interruption does: a directory they created is removed, and in one that
// existed no records file (nor a partial line in one) is left. A directory
// that cannot be created is named for what it is.
func TestFailureBeforeAnyTrialLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	writeSmallSweep(t, dir)
	os.WriteFile(filepath.Join(dir, "file"), nil, 0o644)
	compareArgs := []string{"compare-optimizers", "c.yaml", "--optimizers", "sgd", "--lr-grid", "1", "--seeds", "1", "--epochs", "1", "--workers", "1", "--out"}
	sweepArgs := []string{"sweep", "c.yaml", "--grid", "training.batch_size=10", "--seeds", "1", "--epochs", "1", "--workers", "1", "--out"}
	tests := []struct {
		name   string
		args   []string
		out    string
		exists bool // out exists (empty) before
		size   int  // the cap on every file, 0: none
		want   []string
	}{
		{"compare-optimizers, new directory", compareArgs, "c1", false, 100,
			[]string{"nettrain: trial ", "cannot record a trial: ", "trials.jsonl: file too large; no trial was recorded, and c1, which this run created, was removed"}},
		{"sweep, new directory", sweepArgs, "s1", false, 100,
			[]string{"nettrain: trial ", "cannot record a trial: ", "trials.jsonl: file too large; no trial was recorded, and s1, which this run created, was removed"}},
		{"compare-optimizers, existing directory", compareArgs, "c2", true, 100,
			[]string{"nettrain: trial ", "cannot record a trial: ", "trials.jsonl: file too large"}},
		{"sweep, existing directory", sweepArgs, "s2", true, 100,
			[]string{"nettrain: trial ", "cannot record a trial: ", "trials.jsonl: file too large"}},
		{"compare-optimizers, uncreatable directory", compareArgs, "file/c", false, 0,
			[]string{"nettrain: cannot create the comparison's output directory file/c: mkdir file: not a directory"}},
		{"sweep, uncreatable directory", sweepArgs, "file/s", false, 0,
			[]string{"nettrain: cannot create the sweep's output directory file/s: mkdir file: not a directory"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.exists {
				os.Mkdir(filepath.Join(dir, tt.out), 0o755)
			}
			args := append(append([]string(nil), tt.args...), tt.out)
			var out string
			var failed bool
			if tt.size > 0 {
				out, failed = nettrainCapped(t, dir, tt.size, args...)
			} else {
				b, err := nettrainCmd(t, dir, args...).CombinedOutput()
				out, failed = string(b), err != nil
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			last := lines[len(lines)-1]
			if !failed || !strings.HasPrefix(last, tt.want[0]) || !strings.HasSuffix(last, tt.want[len(tt.want)-1]) {
				t.Errorf("failed %v, last line %q, want %q", failed, last, tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(last, w) {
					t.Errorf("last line %q lacks %q", last, w)
				}
			}
			entries, err := os.ReadDir(filepath.Join(dir, tt.out))
			switch {
			case tt.exists && (err != nil || len(entries) > 0):
				t.Errorf("%s, which existed, is not left empty: %v %v", tt.out, entries, err)
			case !tt.exists && err == nil:
				t.Errorf("%s, which did not exist, is left: %v %v", tt.out, entries, err)
			}
		})
	}
}
