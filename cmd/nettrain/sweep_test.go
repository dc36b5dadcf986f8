package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSweepShardsAsProcesses runs a general sweep (a grid of two keys and
// random draws of a third) as 3 separate shard processes, merges them
// with `sweep report`, and checks the result equals the single-process
// sweep; a rerun resumes (runs nothing), and `compare-optimizers report`
// recognises a sweep's records.
func TestSweepShardsAsProcesses(t *testing.T) {
	dir := t.TempDir()
	writeSmallSweep(t, dir)
	args := []string{"sweep", "c.yaml", "--grid", "model.layers.0.dense.units=4,8", "--grid", "training.batch_size=10,30",
		"--random", "optimizer.lr=log-uniform(0.001,0.1)", "--trials", "2", "--seeds", "2", "--evals-per-epoch", "2"}
	out := runNettrain(t, dir, append(args, "--out", "single", "--workers", "2")...)
	if !strings.Contains(out, "# Sweep: sweep over model.layers.0.dense.units, training.batch_size, optimizer.lr") {
		t.Errorf("sweep printed:\n%s", out)
	}
	const n = 3
	var dirs []string
	for i := 1; i <= n; i++ {
		d := fmt.Sprintf("shard-%d", i)
		out := runNettrain(t, dir, append(args, "--shard", fmt.Sprintf("%d/%d", i, n), "--out", d, "--workers", "1")...)
		if !strings.Contains(out, fmt.Sprintf("shard %d/3 done", i)) {
			t.Errorf("shard %d printed:\n%s", i, out)
		}
		dirs = append(dirs, d)
	}
	runNettrain(t, dir, append([]string{"sweep", "report", "--out", "merged"}, dirs...)...)
	stable := func(path string) string {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var rows []string
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			f := strings.Split(line, ",")
			rows = append(rows, strings.Join(append(f[:8:8], f[9:]...), ",")) // without wall_s
		}
		return strings.Join(rows, "\n")
	}
	single, merged := stable(filepath.Join(dir, "single/trials.csv")), stable(filepath.Join(dir, "merged/trials.csv"))
	if single != merged {
		t.Errorf("merged shards differ from the single process:\n%s\n---\n%s", single, merged)
	}
	if rows := strings.Count(single, "\n"); rows != 2*2*2*2 {
		t.Errorf("%d trials, want 16:\n%s", rows, single)
	}
	sumA, _ := os.ReadFile(filepath.Join(dir, "single/summary.md"))
	sumB, _ := os.ReadFile(filepath.Join(dir, "merged/summary.md"))
	if a, b := section(string(sumA), "| rank", "## Files"), section(string(sumB), "| rank", "## Files"); a != b || a == "" {
		t.Errorf("summaries differ:\n%s\n---\n%s", a, b)
	}
	// Resumption: everything is done.
	out = runNettrain(t, dir, append(args, "--out", "single", "--workers", "2")...)
	if !strings.Contains(out, "sweep: 16 of 16 trials already done") {
		t.Errorf("a rerun did not resume:\n%s", out)
	}
	// A shard missing: refused, saying what is missing.
	cmd := nettrainCmd(t, dir, "sweep", "report", "--out", "refused", dirs[0], dirs[1])
	if b, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(b), "incomplete: ") {
		t.Errorf("report of 2 of 3 shards: %v\n%s", err, b)
	}
	// Another sweep of the same config (another key): merging it is
	// refused, not half reported.
	runNettrain(t, dir, "sweep", "c.yaml", "--grid", "training.batch_size=20", "--seeds", "2", "--evals-per-epoch", "2", "--out", "other", "--workers", "2")
	cmd = nettrainCmd(t, dir, "sweep", "report", "--out", "mixed", "single", "other")
	if b, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(b), `the records come from different sweeps of one config: over model.layers.0.dense.units, training.batch_size, optimizer.lr and over training.batch_size`) {
		t.Errorf("report of two sweeps: %v\n%s", err, b)
	}
	// The same sweep rerun in its directory with another value: its
	// report holds both runs' settings.
	runNettrain(t, dir, "sweep", "c.yaml", "--grid", "training.batch_size=20,10", "--seeds", "2", "--evals-per-epoch", "2", "--out", "other", "--workers", "2")
	out = runNettrain(t, dir, "sweep", "report", "other")
	if !strings.Contains(out, "training.batch_size=20") || !strings.Contains(out, "training.batch_size=10") {
		t.Errorf("report of a sweep widened in its directory:\n%s", out)
	}
	// The comparison's report command reports a sweep too.
	out = runNettrain(t, dir, append([]string{"compare-optimizers", "report", "--out", "viacompare"}, dirs...)...)
	if !strings.Contains(out, "# Sweep: ") {
		t.Errorf("compare-optimizers report of a sweep:\n%s", out)
	}
}

// TestSweepBadOptions: bad axes fail before training, as usage errors.
func TestSweepBadOptions(t *testing.T) {
	dir := t.TempDir()
	writeSmallSweep(t, dir)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--grid", "training.batch_size"}, "want key=v1,v2,..."},
		{[]string{"--random", "optimizer.lr=log-uniform(0,1)", "--trials", "2"}, "log-uniform needs bounds > 0"},
		{[]string{"--random", "optimizer.lr=uniform(0.1,0.01)", "--trials", "2"}, "the lower bound must be below the upper"},
		{[]string{"--random", "optimizer.lr=log-uniform(0.001,0.1)"}, "--random needs --trials N >= 1"},
		{[]string{}, "nothing to sweep"},
		{[]string{"--grid", "training.batch_sise=1,2"}, "training.batch_sise"},
		{[]string{"--grid", "seed=1,2"}, "sweep seeds with --seeds"},
		{[]string{"--grid", "training.batch_size=1,2", "--trials", "3"}, "--trials counts random draws"},
		{[]string{"--grid", "training.batch_size=1,2", "--epochs", "0"}, "--epochs must be at least 1, got 0"},
		{[]string{"--grid", "training.batch_size=1,2", "--steps", "-5"}, "--steps must be at least 1, got -5"},
		{[]string{"--grid", "training.batch_size=1,2", "--epochs", "2147483647"}, "--epochs must be at most 1000000 (the cap of training.epochs), got 2147483647"},
	} {
		cmd := nettrainCmd(t, dir, append([]string{"sweep", "c.yaml", "--out", "x"}, c.args...)...)
		b, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(b), c.want) {
			t.Errorf("sweep %v: %v\n%s", c.args, err, b)
		}
		code := exitUsage
		if strings.Contains(c.want, "batch_sise") {
			code = 1 // a config key that does not exist: the config's error
		}
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != code {
			t.Errorf("sweep %v: %v, want exit %d", c.args, err, code)
		}
	}
}
