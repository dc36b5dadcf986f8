package guide

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/nettrain/nettrain/internal/compare"
)

// TestSensitivity: the most and least sensitive optimizers, ties named
// together.
func TestSensitivity(t *testing.T) {
	for _, c := range []struct {
		robust map[string]float64
		want   string
	}{
		{map[string]float64{"adadelta": 0.47 * 5, "adagrad": 0.33 * 5, "sgd": 0.33 * 5, "adam": 0.33 * 5}, "adadelta 47%; most sensitive: adagrad, adam, sgd 33%."},
		{map[string]float64{"adam": 0.6 * 5, "nadam": 0.6 * 5, "sgd": 0.2 * 5}, "adam, nadam 60%; most sensitive: sgd 20%."},
		{map[string]float64{"adam": 2, "sgd": 2}, "Every optimizer was equally sensitive to the learning rate, averaged over the problems (the fraction of grid rates within 20% of the optimizer's best): 40%."},
		{map[string]float64{"adam": 2}, ""},
	} {
		got := sensitivity(c.robust, 5)
		if !strings.HasSuffix(got, c.want) || (c.want == "") != (got == "") {
			t.Errorf("%v: %q, want it to end %q", c.robust, got, c.want)
		}
	}
}

// row is one optimizer's final runs in a test summary.
type row struct {
	name           string
	seeds, diverge int
	mean, sd       float64
}

// summary is a compare summary of rows, in compare's ranking order.
func summary(rows []row, findings, warnings []string) *compare.Summary {
	s := &compare.Summary{Name: "p", Seeds: 3, Findings: findings, Warnings: warnings}
	for _, r := range rows {
		lr := 0.01
		s.Optimizers = append(s.Optimizers, compare.OptimizerSummary{Name: r.name, Grid: []float64{lr}, ChosenLR: &lr,
			Seeds: r.seeds, DivergedSeeds: r.diverge, BestMean: r.mean, BestStd: r.sd})
	}
	return s
}

// textLSTM is the committed guide's text-lstm ranking (docs/guide): rmsprop,
// ranked 5th, spreads so widely over its seeds (2.17, 3.49, 2.44) that its
// spread covers its gap to nadam, while adamw, adam and adadelta, ranked
// 2nd to 4th with tight seeds, are separated from it.
var textLSTM = []row{
	{"nadam", 3, 0, 2.153, 0.0685}, {"adamw", 3, 0, 2.317, 0.0344}, {"adam", 3, 0, 2.327, 0.0616},
	{"adadelta", 3, 0, 2.380, 0.0269}, {"rmsprop", 3, 0, 2.699, 0.697}, {"adagrad", 3, 0, 2.744, 0.488},
	{"nesterov", 3, 0, 3.037, 0.0622}, {"momentum", 3, 0, 3.056, 0.0550}, {"sgd", 3, 0, 3.467, 0.0042},
}

// smallRegression is `guide --problems regression-mlp --scale 0.01
// --lr-grid 3 --seeds 2`: sgd, ranked 6th, within its wide spread of
// nadam; adam, ranked 2nd, not.
var smallRegression = []row{
	{"nadam", 2, 0, 5651, 79.3}, {"adam", 2, 0, 7898, 1407}, {"adamw", 2, 0, 7934, 1405}, {"rmsprop", 2, 0, 7968, 1391},
	{"adadelta", 2, 0, 9342, 435}, {"sgd", 2, 0, 17897, 13976}, {"momentum", 2, 0, 20202, 2442}, {"adagrad", 2, 0, 30494, 781},
	{"nesterov", 1, 1, 23407, 0},
}

// TestTiedGroup: the optimizers tied with the best are the top of the
// ranking down to the first one separated from it; a lower-ranked one
// whose seeds spread widely is not tied while a better-ranked one is
// separated, and the page neither marks it nor recommends it.
func TestTiedGroup(t *testing.T) {
	for _, c := range []struct {
		name string
		rows []row
		want []string
	}{
		{"text-lstm", textLSTM, []string{"nadam"}},
		{"small regression", smallRegression, []string{"nadam"}},
		{"all within the spread", []row{{"a", 3, 0, 1, 0.1}, {"b", 3, 0, 1.1, 0.1}, {"c", 3, 0, 1.3, 0.2}}, []string{"a", "b", "c"}},
		{"the second tied, the third not", []row{{"a", 3, 0, 1, 0.1}, {"b", 3, 0, 1.1, 0.1}, {"c", 3, 0, 1.5, 0.1}, {"d", 3, 0, 1.6, 1}}, []string{"a", "b"}},
		{"a diverged seed ends the group", []row{{"a", 3, 0, 1, 0.1}, {"b", 2, 1, 1, 0.1}}, []string{"a"}},
		{"one seed: the leader alone", []row{{"a", 1, 0, 1, 0}, {"b", 1, 0, 1.01, 0}}, []string{"a"}},
		{"nothing finished", []row{{"a", 0, 3, math.NaN(), 0}}, nil},
	} {
		sum := summary(c.rows, nil, nil)
		if got := names(leaders(sum)); !slices.Equal(got, c.want) {
			t.Errorf("%s: tied with the best %v, want %v", c.name, got, c.want)
		}
	}
	for _, c := range []struct {
		name string
		rows []row
		bold string // a row of the matrix that must not be bold
	}{
		{"text-lstm", textLSTM, "| rmsprop | 5: 2.7 ± 0.697 @0.01 |"},
		{"small regression", smallRegression, "| sgd | 6: 1.79e+04 ± 1.4e+04 @0.01 |"},
	} {
		page := Page([]Result{{Problem: Suite[2], Steps: 500, Summary: summary(c.rows, nil, nil)}}, &Options{LRGrid: 1, Seeds: 3, Out: "g", Scale: 1})
		for _, want := range []string{
			"| [" + Suite[2].Kind + "](text-lstm/summary.md) | nadam | - |",
			"In the group tied with the best on every problem: nadam; start there.",
			c.bold,
		} {
			if !strings.Contains(page, want) {
				t.Errorf("%s: the page lacks %q:\n%s", c.name, want, page)
			}
		}
	}
}

// TestPageSmallRun: a run too small for gradient measurements, with a
// grid of one rate: the page carries the comparison's warning, and its
// gradient bullet says what there is (rmsprop's divergence, or that
// nothing was measured), never nothing.
func TestPageSmallRun(t *testing.T) {
	warn := "The ranking is unreliable: fewer than 3 learning rates were tried (sgd 1, adagrad 1, rmsprop 1); an optimizer can rank low only because its good rates were not on the grid. Use --lr-grid 3 or more (compare-optimizers tries 7 by default, guide 5)."
	div := "rmsprop diverged at every rate of its grid. Measured: the gradient norm at the first step is 0.2764 (largest finite one in any run: 261), against initial weights of norm 11.47."
	rows := []row{{"adagrad", 1, 0, 1.19, 0}, {"sgd", 1, 0, 2.3, 0}, {"rmsprop", 0, 0, math.NaN(), 0}}
	mnist := summary(rows, []string{"Lowest validation loss: adagrad.", "Diverged: rmsprop at 0.01 (tune, seed 1).", "rmsprop diverged at every learning rate of its grid and has no final runs.", div}, []string{warn})
	mnist.GradientFindings = []string{div}
	quiet := summary(rows[:2], []string{"Lowest validation loss: adagrad.", "No trial diverged."}, nil)
	page := Page([]Result{{Problem: Suite[0], Steps: 8, Summary: mnist}, {Problem: Suite[3], Steps: 600, Summary: quiet}}, &Options{LRGrid: 1, Seeds: 1, Out: "g", Scale: 1})
	for _, want := range []string{
		"**Warning (mnist-mlp):** " + warn,
		"[learning-rate sensitivity](mnist-mlp/lr-sensitivity.png)): " + div + " No gradient diagnostics (sparsity, noise scale) in these records: a trial takes them every 16 steps, and this budget is 8 steps.",
		// A budget long enough for them: not the budget's fault.
		"[learning-rate sensitivity](regression-mlp/lr-sensitivity.png)): No gradient diagnostics (sparsity, noise scale) in these records: no final run recorded any",
		"| [" + Suite[0].Kind + "](mnist-mlp/summary.md) | adagrad | ? (one seed: no spread to judge by) |",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q:\n%s", want, page)
		}
	}
	if i := strings.Index(page, "start there"); i < 0 || !strings.Contains(page[i:], "warning") {
		t.Errorf("the recommendation does not point to the warning:\n%s", page)
	}
	for _, l := range strings.Split(page, "\n") {
		if strings.HasPrefix(l, "- **") && strings.HasSuffix(strings.TrimSpace(l), ":") {
			t.Errorf("an empty bullet: %q", l)
		}
	}
}

// TestPageWritesVariantsAsConfig: the page states the config form of
// every name it ranks that is no optimizer name of a config (momentum,
// nesterov), so that its recommendation can be used as it stands.
func TestPageWritesVariantsAsConfig(t *testing.T) {
	const (
		momentum = "`momentum` is `optimizer: {name: sgd, momentum: 0.9}`"
		nesterov = "`nesterov` is `optimizer: {name: sgd, momentum: 0.9, nesterov: true}`"
	)
	for _, c := range []struct {
		name string
		rows []row
		want []string
		not  []string
	}{
		{"text-lstm", textLSTM, []string{"In a config, " + momentum, nesterov}, nil},
		{"no variants", []row{{"adam", 3, 0, 1, 0.1}, {"sgd", 3, 0, 2, 0.1}}, nil, []string{"In a config"}},
		{"nesterov alone", []row{{"nesterov", 3, 0, 1, 0.1}, {"adam", 3, 0, 2, 0.1}}, []string{"In a config, " + nesterov}, []string{momentum}},
	} {
		page := Page([]Result{{Problem: Suite[2], Steps: 500, Summary: summary(c.rows, nil, nil)}}, &Options{LRGrid: 3, Seeds: 3, Out: "g", Scale: 1})
		for _, w := range c.want {
			if !strings.Contains(page, w) {
				t.Errorf("%s: the page lacks %q:\n%s", c.name, w, page)
			}
		}
		for _, w := range c.not {
			if strings.Contains(page, w) {
				t.Errorf("%s: the page has %q", c.name, w)
			}
		}
	}
}

// TestPageStatesTheBudgets: the page states the steps per trial the runs
// used (not "a few hundred" at --scale 0.1), and keeps prose out of code
// spans.
func TestPageStatesTheBudgets(t *testing.T) {
	rows := []row{{"adam", 3, 0, 1, 0.1}, {"sgd", 3, 0, 2, 0.1}}
	for _, c := range []struct {
		name  string
		scale float64
		steps []int // per problem, in suite order
		want  []string
		not   []string
	}{
		{"the suite's budgets", 1, []int{800, 300, 500, 600, 600}, []string{"(300 to 800 steps per trial, chosen so that the whole guide runs in under an hour on two cores)"}, []string{"few hundred", "times `--scale"}},
		{"scaled down", 0.1, []int{80, 30, 50, 60, 60}, []string{"30 to 80 steps per trial (the suite's budgets, chosen so that the whole guide runs in under an hour on two cores, times `--scale 0.1`)"}, []string{"few hundred"}},
		{"one problem, scaled", 0.1, []int{60}, []string{"60 steps per trial (the suite's budget"}, []string{"few hundred", " to 60 "}},
	} {
		var results []Result
		for i, st := range c.steps {
			results = append(results, Result{Problem: Suite[i], Steps: st, Summary: summary(rows, nil, nil)})
		}
		page := Page(results, &Options{LRGrid: 3, Seeds: 3, Out: "g", Scale: c.scale, ConfigsDir: "configs"})
		for _, w := range append(c.want, "`--epochs 1000000`, the most it takes") {
			if !strings.Contains(page, w) {
				t.Errorf("%s: the page lacks %q:\n%s", c.name, w, page)
			}
		}
		for _, w := range append(c.not, "(the most it takes):") {
			if strings.Contains(page, w) {
				t.Errorf("%s: the page has %q", c.name, w)
			}
		}
	}
}
