package compare

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestValidate(t *testing.T) {
	neg, nan := -0.5, math.NaN()
	zero := 0.0
	for _, c := range []struct {
		name string
		edit func(o *Options)
		want string
	}{
		{"unknown", func(o *Options) { o.Optimizers = []string{"sgd", "adamm"} },
			`compare.optimizers: unknown optimizer "adamm" (did you mean "adam"?); known: sgd, momentum, nesterov, adagrad, adadelta, rmsprop, adam, adamw, nadam`},
		{"unknown, nothing close", func(o *Options) { o.Optimizers = []string{"lbfgs"} },
			`compare.optimizers: unknown optimizer "lbfgs"; known: sgd, momentum,`},
		{"duplicate", func(o *Options) { o.Optimizers = []string{"sgd", "adam", "sgd"} },
			`compare.optimizers: lists "sgd" twice`},
		{"empty grid", func(o *Options) { o.LRs = map[string][]float64{"sgd": {}} },
			"compare.lr_grid.sgd: is empty: give at least one learning rate, or remove it to use the default grid"},
		{"nil grid", func(o *Options) { o.LRs = map[string][]float64{"sgd": nil} },
			"compare.lr_grid.sgd: is empty"},
		{"rate twice", func(o *Options) { o.LRs = map[string][]float64{"sgd": {0.1, 0.01, 0.1}} },
			"compare.lr_grid.sgd: lists 0.1 twice"},
		{"infinite rate", func(o *Options) { o.LRs = map[string][]float64{"sgd": {math.Inf(1)}} },
			"compare.lr_grid.sgd: learning rates must be finite and > 0, got +Inf"},
		{"zero rate", func(o *Options) { o.LRs = map[string][]float64{"sgd": {0}} },
			"compare.lr_grid.sgd: learning rates must be finite and > 0, got 0"},
		{"grid of an unknown optimizer", func(o *Options) { o.LRs = map[string][]float64{"momentun": {0.1}} },
			`compare.lr_grid: unknown optimizer "momentun" (did you mean "momentum"?); known: sgd, momentum,`},
		{"grid of one not compared", func(o *Options) { o.LRs = map[string][]float64{"nadam": {0.1}} },
			`compare.lr_grid names "nadam", which is not compared (optimizers: sgd, momentum, adam)`},
		{"target 0", func(o *Options) { o.TargetLoss = &zero },
			"compare.target_loss or --target-loss must be a finite validation loss > 0, got 0"},
		{"target < 0", func(o *Options) { o.TargetLoss = &neg },
			"compare.target_loss or --target-loss must be a finite validation loss > 0, got -0.5"},
		{"target NaN", func(o *Options) { o.TargetLoss = &nan },
			"compare.target_loss or --target-loss must be a finite validation loss > 0, got NaN"},
	} {
		o := Options{Optimizers: []string{"sgd", "momentum", "adam"}, LRGrid: 3, Seeds: 2, Epochs: 1, Workers: 1, Phase: PhaseAll}
		if err := o.Validate(); err != nil {
			t.Fatalf("valid options refused: %v", err)
		}
		c.edit(&o)
		err := o.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
}

// shardedSweep runs a sweep as 2 tuning shards and 2 final shards in dir
// and returns their directories (tuning first).
func shardedSweep(t *testing.T, dir string) (tune, final []string) {
	t.Helper()
	writeBlobs(t, dir)
	cfg := config(t, dir)
	for i := 1; i <= 2; i++ {
		o := options(cfg, filepath.Join(dir, fmt.Sprintf("tune-%d", i)))
		o.Phase, o.Shard, o.Shards = PhaseTune, i, 2
		o.Seeds = 3 // the tuning phase does not use it: the final shards' 2 count
		if _, err := Run(cfg, o); err != nil {
			t.Fatal(err)
		}
		tune = append(tune, o.OutDir)
	}
	for i := 1; i <= 2; i++ {
		o := options(cfg, filepath.Join(dir, fmt.Sprintf("final-%d", i)))
		o.Phase, o.Shard, o.Shards, o.Tuned = PhaseFinal, i, 2, tune
		if _, err := Run(cfg, o); err != nil {
			t.Fatal(err)
		}
		final = append(final, o.OutDir)
	}
	return tune, final
}

func TestReportChecksCompleteness(t *testing.T) {
	dir := t.TempDir()
	tune, final := shardedSweep(t, dir)
	out := filepath.Join(dir, "report")
	report := func(partial bool, dirs ...string) (*Summary, string, error) {
		var log strings.Builder
		sum, err := ReportDirs(dirs, ReportOptions{Out: out, Partial: partial, Log: &log})
		return sum, log.String(), err
	}
	// Every shard: complete, titled after the config, not a directory.
	sum, log, err := report(false, append(append([]string(nil), tune...), final...)...)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sum.Markdown, "# Optimizer comparison: blobs\n") || strings.Contains(sum.Markdown, "Warning") {
		t.Errorf("complete report:\n%s", sum.Markdown)
	}
	for _, s := range sum.Optimizers {
		if s.Seeds+len(s.Diverged) < 2 {
			t.Errorf("%s: %d seeds", s.Name, s.Seeds)
		}
	}
	if !strings.Contains(log, "Report written to "+out+"\n") {
		t.Errorf("the report does not say where it went:\n%s", log)
	}
	complete := stableCSV(t, out)
	completeSum := sum

	// One tuning shard alone: no final runs, half the grid.
	_, _, err = report(false, tune[0])
	var ie *IncompleteError
	if !errors.As(err, &ie) {
		t.Fatalf("one tuning shard reported: %v", err)
	}
	msg := err.Error()
	for _, want := range []string{
		"incomplete: sgd has tuning runs for 2 of 3 learning rates (lr 0.001 missing); momentum has tuning runs for 1 of 3 learning rates (lrs 1e-05, 0.1 missing); ",
		"; no final runs (run --phase final): merge every shard's directory",
		"or pass --partial",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	// Every tuning shard, no final runs.
	if _, _, err = report(false, tune...); err == nil || !strings.HasPrefix(err.Error(), "incomplete: no final runs (run --phase final): ") {
		t.Errorf("tuning only: %v", err)
	}
	// A final shard missing: seeds missing, named.
	_, _, err = report(false, tune[0], tune[1], final[0])
	if err == nil || !strings.Contains(err.Error(), "incomplete: sgd has final runs for 1 of 2 seeds (seed 6 missing); momentum has final runs for 1 of 2 seeds (seed 6 missing)") {
		t.Errorf("a final shard missing: %v", err)
	}
	// A tuning shard missing: its rates are named, whatever the final
	// shards hold.
	_, _, err = report(false, tune[0], final[0], final[1])
	if err == nil || !strings.Contains(err.Error(), "incomplete: sgd has tuning runs for 2 of 3 learning rates (lr 0.001 missing)") ||
		strings.Contains(err.Error(), "final runs") {
		t.Errorf("a tuning shard missing: %v", err)
	}
	if _, err := os.Stat(out); err != nil {
		t.Fatal(err)
	}
	if csv := stableCSV(t, out); csv != complete {
		t.Errorf("a refused report overwrote the complete one:\n%s", csv)
	}

	// --partial: written, with a warning in summary.md and the log, and
	// neither a NaN target nor a false "diverged".
	sum, log, err = report(true, tune[0])
	if err != nil {
		t.Fatal(err)
	}
	md, _ := os.ReadFile(filepath.Join(out, "summary.md"))
	for _, text := range []string{string(md), log} {
		if !strings.Contains(text, "**Warning: incomplete report, some trials are missing:** sgd has tuning runs for 2 of 3 learning rates (lr 0.001 missing);") {
			t.Errorf("no warning:\n%s", text)
		}
		for _, bad := range []string{"NaN", "diverged at every", "without diverging", "largest of its grid", "Optimizer comparison: tune-1"} {
			if strings.Contains(text, bad) {
				t.Errorf("partial report says %q:\n%s", bad, text)
			}
		}
	}
	for _, want := range []string{"No target validation loss: there are no final runs.", "There are no final runs yet; nothing can be ranked.", "No trial diverged."} {
		if !strings.Contains(sum.Markdown, want) {
			t.Errorf("partial report lacks %q:\n%s", want, sum.Markdown)
		}
	}
	if !strings.Contains(log, "warning: incomplete report: ") {
		t.Errorf("no warning line at the end:\n%s", log)
	}
	js, _ := os.ReadFile(filepath.Join(out, "summary.json"))
	var parsed struct{ Incomplete []string }
	if json.Unmarshal(js, &parsed); len(parsed.Incomplete) == 0 {
		t.Errorf("summary.json does not say it is incomplete:\n%s", js)
	}
	// Final runs without their tuning runs: refused, or reported at the
	// rates the final runs were chosen with.
	chosen := map[string]float64{}
	for _, o := range completeSum.Optimizers {
		chosen[o.Name] = *o.ChosenLR
	}
	if _, _, err = report(false, final...); err == nil || !strings.HasPrefix(err.Error(), "incomplete: no tuning runs (run --phase tune): ") {
		t.Errorf("final runs only: %v", err)
	}
	sum, _, err = report(true, final...)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range sum.Optimizers {
		if o.ChosenLR == nil || *o.ChosenLR != chosen[o.Name] || o.Seeds+len(o.Diverged) != 2 {
			t.Errorf("final runs only: %s at %v, %d seeds", o.Name, o.ChosenLR, o.Seeds)
		}
	}
	// Partial with a final shard missing: ranked, with the warning.
	sum, _, err = report(true, tune[0], tune[1], final[0])
	if err != nil || !strings.Contains(sum.Markdown, "sgd has final runs for 1 of 2 seeds (seed 6 missing)") {
		t.Errorf("partial, final shard missing: %v\n%v", err, sum)
	}
}

// TestReportOldRecords: records of an older nettrain carry no plan; the
// report infers it from the records.
func TestReportOldRecords(t *testing.T) {
	dir := t.TempDir()
	tune, final := shardedSweep(t, dir)
	old := filepath.Join(dir, "old-compare")
	os.MkdirAll(old, 0o755)
	var lines []string
	for _, d := range append(tune, final...) {
		recs, err := readRecords(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			r.Plan = nil
			b, _ := json.Marshal(recordJSON(r))
			if strings.Contains(string(b), `"plan"`) || strings.Contains(string(b), "blobs") {
				t.Fatalf("plan written: %s", b)
			}
			lines = append(lines, string(b))
		}
	}
	os.WriteFile(filepath.Join(old, RecordsFile), []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	var log strings.Builder
	sum, err := ReportDirs([]string{old}, ReportOptions{Out: old, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Name != "old" || !strings.Contains(log.String(), "note: these records were written by an older nettrain") {
		t.Errorf("name %q, log:\n%s", sum.Name, log.String())
	}
	// A final record missing is still noticed: the others have 2 seeds.
	var kept []string
	for _, l := range lines {
		if !strings.Contains(l, `"phase":"final","optimizer":"adam"`) || !strings.Contains(l, `"seed":6`) {
			kept = append(kept, l)
		}
	}
	os.WriteFile(filepath.Join(old, RecordsFile), []byte(strings.Join(kept, "\n")+"\n"), 0o644)
	if _, err := ReportDirs([]string{old}, ReportOptions{Out: old}); err == nil || !strings.Contains(err.Error(), "adam has final runs for 1 of 2 seeds (seed 6 missing)") {
		t.Errorf("old records, a final run missing: %v", err)
	}
}

// TestRunTunePhaseAndReusedDirectory: an unsharded --phase tune writes a
// report of the tuning runs marked incomplete; a later run in the same
// directory with fewer optimizers reports only those.
func TestRunTunePhaseAndReusedDirectory(t *testing.T) {
	dir := t.TempDir()
	writeBlobs(t, dir)
	cfg := config(t, dir)
	o := options(cfg, filepath.Join(dir, "out"))
	o.Phase = PhaseTune
	var log strings.Builder
	o.Log = &log
	sum, err := Run(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sum.Markdown, "**Warning: incomplete report, some trials are missing:** no final runs (run --phase final).") ||
		strings.Contains(sum.Markdown, "NaN") || strings.Contains(sum.Markdown, "diverged at every") {
		t.Errorf("tuning-only report:\n%s", sum.Markdown)
	}
	o.Phase = PhaseAll
	o.Optimizers = []string{"adam", "sgd"}
	log.Reset()
	if sum, err = Run(cfg, o); err != nil {
		t.Fatal(err)
	}
	if len(sum.Optimizers) != 2 || len(sum.Incomplete) != 0 || strings.Contains(stableCSV(t, o.OutDir), "momentum") {
		t.Errorf("report of a reused directory:\n%s", sum.Markdown)
	}
	if !strings.Contains(log.String(), "note: 3 trial record(s) outside this sweep's plan") {
		t.Errorf("the momentum records left out are not noted:\n%s", log.String())
	}
	// The directory's records now carry two plans: their union is
	// complete (momentum was tuned, but has no final runs).
	if _, err := ReportDirs([]string{o.OutDir}, ReportOptions{Out: filepath.Join(dir, "r")}); err == nil ||
		!strings.Contains(err.Error(), "incomplete: momentum has final runs for 0 of 2 seeds (seeds 5, 6 missing)") {
		t.Errorf("report of two plans: %v", err)
	}
}

func TestReportRejectsBadTarget(t *testing.T) {
	recs := []Record{{Key: Key{Phase: PhaseTune, Optimizer: "sgd", LR: 0.1, Seed: 1}, Sweep: "x"}}
	for _, v := range []float64{0, -1, math.NaN(), math.Inf(1)} {
		if _, err := Report([][]Record{recs}, ReportOptions{Out: t.TempDir(), Target: &v}); err == nil || !strings.Contains(err.Error(), "must be a finite number > 0") {
			t.Errorf("target %g: %v", v, err)
		}
	}
}

// TestFirstFailureStopsTheComparison: once a trial's record cannot be
// written, no more trials start and the running ones are abandoned; the
// error names the trial, and the records written before are kept.
func TestFirstFailureStopsTheComparison(t *testing.T) {
	dir := t.TempDir()
	writeBlobs(t, dir)
	cfg := config(t, dir)
	o := options(cfg, filepath.Join(dir, "out"))
	var mu sync.Mutex
	calls := 0
	defer func(w func(string, Record) error) { writeRecord = w }(writeRecord)
	writeRecord = func(dir string, rec Record) error {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls >= 2 {
			return errors.New("no space left on device")
		}
		return appendRecord(dir, rec)
	}
	_, err := Run(cfg, o)
	if err == nil || !strings.Contains(err.Error(), "no space left on device") || !strings.Contains(err.Error(), "trial ") {
		t.Fatalf("error %v, want the failed trial's", err)
	}
	// 9 tuning trials on 2 workers: the failing one and at most one
	// running beside it reach the record.
	if calls > 3 {
		t.Errorf("%d trials finished after the first failure, want at most the one running beside it", calls-2)
	}
	recs, rerr := os.ReadFile(filepath.Join(o.OutDir, RecordsFile))
	if rerr != nil || strings.Count(string(recs), "\n") != 1 {
		t.Errorf("records kept: %q (%v), want the first trial's", recs, rerr)
	}
}
