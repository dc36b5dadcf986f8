package guide

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/nettrain/nettrain/internal/compare"
	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/optim"
)

// leaders is the group of a problem's optimizers tied with the best (see
// tiedGroup).
func leaders(sum *compare.Summary) []compare.OptimizerSummary {
	l, _ := tiedGroup(sum)
	return l
}

// tiedGroup is the group tied with the best: the top of the problem's
// ranking (compare's: by mean over seeds of the best validation loss,
// complete rows first) down to, not including, the first optimizer not
// shown to be within the seed spread of the best: one whose mean exceeds
// the best's by more than the two standard deviations over seeds added,
// one with a diverged final seed, or, when the best or it has a single
// seed (no spread to judge by; noSpread is then true), the runner-up. As
// a top part of the ranking, the group never holds an optimizer ranked
// below one that it leaves out: a lower-ranked optimizer whose seeds
// spread widely may cover its gap to the best with its own spread, but
// its mean is worse than that of one the best is separated from. Nil when
// the first-ranked optimizer did not finish every seed.
func tiedGroup(sum *compare.Summary) (tied []compare.OptimizerSummary, noSpread bool) {
	complete := func(s compare.OptimizerSummary) bool {
		return s.Seeds > 0 && s.DivergedSeeds == 0 && !math.IsNaN(s.BestMean) && !math.IsInf(s.BestMean, 0)
	}
	if len(sum.Optimizers) == 0 || !complete(sum.Optimizers[0]) {
		return nil, false
	}
	a := sum.Optimizers[0]
	tied = []compare.OptimizerSummary{a}
	for _, b := range sum.Optimizers[1:] {
		if !complete(b) {
			break
		}
		if a.Seeds < 2 || b.Seeds < 2 {
			return tied, true
		}
		if b.BestMean-a.BestMean > a.BestStd+b.BestStd {
			break
		}
		tied = append(tied, b)
	}
	return tied, false
}

func names(ss []compare.OptimizerSummary) []string {
	var n []string
	for _, s := range ss {
		n = append(n, s.Name)
	}
	return n
}

func g3(v float64) string { return strconv.FormatFloat(v, 'g', 3, 64) }

// pageTitle is the first line of the guide's page.
const pageTitle = "# Optimizer guide: which optimizer to start with, by kind of data"

// Page is the guide's one-page report.
func Page(results []Result, o *Options) string {
	var b strings.Builder
	b.WriteString(pageTitle + "\n\n")
	fmt.Fprintf(&b, "Measured by `nettrain guide` with the compare-optimizers protocol on each problem: every optimizer's learning rate tuned on a grid of %d rates around its default (the default included) with one seed, then %d seed%s at the chosen rate; the same steps, initial weights and batches for every optimizer. Regenerate with:\n\n```\n%s\n```\n\n", o.LRGrid, o.Seeds, map[bool]string{true: "", false: "s"}[o.Seeds == 1], o.Command)
	fmt.Fprintf(&b, "The budgets are %s: the rankings say which optimizer makes the most progress in that many steps, at a tuned rate, not which reaches the best final model. Each problem's directory holds its full report (summary.md, trials.csv, plots).\n\n", budgets(results, o))
	// Where to start.
	b.WriteString("## Where to start\n\n")
	// The comparisons' own warnings (too few rates, say): the page's
	// ranking is theirs, and as far from trustworthy.
	for _, r := range results {
		for _, w := range r.Summary.Warnings {
			fmt.Fprintf(&b, "**Warning (%s):** %s\n\n", r.Problem.Name, w)
		}
	}
	b.WriteString("| kind of data | start with | tied with it (within the seed spread) | most robust to the rate | diverged at the default rate or in a final run |\n|---|---|---|---|---|\n")
	lead := map[string]int{}
	robust := map[string]float64{}
	for _, r := range results {
		s := r.Summary
		l, noSpread := tiedGroup(s)
		start, tied := "-", "-"
		if len(l) > 0 {
			start = l[0].Name
			lead[l[0].Name]++
			switch {
			case len(l) > 1:
				tied = strings.Join(names(l[1:]), ", ")
			case noSpread:
				tied = "? (one seed: no spread to judge by)"
			}
			for _, x := range l[1:] {
				lead[x.Name]++
			}
		}
		best := 0
		var most []string
		for _, x := range s.Optimizers {
			if len(x.Grid) > 0 {
				robust[x.Name] += float64(x.Robust) / float64(len(x.Grid))
			}
			switch {
			case x.Robust > best:
				best, most = x.Robust, []string{x.Name}
			case x.Robust == best && best > 0:
				most = append(most, x.Name)
			}
		}
		var div []string
		for _, x := range s.Optimizers {
			if x.DivergedSeeds > 0 || x.ChosenLR == nil || divergedAtDefault(x) {
				div = append(div, x.Name)
			}
		}
		mostText := "-"
		switch {
		case best > 0 && len(most) > 3:
			mostText = fmt.Sprintf("%d optimizers tie (%d of %d rates)", len(most), best, len(s.Optimizers[0].Grid))
		case best > 0:
			mostText = fmt.Sprintf("%s (%d of %d rates)", strings.Join(most, ", "), best, len(s.Optimizers[0].Grid))
		}
		divText := "none"
		if len(div) > 0 {
			divText = strings.Join(div, ", ")
		}
		fmt.Fprintf(&b, "| [%s](%s/summary.md) | %s | %s | %s | %s |\n", r.Problem.Kind, r.Problem.Name, start, tied, mostText, divText)
	}
	// The names the page ranks that a config does not take as they are
	// (momentum, nesterov), in report order.
	var ranked []string
	for _, n := range compare.VariantNames() {
		if slices.ContainsFunc(results, func(r Result) bool {
			return slices.ContainsFunc(r.Summary.Optimizers, func(s compare.OptimizerSummary) bool { return s.Name == n })
		}) {
			ranked = append(ranked, n)
		}
	}
	if forms := compare.ConfigForms(ranked); forms != "" {
		b.WriteString("\n" + forms + "\n")
	}
	b.WriteString("\n" + tiedRule + "\n\n")
	b.WriteString(acrossProblems(results, lead, robust))
	// The matrix.
	b.WriteString("\n## Rank and best validation loss (mean ± sd over seeds) per problem\n\n| optimizer |")
	for _, r := range results {
		fmt.Fprintf(&b, " %s (%d steps) |", r.Problem.Name, r.Steps)
	}
	b.WriteString("\n|---|")
	for range results {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, name := range compare.VariantNames() {
		fmt.Fprintf(&b, "| %s |", name)
		for _, r := range results {
			cell := "-"
			for i, s := range r.Summary.Optimizers {
				if s.Name != name {
					continue
				}
				switch {
				case s.Seeds == 0:
					cell = fmt.Sprintf("%d: diverged", i+1)
				default:
					cell = fmt.Sprintf("%d: %s ± %s", i+1, g3(s.BestMean), g3(s.BestStd))
					if s.DivergedSeeds > 0 {
						cell += fmt.Sprintf(" ⚠ %d diverged", s.DivergedSeeds)
					}
					if s.ChosenLR != nil {
						cell += fmt.Sprintf(" @%s", g3(*s.ChosenLR))
					}
				}
				if slices.Contains(names(leaders(r.Summary)), name) {
					cell = "**" + cell + "**"
				}
			}
			fmt.Fprintf(&b, " %s |", cell)
		}
		b.WriteString("\n")
	}
	b.WriteString("\nBold: the group tied with the best (the leader, and those tied with it as defined above). `@` the chosen learning rate. ⚠: some final seeds diverged (ranked after the complete rows).\n")
	b.WriteString(shardedForm(results, o))
	// Why, per problem.
	b.WriteString("\n## What the gradients say\n\n")
	for _, r := range results {
		fmt.Fprintf(&b, "- **%s** (plots: [curves](%s/curves.png), [learning-rate sensitivity](%s/lr-sensitivity.png)): %s\n", r.Problem.Name, r.Problem.Name, r.Problem.Name, gradientsSay(r))
	}
	return b.String()
}

// tiedRule states on the page which optimizers count as tied with the
// best (tiedGroup).
const tiedRule = "**Tied with the best** is the top of a problem's ranking (by the mean over seeds of the best validation loss) down to, not including, the first optimizer these runs separate from the leader: one whose mean exceeds the leader's by more than the two standard deviations over seeds added, or one with a diverged final seed; with a single seed there is no spread to judge by, and the leader stands alone. With a few seeds this is a rough screen, not a significance test: tied says these runs do not separate the two, not that they are as good. An optimizer ranked below one separated from the leader is never counted as tied, even when its seeds spread so widely that its own spread covers its gap to the leader: its mean is worse than that of an optimizer shown to be worse."

// gradientsSay is a problem's bullet of "What the gradients say": the
// comparison's findings on its gradients (sparsity, noise) and on the
// measured cause of a divergence; that there are no gradient diagnostics
// when no final run took any (a budget too short for one).
func gradientsSay(r Result) string {
	why := slices.Clone(r.Summary.GradientFindings)
	switch {
	case slices.ContainsFunc(r.Summary.Optimizers, func(s compare.OptimizerSummary) bool { return s.Grad != nil }):
	case r.Steps <= compare.DiagEvery:
		why = append(why, fmt.Sprintf("No gradient diagnostics (sparsity, noise scale) in these records: a trial takes them every %d steps, and this budget is %d steps.", compare.DiagEvery, r.Steps))
	default:
		why = append(why, "No gradient diagnostics (sparsity, noise scale) in these records: no final run recorded any (every optimizer diverged, or the records predate them).")
	}
	if len(why) == 0 {
		return "The comparison's findings say nothing about the gradients here."
	}
	return strings.Join(why, " ")
}

// divergedAtDefault tells whether the tuning run at the optimizer's
// default rate diverged.
func divergedAtDefault(s compare.OptimizerSummary) bool {
	for _, k := range s.Diverged {
		if v, ok := variantDefault(s.Name); ok && k.LR == v && k.Phase == compare.PhaseTune {
			return true
		}
	}
	return false
}

func variantDefault(name string) (float64, bool) {
	for _, v := range optim.Variants() {
		if v.Name == name {
			return v.DefaultLR(), true
		}
	}
	return 0, false
}

// acrossProblems states which optimizers led on how many problems, and
// which were most robust to the rate, only as far as the table shows.
func acrossProblems(results []Result, lead map[string]int, robust map[string]float64) string {
	var b strings.Builder
	type count struct {
		name string
		n    int
	}
	var cs []count
	for n, c := range lead {
		cs = append(cs, count{n, c})
	}
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].n != cs[j].n {
			return cs[i].n > cs[j].n
		}
		return cs[i].name < cs[j].name
	})
	b.WriteString("**Across problems.** ")
	if len(cs) == 0 {
		b.WriteString("No optimizer finished every seed on any problem.\n")
		return b.String()
	}
	var parts []string
	for _, c := range cs {
		parts = append(parts, fmt.Sprintf("%s on %d", c.name, c.n))
	}
	fmt.Fprintf(&b, "In the group tied with the best, of the %d problems: %s. ", len(results), strings.Join(parts, ", "))
	var top []string
	for _, c := range cs {
		if c.n == cs[0].n {
			top = append(top, c.name)
		}
	}
	var warned []string
	for _, r := range results {
		if len(r.Summary.Warnings) > 0 {
			warned = append(warned, r.Problem.Name)
		}
	}
	caveat := ""
	if len(warned) > 0 {
		caveat = ", but see the warning above on " + strings.Join(warned, ", ")
	}
	verb := "was"
	if len(top) > 1 {
		verb = "were"
	}
	if cs[0].n == len(results) {
		fmt.Fprintf(&b, "In the group tied with the best on every problem: %s; start there%s. ", strings.Join(top, " and "), caveat)
	} else {
		fmt.Fprintf(&b, "No optimizer was in the group tied with the best on every problem; %s %s on the most (%d of %d), so start there and check the row of your kind of data%s. ", strings.Join(top, " and "), verb, cs[0].n, len(results), caveat)
	}
	// Whether their default rate was the one chosen: starting with an
	// optimizer usually means starting at its default.
	var rates []string
	for _, name := range top {
		def, _ := variantDefault(name)
		at, n := 0, 0
		var other []string
		for _, r := range results {
			for _, s := range r.Summary.Optimizers {
				if s.Name != name || s.ChosenLR == nil {
					continue
				}
				n++
				if *s.ChosenLR == def {
					at++
				} else {
					other = append(other, fmt.Sprintf("%s on %s", g3(*s.ChosenLR), r.Problem.Name))
				}
			}
		}
		line := fmt.Sprintf("%s's default rate %s was the best of its grid on %d of %d problems", name, g3(def), at, n)
		if len(other) > 0 {
			line += " (elsewhere " + strings.Join(other, ", ") + ")"
		}
		rates = append(rates, line)
	}
	b.WriteString(strings.Join(rates, "; ") + ". ")
	// Mean rank: a tie is weak evidence where the spread over seeds is
	// large, so the ranks themselves too.
	sumRank := map[string]int{}
	for _, r := range results {
		for i, s := range r.Summary.Optimizers {
			sumRank[s.Name] += i + 1
		}
	}
	var mr []string
	order := slices.Clone(compare.VariantNames())
	sort.SliceStable(order, func(i, j int) bool { return sumRank[order[i]] < sumRank[order[j]] })
	for _, n := range order {
		if _, ok := sumRank[n]; ok {
			mr = append(mr, fmt.Sprintf("%s %.1f", n, float64(sumRank[n])/float64(len(results))))
		}
	}
	fmt.Fprintf(&b, "Mean rank over the problems (where the spread over seeds is large, a tie is weak evidence): %s. ", strings.Join(mr, ", "))
	b.WriteString(sensitivity(robust, len(results)))
	b.WriteString("\n")
	return b.String()
}

// sensitivity is the page's sentence on the learning rate: the
// optimizers with the largest and the smallest fraction of grid rates
// within 20% of their best (robust: the fractions summed over n
// problems), ties named together: a tie broken by name would make one of
// seven optimizers at 33% "the most sensitive".
func sensitivity(robust map[string]float64, n int) string {
	type rob struct {
		name string
		v    float64
	}
	var rs []rob
	for name, v := range robust {
		rs = append(rs, rob{name, v / float64(n)})
	}
	sort.Slice(rs, func(i, j int) bool {
		if rs[i].v != rs[j].v {
			return rs[i].v > rs[j].v
		}
		return rs[i].name < rs[j].name
	})
	if len(rs) < 2 {
		return ""
	}
	pct := func(v float64) string { return fmt.Sprintf("%.0f%%", 100*v) }
	with := func(v float64) string {
		var names []string
		for _, r := range rs {
			if pct(r.v) == pct(v) {
				names = append(names, r.name)
			}
		}
		return strings.Join(names, ", ") + " " + pct(v)
	}
	top, bottom := rs[0].v, rs[len(rs)-1].v
	if pct(top) == pct(bottom) {
		return "Every optimizer was equally sensitive to the learning rate, averaged over the problems (the fraction of grid rates within 20% of the optimizer's best): " + pct(top) + "."
	}
	return "Least sensitive to the learning rate, averaged over the problems (the fraction of grid rates within 20% of the optimizer's best): " +
		with(top) + "; most sensitive: " + with(bottom) + "."
}

// shardedForm says how to run one problem's comparison sharded, with the
// trials (and records) the guide runs, then rebuild the page.
func shardedForm(results []Result, o *Options) string {
	if len(results) == 0 {
		return ""
	}
	r := results[0]
	var b strings.Builder
	fmt.Fprintf(&b, "\n**Larger budgets, sharded.** Each problem is an ordinary comparison; the guide runs, for %s,\n\n```\n%s\n```\n\n", r.Problem.Name, strings.Join(ProblemCommand(r.Problem, r.Steps, o), " "))
	b.WriteString("(" + guideFlagsNote + "). Run it with `--phase tune --shard I/N`, then `--phase final --shard I/N --tuned DIR...`, merge with `nettrain compare-optimizers report DIR... --out " + o.Out + "/" + r.Problem.Name + "`, and rebuild this page with the command above and `--report` (the same `--out`, `--lr-grid`, `--seeds`, `--scale` and `--problems`, which the records must match); `--scale` multiplies the steps.\n")
	return b.String()
}

// guideFlagsNote explains the flags of ProblemCommand, in prose with the
// flags in code spans.
var guideFlagsNote = fmt.Sprintf("`--epochs %d`, the most it takes, so that the steps are the budget; `training.eval_every_steps` at an eighth of the steps, eight measurements per trial (one a step below eight steps)", model.MaxEpochs)

// budgets states the steps per trial the results ran: the suite's
// budgets, or with --scale the suite's times the scale.
func budgets(results []Result, o *Options) string {
	if len(results) == 0 {
		return "the suite's"
	}
	lo, hi := results[0].Steps, results[0].Steps
	for _, r := range results {
		lo, hi = min(lo, r.Steps), max(hi, r.Steps)
	}
	steps := fmt.Sprintf("%d to %d steps per trial", lo, hi)
	what := "budgets"
	if lo == hi {
		steps = fmt.Sprintf("%d steps per trial", lo)
		if len(results) == 1 {
			what = "budget"
		}
	}
	why := "chosen so that the whole guide runs in under an hour on two cores"
	if o.Scale == 1 {
		return fmt.Sprintf("small (%s, %s)", steps, why)
	}
	rounded := ""
	for _, r := range results {
		if float64(r.Steps) != float64(r.Problem.Steps)*o.Scale {
			rounded = ", rounded"
		}
	}
	return fmt.Sprintf("%s (the suite's %s, %s, times `--scale %g`%s)", steps, what, why, o.Scale, rounded)
}

// ProblemCommand is the compare-optimizers command line that runs the
// trials the guide runs for problem p at the given step budget (the
// licence problem's data set: `nettrain guide --write-licences
// configs/data` writes it).
func ProblemCommand(p Problem, steps int, o *Options) []string {
	c := []string{"nettrain compare-optimizers", o.ConfigsDir + "/" + p.Config}
	for _, s := range problemSets(p, steps) {
		c = append(c, "--set "+s)
	}
	return append(c, fmt.Sprintf("--steps %d --epochs %d --evals-per-epoch 1 --lr-grid %d --seeds %d", steps, model.MaxEpochs, o.LRGrid, o.Seeds))
}
