package compare

import (
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/safetensors"
	"github.com/nettrain/nettrain/internal/session"
	"github.com/nettrain/nettrain/internal/train"
)

// TestTrialEqualsTrain: a comparison trial and `nettrain train` with the
// same config, optimizer, learning rate and seed train the same network:
// byte-identical weights, and the same validation losses at the same
// steps. They run through one loop (train.Loop); this holds them to it.
func TestTrialEqualsTrain(t *testing.T) {
	tests := []struct {
		name string
		sets []string
	}{
		{"adam", nil},
		{"sgd momentum, step schedule per step", []string{"optimizer.name=sgd", "optimizer.lr=0.05", "optimizer.momentum=0.9", "schedule.name=step", "schedule.step_size=7", "schedule.interval=step"}},
		{"rmsprop, plateau on the training loss (no validation)", []string{"optimizer.name=rmsprop", "schedule.name=plateau", "schedule.patience=0", "data.validation_split=0", "training.epochs=4"}},
		{"nadam, stopped by training.steps inside an epoch", []string{"optimizer.name=nadam", "training.steps=17"}},
		{"adamw with clipping", []string{"optimizer.name=adamw", "training.clip_norm=0.5", "training.clip_value=0.1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeBlobs(t, dir)
			cfg := config(t, dir, tc.sets...)
			out := filepath.Join(dir, "run")
			res, err := session.Run(cfg, session.Options{OutDir: out, Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			m, err := train.LoadWithData[float32](cfg, "")
			if err != nil {
				t.Fatal(err)
			}
			pool := train.NewPool(2)
			defer pool.Close()
			o := TrialOptions{Epochs: cfg.Training.Epochs, Steps: cfg.Training.Steps, EvalsPerEpoch: 4}
			trial, net, err := trainTrial(m, pool, o)
			if err != nil {
				t.Fatal(err)
			}
			// Weights: the trial's network against train's last checkpoint.
			f, err := safetensors.Read(filepath.Join(out, "last.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range net.Params {
				w, _, err := f.Float32(p.Name)
				if err != nil {
					t.Fatal(err)
				}
				for i := range w {
					if math.Float32bits(w[i]) != math.Float32bits(p.W[i]) {
						t.Fatalf("%s[%d]: train %v, trial %v", p.Name, i, w[i], p.W[i])
					}
				}
			}
			// Validation losses at the steps where train measured them.
			if len(res.Rows) == 0 {
				t.Fatal("train wrote no metrics rows")
			}
			for _, row := range res.Rows {
				if row.ValLoss == nil {
					continue
				}
				k := slices.IndexFunc(trial.Curve, func(p CurvePoint) bool { return p.Step == row.Step })
				if k < 0 {
					t.Fatalf("the trial has no point at step %d (train's epoch %d)", row.Step, row.Epoch)
				}
				if trial.Curve[k].ValLoss != *row.ValLoss {
					t.Errorf("step %d: validation loss train %v, trial %v", row.Step, *row.ValLoss, trial.Curve[k].ValLoss)
				}
			}
			if last := res.Rows[len(res.Rows)-1]; trial.Steps != last.Step {
				t.Errorf("trial made %d steps, train %d", trial.Steps, last.Step)
			}
		})
	}
}

// TestTrialBudgetSetsTheSchedule: a trial's epoch budget is the run's, so a
// cosine schedule spans the trial, as it spans training.epochs in train.
func TestTrialBudgetSetsTheSchedule(t *testing.T) {
	dir := t.TempDir()
	writeBlobs(t, dir)
	sched := []string{"schedule.name=cosine", "schedule.interval=step", "optimizer.lr=0.05"}
	long := config(t, dir, append(sched, "training.epochs=50")...)
	short := config(t, dir, append(sched, "training.epochs=2")...)
	pool := train.NewPool(1)
	defer pool.Close()
	run := func(cfg *model.Config) []float32 {
		m, err := train.LoadWithData[float32](cfg, "")
		if err != nil {
			t.Fatal(err)
		}
		_, net, err := trainTrial(m, pool, TrialOptions{Epochs: 2, EvalsPerEpoch: 1})
		if err != nil {
			t.Fatal(err)
		}
		return append([]float32(nil), net.W...)
	}
	if a, b := run(long), run(short); !slices.Equal(a, b) {
		t.Error("a 2-epoch trial depends on training.epochs: its schedule does not span its budget")
	}
}

// TestShortBudgetMeasuresAlongIt: a step budget shorter than an epoch gets
// its evals_per_epoch measurements spread over the budget (it had one, at
// its end: a curve of one point).
func TestShortBudgetMeasuresAlongIt(t *testing.T) {
	dir := t.TempDir()
	writeBlobs(t, dir)
	m, err := train.LoadWithData[float32](config(t, dir), "")
	if err != nil {
		t.Fatal(err)
	}
	pool := train.NewPool(1)
	defer pool.Close()
	for _, tc := range []struct {
		steps, evals int
		want         []int64
	}{
		{6, 3, []int64{2, 4, 6}},
		{5, 2, []int64{2, 4, 5}},
		{4, 10, []int64{1, 2, 3, 4}},
		// The epoch's own grid (every batches/N steps) adds no point off
		// the budget's.
		{9, 3, []int64{3, 6, 9}},
		{10, 4, []int64{2, 4, 6, 8, 10}},
	} {
		steps := tc.steps
		res, _, err := trainTrial(m, pool, TrialOptions{Epochs: 1, Steps: &steps, EvalsPerEpoch: tc.evals})
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, p := range res.Curve {
			got = append(got, p.Step)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%d steps, %d measurements per epoch: measured at steps %v, want %v", tc.steps, tc.evals, got, tc.want)
		}
	}
}

// TestSweepHashOfTheGuidesBudget: a step budget with model.MaxEpochs
// epochs, the most --epochs takes, hashes as the math.MaxInt32 epochs the
// guide ran before that cap, so that its records (docs/guide) resume; but
// only where the two run the same trials: a constant rate, and steps that
// end every trial before the epochs do.
func TestSweepHashOfTheGuidesBudget(t *testing.T) {
	dir := t.TempDir()
	steps, many := 100, model.MaxEpochs
	for _, c := range []struct {
		name  string
		sets  []string
		steps *int
		same  bool
	}{
		{"constant rate, a step budget", nil, &steps, true},
		{"no step budget", nil, nil, false},
		{"steps as many as the epochs", nil, &many, false},
		{"a cosine schedule", []string{"schedule=cosine"}, &steps, false},
		{"an exponential schedule", []string{"schedule.name=exponential", "schedule.gamma=0.9"}, &steps, false},
	} {
		cfg := config(t, dir, c.sets...)
		o := options(cfg, dir)
		o.Steps = c.steps
		o.Epochs = model.MaxEpochs
		now := sweepHash(cfg, &o)
		o.Epochs = math.MaxInt32
		before := sweepHash(cfg, &o)
		if (now == before) != c.same {
			t.Errorf("%s: the hash with %d epochs and with %d equal: %v, want %v", c.name, model.MaxEpochs, math.MaxInt32, now == before, c.same)
		}
	}
}
