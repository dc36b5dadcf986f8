package compare

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/nettrain/nettrain/internal/train"
)

// TestTargetBelowTheStart: "steps to the target" ranks speed only when the
// target validation loss is below the validation loss at the initial
// weights (measured here); a target at or above it is reached at the first
// measurement by every run, and the report says so instead of naming a
// fastest optimizer.
func TestTargetBelowTheStart(t *testing.T) {
	tests := []struct {
		name   string
		grid   int
		epochs int
		target *float64 // nil: the default
		speed  bool     // a target below the start: speed is ranked
	}{
		{"two rates, two epochs: the default target is above the start", 2, 2, nil, false},
		{"three rates, more epochs: the default target is below the start", 3, 8, nil, true},
		{"an explicit target above the start", 3, 8, ptr(5.0), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeBlobs(t, dir)
			cfg := config(t, dir)
			o := options(cfg, filepath.Join(dir, "out"))
			o.Optimizers, o.LRGrid, o.Seeds, o.Epochs, o.TargetLoss = []string{"sgd", "adam"}, tc.grid, 1, tc.epochs, tc.target
			sum, err := Run(cfg, o)
			if err != nil {
				t.Fatal(err)
			}
			// The validation loss at the initial weights, measured.
			data := &dataCache[float32]{cfg: cfg, bySeed: map[uint64]*dataEntry[float32]{}}
			m, err := data.get(cfg.Seed)
			if err != nil {
				t.Fatal(err)
			}
			net, err := m.InitNetwork(cfg.Training.BatchSize)
			if err != nil {
				t.Fatal(err)
			}
			pool := train.NewPool(1)
			defer pool.Close()
			start := train.Evaluate(pool.Ctx(), net, m.Data.Val, m.Data.Classes).Loss
			if below := sum.Target < start; below != tc.speed {
				t.Fatalf("target %g, start %g: the case does not test what it says", sum.Target, start)
			}
			f := strings.Join(sum.Findings, "\n")
			if got := strings.Contains(f, "Fastest to the target"); got != tc.speed {
				t.Errorf("target %g, validation loss at the initial weights %g: fastest named %v, want %v:\n%s", sum.Target, start, got, tc.speed, f)
			}
			if !tc.speed {
				if !strings.Contains(f, "is not below the validation loss at the initial weights") {
					t.Errorf("the findings do not say the target is no harder than the start:\n%s", f)
				}
				for _, s := range sum.Optimizers {
					if s.StepsMedian != nil {
						t.Errorf("%s: steps to a target above the start: %g", s.Name, *s.StepsMedian)
					}
				}
				// Records without the validation loss at the initial
				// weights (an older nettrain): the first batch's loss
				// stands in for it, and the report says so.
				recs, err := readRecords(o.OutDir)
				if err != nil {
					t.Fatal(err)
				}
				osum, err := Report([][]Record{stripped(t, recs, "init_val_loss")}, ReportOptions{Out: filepath.Join(dir, "old"), Target: tc.target})
				if err != nil {
					t.Fatal(err)
				}
				if f := strings.Join(osum.Findings, "\n"); strings.Contains(f, "Fastest to the target") || !strings.Contains(f, "the first batch's training loss") {
					t.Errorf("records without the start's validation loss:\n%s", f)
				}
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
