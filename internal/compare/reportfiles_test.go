package compare

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fakeRecord is a finished trial of key k whose validation loss falls to
// best.
func fakeRecord(k Key, plan *Plan, best float64) Record {
	return Record{Key: k, Sweep: "s", Plan: plan, TrialResult: TrialResult{Steps: 20, FinalVal: best, BestVal: best,
		Curve: []CurvePoint{{Step: 10, Epoch: 0.5, TrainLoss: 2 * best, ValLoss: 2 * best}, {Step: 20, Epoch: 1, TrainLoss: best, ValLoss: best}}}}
}

// TestReportReplacesTheOldWhole: a report written where another was
// leaves no file of the old one: a plot the new report does not draw (no
// final runs yet; another swept key) is removed, with a note, and the
// trial records stay.
func TestReportReplacesTheOldWhole(t *testing.T) {
	cmpPlan := &Plan{Config: "c", Optimizers: []string{"sgd", "adam"}, Grids: map[string][]float64{"sgd": {0.01, 0.1}, "adam": {0.001, 0.01}}, Seed: 1, Seeds: 1}
	var tuned []Record
	for i, opt := range cmpPlan.Optimizers {
		for j, lr := range cmpPlan.Grids[opt] {
			tuned = append(tuned, fakeRecord(Key{Phase: PhaseTune, Optimizer: opt, LR: lr, Seed: 1}, cmpPlan, 1+float64(i+j)/10))
		}
	}
	all := slices.Clone(tuned)
	all = append(all, fakeRecord(Key{Phase: PhaseFinal, Optimizer: "sgd", LR: 0.01, Seed: 1}, cmpPlan, 1))
	all = append(all, fakeRecord(Key{Phase: PhaseFinal, Optimizer: "adam", LR: 0.001, Seed: 1}, cmpPlan, 1.1))
	comparison := func(recs []Record) func(out string, log io.Writer) error {
		return func(out string, log io.Writer) error {
			_, err := Report([][]Record{recs}, ReportOptions{Plan: cmpPlan, Out: out, Partial: true, Log: log})
			return err
		}
	}
	sweep := func(key string) func(out string, log io.Writer) error {
		plan := &Plan{Config: "c", Seed: 1, Seeds: 1, Axes: []string{key}, Settings: []string{key + "=1", key + "=2"}}
		var recs []Record
		for i, st := range plan.Settings {
			recs = append(recs, fakeRecord(Key{Phase: PhaseSweep, Seed: 1, Setting: st}, plan, 1+float64(i)))
		}
		return func(out string, log io.Writer) error {
			_, err := SweepReport([][]Record{recs}, ReportOptions{Plan: plan, Out: out, Log: log})
			return err
		}
	}
	tests := []struct {
		name     string
		old, new func(out string, log io.Writer) error
		want     []string // the report's files after the new one
		note     string
	}{
		{"a comparison's report without final runs over one with them", comparison(all), comparison(tuned),
			[]string{"lr-sensitivity.png", "lr-sensitivity.svg", "summary.json", "summary.md", "trials.csv", "trials.jsonl"},
			"note: removed curves.png, curves.svg of the report before this one from OUT: this report has no such file"},
		{"a comparison's report over one without final runs", comparison(tuned), comparison(all),
			[]string{"curves.png", "curves.svg", "lr-sensitivity.png", "lr-sensitivity.svg", "summary.json", "summary.md", "trials.csv", "trials.jsonl"}, ""},
		{"a sweep's report over another key's", sweep("training.batch_size"), sweep("optimizer.lr"),
			[]string{"by-optimizer-lr.png", "by-optimizer-lr.svg", "curves.png", "curves.svg", "summary.json", "summary.md", "trials.csv", "trials.jsonl"},
			"note: removed by-training-batch_size.png, by-training-batch_size.svg of the report before this one from OUT: this report has no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := t.TempDir()
			if err := os.WriteFile(filepath.Join(out, RecordsFile), []byte("the records\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := tt.old(out, io.Discard); err != nil {
				t.Fatal(err)
			}
			var log strings.Builder
			if err := tt.new(out, &log); err != nil {
				t.Fatal(err)
			}
			entries, _ := os.ReadDir(out)
			var got []string
			for _, e := range entries {
				got = append(got, e.Name())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("files %v\nwant %v", got, tt.want)
			}
			if b, _ := os.ReadFile(filepath.Join(out, RecordsFile)); string(b) != "the records\n" {
				t.Errorf("the records changed: %q", b)
			}
			if note := strings.ReplaceAll(tt.note, "OUT", out); note == "" && strings.Contains(log.String(), "note: removed") {
				t.Errorf("log notes a removal that did not happen:\n%s", log.String())
			} else if !strings.Contains(log.String(), note) {
				t.Errorf("log lacks %q:\n%s", note, log.String())
			}
		})
	}
}
