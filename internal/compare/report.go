package compare

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot/vg"

	"github.com/nettrain/nettrain/internal/plots"
)

// robustWithin is the margin of the robustness measure: a learning rate
// counts as good when its best validation loss is within this factor of
// the optimizer's best.
const robustWithin = 1.2

// defaultTargetFactor sets the default target validation loss: this
// factor times the lowest mean best validation loss of the final runs.
const defaultTargetFactor = 1.25

// OptimizerSummary is one optimizer's results.
type OptimizerSummary struct {
	Name     string    `json:"optimizer"`
	About    string    `json:"about"`
	Grid     []float64 `json:"lr_grid"`
	ChosenLR *float64  `json:"chosen_lr"` // nil when every tuning run diverged
	// TuneBest is the best validation loss of each grid rate's tuning run
	// (null where it diverged).
	TuneBest []*float64 `json:"tune_best_val_loss"`
	Robust   int        `json:"robust_lrs"` // grid rates within robustWithin of the best
	Diverged []Key      `json:"diverged"`   // every diverged trial
	// Final phase, over seeds.
	Seeds        int      `json:"seeds"`
	BestMean     float64  `json:"best_val_loss_mean"`
	BestStd      float64  `json:"best_val_loss_std"`
	BestMin      float64  `json:"best_val_loss_min"`
	BestMax      float64  `json:"best_val_loss_max"`
	FinalMean    float64  `json:"final_val_loss_mean"`
	AccMean      *float64 `json:"best_val_accuracy_mean,omitempty"`
	StepsMedian  *float64 `json:"steps_to_target_median"` // nil when no seed reached it
	Reached      int      `json:"seeds_reaching_target"`
	WallMean     float64  `json:"wall_s_mean"`
	finalRecords []Record
}

// Summary is the comparison's result.
type Summary struct {
	Name       string             `json:"name"`
	Target     float64            `json:"target_val_loss"`
	Optimizers []OptimizerSummary `json:"optimizers"` // ranked, best first
	Findings   []string           `json:"findings"`
	Files      []string           `json:"files"`
	Markdown   string             `json:"-"`
}

func meanStd(v []float64) (mean, std float64) {
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	if len(v) > 1 {
		for _, x := range v {
			std += (x - mean) * (x - mean)
		}
		std = math.Sqrt(std / float64(len(v)-1))
	}
	return mean, std
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// stepsTo is the first measured step at which the validation loss is at or
// below target (-1: never).
func stepsTo(r Record, target float64) int64 {
	for _, p := range r.Curve {
		if p.ValLoss >= 0 && p.ValLoss <= target {
			return p.Step
		}
	}
	return -1
}

// Report writes trials.csv, summary.md, summary.json and the plots into
// out from the records of one or more runs (shards), and prints the summary
// to log. order is the optimizers' report order (nil: as found); target, if
// not nil, is the validation loss that "steps to target" counts to.
func Report(name string, order []string, sets [][]Record, out string, target *float64, log io.Writer) (*Summary, error) {
	if log == nil {
		log = io.Discard
	}
	var all []Record
	for _, s := range sets {
		all = append(all, s...)
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("no trial records to report (is %s the output directory of a comparison?)", out)
	}
	sweep := all[0].Sweep
	for _, r := range all {
		if r.Sweep != sweep {
			return nil, fmt.Errorf("the records come from different sweeps (another model, data or budget): %s and %s", sweep, r.Sweep)
		}
	}
	if order == nil {
		for _, r := range all {
			if !slices.Contains(order, r.Optimizer) {
				order = append(order, r.Optimizer)
			}
		}
		rank := func(n string) int {
			if i := slices.Index(VariantNames(), n); i >= 0 {
				return i
			}
			return 1 << 20
		}
		slices.SortStableFunc(order, func(a, b string) int { return rank(a) - rank(b) })
	}
	recs := merge(order, sets...)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create %s: %w", out, err)
	}
	sum := &Summary{Name: name}
	for _, opt := range order {
		sum.Optimizers = append(sum.Optimizers, summarise(opt, recs))
	}
	// The target: 1.25 times the lowest mean best validation loss, a level
	// the leading optimizers reach, so that "fastest" tells them apart.
	sum.Target = math.NaN()
	if target != nil {
		sum.Target = *target
	} else {
		for _, s := range sum.Optimizers {
			if s.Seeds > 0 && finite(s.BestMean) && !(s.BestMean >= sum.Target) {
				sum.Target = s.BestMean
			}
		}
		sum.Target = roundSig(defaultTargetFactor * sum.Target)
	}
	for i := range sum.Optimizers {
		s := &sum.Optimizers[i]
		var steps []float64
		for _, r := range s.finalRecords {
			if st := stepsTo(r, sum.Target); st >= 0 {
				steps = append(steps, float64(st))
			}
		}
		s.Reached = len(steps)
		if len(steps) > 0 {
			m := median(steps)
			s.StepsMedian = &m
		}
	}
	// Rank by mean best validation loss; optimizers without final runs last.
	slices.SortStableFunc(sum.Optimizers, func(a, b OptimizerSummary) int {
		av, bv := a.BestMean, b.BestMean
		if a.Seeds == 0 || !finite(av) {
			av = math.Inf(1)
		}
		if b.Seeds == 0 || !finite(bv) {
			bv = math.Inf(1)
		}
		switch {
		case av < bv:
			return -1
		case av > bv:
			return 1
		}
		return 0
	})
	sum.Findings = findings(sum)
	files, err := writeOutputs(sum, recs, out)
	if err != nil {
		return nil, err
	}
	sum.Files = files
	sum.Markdown = markdown(sum)
	if err := os.WriteFile(filepath.Join(out, "summary.md"), []byte(sum.Markdown), 0o644); err != nil {
		return nil, fmt.Errorf("cannot write summary: %w", err)
	}
	js, _ := json.MarshalIndent(sanitized(sum), "", "  ")
	if err := os.WriteFile(filepath.Join(out, "summary.json"), append(js, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("cannot write summary: %w", err)
	}
	fmt.Fprint(log, sum.Markdown)
	return sum, nil
}

func summarise(opt string, recs []Record) OptimizerSummary {
	v, _ := variant(opt)
	s := OptimizerSummary{Name: opt, About: v.About}
	tune := map[float64]Record{}
	for _, r := range recs {
		if r.Optimizer != opt {
			continue
		}
		if r.Diverged {
			s.Diverged = append(s.Diverged, r.Key)
		}
		switch r.Phase {
		case "tune":
			tune[r.LR] = r
			s.Grid = append(s.Grid, r.LR)
		case "final":
			s.finalRecords = append(s.finalRecords, r)
		}
	}
	sort.Float64s(s.Grid)
	best := math.Inf(1)
	for _, lr := range s.Grid {
		r := tune[lr]
		if r.Diverged || !finite(r.BestVal) {
			s.TuneBest = append(s.TuneBest, nil)
			continue
		}
		b := r.BestVal
		s.TuneBest = append(s.TuneBest, &b)
		if b < best || b == best && s.ChosenLR != nil && lr < *s.ChosenLR {
			best = b
			l := lr
			s.ChosenLR = &l
		}
	}
	for _, b := range s.TuneBest {
		if b != nil && *b <= robustWithin*best {
			s.Robust++
		}
	}
	var bests, finals, accs, walls []float64
	for _, r := range s.finalRecords {
		walls = append(walls, r.WallS)
		if r.Diverged || !finite(r.BestVal) {
			continue
		}
		bests = append(bests, r.BestVal)
		finals = append(finals, r.FinalVal)
		if r.BestAcc != nil {
			accs = append(accs, *r.BestAcc)
		}
	}
	s.Seeds = len(bests)
	s.BestMean, s.BestStd, s.BestMin, s.BestMax = math.NaN(), math.NaN(), math.NaN(), math.NaN()
	s.FinalMean = math.NaN()
	if len(bests) > 0 {
		s.BestMean, s.BestStd = meanStd(bests)
		s.BestMin, s.BestMax = slices.Min(bests), slices.Max(bests)
		s.FinalMean, _ = meanStd(finals)
	}
	if len(accs) > 0 {
		m, _ := meanStd(accs)
		s.AccMean = &m
	}
	if len(walls) > 0 {
		s.WallMean, _ = meanStd(walls)
	}
	return s
}

func g4(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }

// findings states what the numbers show, and only that.
func findings(sum *Summary) []string {
	var f []string
	var ranked []OptimizerSummary
	for _, s := range sum.Optimizers {
		if s.Seeds > 0 && finite(s.BestMean) {
			ranked = append(ranked, s)
		}
	}
	if len(ranked) == 0 {
		return []string{"No optimizer finished a run without diverging; nothing can be ranked."}
	}
	a := ranked[0]
	line := fmt.Sprintf("Lowest validation loss: %s, %s ± %s over %d seed(s) at learning rate %s.",
		a.Name, g4(a.BestMean), g4(a.BestStd), a.Seeds, g4(*a.ChosenLR))
	if len(ranked) > 1 {
		b := ranked[1]
		gap := b.BestMean - a.BestMean
		spread := a.BestStd + b.BestStd
		switch {
		case a.Seeds < 2 || b.Seeds < 2:
			line += fmt.Sprintf(" Runner-up: %s (%s); with one seed there is no spread to judge the gap by.", b.Name, g4(b.BestMean))
		case gap <= spread:
			line += fmt.Sprintf(" The runner-up, %s (%s ± %s), is within the seed-to-seed spread: these runs do not separate the two.", b.Name, g4(b.BestMean), g4(b.BestStd))
		default:
			line += fmt.Sprintf(" It leads the runner-up, %s (%s ± %s), by %s, more than the spread over seeds.", b.Name, g4(b.BestMean), g4(b.BestStd), g4(gap))
		}
	}
	f = append(f, line)
	if l := ranked[len(ranked)-1]; len(ranked) > 2 {
		f = append(f, fmt.Sprintf("Highest validation loss among those that finished: %s (%s).", l.Name, g4(l.BestMean)))
	}
	// Speed to the target.
	var fast []OptimizerSummary
	var never []string
	for _, s := range sum.Optimizers {
		if s.StepsMedian != nil {
			fast = append(fast, s)
		} else if s.Seeds > 0 {
			never = append(never, s.Name)
		}
	}
	slices.SortStableFunc(fast, func(x, y OptimizerSummary) int {
		switch {
		case *x.StepsMedian < *y.StepsMedian:
			return -1
		case *x.StepsMedian > *y.StepsMedian:
			return 1
		}
		return 0
	})
	if len(fast) > 0 {
		var others []string
		for _, s := range fast[1:] {
			others = append(others, fmt.Sprintf("%s %.0f", s.Name, *s.StepsMedian))
		}
		line := fmt.Sprintf("Fastest to the target validation loss %s: %s, in a median of %.0f steps", g4(sum.Target), fast[0].Name, *fast[0].StepsMedian)
		if len(others) > 0 {
			line += " (" + strings.Join(others, ", ") + ")"
		}
		line += "."
		if len(never) > 0 {
			line += fmt.Sprintf(" Never reached it within the budget: %s.", strings.Join(never, ", "))
		}
		f = append(f, line)
	}
	// Robustness to the learning rate.
	var rob []OptimizerSummary
	for _, s := range sum.Optimizers {
		if len(s.Grid) > 1 {
			rob = append(rob, s)
		}
	}
	if len(rob) > 1 {
		slices.SortStableFunc(rob, func(x, y OptimizerSummary) int { return y.Robust - x.Robust })
		most, least := rob[0], rob[len(rob)-1]
		if most.Robust != least.Robust {
			f = append(f, fmt.Sprintf("Most robust to the learning rate: %s, within %.0f%% of its best validation loss at %d of %d grid rates; least: %s (%d of %d).",
				most.Name, (robustWithin-1)*100, most.Robust, len(most.Grid), least.Name, least.Robust, len(least.Grid)))
		} else {
			f = append(f, fmt.Sprintf("Every optimizer was within %.0f%% of its best validation loss at %d of its grid rates.", (robustWithin-1)*100, most.Robust))
		}
	}
	// Divergence.
	var div []string
	for _, s := range sum.Optimizers {
		if len(s.Diverged) == 0 {
			continue
		}
		var lrs []string
		for _, k := range s.Diverged {
			lrs = append(lrs, fmt.Sprintf("%s (%s, seed %d)", g4(k.LR), k.Phase, k.Seed))
		}
		div = append(div, s.Name+" at "+strings.Join(lrs, ", "))
	}
	if len(div) == 0 {
		f = append(f, "No trial diverged.")
	} else {
		f = append(f, "Diverged: "+strings.Join(div, "; ")+".")
	}
	// Chosen rates at the edge of their grid.
	for _, s := range sum.Optimizers {
		if s.ChosenLR == nil || len(s.Grid) < 2 {
			continue
		}
		switch *s.ChosenLR {
		case s.Grid[len(s.Grid)-1]:
			f = append(f, fmt.Sprintf("%s's best learning rate, %s, is the largest of its grid: a larger one may do better (widen the grid with compare.lr_grid).", s.Name, g4(*s.ChosenLR)))
		case s.Grid[0]:
			f = append(f, fmt.Sprintf("%s's best learning rate, %s, is the smallest of its grid: a smaller one may do better (widen the grid with compare.lr_grid).", s.Name, g4(*s.ChosenLR)))
		}
	}
	for _, s := range sum.Optimizers {
		if s.ChosenLR == nil {
			f = append(f, fmt.Sprintf("%s diverged at every learning rate of its grid and has no final runs.", s.Name))
		}
	}
	return f
}

func markdown(sum *Summary) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Optimizer comparison: %s\n\n", sum.Name)
	b.WriteString("Each optimizer's learning rate was tuned on a grid (lowest validation loss, one seed), then rerun with several seeds; ranked by the mean over seeds of the best validation loss.\n\n")
	b.WriteString("| rank | optimizer | lr | best val loss (mean ± sd) | min-max | final val loss | best val acc | steps to target | good lrs | diverged |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|\n")
	for i, s := range sum.Optimizers {
		lr, best, mm, fin, acc, steps := "-", "-", "-", "-", "-", "-"
		if s.ChosenLR != nil {
			lr = g4(*s.ChosenLR)
		}
		if s.Seeds > 0 {
			best = fmt.Sprintf("%s ± %s (%d)", g4(s.BestMean), g4(s.BestStd), s.Seeds)
			mm = g4(s.BestMin) + "-" + g4(s.BestMax)
			fin = g4(s.FinalMean)
		}
		if s.AccMean != nil {
			acc = fmt.Sprintf("%.4f", *s.AccMean)
		}
		if s.StepsMedian != nil {
			steps = fmt.Sprintf("%.0f", *s.StepsMedian)
		}
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %s | %s | %s | %d/%d | %d |\n", i+1, s.Name, lr, best, mm, fin, acc, steps, s.Robust, len(s.Grid), len(s.Diverged))
	}
	fmt.Fprintf(&b, "\nTarget validation loss: %s. Good lrs: grid rates within %.0f%% of the optimizer's best validation loss.\n\n## Findings\n\n", g4(sum.Target), (robustWithin-1)*100)
	for _, f := range sum.Findings {
		b.WriteString("- " + f + "\n")
	}
	if len(sum.Files) > 0 {
		b.WriteString("\n## Files\n\n")
		for _, f := range sum.Files {
			fmt.Fprintf(&b, "- %s\n", f)
		}
	}
	return b.String()
}

// sanitized replaces NaN (not encodable in JSON) by -1 markers in a copy.
func sanitized(sum *Summary) any {
	c := *sum
	c.Optimizers = append([]OptimizerSummary(nil), sum.Optimizers...)
	fix := func(v *float64) {
		if !finite(*v) {
			*v = -1
		}
	}
	fix(&c.Target)
	for i := range c.Optimizers {
		s := &c.Optimizers[i]
		fix(&s.BestMean)
		fix(&s.BestStd)
		fix(&s.BestMin)
		fix(&s.BestMax)
		fix(&s.FinalMean)
	}
	return c
}

func writeOutputs(sum *Summary, recs []Record, out string) ([]string, error) {
	var files []string
	// trials.csv
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write([]string{"phase", "optimizer", "lr", "seed", "final_val_loss", "best_val_loss", "final_val_accuracy", "best_val_accuracy", "steps_to_target", "steps", "wall_s", "diverged"})
	num := func(v float64) string {
		if !finite(v) {
			return ""
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	opt := func(v *float64) string {
		if v == nil {
			return ""
		}
		return num(*v)
	}
	for _, r := range recs {
		st := ""
		if s := stepsTo(r, sum.Target); s >= 0 {
			st = strconv.FormatInt(s, 10)
		}
		div := "no"
		if r.Diverged {
			div = "yes"
		}
		w.Write([]string{r.Phase, r.Optimizer, num(r.LR), strconv.FormatUint(r.Seed, 10), num(r.FinalVal), num(r.BestVal),
			opt(r.FinalAcc), opt(r.BestAcc), st, strconv.FormatInt(r.Steps, 10), strconv.FormatFloat(r.WallS, 'f', 2, 64), div})
	}
	w.Flush()
	if err := os.WriteFile(filepath.Join(out, "trials.csv"), []byte(b.String()), 0o644); err != nil {
		return nil, fmt.Errorf("cannot write trials.csv: %w", err)
	}
	files = append(files, "trials.csv", "summary.md", "summary.json")

	// Learning curves at the chosen rates: mean over seeds, band min-max.
	curves := plots.Chart{Title: sum.Name + ": validation loss at each optimizer's chosen learning rate",
		XLabel: "epoch", YLabel: "validation loss (mean over seeds, band: min-max)"}
	for _, s := range sum.Optimizers {
		var rs []Record
		for _, r := range s.finalRecords {
			if !r.Diverged && len(r.Curve) > 0 {
				rs = append(rs, r)
			}
		}
		if len(rs) == 0 {
			continue
		}
		n := len(rs[0].Curve)
		for _, r := range rs {
			n = min(n, len(r.Curve))
		}
		ser := plots.Series{Label: fmt.Sprintf("%s (lr %s)", s.Name, g4(*s.ChosenLR))}
		for i := 0; i < n; i++ {
			var vals []float64
			for _, r := range rs {
				vals = append(vals, r.Curve[i].ValLoss)
			}
			m, _ := meanStd(vals)
			ser.X = append(ser.X, rs[0].Curve[i].Epoch)
			ser.Y = append(ser.Y, m)
			ser.Lo = append(ser.Lo, slices.Min(vals))
			ser.Hi = append(ser.Hi, slices.Max(vals))
		}
		curves.Series = append(curves.Series, ser)
	}
	// Sensitivity: best validation loss of each tuning run against its rate.
	sens := plots.Chart{Title: sum.Name + ": sensitivity to the learning rate (tuning runs)",
		XLabel: "learning rate", YLabel: "best validation loss (diverged runs omitted)", LogX: true, LogY: true}
	for _, s := range sum.Optimizers {
		ser := plots.Series{Label: s.Name, Points: true}
		for i, lr := range s.Grid {
			if s.TuneBest[i] != nil {
				ser.X = append(ser.X, lr)
				ser.Y = append(ser.Y, *s.TuneBest[i])
			}
		}
		if len(ser.X) > 0 {
			sens.Series = append(sens.Series, ser)
		}
	}
	for _, p := range []struct {
		chart plots.Chart
		name  string
	}{{curves, "curves"}, {sens, "lr-sensitivity"}} {
		if len(p.chart.Series) == 0 {
			continue
		}
		for _, ext := range []string{".png", ".svg"} {
			if err := p.chart.Save(filepath.Join(out, p.name+ext), 9*vg.Inch, 5*vg.Inch); err != nil {
				return nil, err
			}
			files = append(files, p.name+ext)
		}
	}
	return files, nil
}

// ReportDirs merges the trial records of several output directories
// (shards of one sweep) and writes the report into out.
func ReportDirs(dirs []string, out string, target *float64, log io.Writer) (*Summary, error) {
	var sets [][]Record
	name := ""
	for _, d := range dirs {
		recs, err := readRecords(d)
		if err != nil {
			return nil, err
		}
		if len(recs) == 0 {
			return nil, fmt.Errorf("%s holds no trial records (%s)", d, recordsFile)
		}
		sets = append(sets, recs)
		if name == "" {
			name = filepath.Base(filepath.Clean(d))
		}
	}
	return Report(strings.TrimSuffix(name, "-compare"), nil, sets, out, target, log)
}
