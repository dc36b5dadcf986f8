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
	tuneMissing  int // grid rates without a tuning run (a partial report)
}

// Summary is the comparison's result.
type Summary struct {
	Name       string             `json:"name"`
	Incomplete []string           `json:"incomplete,omitempty"` // missing trials (a partial report)
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

// ReportOptions are the choices of a report.
type ReportOptions struct {
	// Plan is what the sweep expects; nil: the plans the records carry.
	Plan *Plan
	// Name titles the report when neither the plan nor the records name
	// the config (records of an older nettrain).
	Name   string
	Out    string   // output directory
	Target *float64 // the validation loss "steps to target" counts to; nil: the default
	// Partial writes the report of incomplete records, with a warning,
	// instead of failing with an *IncompleteError.
	Partial bool
	Log     io.Writer // the summary and notes
}

// IncompleteError reports records that lack trials their sweep expects.
type IncompleteError struct {
	Missing []string // what is missing, one item per optimizer or phase
}

func (e *IncompleteError) Error() string {
	return "incomplete: " + strings.Join(e.Missing, "; ") +
		": merge every shard's directory (tuning and final phases) into one report, or pass --partial to report what there is"
}

func validTarget(v float64) bool { return v > 0 && !math.IsInf(v, 0) }

// Report writes trials.csv, summary.md, summary.json and the plots into
// o.Out from the records of one or more runs (shards), and prints the
// summary to o.Log. Unless o.Partial, it fails when a trial the plan
// expects is missing.
func Report(sets [][]Record, o ReportOptions) (*Summary, error) {
	log := o.Log
	if log == nil {
		log = io.Discard
	}
	var all []Record
	for _, s := range sets {
		all = append(all, s...)
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("no trial records to report (is %s the output directory of a comparison?)", o.Out)
	}
	sweep := all[0].Sweep
	for _, r := range all {
		if r.Sweep != sweep {
			return nil, fmt.Errorf("the records come from different sweeps (another model, data or budget): %s and %s", sweep, r.Sweep)
		}
	}
	if o.Target != nil && !validTarget(*o.Target) {
		return nil, fmt.Errorf("the target validation loss must be a finite number > 0, got %g", *o.Target)
	}
	plan := o.Plan
	if plan == nil {
		var err error
		if plan, err = planOf(all); err != nil {
			return nil, err
		}
		if plan.Config == "" {
			fmt.Fprintln(log, "note: these records were written by an older nettrain and do not say which trials the sweep expects; completeness is judged from the records themselves")
		}
	}
	name := plan.Config
	if name == "" {
		name = o.Name
	}
	order := plan.Optimizers
	recs, dropped, missing, tuneMissing := check(plan, merge(order, sets...))
	if len(missing) > 0 && !o.Partial {
		return nil, &IncompleteError{Missing: missing}
	}
	if dropped > 0 {
		fmt.Fprintf(log, "note: %d trial record(s) outside this sweep's plan (other optimizers, learning rates or seeds, e.g. of an earlier run in the same directory) are left out\n", dropped)
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create %s: %w", o.Out, err)
	}
	sum := &Summary{Name: name, Incomplete: missing}
	for _, opt := range order {
		s := summarise(opt, recs)
		s.tuneMissing = tuneMissing[opt]
		sum.Optimizers = append(sum.Optimizers, s)
	}
	// The target: 1.25 times the lowest mean best validation loss, a level
	// the leading optimizers reach, so that "fastest" tells them apart.
	sum.Target = math.NaN()
	if o.Target != nil {
		sum.Target = *o.Target
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
	files, err := writeOutputs(sum, recs, o.Out)
	if err != nil {
		return nil, err
	}
	sum.Files = files
	sum.Markdown = markdown(sum)
	if err := os.WriteFile(filepath.Join(o.Out, "summary.md"), []byte(sum.Markdown), 0o644); err != nil {
		return nil, fmt.Errorf("cannot write summary: %w", err)
	}
	js, _ := json.MarshalIndent(sanitized(sum), "", "  ")
	if err := os.WriteFile(filepath.Join(o.Out, "summary.json"), append(js, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("cannot write summary: %w", err)
	}
	fmt.Fprint(log, sum.Markdown)
	fmt.Fprintf(log, "\nReport written to %s\n", o.Out)
	if len(missing) > 0 {
		fmt.Fprintf(log, "warning: incomplete report: %s\n", strings.Join(missing, "; "))
	}
	return sum, nil
}

// planOf is the plan the records carry: the union of their optimizers and
// grids, and the most seeds of the final runs (shards run with the same
// settings carry the same plan; a directory reused with more seeds, more).
// Records without a plan (an older nettrain) give one inferred from the
// records themselves.
func planOf(recs []Record) (*Plan, error) {
	var p *Plan
	finalSeeds, anySeeds := 0, 0
	for _, r := range recs {
		q := r.Plan
		if q == nil {
			continue
		}
		if p == nil {
			p = &Plan{Config: q.Config, Grids: map[string][]float64{}, Seed: q.Seed}
		}
		if q.Seed != p.Seed {
			return nil, fmt.Errorf("the records come from sweeps with different seeds (%d and %d): report them separately", p.Seed, q.Seed)
		}
		for _, n := range q.Optimizers {
			if !slices.Contains(p.Optimizers, n) {
				p.Optimizers = append(p.Optimizers, n)
			}
			for _, lr := range q.Grids[n] {
				if !slices.Contains(p.Grids[n], lr) {
					p.Grids[n] = append(p.Grids[n], lr)
				}
			}
		}
		anySeeds = max(anySeeds, q.Seeds)
		if r.Phase == "final" {
			finalSeeds = max(finalSeeds, q.Seeds)
		}
	}
	if p != nil {
		// The tuning phase does not use the number of seeds: the final
		// runs' plans say it.
		p.Seeds = anySeeds
		if finalSeeds > 0 {
			p.Seeds = finalSeeds
		}
		for _, g := range p.Grids {
			sort.Float64s(g)
		}
		return p, nil
	}
	// Inferred: what the records show.
	p = &Plan{Grids: map[string][]float64{}}
	first := true
	for _, r := range recs {
		if !slices.Contains(p.Optimizers, r.Optimizer) {
			p.Optimizers = append(p.Optimizers, r.Optimizer)
		}
		if r.Phase == "tune" {
			if !slices.Contains(p.Grids[r.Optimizer], r.LR) {
				p.Grids[r.Optimizer] = append(p.Grids[r.Optimizer], r.LR)
			}
			if first || r.Seed < p.Seed {
				p.Seed, first = r.Seed, false
			}
		}
	}
	for _, r := range recs {
		if first || r.Seed < p.Seed {
			p.Seed, first = r.Seed, false
		}
		if r.Phase == "final" && r.Seed >= p.Seed {
			p.Seeds = max(p.Seeds, int(r.Seed-p.Seed)+1)
		}
	}
	for _, g := range p.Grids {
		sort.Float64s(g)
	}
	rank := func(n string) int {
		if i := slices.Index(VariantNames(), n); i >= 0 {
			return i
		}
		return 1 << 20
	}
	slices.SortStableFunc(p.Optimizers, func(a, b string) int { return rank(a) - rank(b) })
	return p, nil
}

// check keeps the records the plan expects (dropping the others: other
// optimizers, rates or seeds) and lists the expected trials that are
// missing. tuneMissing counts each optimizer's missing tuning runs.
func check(p *Plan, recs []Record) (kept []Record, dropped int, missing []string, tuneMissing map[string]int) {
	tuned := map[string][]Record{}
	var finals []Record
	for _, r := range recs {
		switch {
		case !slices.Contains(p.Optimizers, r.Optimizer):
		case r.Phase == "tune" && r.Seed == p.Seed && slices.Contains(p.Grids[r.Optimizer], r.LR):
			tuned[r.Optimizer] = append(tuned[r.Optimizer], r)
			kept = append(kept, r)
			continue
		case r.Phase == "final" && r.Seed >= p.Seed && r.Seed < p.Seed+uint64(p.Seeds):
			finals = append(finals, r)
			continue
		}
		dropped++
	}
	tuneMissing = map[string]int{}
	chosen := map[string]float64{}
	anyTuned := len(kept) > 0
	var tuneItems []string
	for _, n := range p.Optimizers {
		var lack []string
		for _, lr := range p.Grids[n] {
			if !slices.ContainsFunc(tuned[n], func(r Record) bool { return r.LR == lr }) {
				lack = append(lack, g4(lr))
			}
		}
		tuneMissing[n] = len(lack)
		if len(lack) > 0 {
			tuneItems = append(tuneItems, fmt.Sprintf("%s has tuning runs for %d of %d learning rates (%s missing)",
				n, len(p.Grids[n])-len(lack), len(p.Grids[n]), plural("lr", lack)))
		} else if lr, ok := choose(tuned[n])[n]; ok {
			chosen[n] = lr
		}
	}
	if anyTuned {
		missing = append(missing, tuneItems...)
	} else {
		missing = append(missing, "no tuning runs (run --phase tune)")
	}
	// Final runs: at the chosen rate, once tuning is complete (before, the
	// rate is not known and every final record is kept).
	seeds := map[string][]uint64{}
	nFinal := 0
	for _, r := range finals {
		if tuneMissing[r.Optimizer] == 0 {
			if lr, ok := chosen[r.Optimizer]; !ok || r.LR != lr {
				dropped++
				continue
			}
		}
		seeds[r.Optimizer] = append(seeds[r.Optimizer], r.Seed)
		kept = append(kept, r)
		nFinal++
	}
	expectFinal := len(chosen) > 0 || len(tuneItems) > 0
	switch {
	case nFinal == 0 && expectFinal && anyTuned:
		missing = append(missing, "no final runs (run --phase final)")
	case nFinal > 0:
		for _, n := range p.Optimizers {
			if _, ok := chosen[n]; !ok {
				continue
			}
			var lack []string
			for s := range uint64(p.Seeds) {
				if !slices.Contains(seeds[n], p.Seed+s) {
					lack = append(lack, strconv.FormatUint(p.Seed+s, 10))
				}
			}
			if len(lack) > 0 {
				missing = append(missing, fmt.Sprintf("%s has final runs for %d of %d seeds (%s missing)",
					n, p.Seeds-len(lack), p.Seeds, plural("seed", lack)))
			}
		}
	}
	return kept, dropped, missing, tuneMissing
}

// plural lists items after a noun: "seed 6", "seeds 6, 7", at most 6
// items and a count of the rest.
func plural(noun string, items []string) string {
	if len(items) != 1 {
		noun += "s"
	}
	if len(items) > 6 {
		items = append(items[:5:5], fmt.Sprintf("and %d more", len(items)-5))
	}
	return noun + " " + strings.Join(items, ", ")
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
	// The final runs are at the rate chosen from every tuning run, which a
	// partial report may lack.
	if f := s.finalRecords; len(f) > 0 && !slices.ContainsFunc(f, func(r Record) bool { return r.LR != f[0].LR }) {
		lr := f[0].LR
		s.ChosenLR = &lr
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

// lrText is a chosen rate, or "?" when none is known (a partial report
// whose final runs disagree on it).
func lrText(lr *float64) string {
	if lr == nil {
		return "?"
	}
	return g4(*lr)
}

// findings states what the numbers show, and only that.
func findings(sum *Summary) []string {
	var f []string
	var ranked []OptimizerSummary
	for _, s := range sum.Optimizers {
		if s.Seeds > 0 && finite(s.BestMean) {
			ranked = append(ranked, s)
		}
	}
	hasFinal := false
	for _, s := range sum.Optimizers {
		hasFinal = hasFinal || s.Seeds > 0 || len(s.finalRecords) > 0
	}
	switch {
	case len(ranked) > 0:
		f = append(f, rankFinding(ranked))
	case hasFinal:
		f = append(f, "No optimizer finished a final run without diverging; nothing can be ranked.")
	case len(sum.Incomplete) > 0:
		f = append(f, "There are no final runs yet; nothing can be ranked.")
	default:
		f = append(f, "Every optimizer diverged at every learning rate of its grid; nothing can be ranked.")
	}
	if l := ranked; len(l) > 2 {
		f = append(f, fmt.Sprintf("Highest validation loss among those that finished: %s (%s).", l[len(l)-1].Name, g4(l[len(l)-1].BestMean)))
	}
	f = append(f, moreFindings(sum)...)
	return f
}

// rankFinding states the leader and how far ahead of the runner-up it is.
func rankFinding(ranked []OptimizerSummary) string {
	a := ranked[0]
	line := fmt.Sprintf("Lowest validation loss: %s, %s ± %s over %d seed(s) at learning rate %s.",
		a.Name, g4(a.BestMean), g4(a.BestStd), a.Seeds, lrText(a.ChosenLR))
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
	return line
}

// moreFindings: speed, robustness, divergence, and grid edges.
func moreFindings(sum *Summary) []string {
	var f []string
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
		if len(s.Grid) > 1 && s.tuneMissing == 0 {
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
		if s.ChosenLR == nil || len(s.Grid) < 2 || s.tuneMissing > 0 {
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
		switch {
		case s.ChosenLR != nil:
		case len(s.Grid) == 0:
			f = append(f, fmt.Sprintf("%s has no tuning runs yet.", s.Name))
		case s.tuneMissing > 0:
			f = append(f, fmt.Sprintf("%s diverged at every learning rate tuned so far (%d of %d).", s.Name, len(s.Grid), len(s.Grid)+s.tuneMissing))
		default:
			f = append(f, fmt.Sprintf("%s diverged at every learning rate of its grid and has no final runs.", s.Name))
		}
	}
	return f
}

func markdown(sum *Summary) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Optimizer comparison: %s\n\n", sum.Name)
	if len(sum.Incomplete) > 0 {
		fmt.Fprintf(&b, "**Warning: incomplete report, some trials are missing:** %s. The rankings and findings below cover only the trials present.\n\n", strings.Join(sum.Incomplete, "; "))
	}
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
	target := "Target validation loss: " + g4(sum.Target) + "."
	if !finite(sum.Target) {
		target = "No target validation loss: there are no final runs."
		for _, s := range sum.Optimizers {
			if len(s.finalRecords) > 0 {
				target = "No target validation loss: no final run finished without diverging."
			}
		}
	}
	fmt.Fprintf(&b, "\n%s Good lrs: grid rates within %.0f%% of the optimizer's best validation loss.\n\n## Findings\n\n", target, (robustWithin-1)*100)
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
		ser := plots.Series{Label: fmt.Sprintf("%s (lr %s)", s.Name, lrText(s.ChosenLR))}
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
// (shards of one sweep) and writes the report into o.Out (o.Name: the
// first directory's, when the records do not name the config).
func ReportDirs(dirs []string, o ReportOptions) (*Summary, error) {
	var sets [][]Record
	for _, d := range dirs {
		recs, err := readRecords(d)
		if err != nil {
			return nil, err
		}
		if len(recs) == 0 {
			return nil, fmt.Errorf("%s holds no trial records (%s)", d, recordsFile)
		}
		sets = append(sets, recs)
	}
	if o.Name == "" && len(dirs) > 0 {
		o.Name = strings.TrimSuffix(filepath.Base(filepath.Clean(dirs[0])), "-compare")
	}
	return Report(sets, o)
}
