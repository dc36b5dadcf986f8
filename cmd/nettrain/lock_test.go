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
	want := fmt.Sprintf("nettrain: run directory run is in use by another nettrain run (pid %d, lock file %s)", first.Process.Pid, filepath.Join("run", "nettrain.lock"))
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
