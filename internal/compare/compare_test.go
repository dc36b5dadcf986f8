package compare

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/viper"

	"github.com/nettrain/nettrain/internal/model"
)

// writeBlobs writes a small 3-class data set: points around three centres.
func writeBlobs(t *testing.T, dir string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 7))
	var b strings.Builder
	b.WriteString("a,b,c,d,label\n")
	for i := 0; i < 240; i++ {
		c := i % 3
		for k := 0; k < 4; k++ {
			fmt.Fprintf(&b, "%.4f,", float64(c*(k%2))+rng.NormFloat64()*0.7)
		}
		fmt.Fprintf(&b, "%d\n", c)
	}
	if err := os.WriteFile(filepath.Join(dir, "blobs.csv"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

const blobs = `name: blobs
seed: 5
data: {train: blobs.csv, validation_split: 0.25, normalize: standardize}
model:
  input: [4]
  layers:
    - dense: {units: 12}
    - tanh
    - dense: {units: 3}
training: {epochs: 2, batch_size: 16}
`

func config(t *testing.T, dir string, sets ...string) *model.Config {
	t.Helper()
	path := filepath.Join(dir, "c.yaml")
	os.WriteFile(path, []byte(blobs), 0o644)
	cfg, err := model.Parse(path, []byte(blobs), sets, viper.New())
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func options(cfg *model.Config, out string) Options {
	return Options{Optimizers: []string{"sgd", "momentum", "adam"}, LRGrid: 3, Seeds: 2, Seed: cfg.Seed,
		Epochs: cfg.Training.Epochs, Workers: 2, EvalsPerEpoch: 3, Phase: PhaseAll, OutDir: out}
}

func TestGrid(t *testing.T) {
	got := Grid(1e-3, 7)
	want := []float64{1e-5, 4.64159e-5, 2.15443e-4, 1e-3, 4.64159e-3, 2.15443e-2, 1e-1}
	if !slices.Equal(got, want) {
		t.Errorf("Grid(1e-3, 7) = %v, want %v", got, want)
	}
	if g := Grid(0.01, 3); !slices.Equal(g, []float64{1e-4, 1e-2, 1}) {
		t.Errorf("Grid(0.01, 3) = %v", g)
	}
	if g := Grid(2, 1); !slices.Equal(g, []float64{2}) {
		t.Errorf("Grid(2, 1) = %v", g)
	}
}

func TestShardsCoverTheTrialsOnce(t *testing.T) {
	o := Options{Optimizers: VariantNames(), LRGrid: 7, Seed: 1}
	all := tuneKeys(&o)
	for n := 1; n <= 5; n++ {
		seen := map[Key]int{}
		for i := 1; i <= n; i++ {
			for _, k := range shardOf(all, i, n) {
				seen[k]++
			}
		}
		if len(seen) != len(all) {
			t.Errorf("%d shards cover %d of %d trials", n, len(seen), len(all))
		}
		for k, c := range seen {
			if c != 1 {
				t.Errorf("%d shards: %v runs %d times", n, k, c)
			}
		}
	}
}

// TestFairness: for a given seed every trial starts from the same weights
// and sees the same batches whatever the optimizer. With a learning rate
// too small to move any weight, different optimizers must report identical
// curves (training losses included: the same batches).
func TestFairness(t *testing.T) {
	dir := t.TempDir()
	writeBlobs(t, dir)
	cfg := config(t, dir)
	o := options(cfg, filepath.Join(dir, "out"))
	o.Optimizers = []string{"sgd", "adam", "rmsprop", "adadelta"}
	// A rate so small that no update moves a float32 weight.
	o.LRs = map[string][]float64{"sgd": {1e-30}, "adam": {1e-30}, "rmsprop": {1e-30}, "adadelta": {1e-30}}
	o.Seeds = 1
	if _, err := Run(cfg, o); err != nil {
		t.Fatal(err)
	}
	recs, _ := readRecords(o.OutDir)
	var ref string
	for _, r := range recs {
		b, _ := json.Marshal(r.Curve)
		curve := string(b)
		if ref == "" {
			ref = curve
		} else if curve != ref {
			t.Errorf("%v: curve %s differs from %s", r.Key, curve, ref)
		}
	}
}

func TestRunReportResumeDivergence(t *testing.T) {
	dir := t.TempDir()
	writeBlobs(t, dir)
	cfg := config(t, dir)
	out := filepath.Join(dir, "out")
	o := options(cfg, out)
	o.LRs = map[string][]float64{"sgd": {0.01, 0.1, 1e4}} // 1e4 diverges
	sum, err := Run(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"trials.csv", "trials.jsonl", "summary.md", "summary.json", "curves.png", "curves.svg", "lr-sensitivity.png", "lr-sensitivity.svg"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	if len(sum.Optimizers) != 3 {
		t.Fatalf("summary of %d optimizers", len(sum.Optimizers))
	}
	md := sum.Markdown
	for _, want := range []string{"| 1 |", "Diverged: sgd at 1e+04 (tune, seed 5)", "Lowest validation loss:"} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q:\n%s", want, md)
		}
	}
	csv1 := stableCSV(t, out)
	if !strings.Contains(csv1, "tune,sgd,10000,5,,") || !strings.Contains(csv1, ",yes") {
		t.Errorf("the diverged trial is not reported:\n%s", csv1)
	}
	// 3 optimizers x 3 rates, then 3 x 2 seeds (the first seed reused).
	if n := strings.Count(csv1, "\n"); n != 1+9+6 {
		t.Errorf("%d lines in trials.csv:\n%s", n, csv1)
	}
	// A second run skips everything; cut the last record in half first, as
	// a killed process would leave it: only that trial reruns.
	recPath := filepath.Join(out, recordsFile)
	b, _ := os.ReadFile(recPath)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	last := lines[len(lines)-1]
	os.WriteFile(recPath, []byte(strings.Join(lines[:len(lines)-1], "\n")+"\n"+last[:len(last)/2]), 0o644)
	var log strings.Builder
	o.Log = &log
	if _, err := Run(cfg, o); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "tuning: 9 of 9 trials already done") || !strings.Contains(log.String(), "final runs: 2 of 3 trials already done") {
		t.Errorf("resume did not skip finished trials:\n%s", log.String())
	}
	if csv2 := stableCSV(t, out); csv2 != csv1 {
		t.Errorf("a resumed sweep differs:\n%s\n---\n%s", csv1, csv2)
	}
	// The same command in a fresh directory gives identical numbers.
	o.OutDir = filepath.Join(dir, "again")
	if _, err := Run(cfg, o); err != nil {
		t.Fatal(err)
	}
	if csv3 := stableCSV(t, o.OutDir); csv3 != csv1 {
		t.Errorf("a rerun differs:\n%s\n---\n%s", csv1, csv3)
	}
	// Records of another sweep are refused.
	other := config(t, dir, "training.epochs=1")
	o.OutDir = out
	o.Epochs = 1
	if _, err := Run(other, o); err == nil || !strings.Contains(err.Error(), "different sweep") {
		t.Errorf("mixing sweeps: %v", err)
	}
}

// stableCSV is trials.csv without the wall_s column.
func stableCSV(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "trials.csv"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Split(line, ",")
		out = append(out, strings.Join(append(f[:10:10], f[11:]...), ","))
	}
	return strings.Join(out, "\n") + "\n"
}

func TestFindingsFromNumbers(t *testing.T) {
	lr := func(v float64) *float64 { return &v }
	sum := &Summary{Target: 0.5, Optimizers: []OptimizerSummary{
		{Name: "adam", ChosenLR: lr(1e-3), Grid: []float64{1e-4, 1e-3, 1e-2}, Robust: 2, Seeds: 3, BestMean: 0.30, BestStd: 0.01, StepsMedian: lr(120)},
		{Name: "sgd", ChosenLR: lr(1e-1), Grid: []float64{1e-3, 1e-2, 1e-1}, Robust: 1, Seeds: 3, BestMean: 0.40, BestStd: 0.02, StepsMedian: lr(300),
			Diverged: []Key{{Phase: PhaseTune, Optimizer: "sgd", LR: 1, Seed: 1}}},
		{Name: "adagrad", Grid: []float64{1e-3, 1}, BestMean: math.NaN()},
	}}
	f := strings.Join(findings(sum), "\n")
	for _, want := range []string{
		"Lowest validation loss: adam, 0.3 ± 0.01 over 3 seed(s) at learning rate 0.001. It leads the runner-up, sgd (0.4 ± 0.02), by 0.1, more than the spread over seeds.",
		"Fastest to the target validation loss 0.5: adam, in a median of 120 steps (sgd 300).",
		"Most robust to the learning rate: adam, within 20% of its best validation loss at 2 of 3 grid rates; least: adagrad (0 of 2).",
		"Diverged: sgd at 1 (tune, seed 1).",
		"sgd's best learning rate, 0.1, is the largest of its grid",
		"adagrad diverged at every learning rate of its grid and has no final runs.",
	} {
		if !strings.Contains(f, want) {
			t.Errorf("findings lack %q:\n%s", want, f)
		}
	}
}
