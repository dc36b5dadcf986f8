package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMain lets the test binary act as nettrain, so tests can run real
// nettrain processes.
func TestMain(m *testing.M) {
	if os.Getenv("GO_TEST_AS_NETTRAIN") == "1" {
		os.Exit(Main(os.Args[1:], DefaultStreams()))
	}
	os.Exit(m.Run())
}

// nettrainCmd runs the test binary as nettrain in dir.
func nettrainCmd(t *testing.T, dir string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GO_TEST_AS_NETTRAIN=1")
	return cmd
}

func runNettrain(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := nettrainCmd(t, dir, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("nettrain %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func writeSmallSweep(t *testing.T, dir string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 3))
	var b strings.Builder
	b.WriteString("x0,x1,x2,y\n")
	for i := 0; i < 150; i++ {
		c := i % 3
		fmt.Fprintf(&b, "%.3f,%.3f,%.3f,%d\n", float64(c)+rng.NormFloat64()*0.6, rng.NormFloat64(), float64(c%2)+rng.NormFloat64()*0.6, c)
	}
	os.WriteFile(filepath.Join(dir, "d.csv"), []byte(b.String()), 0o644)
	os.WriteFile(filepath.Join(dir, "c.yaml"), []byte(`name: sweep
data: {train: d.csv, validation_split: 0.2, normalize: standardize}
model:
  input: [3]
  layers: [{dense: {units: 8}}, relu, {dense: {units: 3}}]
training: {epochs: 2, batch_size: 10}
compare: {optimizers: [sgd, momentum, adagrad, adam], grid_points: 3, seeds: 2, evals_per_epoch: 2}
`), 0o644)
}

// stableTrials reads trials.csv without the wall_s column.
func stableTrials(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Split(line, ",")
		rows = append(rows, strings.Join(append(f[:10:10], f[11:]...), ","))
	}
	return strings.Join(rows, "\n")
}

// TestCompareShardsAsProcesses runs a sweep as 3 separate shard processes
// (tuning, then final runs), merges them with `report`, and checks the
// result equals the single-process sweep.
func TestCompareShardsAsProcesses(t *testing.T) {
	dir := t.TempDir()
	writeSmallSweep(t, dir)
	runNettrain(t, dir, "compare-optimizers", "c.yaml", "--out", "single", "--workers", "2")
	const n = 3
	var tuned []string
	for i := 1; i <= n; i++ {
		d := fmt.Sprintf("tune-%d", i)
		runNettrain(t, dir, "compare-optimizers", "c.yaml", "--phase", "tune", "--shard", fmt.Sprintf("%d/%d", i, n), "--out", d, "--workers", "1")
		tuned = append(tuned, d)
	}
	dirs := append([]string(nil), tuned...)
	for i := 1; i <= n; i++ {
		d := fmt.Sprintf("final-%d", i)
		args := []string{"compare-optimizers", "c.yaml", "--phase", "final", "--shard", fmt.Sprintf("%d/%d", i, n), "--out", d, "--workers", "1"}
		for _, tdir := range tuned {
			args = append(args, "--tuned", tdir)
		}
		runNettrain(t, dir, args...)
		dirs = append(dirs, d)
	}
	out := runNettrain(t, dir, append([]string{"compare-optimizers", "report", "--out", "merged"}, dirs...)...)
	if !strings.Contains(out, "## Findings") {
		t.Errorf("report printed:\n%s", out)
	}
	single, merged := stableTrials(t, filepath.Join(dir, "single/trials.csv")), stableTrials(t, filepath.Join(dir, "merged/trials.csv"))
	if single != merged {
		t.Errorf("merged shards differ from the single process:\n%s\n---\n%s", single, merged)
	}
	sumA, _ := os.ReadFile(filepath.Join(dir, "single/summary.md"))
	sumB, _ := os.ReadFile(filepath.Join(dir, "merged/summary.md"))
	tableA, tableB := section(string(sumA), "| rank", "## Files"), section(string(sumB), "| rank", "## Files")
	if tableA != tableB {
		t.Errorf("summaries differ:\n%s\n---\n%s", tableA, tableB)
	}
	// A final phase without every tuning result refuses to guess.
	cmd := nettrainCmd(t, dir, "compare-optimizers", "c.yaml", "--phase", "final", "--shard", "1/3", "--out", "x", "--tuned", "tune-1")
	if b, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(b), "the final phase needs every tuning result") {
		t.Errorf("final phase with missing tuning results: %v\n%s", err, b)
	}
}

func section(s, from, to string) string {
	i := strings.Index(s, from)
	j := strings.Index(s, to)
	if i < 0 || j < i {
		return s
	}
	return s[i:j]
}
