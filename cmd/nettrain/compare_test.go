package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nettrain/nettrain/internal/compare"
)

// TestMain lets the test binary act as nettrain, so tests can run real
// nettrain processes.
func TestMain(m *testing.M) {
	if os.Getenv("GO_TEST_AS_NETTRAIN") == "1" {
		if mib := os.Getenv("GO_TEST_MEMORY_MIB"); mib != "" {
			capMemory(mib)
		}
		if b := os.Getenv("GO_TEST_FILE_SIZE"); b != "" {
			capFileSize(b)
		}
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
	if !strings.HasPrefix(string(sumB), "# Optimizer comparison: sweep\n") {
		t.Errorf("the merged report is not titled after the config:\n%s", sumB)
	}
	if !strings.Contains(out, "Report written to merged\n") {
		t.Errorf("report does not say where it wrote:\n%s", out)
	}
	// Incomplete shard sets are refused, saying what is missing.
	for _, c := range []struct {
		dirs []string
		want string
	}{
		{[]string{"tune-1"}, "nettrain: incomplete: sgd has tuning runs for 1 of 3 learning rates"},
		{tuned, "nettrain: incomplete: no final runs (run --phase final): merge every shard's directory"},
		{dirs[:5], "has final runs for 1 of 2 seeds (seed "},
	} {
		cmd := nettrainCmd(t, dir, append([]string{"compare-optimizers", "report", "--out", "refused"}, c.dirs...)...)
		b, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(b), c.want) || strings.Contains(string(b), "NaN") || strings.Count(string(b), "\n") != 1 {
			t.Errorf("report %v: %v\n%s", c.dirs, err, b)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "refused")); err == nil {
		t.Errorf("a refused report wrote files")
	}
	// --partial writes it, with a warning.
	out = runNettrain(t, dir, append([]string{"compare-optimizers", "report", "--partial", "--out", "partial"}, dirs[:5]...)...)
	md, _ := os.ReadFile(filepath.Join(dir, "partial/summary.md"))
	for _, text := range []string{out, string(md)} {
		if !strings.Contains(text, "**Warning: incomplete report, some trials are missing:** ") || !strings.Contains(text, "has final runs for 1 of 2 seeds") {
			t.Errorf("partial report without a warning:\n%s", text)
		}
	}
	if !strings.Contains(out, "\nwarning: incomplete report: ") {
		t.Errorf("no warning line on stdout:\n%s", out)
	}
	// A folder of other files is no place for it: its summary.md would be
	// replaced.
	os.Mkdir(filepath.Join(dir, "notes"), 0o755)
	os.WriteFile(filepath.Join(dir, "notes", "summary.md"), []byte("my notes\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "notes", "todo.txt"), []byte("mine\n"), 0o644)
	b, err := nettrainCmd(t, dir, append([]string{"compare-optimizers", "report", "--out", "notes"}, dirs...)...).CombinedOutput()
	if mine, _ := os.ReadFile(filepath.Join(dir, "notes", "summary.md")); err == nil || !strings.Contains(string(b), "output directory notes is not empty and holds no comparison or sweep") || string(mine) != "my notes\n" {
		t.Errorf("report --out a folder of other files: %v\n%s", err, b)
	}
	// Without --out, the report goes into the first directory, and says so.
	out = runNettrain(t, dir, append([]string{"compare-optimizers", "report"}, dirs...)...)
	if !strings.Contains(out, "Report written to tune-1\n") {
		t.Errorf("report without --out:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "tune-1/summary.md")); err != nil {
		t.Error(err)
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

func TestCompareReportHelpAndFlags(t *testing.T) {
	s, out, _ := streams()
	if code := Main([]string{"compare-optimizers", "report", "--help"}, s); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"Without --out the report is written into the first DIR", "--partial"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, out.String())
		}
	}
	s, _, errOut := streams()
	if code := Main([]string{"compare-optimizers", "report", t.TempDir(), "--target-loss", "0"}, s); code != exitUsage ||
		errOut.String() != "nettrain: --target-loss must be a finite validation loss > 0, got 0\n" {
		t.Errorf("exit %d: %s", code, errOut.String())
	}
}

// TestCompareBadOptions: the comparison's settings, from the config or the
// flags, are checked before any trial runs; the config's when it is read,
// at their place in the file (FILE).
func TestCompareBadOptions(t *testing.T) {
	dir := t.TempDir()
	writeSmallSweep(t, dir)
	base, _ := os.ReadFile(filepath.Join(dir, "c.yaml"))
	cfg := strings.Replace(string(base), "compare: {optimizers: [sgd, momentum, adagrad, adam], grid_points: 3, seeds: 2, evals_per_epoch: 2}\n", "", 1)
	for _, c := range []struct {
		compare string
		args    []string
		want    string
	}{
		{"compare: {lr_grid: {sgd: []}}", nil, "FILE:7:26: compare.lr_grid.sgd: is empty: give at least one learning rate, or remove it to use the default grid"},
		{"compare: {optimizers: [sgd, sgd]}", nil, `FILE:7:23: compare.optimizers: lists "sgd" twice`},
		{"compare: {optimizers: [sgd, adamm]}", nil,
			`FILE:7:23: compare.optimizers: unknown optimizer "adamm" (did you mean "adam"?); known: sgd, momentum, nesterov, adagrad, adadelta, rmsprop, adam, adamw, nadam`},
		{"", []string{"--optimizers", "sgd,adamm"}, `--optimizers: unknown optimizer "adamm" (did you mean "adam"?)`},
		{"compare: {target_loss: 0}", nil, "FILE:7:24: compare.target_loss: must be a finite validation loss > 0 (or null), got 0"},
		{"compare: {target_loss: -0.5}", nil, "FILE:7:24: compare.target_loss: must be a finite validation loss > 0 (or null), got -0.5"},
		{"", []string{"--target-loss", "-1"}, "compare.target_loss or --target-loss must be a finite validation loss > 0, got -1"},
	} {
		path := filepath.Join(dir, "bad.yaml")
		os.WriteFile(path, []byte(cfg+c.compare+"\n"), 0o644)
		s, _, errOut := streams()
		args := append([]string{"compare-optimizers", path, "--out", filepath.Join(dir, "out")}, c.args...)
		code := Main(args, s)
		if want := strings.ReplaceAll(c.want, "FILE", path); code == 0 || !strings.HasPrefix(errOut.String(), "nettrain: "+want) {
			t.Errorf("%s %v: exit %d, %q\nwant %q", c.compare, c.args, code, errOut.String(), c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "trials.jsonl")); err == nil {
		t.Error("a trial ran")
	}
}

// TestCompareFlagsDecideTheGrid: the config's lr_grid may name an
// optimizer its compare.optimizers leaves out when --optimizers adds it
// (flags override the config); without the flag, the run refuses it.
func TestCompareFlagsDecideTheGrid(t *testing.T) {
	dir := t.TempDir()
	writeSmallSweep(t, dir)
	base, _ := os.ReadFile(filepath.Join(dir, "c.yaml"))
	cfg := strings.Replace(string(base), "compare: {optimizers: [sgd, momentum, adagrad, adam], grid_points: 3, seeds: 2, evals_per_epoch: 2}\n", "", 1)
	path := filepath.Join(dir, "g.yaml")
	os.WriteFile(path, []byte(cfg+"compare: {optimizers: [sgd], lr_grid: {adam: [0.001, 0.01]}}\n"), 0o644)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--optimizers", "sgd,adam"}, 0, "ok"},
		{nil, 1, `nettrain: compare.lr_grid names "adam", which is not compared (optimizers: sgd)`},
	} {
		s, out, errOut := streams()
		code := Main(append([]string{"compare-optimizers", path, "--out", filepath.Join(dir, "out"), "--check"}, c.args...), s)
		if code != c.code || !strings.Contains(out.String()+errOut.String(), c.want) {
			t.Errorf("%v: exit %d, %q %q; want exit %d and %q", c.args, code, out.String(), errOut.String(), c.code, c.want)
		}
	}
}

// TestCompareFlags: argv to parsed options, including which of the flags
// that override the config were given.
func TestCompareFlags(t *testing.T) {
	parse := func(args ...string) *CompareOptions {
		t.Helper()
		s, _, _ := streams()
		var got *CompareOptions
		cmd := NewCmdCompare(s, func(o *CompareOptions) error { got = o; return nil })
		cmd.SetArgs(args)
		if err := cmd.Execute(); err != nil {
			t.Fatal(err)
		}
		return got
	}
	got := parse("c.yaml")
	if got.Config != "c.yaml" || got.Phase != compare.PhaseAll || got.OptimizersProvided || got.LRGridProvided || got.SeedsProvided ||
		got.EpochsProvided || got.StepsProvided || got.EvalsPerEpochProvided || got.TargetLossProvided {
		t.Errorf("defaults parsed as %+v", got)
	}
	got = parse("c.yaml", "--optimizers", "sgd,adam", "--lr-grid", "2", "--seeds", "3", "--epochs", "4", "--steps", "7",
		"--evals-per-epoch", "5", "--target-loss", "0.5", "--phase", "final", "--shard", "2/3", "--tuned", "a", "--tuned", "b",
		"--workers", "6", "--out", "o", "--set", "seed=2")
	if !slices.Equal(got.Optimizers, []string{"sgd", "adam"}) || got.LRGrid != 2 || got.Seeds != 3 || got.Epochs != 4 || got.Steps != 7 ||
		got.EvalsPerEpoch != 5 || got.TargetLoss != 0.5 || got.Phase != compare.PhaseFinal || got.Shard != "2/3" ||
		!slices.Equal(got.Tuned, []string{"a", "b"}) || got.Workers != 6 || got.Out != "o" || !slices.Equal(got.Sets, []string{"seed=2"}) {
		t.Errorf("parsed %+v", got)
	}
	if !got.OptimizersProvided || !got.LRGridProvided || !got.SeedsProvided || !got.EpochsProvided || !got.StepsProvided ||
		!got.EvalsPerEpochProvided || !got.TargetLossProvided {
		t.Errorf("given flags not recorded: %+v", got)
	}
}

func TestCompareReportFlags(t *testing.T) {
	s, _, _ := streams()
	var got *CompareReportOptions
	cmd := newCmdCompareReport(s, func(o *CompareReportOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"a", "b", "--out", "m", "--target-loss", "0.25", "--partial"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Dirs, []string{"a", "b"}) || got.Out != "m" || got.TargetLoss != 0.25 || !got.TargetLossProvided || !got.Partial {
		t.Errorf("parsed %+v", got)
	}
	got = nil
	cmd = newCmdCompareReport(s, func(o *CompareReportOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"a"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Out != "" || got.TargetLossProvided || got.Partial {
		t.Errorf("defaults parsed as %+v", got)
	}
}

// TestCompareBadFlags: flags that cannot mean anything are usage errors
// (exit 2) before anything runs, and a --tuned directory without tuning
// records is named.
func TestCompareBadFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--phase", "bogus"}, exitUsage, `--phase must be all, tune or final, got "bogus"`},
		{[]string{"--epochs", "-1"}, exitUsage, "--epochs must be at least 1, got -1"},
		{[]string{"--steps", "-5"}, exitUsage, "--steps must be at least 1, got -5"},
		{[]string{"--shard", "1/2"}, exitUsage, "a sharded sweep runs in two stages"},
		{[]string{"--shard", "1/1"}, 0, ""}, // one shard: the whole comparison
		{[]string{"--shard", "abc"}, exitUsage, `--shard wants I/N with 1 <= I <= N, got "abc"`},
		{[]string{"--tuned", "x"}, exitUsage, "--tuned gives the tuning shards' directories to --phase final; this is --phase all"},
		{[]string{"--phase", "final", "--tuned", "/nonexistent"}, 1, "--tuned /nonexistent: not a directory: give the --out directory of a --phase tune shard"},
		// --epochs has the cap of training.epochs, as in train and sweep.
		{[]string{"--epochs", "2147483647", "--phase", "final"}, exitUsage, "nettrain: --epochs must be at most 1000000 (the cap of training.epochs), got 2147483647\n"},
		{[]string{"--epochs", "1000001", "--check"}, exitUsage, "--epochs must be at most 1000000 (the cap of training.epochs), got 1000001"},
		{[]string{"--epochs", "1000000", "--check"}, 0, ""},
		// An optimizer the flag names wrongly is a command-line error.
		{[]string{"--optimizers", "sgd,adamm"}, exitUsage,
			`nettrain: --optimizers: unknown optimizer "adamm" (did you mean "adam"?); known: sgd, momentum, nesterov, adagrad, adadelta, rmsprop, adam, adamw, nadam` + "\n"},
		{[]string{"--optimizers", "sgd,adamm", "--check"}, exitUsage, `--optimizers: unknown optimizer "adamm"`},
		{[]string{"--optimizers", "sgd,sgd", "--check"}, exitUsage, `--optimizers: lists "sgd" twice`},
		{[]string{"--optimizers=", "--check"}, exitUsage, "--optimizers is empty: name at least one of sgd, momentum"},
	} {
		s, _, errOut := streams()
		code := Main(append([]string{"compare-optimizers", "../../configs/regression-mlp.yaml", "--out", t.TempDir()}, c.args...), s)
		if code != c.code || !strings.Contains(errOut.String(), c.want) {
			t.Errorf("%v: exit %d, want %d: %s\nwant %q", c.args, code, c.code, errOut, c.want)
		}
	}
	// A final phase without tuning results fails, and leaves no empty
	// output directory behind.
	out := filepath.Join(t.TempDir(), "new")
	s, _, errOut := streams()
	if code := Main([]string{"compare-optimizers", "../../configs/regression-mlp.yaml", "--phase", "final", "--out", out}, s); code != 1 ||
		!strings.Contains(errOut.String(), "the final phase needs every tuning result") {
		t.Errorf("final without tuning: exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("the failed run left %s: %v", out, err)
	}
}

// TestCompareCountCaps: counts on the command line that would size memory
// or goroutines without bound are refused as usage errors, at once.
func TestCompareCountCaps(t *testing.T) {
	for _, args := range [][]string{
		{"--lr-grid", "1000000000"}, {"--lr-grid", "0"}, {"--seeds", "100000000"},
		{"--evals-per-epoch", "0"}, {"--workers", "100000000"}, {"--workers", "0"},
	} {
		s, _, errOut := streams()
		code := Main(append([]string{"compare-optimizers", "../../configs/regression-mlp.yaml"}, args...), s)
		if code != exitUsage || !strings.Contains(errOut.String(), "must be between 1 and") {
			t.Errorf("%v: exit %d: %s", args, code, errOut)
		}
	}
}

// TestMoreShardsThanTrials: shards whose part of the plan is empty (a
// narrowed --optimizers with the deploy scripts' 8 shards) leave an empty
// records file and the merged report is the single process's; a directory
// without records is still refused.
func TestMoreShardsThanTrials(t *testing.T) {
	dir := t.TempDir()
	writeSmallSweep(t, dir)
	flags := []string{"--optimizers", "sgd,adam", "--lr-grid", "2", "--seeds", "1", "--workers", "1"}
	runNettrain(t, dir, append([]string{"compare-optimizers", "c.yaml", "--out", "single"}, flags...)...)
	const n = 5 // 4 tuning runs, 2 final runs
	var tuned, dirs []string
	for i := 1; i <= n; i++ {
		d := fmt.Sprintf("tune-%d", i)
		runNettrain(t, dir, append([]string{"compare-optimizers", "c.yaml", "--phase", "tune", "--shard", fmt.Sprintf("%d/%d", i, n), "--out", d}, flags...)...)
		tuned = append(tuned, d)
	}
	for i := n; i >= 1; i-- { // the empty shards first: the report's kind comes from any records
		d := fmt.Sprintf("final-%d", i)
		args := append([]string{"compare-optimizers", "c.yaml", "--phase", "final", "--shard", fmt.Sprintf("%d/%d", i, n), "--out", d}, flags...)
		for _, tdir := range tuned {
			args = append(args, "--tuned", tdir)
		}
		out := runNettrain(t, dir, args...)
		if _, err := os.Stat(filepath.Join(dir, d, "trials.jsonl")); err != nil {
			t.Errorf("%s: %v (it printed %q)", d, err, out)
		}
		dirs = append(dirs, d)
	}
	runNettrain(t, dir, append(append([]string{"compare-optimizers", "report", "--out", "merged"}, dirs...), tuned...)...)
	if a, b := stableTrials(t, filepath.Join(dir, "single/trials.csv")), stableTrials(t, filepath.Join(dir, "merged/trials.csv")); a != b {
		t.Errorf("merged shards differ from the single process:\n%s\n---\n%s", a, b)
	}
	os.Mkdir(filepath.Join(dir, "stray"), 0o755)
	b, err := nettrainCmd(t, dir, append([]string{"compare-optimizers", "report", "--out", "refused", "stray"}, dirs...)...).CombinedOutput()
	if err == nil || !strings.Contains(string(b), "stray holds no trial records (trials.jsonl)") {
		t.Errorf("a directory without records: %v\n%s", err, b)
	}
	// A general sweep likewise.
	sweep := []string{"sweep", "c.yaml", "--grid", "training.batch_size=10,30", "--seeds", "1", "--workers", "1"}
	var sdirs []string
	for i := 3; i >= 1; i-- {
		d := fmt.Sprintf("sweep-%d", i)
		runNettrain(t, dir, append(sweep, "--shard", fmt.Sprintf("%d/3", i), "--out", d)...)
		sdirs = append(sdirs, d)
	}
	out := runNettrain(t, dir, append([]string{"compare-optimizers", "report", "--out", "sweep-merged"}, sdirs...)...)
	if !strings.Contains(out, "# Sweep:") {
		t.Errorf("the merged sweep printed:\n%s", out)
	}
}

// TestCheckRunsNothing: --check validates the flags and the config (and a
// sweep's every setting), prints one line and writes nothing; a typo fails.
func TestCheckRunsNothing(t *testing.T) {
	dir := t.TempDir()
	writeSmallSweep(t, dir)
	os.Mkdir(filepath.Join(dir, "mine"), 0o755)
	os.WriteFile(filepath.Join(dir, "mine", "notes.txt"), []byte("mine\n"), 0o644)
	for _, tc := range []struct {
		args []string
		want string
		ok   bool
	}{
		{[]string{"compare-optimizers", "c.yaml", "--optimizers", "sgd,adam", "--phase", "tune", "--shard", "1/8", "--check", "--out", "o"}, "ok: c.yaml and the flags are valid (2 optimizers", true},
		{[]string{"compare-optimizers", "c.yaml", "--phase", "final", "--tuned", "not-yet", "--check", "--out", "o"}, "--tuned not-yet: not a directory", false},
		{[]string{"compare-optimizers", "c.yaml", "--optimizers", "sgd,adamm", "--check", "--out", "o"}, `did you mean "adam"`, false},
		{[]string{"compare-optimizers", "c.yaml", "--set", "optimizer.lrr=1", "--check", "--out", "o"}, `optimizer.lrr: unknown key`, false},
		{[]string{"compare-optimizers", "c.yaml", "--check", "--out", "mine"}, "output directory mine is not empty and holds no comparison or sweep", false},
		{[]string{"sweep", "c.yaml", "--grid", "training.batch_size=10,30", "--check", "--out", "mine"}, "output directory mine is not empty and holds no comparison or sweep", false},
		{[]string{"sweep", "c.yaml", "--grid", "training.batch_size=10,30", "--seeds", "2", "--check", "--out", "o"}, "ok: c.yaml and the flags give 4 trials", true},
		{[]string{"sweep", "c.yaml", "--grid", "training.batch_size=10,x", "--check", "--out", "o"}, `setting training.batch_size=x`, false},
		{[]string{"sweep", "c.yaml", "--grid", `model.layers.0={"dense":{"units":4}},{"dense":{"units":8,"bias":false}}`, "--grid", "optimizer.betas=[0.9,0.99],[0.8,0.9]", "--seeds", "1", "--check", "--out", "o"}, "ok: c.yaml and the flags give 4 trials", true},
	} {
		out, err := nettrainCmd(t, dir, tc.args...).CombinedOutput()
		if (err == nil) != tc.ok || !strings.Contains(string(out), tc.want) {
			t.Errorf("%v: %v\n%s\nwant ok=%v and %q", tc.args, err, out, tc.ok, tc.want)
		}
		if _, err := os.Stat(filepath.Join(dir, "o")); err == nil {
			t.Fatalf("%v wrote its output directory", tc.args)
		}
	}
}

// TestCheckFinalPhase: --check with --phase final fails, with the run's
// own line and exit code, when the run would fail before its first trial
// for want of tuning results (none, an empty shard's, another sweep's),
// and says ok when they are all there (in --tuned or in --out).
func TestCheckFinalPhase(t *testing.T) {
	dir := t.TempDir()
	writeSmallSweep(t, dir)
	flags := []string{"--optimizers", "sgd,adam", "--lr-grid", "2", "--seeds", "2", "--workers", "1"}
	runNettrain(t, dir, append([]string{"compare-optimizers", "c.yaml", "--phase", "tune", "--out", "tune"}, flags...)...)
	os.Mkdir(filepath.Join(dir, "empty"), 0o755)
	os.WriteFile(filepath.Join(dir, "empty", "trials.jsonl"), nil, 0o644) // a shard with no trials
	const missing = "nettrain: the final phase needs every tuning result; 4 are missing (e.g. tune sgd lr=1e-05 seed=1): run --phase tune for every shard first and pass their directories with --tuned\n"
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--out", "final"}, 1, missing},
		{[]string{"--out", "final", "--tuned", "empty"}, 1, missing},
		{[]string{"--out", "final", "--tuned", "tune", "--steps", "3"}, 1, "nettrain: tune holds trials of a different sweep (another model, data or budget)\n"},
		{[]string{"--out", "final", "--tuned", "nope"}, 1, "nettrain: --tuned nope: not a directory: give the --out directory of a --phase tune shard\n"},
		{[]string{"--out", "final", "--tuned", "tune"}, 0, ""},
		{[]string{"--out", "final", "--tuned", "empty", "--tuned", "tune"}, 0, ""},
		{[]string{"--out", "tune"}, 0, ""}, // the tuning results in the output directory itself
	} {
		args := append(append([]string{"compare-optimizers", "c.yaml", "--phase", "final"}, flags...), c.args...)
		runs := [][]string{append(args, "--check")}
		if c.code != 0 {
			runs = append(runs, args) // the run itself fails alike, before any trial
		}
		for _, a := range runs {
			out, err := nettrainCmd(t, dir, a...).CombinedOutput()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			}
			if code != c.code || c.code != 0 && string(out) != c.want || c.code == 0 && !strings.HasPrefix(string(out), "ok: c.yaml") {
				t.Errorf("%v: exit %d, want %d: %q\nwant %q", a[4:], code, c.code, out, c.want)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "final")); err == nil {
			t.Fatalf("%v wrote its output directory", c.args)
		}
	}
	// Any phase, and a sweep: --check refuses an --out holding another
	// sweep's records (another budget), as the run does.
	const other = "nettrain: tune already holds trials of a different sweep (another model, data or budget); use another --out directory\n"
	for _, a := range [][]string{
		append(append([]string{"compare-optimizers", "c.yaml", "--phase", "tune", "--steps", "3"}, flags...), "--out", "tune", "--check"),
		append(append([]string{"compare-optimizers", "c.yaml", "--steps", "3"}, flags...), "--out", "tune", "--check"),
		{"sweep", "c.yaml", "--grid", "training.batch_size=10,30", "--seeds", "1", "--out", "tune", "--check"},
	} {
		out, err := nettrainCmd(t, dir, a...).CombinedOutput()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || string(out) != other {
			t.Errorf("%v: %v, %q; want exit 1 and %q", a, err, out, other)
		}
	}
}
