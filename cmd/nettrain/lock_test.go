package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/nettrain/nettrain/internal/session"
)

// TestSecondTrainProcessFailsAtOnce: two real `nettrain train` processes
// into one run directory: the second, even with --overwrite, exits 1 at
// once with one line naming the first one's pid, and the first finishes
// normally.
func TestSecondTrainProcessFailsAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a few seconds")
	}
	dir := t.TempDir()
	writeSignalData(t, dir)
	first := nettrainCmd(t, dir, "train", "c.yaml", "--out", "run")
	stdout, _ := first.StdoutPipe()
	var stderr strings.Builder
	first.Stderr = &stderr
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	defer first.Process.Kill()
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "training ") {
			break
		}
	}
	go func() {
		for sc.Scan() {
		}
	}()

	second := nettrainCmd(t, dir, "train", "c.yaml", "--out", "run", "--overwrite")
	out, err := second.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 1 {
		t.Errorf("second process: %v (want exit 1)\n%s", err, out)
	}
	want := fmt.Sprintf("nettrain: run directory run is in use by another nettrain process (pid %d, lock file %s)", first.Process.Pid, filepath.Join("run", "nettrain.lock"))
	if msg := string(out); strings.Count(msg, "\n") != 1 || !strings.HasPrefix(msg, want) {
		t.Errorf("second process said\n  %s\nwant\n  %s...", msg, want)
	}

	first.Process.Signal(syscall.SIGINT)
	if err := first.Wait(); err != nil {
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
			t.Fatalf("first process: %v\n%s", err, stderr.String())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "run", "nettrain.lock")); !os.IsNotExist(err) {
		t.Errorf("the lock file outlived the run: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "run", "last.safetensors")); err != nil {
		t.Errorf("the first run's checkpoint: %v", err)
	}
}

// TestSweepOutputIsLocked: compare-optimizers and sweep take their --out
// directory's lock: a second process there fails at once naming the
// holder (two appending to one trials.jsonl ran every trial twice), and
// the lock file is gone after a run.
func TestSweepOutputIsLocked(t *testing.T) {
	dir := t.TempDir()
	writeSmallSweep(t, dir)
	lock, err := session.LockDir(filepath.Join(dir, "out"), "comparison's output directory", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		what string
		args []string
	}{
		{"comparison's", []string{"compare-optimizers", "c.yaml", "--optimizers", "sgd", "--lr-grid", "2", "--seeds", "1", "--out", "out"}},
		{"sweep's", []string{"sweep", "c.yaml", "--grid", "training.batch_size=10,30", "--seeds", "1", "--out", "out"}},
	} {
		args := tt.args
		out, err := nettrainCmd(t, dir, args...).CombinedOutput()
		want := fmt.Sprintf("nettrain: %s output directory out is in use by another nettrain process (pid %d", tt.what, os.Getpid())
		if err == nil || !strings.HasPrefix(string(out), want) {
			t.Errorf("%v while the directory is locked: %v\n%s", args[0], err, out)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "out", "trials.jsonl")); len(b) > 0 {
		t.Errorf("a refused run wrote records:\n%s", b)
	}
	lock.Unlock()
	runNettrain(t, dir, "sweep", "c.yaml", "--grid", "training.batch_size=10,30", "--seeds", "1", "--out", "out")
	if _, err := os.Stat(filepath.Join(dir, "out", "nettrain.lock")); !os.IsNotExist(err) {
		t.Errorf("the lock file is left after the sweep: %v", err)
	}
}

// TestReportOutputIsLocked: compare-optimizers report and sweep report
// take their output directory's lock, so that a report is not written
// where a comparison or another report is writing; the lock is released
// after the report.
func TestReportOutputIsLocked(t *testing.T) {
	dir := t.TempDir()
	writeSmallSweep(t, dir)
	runNettrain(t, dir, "sweep", "c.yaml", "--grid", "training.batch_size=10,30", "--seeds", "1", "--out", "sw")
	lock, err := session.LockDir(filepath.Join(dir, "rep"), "sweep's output directory", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("nettrain: report's output directory rep is in use by another nettrain process (pid %d", os.Getpid())
	for _, args := range [][]string{
		{"compare-optimizers", "report", "sw", "--out", "rep"},
		{"sweep", "report", "sw", "--out", "rep"},
	} {
		out, err := nettrainCmd(t, dir, args...).CombinedOutput()
		if err == nil || !strings.HasPrefix(string(out), want) {
			t.Errorf("%v while rep is locked: %v\n%s", args, err, out)
		}
	}
	lock.Unlock()
	runNettrain(t, dir, "sweep", "report", "sw", "--out", "rep")
	if _, err := os.Stat(filepath.Join(dir, "rep", "summary.md")); err != nil {
		t.Errorf("no report after the lock was released: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "rep", "nettrain.lock")); !os.IsNotExist(err) {
		t.Errorf("the lock file is left after the report: %v", err)
	}
}
