package compare

import (
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strings"
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
	// Final phase, over seeds. Seeds counts the final runs that finished
	// without diverging; DivergedSeeds those that diverged: a row with
	// diverged seeds is ranked after every complete row.
	Seeds         int      `json:"seeds"`
	DivergedSeeds int      `json:"diverged_seeds"`
	BestMean      float64  `json:"best_val_loss_mean"`
	BestStd       float64  `json:"best_val_loss_std"`
	BestMin       float64  `json:"best_val_loss_min"`
	BestMax       float64  `json:"best_val_loss_max"`
	FinalMean     float64  `json:"final_val_loss_mean"`
	AccMean       *float64 `json:"best_val_accuracy_mean,omitempty"`
	// StepsMedian is the median over the final seeds of the steps to the
	// target, a seed that never reached it counting as beyond the budget:
	// nil unless more than half of them reached it.
	StepsMedian *float64 `json:"steps_to_target_median"`
	Reached     int      `json:"seeds_reaching_target"`
	FinalSeeds  int      `json:"final_seeds"` // the final runs Reached is out of
	WallMean    float64  `json:"wall_s_mean"`
	// Grad is the gradient diagnostics of the final runs (medians; nil
	// for records without them).
	Grad *GradSummary `json:"gradients,omitempty"`
	// Displacement is the median over the final runs that finished of
	// how far each moved the weights in all, |w_end - w_0| / |w_0|; nil
	// when one of them lacks it (a record of an older nettrain).
	Displacement *float64 `json:"displacement_median,omitempty"`
	finalRecords []Record
	tuneRecords  []Record
	tuneMissing  int // grid rates without a tuning run (a partial report)
}

// Summary is the comparison's result.
type Summary struct {
	Name       string   `json:"name"`
	Incomplete []string `json:"incomplete,omitempty"` // missing trials (a partial report)
	// Warnings say why the ranking may not be trusted (too few grid
	// points, a grid without the default rate).
	Warnings   []string `json:"warnings,omitempty"`
	Loss       string   `json:"loss,omitempty"` // the config's loss
	StepBudget bool     `json:"step_budget,omitempty"`
	// Seeds is the final runs' seeds per optimizer, and Steps the most
	// steps a trial that did not diverge ran: what the records were run
	// with.
	Seeds  int     `json:"seeds,omitempty"`
	Steps  int64   `json:"steps,omitempty"`
	Target float64 `json:"target_val_loss"`
	// Start is the validation loss at the initial weights (the median
	// over the final runs; StartFromBatch: the first batch's training
	// loss instead, for records of an older nettrain, which did not
	// measure it); nil when unknown. A Target at or above it
	// (TargetAboveStart) is reached at the first measurement: no steps to
	// it are counted.
	Start            *float64           `json:"start_val_loss,omitempty"`
	StartFromBatch   bool               `json:"start_from_first_batch,omitempty"`
	TargetAboveStart bool               `json:"target_not_below_start,omitempty"`
	Optimizers       []OptimizerSummary `json:"optimizers"` // ranked, best first
	Findings         []string           `json:"findings"`
	// GradientFindings are the findings about the gradients (sparsity,
	// noise scale) and the measured causes of divergence, also in
	// Findings.
	GradientFindings []string `json:"gradient_findings,omitempty"`
	Files            []string `json:"files"`
	Markdown         string   `json:"-"`
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
	if err := checkOutDir(o.Out); err != nil { // a report among other files would replace theirs
		return nil, err
	}
	sum := &Summary{Name: name, Incomplete: missing, Seeds: plan.Seeds}
	for _, r := range recs {
		if !r.Diverged {
			sum.Steps = max(sum.Steps, r.Steps)
		}
	}
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
	sum.Start, sum.StartFromBatch = startLoss(recs)
	sum.TargetAboveStart = sum.Start != nil && sum.Target >= *sum.Start
	for i := range sum.Optimizers {
		s := &sum.Optimizers[i]
		if sum.TargetAboveStart {
			s.FinalSeeds = len(s.finalRecords)
			continue
		}
		s.StepsMedian, s.Reached, s.FinalSeeds = targetSteps(s.finalRecords, sum.Target)
	}
	slices.SortStableFunc(sum.Optimizers, rankOrder)
	sum.Loss, sum.StepBudget = plan.Loss, plan.StepBudget
	sum.Warnings = gridWarnings(plan)
	sum.Findings, sum.GradientFindings = findings(sum)
	if err := writeOutputs(sum, recs, o.Out, log); err != nil {
		return nil, err
	}
	fmt.Fprint(log, sum.Markdown)
	fmt.Fprintf(log, "\nReport written to %s\n", o.Out)
	if len(missing) > 0 {
		fmt.Fprintf(log, "warning: incomplete report: %s\n", strings.Join(missing, "; "))
	}
	return sum, nil
}

// summarise reduces one optimizer's records: its tuning grid and chosen
// rate, robustness, divergences and the statistics of its final runs (the
// steps to the target are set by Report, once the target is known).
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
		case PhaseTune:
			tune[r.LR] = r
			s.tuneRecords = append(s.tuneRecords, r)
			s.Grid = append(s.Grid, r.LR)
		case PhaseFinal:
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
			s.DivergedSeeds++
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
	s.Grad = gradSummary(s.finalRecords)
	s.Displacement = medianDisplacement(s.finalRecords)
	return s
}

// medianDisplacement is the median of the distances moved by the runs of
// recs that finished without diverging: nil when there are none, or when
// one lacks it (the median of the others would be no median of the runs).
func medianDisplacement(recs []Record) *float64 {
	var d []float64
	for _, r := range recs {
		if r.Diverged || !finite(r.BestVal) {
			continue
		}
		if r.Displacement == nil {
			return nil
		}
		d = append(d, *r.Displacement)
	}
	if len(d) == 0 {
		return nil
	}
	m := median(d)
	return &m
}

// rankOrder is the ranking rule: first the rows whose every final seed
// finished, by mean best validation loss; then the rows with diverged
// seeds, by fewer diverged seeds, then mean best validation loss of the
// seeds that finished (a mean over the survivors flatters them); last the
// optimizers without a finished final run.
func rankOrder(a, b OptimizerSummary) int {
	class := func(s OptimizerSummary) int {
		switch {
		case s.Seeds == 0 || !finite(s.BestMean):
			return 2
		case s.DivergedSeeds > 0:
			return 1
		}
		return 0
	}
	ca, cb := class(a), class(b)
	switch {
	case ca != cb:
		return ca - cb
	case ca == 2:
		return 0
	case ca == 1 && a.DivergedSeeds != b.DivergedSeeds:
		return a.DivergedSeeds - b.DivergedSeeds
	case a.BestMean < b.BestMean:
		return -1
	case a.BestMean > b.BestMean:
		return 1
	}
	return 0
}

// minGridPoints is the smallest grid whose ranking the report trusts: with
// fewer rates, the chosen one is a guess between two (or none).
const minGridPoints = 3

// gridWarnings names the optimizers whose grid has fewer than
// minGridPoints rates, or lacks the default rate (an explicit
// compare.lr_grid may; the default grids never do).
func gridWarnings(p *Plan) []string {
	var w, small, nodef []string
	for _, n := range p.Optimizers {
		g := p.Grids[n]
		if len(g) < minGridPoints {
			small = append(small, fmt.Sprintf("%s %d", n, len(g)))
		}
		if v, ok := variant(n); ok && len(g) > 0 && !slices.Contains(g, v.DefaultLR()) {
			nodef = append(nodef, fmt.Sprintf("%s (default %s)", n, g4(v.DefaultLR())))
		}
	}
	if len(small) > 0 {
		w = append(w, fmt.Sprintf("The ranking is unreliable: fewer than %d learning rates were tried (%s); an optimizer can rank low only because its good rates were not on the grid. Use --lr-grid %d or more (compare-optimizers tries 7 by default, guide 5).",
			minGridPoints, strings.Join(small, ", "), minGridPoints))
	}
	if len(nodef) > 0 {
		w = append(w, "These grids do not contain the optimizer's default learning rate: "+strings.Join(nodef, ", ")+".")
	}
	return w
}

// ReportDirs merges the trial records of several output directories
// (shards of one sweep) and writes the report into o.Out (o.Name: the
// first directory's, when the records do not name the config).
func ReportDirs(dirs []string, o ReportOptions) (*Summary, error) {
	var sets [][]Record
	for _, d := range dirs {
		recs, err := readShardRecords(d)
		if err != nil {
			return nil, err
		}
		sets = append(sets, recs)
	}
	if o.Name == "" && len(dirs) > 0 {
		o.Name = strings.TrimSuffix(filepath.Base(filepath.Clean(dirs[0])), "-compare")
	}
	return Report(sets, o)
}

// startLoss is the loss the final runs of recs start from: the median of
// their validation losses at the initial weights (for a given seed every
// optimizer starts from the same weights), or, when a record lacks it (an
// older nettrain), the median of their first batches' training losses
// (fromBatch); nil without final runs.
func startLoss(recs []Record) (start *float64, fromBatch bool) {
	var init, first []float64
	missing := false
	for _, r := range recs {
		if r.Phase != PhaseFinal {
			continue
		}
		if r.InitVal != nil {
			init = append(init, *r.InitVal)
		} else {
			missing = true
		}
		if r.FirstLoss > 0 {
			first = append(first, r.FirstLoss)
		}
	}
	switch {
	case len(init) > 0 && !missing:
		m := median(init)
		return &m, false
	case len(first) > 0:
		m := median(first)
		return &m, true
	}
	return nil, false
}

// targetSteps is the median over the final runs recs of the steps to the
// target validation loss, a run that never reached it counting as beyond
// the budget, so that the median exists (is not nil) only when more than
// half of them got there; and how many of how many did.
func targetSteps(recs []Record, target float64) (med *float64, reached, seeds int) {
	var steps []float64
	for _, r := range recs {
		st := math.Inf(1)
		if n := stepsTo(r, target); n >= 0 {
			st = float64(n)
			reached++
		}
		steps = append(steps, st)
	}
	if len(steps) > 0 {
		if m := median(steps); finite(m) {
			med = &m
		}
	}
	return med, reached, len(steps)
}
