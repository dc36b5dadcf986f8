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
func writeBlobs(t *testing.T, dir string) { writeBlobsApart(t, dir, 1, 0.7) }

// writeBlobsApart writes blobs.csv: 240 rows of three classes whose
// centres are apart apart in every other feature, with normal noise of
// standard deviation noise.
func writeBlobsApart(t *testing.T, dir string, apart, noise float64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 7))
	var b strings.Builder
	b.WriteString("a,b,c,d,label\n")
	for i := 0; i < 240; i++ {
		c := i % 3
		for k := 0; k < 4; k++ {
			fmt.Fprintf(&b, "%.4f,", apart*float64(c*(k%2))+rng.NormFloat64()*noise)
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
	// Even sizes: the odd grid one larger, without its largest rate.
	if g := Grid(1e-3, 2); !slices.Equal(g, []float64{1e-5, 1e-3}) {
		t.Errorf("Grid(1e-3, 2) = %v", g)
	}
	if g := Grid(1e-3, 4); !slices.Equal(g, []float64{1e-5, 1e-4, 1e-3, 1e-2}) {
		t.Errorf("Grid(1e-3, 4) = %v", g)
	}
}

// TestEveryGridHoldsTheDefault: whatever --lr-grid, every optimizer's
// default grid holds its default rate (with --lr-grid 2, Adam once ran
// only at 1e-5 and 0.1 and ranked 8th of 9).
func TestEveryGridHoldsTheDefault(t *testing.T) {
	for n := 1; n <= 12; n++ {
		o := Options{Optimizers: VariantNames(), LRGrid: n}
		for _, name := range o.Optimizers {
			v, _ := variant(name)
			g := o.grid(name)
			if len(g) != n || !slices.Contains(g, v.DefaultLR()) {
				t.Errorf("--lr-grid %d: %s's grid %v (default %g)", n, name, g, v.DefaultLR())
			}
		}
	}
}

// TestSmallGridWarns: fewer than 3 rates, or a grid without the default,
// puts a warning at the top of the report.
func TestSmallGridWarns(t *testing.T) {
	p := &Plan{Optimizers: []string{"sgd", "adam"}, Grids: map[string][]float64{"sgd": {1e-5, 1e-3}, "adam": {1e-4, 1e-3, 1e-2}}}
	w := strings.Join(gridWarnings(p), "\n")
	if !strings.Contains(w, "The ranking is unreliable: fewer than 3 learning rates were tried (sgd 2)") || strings.Contains(w, "adam 3") {
		t.Errorf("warnings: %s", w)
	}
	p.Grids["sgd"] = []float64{1e-4, 1e-2, 1e-1}
	w = strings.Join(gridWarnings(p), "\n")
	if strings.Contains(w, "unreliable") || !strings.Contains(w, "do not contain the optimizer's default learning rate: sgd (default 0.001)") {
		t.Errorf("warnings: %s", w)
	}
	p.Grids["sgd"] = Grid(0.001, 3)
	if w := gridWarnings(p); len(w) != 0 {
		t.Errorf("a sound grid warns: %v", w)
	}
	sum := &Summary{Name: "x", Warnings: []string{"The ranking is unreliable: x"}, Target: math.NaN()}
	if md := markdown(sum); !strings.Contains(md, "**Warning:** The ranking is unreliable") {
		t.Errorf("markdown lacks the warning:\n%s", md)
	}
}

// TestDivergedSeedsRankLast: a row with a diverged final seed is marked
// and ranked after every complete row, even when the mean of its surviving
// seeds is lower; among such rows, fewer diverged seeds first.
func TestDivergedSeedsRankLast(t *testing.T) {
	rec := func(opt string, seed uint64, best float64, div bool) Record {
		r := Record{Key: Key{Phase: PhaseFinal, Optimizer: opt, LR: 0.1, Seed: seed}}
		r.BestVal, r.FinalVal, r.Diverged = best, best, div
		if div {
			r.BestVal, r.FinalVal = math.NaN(), math.NaN()
		}
		return r
	}
	recs := []Record{
		rec("sgd", 1, 0.1, false), rec("sgd", 2, 0.1, true), rec("sgd", 3, 0.1, false), // best mean, one diverged
		rec("adam", 1, 0.5, false), rec("adam", 2, 0.5, false), rec("adam", 3, 0.5, false),
		rec("momentum", 1, 0.05, false), rec("momentum", 2, 0.1, true), rec("momentum", 3, 0.1, true),
		rec("rmsprop", 1, 0.3, false), rec("rmsprop", 2, 0.3, false), rec("rmsprop", 3, 0.3, false),
	}
	var ss []OptimizerSummary
	for _, n := range []string{"momentum", "sgd", "adam", "rmsprop"} {
		ss = append(ss, summarise(n, recs))
	}
	slices.SortStableFunc(ss, rankOrder)
	var order []string
	for _, s := range ss {
		order = append(order, s.Name)
	}
	if want := []string{"rmsprop", "adam", "sgd", "momentum"}; !slices.Equal(order, want) {
		t.Errorf("ranking %v, want %v", order, want)
	}
	if ss[2].DivergedSeeds != 1 || ss[2].Seeds != 2 || ss[3].DivergedSeeds != 2 {
		t.Errorf("diverged seeds: %+v", ss[2:])
	}
	md := markdown(&Summary{Name: "x", Optimizers: ss, Target: 1})
	for _, want := range []string{"| 3 ⚠ | sgd | 0.1 | 0.1 ± 0 (2 of 3 seeds; 1 diverged)", "| 4 ⚠ | momentum", "ranked after every row whose seeds all finished"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

// TestFamilyDivergenceNamesTheCause: when every SGD variant diverges on a
// regression whose first MSE is huge, the findings say so with the
// measured gradient norm and the step it makes.
func TestFamilyDivergenceNamesTheCause(t *testing.T) {
	tune := func(opt string, lr float64, div bool) Record {
		r := Record{Key: Key{Phase: PhaseTune, Optimizer: opt, LR: lr, Seed: 1}}
		r.Diverged, r.BestVal = div, 2.0
		r.FirstLoss, r.FirstGradNorm, r.MaxGradNorm, r.WeightNorm = 3e4, 2e4, 5e4, 8
		return r
	}
	var recs []Record
	for _, o := range []string{"sgd", "momentum"} {
		for _, lr := range Grid(0.001, 3) {
			recs = append(recs, tune(o, lr, lr >= 0.001))
		}
	}
	for _, lr := range Grid(0.001, 3) {
		recs = append(recs, tune("adam", lr, false))
	}
	sum := &Summary{Loss: "mse"}
	for _, n := range []string{"sgd", "momentum", "adam"} {
		sum.Optimizers = append(sum.Optimizers, summarise(n, recs))
	}
	f := strings.Join(familyFindings(sum), "\n")
	for _, want := range []string{
		"Every sgd variant compared diverged: sgd at its default learning rate (0.001); momentum at its default learning rate (0.001).",
		"the gradient norm at the first step is 2e+04 (largest finite one in any run: 5e+04), against initial weights of norm 8",
		"at its default 0.001, the first step alone moves the weights by 20, 2.5 times their norm",
		"The first batch's mean squared error is 3e+04: the regression targets are unscaled (of the order of 173.2)",
		"these trained: adam",
	} {
		if !strings.Contains(f, want) {
			t.Errorf("findings lack %q:\n%s", want, f)
		}
	}
	// The guide quotes the measured cause among the gradient findings.
	if all, grad := findings(sum); !slices.Equal(grad, familyFindings(sum)) || !slices.Contains(all, grad[0]) {
		t.Errorf("gradient findings %q, want the family's cause %q", grad, familyFindings(sum))
	}
	// A family with one member that trains at its default names no cause.
	recs = append(recs[:0:0], recs...)
	for i := range recs {
		if recs[i].Optimizer == "momentum" {
			recs[i].Diverged = false
		}
	}
	sum.Optimizers = nil
	for _, n := range []string{"sgd", "momentum", "adam"} {
		sum.Optimizers = append(sum.Optimizers, summarise(n, recs))
	}
	if f := familyFindings(sum); len(f) != 0 {
		t.Errorf("findings for a family that trained: %v", f)
	}
	// An adaptive optimizer diverging at its default: the rate is too
	// large, and no advice about scaling gradients.
	var rms []Record
	for _, lr := range Grid(0.01, 3) {
		rms = append(rms, tune("rmsprop", lr, lr >= 0.01))
	}
	sum = &Summary{Loss: "cross_entropy", Optimizers: []OptimizerSummary{summarise("rmsprop", rms)}}
	f = strings.Join(familyFindings(sum), "\n")
	if !strings.Contains(f, "So divergence at its default rate points at the rate rather than at the gradients' scale: the default is too large for this network (best rate here: rmsprop 0.0001).") ||
		strings.Contains(f, "less exposed") || strings.Contains(f, "unscaled") {
		t.Errorf("adaptive family finding:\n%s", f)
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
	recPath := filepath.Join(out, RecordsFile)
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
		{Name: "rmsprop", Grid: []float64{1e-3}, Seeds: 3, BestMean: 0.6, Reached: 1, FinalSeeds: 3},
		{Name: "adadelta", Grid: []float64{1}, Seeds: 3, BestMean: 0.9, FinalSeeds: 3},
	}}
	all, _ := findings(sum)
	f := strings.Join(all, "\n")
	for _, want := range []string{
		"Lowest validation loss: adam, 0.3 ± 0.01 over 3 seed(s) at learning rate 0.001. It leads the runner-up, sgd (0.4 ± 0.02), by 0.1, more than the spread over seeds.",
		"Fastest to the target validation loss 0.5: adam, in a median of 120 steps (sgd 300). Reached by only half of their seeds or fewer (no median): rmsprop (1 of 3 seeds). Never reached it within the budget: adadelta.",
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

// TestTargetSteps: the median counts the runs that never reached the
// target as beyond the budget, so more than half of them must have.
func TestTargetSteps(t *testing.T) {
	run := func(step int64) Record { // reaches 0.5 at step, or never (-1)
		r := Record{}
		r.Curve = []CurvePoint{{Step: 10, ValLoss: 2}}
		if step >= 0 {
			r.Curve = append(r.Curve, CurvePoint{Step: step, ValLoss: 0.4})
		}
		return r
	}
	for _, c := range []struct {
		steps          []int64
		want           float64 // -1: nil
		reached, seeds int
	}{
		{[]int64{100, 200, 300}, 200, 3, 3},
		{[]int64{100, 300, -1}, 300, 2, 3},
		{[]int64{100, -1, -1}, -1, 1, 3},
		{[]int64{844, -1}, -1, 1, 2}, // one of two seeds is not a median
		{[]int64{100, 200}, 150, 2, 2},
		{[]int64{-1}, -1, 0, 1},
		{nil, -1, 0, 0},
	} {
		var recs []Record
		for _, s := range c.steps {
			recs = append(recs, run(s))
		}
		m, reached, seeds := targetSteps(recs, 0.5)
		got := -1.0
		if m != nil {
			got = *m
		}
		if got != c.want || reached != c.reached || seeds != c.seeds {
			t.Errorf("%v: median %v, %d of %d; want %v, %d of %d", c.steps, got, reached, seeds, c.want, c.reached, c.seeds)
		}
	}
}

// TestFinalTrainLoss: the training loss at a run's end covers at least
// its longest interval between points, so that a last point over an
// epoch's short last batch does not stand alone.
func TestFinalTrainLoss(t *testing.T) {
	pts := func(steps []int64, losses []float64) []CurvePoint {
		var c []CurvePoint
		for i := range steps {
			c = append(c, CurvePoint{Step: steps[i], TrainLoss: losses[i]})
		}
		return c
	}
	for _, c := range []struct {
		curve []CurvePoint
		want  float64
	}{
		{pts([]int64{10, 20, 30}, []float64{3, 2, 1}), 1},                       // even intervals: the last
		{pts([]int64{10, 20, 21}, []float64{3, 2, 100}), (2*10 + 100*1) / 11.0}, // a 1-step tail joins the interval before
		{pts([]int64{5, 10, 12, 13}, []float64{4, 3, 2, 1}), (1*1 + 2*2 + 3*5) / 8.0},
		{pts([]int64{7}, []float64{2}), 2},
		{nil, math.NaN()},
	} {
		got := finalTrainLoss(c.curve)
		if !(got == c.want || math.IsNaN(got) && math.IsNaN(c.want)) {
			t.Errorf("%+v: %g, want %g", c.curve, got, c.want)
		}
	}
}

// TestFindingsWithoutAMedian: when no optimizer has a median of steps to
// the target, the findings still say who reached it in some seeds.
func TestFindingsWithoutAMedian(t *testing.T) {
	sum := &Summary{Target: 0.5, Optimizers: []OptimizerSummary{
		{Name: "adam", Grid: []float64{1e-3}, Seeds: 2, BestMean: 0.4, Reached: 1, FinalSeeds: 2},
		{Name: "sgd", Grid: []float64{1e-1}, Seeds: 2, BestMean: 0.9, FinalSeeds: 2},
	}}
	f := strings.Join(moreFindings(sum), "\n")
	want := "No optimizer reached the target validation loss 0.5 in more than half of its seeds. Reached by only half of their seeds or fewer (no median): adam (1 of 2 seeds). Never reached it within the budget: sgd."
	if !strings.Contains(f, want) {
		t.Errorf("findings lack %q:\n%s", want, f)
	}
}
