package compare

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/nettrain/nettrain/internal/plots"
)

// SettingSummary is one setting's results over its seeds.
type SettingSummary struct {
	Setting       string            `json:"setting"`
	Values        map[string]string `json:"values"` // per swept key
	Seeds         int               `json:"seeds"`  // finished without diverging
	DivergedSeeds int               `json:"diverged_seeds"`
	BestMean      float64           `json:"best_val_loss_mean"`
	BestStd       float64           `json:"best_val_loss_std"`
	FinalMean     float64           `json:"final_val_loss_mean"`
	TrainMean     float64           `json:"final_train_loss_mean"`
	// Gap is the final validation loss minus the final training loss
	// (finalTrainLoss: the mean batch loss over the last measurement
	// interval, or the last few when it is short), mean and
	// sd over seeds: how much worse the network does on data it did not
	// train on.
	GapMean float64      `json:"gap_mean"`
	GapStd  float64      `json:"gap_std"`
	AccMean *float64     `json:"best_val_accuracy_mean,omitempty"`
	Steps   int64        `json:"steps"` // of the first finished seed
	Grad    *GradSummary `json:"gradients,omitempty"`
	records []Record
}

// SweepSummary is a general sweep's result.
type SweepSummary struct {
	Name       string           `json:"name"`
	Axes       []string         `json:"axes"`
	Incomplete []string         `json:"incomplete,omitempty"`
	Settings   []SettingSummary `json:"settings"` // ranked, best first
	Findings   []string         `json:"findings"`
	Files      []string         `json:"files"`
	StepBudget bool             `json:"step_budget,omitempty"`
	Markdown   string           `json:"-"`
}

// sweepPlanOf is the plan general-sweep records carry: shards of one
// sweep carry the same; a sweep rerun in its directory with other values
// of its keys, or more seeds, adds to it (the union of the settings, in
// the order first seen, and the most seeds). Records over other keys
// are of another sweep, refused.
func sweepPlanOf(recs []Record) (*Plan, error) {
	var plan *Plan
	for _, r := range recs {
		p := r.Plan
		if p == nil || len(p.Settings) == 0 {
			continue
		}
		if plan == nil {
			c := *p
			c.Settings = slices.Clone(p.Settings)
			plan = &c
			continue
		}
		if !slices.Equal(p.Axes, plan.Axes) {
			return nil, fmt.Errorf("the records come from different sweeps of one config: over %s and over %s; report each sweep on its own",
				strings.Join(plan.Axes, ", "), strings.Join(p.Axes, ", "))
		}
		for _, st := range p.Settings {
			if !slices.Contains(plan.Settings, st) {
				plan.Settings = append(plan.Settings, st)
			}
		}
		plan.Seeds = max(plan.Seeds, p.Seeds)
	}
	if plan == nil {
		return nil, fmt.Errorf("these records are not of a general sweep (nettrain sweep)")
	}
	return plan, nil
}

// IsSweep tells whether the records in dirs are a general sweep's (else a
// comparison's), by the first record any of them holds (a shard may have
// had nothing to do).
func IsSweep(dirs ...string) (bool, error) {
	for _, dir := range dirs {
		recs, err := readRecords(dir)
		if err != nil {
			return false, err
		}
		if len(recs) > 0 {
			return recs[0].Phase == PhaseSweep, nil
		}
	}
	return false, nil
}

// SweepReportDirs merges the records of several output directories
// (shards of one sweep) and writes the report into o.Out.
func SweepReportDirs(dirs []string, o ReportOptions) (*SweepSummary, error) {
	var sets [][]Record
	for _, d := range dirs {
		recs, err := readShardRecords(d)
		if err != nil {
			return nil, err
		}
		if len(recs) > 0 && recs[0].Phase != PhaseSweep {
			return nil, fmt.Errorf("%s holds the records of an optimizer comparison, not of a sweep: report it with nettrain compare-optimizers report %s", d, d)
		}
		sets = append(sets, recs)
	}
	if slices.IndexFunc(sets, func(r []Record) bool { return len(r) > 0 }) < 0 {
		// Named here, where the directories read are known: SweepReport
		// knows only where the report goes.
		return nil, fmt.Errorf("no trial records to report in %s (the output directories of a sweep's shards hold them in %s)", strings.Join(dirs, ", "), RecordsFile)
	}
	return SweepReport(sets, o)
}

// SweepReport writes trials.csv, summary.md, summary.json and the plots of
// a general sweep into o.Out. Unless o.Partial, it fails when a trial the
// plan expects is missing.
func SweepReport(sets [][]Record, o ReportOptions) (*SweepSummary, error) {
	log := o.Log
	if log == nil {
		log = io.Discard
	}
	var all []Record
	for _, s := range sets {
		all = append(all, s...)
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("no trial records to report (is %s the output directory of a sweep?)", o.Out)
	}
	for _, r := range all {
		if r.Sweep != all[0].Sweep {
			return nil, fmt.Errorf("the records come from different sweeps (another config or budget): %s and %s", all[0].Sweep, r.Sweep)
		}
	}
	plan := o.Plan
	if plan == nil {
		var err error
		if plan, err = sweepPlanOf(all); err != nil {
			return nil, err
		}
	}
	// Keep one record per expected key, in the plan's order.
	byKey := map[Key]Record{}
	for _, r := range all {
		if _, ok := byKey[r.Key]; !ok {
			byKey[r.Key] = r
		}
	}
	var recs []Record
	var missing []string
	for _, st := range plan.Settings {
		var lack []string
		for _, k := range sweepKeys([]string{st}, plan.Seed, plan.Seeds) {
			if r, ok := byKey[k]; ok {
				recs = append(recs, r)
			} else {
				lack = append(lack, strconv.FormatUint(k.Seed, 10))
			}
		}
		if len(lack) > 0 {
			missing = append(missing, fmt.Sprintf("%s has %d of %d seeds (%s missing)", st, plan.Seeds-len(lack), plan.Seeds, plural("seed", lack)))
		}
	}
	if len(missing) > 0 && !o.Partial {
		return nil, &IncompleteError{Missing: missing}
	}
	if err := checkOutDir(o.Out); err != nil { // a report among other files would replace theirs
		return nil, err
	}
	sum := &SweepSummary{Name: plan.Config, Axes: plan.Axes, Incomplete: missing, StepBudget: plan.StepBudget}
	for _, st := range plan.Settings {
		sum.Settings = append(sum.Settings, summariseSetting(st, recs))
	}
	slices.SortStableFunc(sum.Settings, func(a, b SettingSummary) int {
		return rankOrder(OptimizerSummary{Seeds: a.Seeds, DivergedSeeds: a.DivergedSeeds, BestMean: a.BestMean},
			OptimizerSummary{Seeds: b.Seeds, DivergedSeeds: b.DivergedSeeds, BestMean: b.BestMean})
	})
	sum.Findings = sweepFindings(sum)
	if err := writeSweepOutputs(sum, recs, o.Out, log); err != nil {
		return nil, err
	}
	fmt.Fprint(log, sum.Markdown)
	fmt.Fprintf(log, "\nReport written to %s\n", o.Out)
	if len(missing) > 0 {
		fmt.Fprintf(log, "warning: incomplete report: %s\n", strings.Join(missing, "; "))
	}
	return sum, nil
}

// summariseSetting reduces one setting's records.
func summariseSetting(st string, recs []Record) SettingSummary {
	s := SettingSummary{Setting: st, Values: map[string]string{}}
	for _, kv := range sets(st) {
		k, v, _ := strings.Cut(kv, "=")
		s.Values[k] = v
	}
	var bests, finals, trains, gaps, accs []float64
	for _, r := range recs {
		if r.Setting != st {
			continue
		}
		s.records = append(s.records, r)
		if r.Diverged || !finite(r.BestVal) || len(r.Curve) == 0 {
			s.DivergedSeeds++
			continue
		}
		if s.Steps == 0 {
			s.Steps = r.Steps
		}
		last := r.Curve[len(r.Curve)-1]
		train := finalTrainLoss(r.Curve)
		bests = append(bests, r.BestVal)
		finals = append(finals, r.FinalVal)
		trains = append(trains, train)
		gaps = append(gaps, last.ValLoss-train)
		if r.BestAcc != nil {
			accs = append(accs, *r.BestAcc)
		}
	}
	s.Seeds = len(bests)
	s.BestMean, s.BestStd, s.FinalMean, s.TrainMean, s.GapMean, s.GapStd = math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN()
	if len(bests) > 0 {
		s.BestMean, s.BestStd = meanStd(bests)
		s.FinalMean, _ = meanStd(finals)
		s.TrainMean, _ = meanStd(trains)
		s.GapMean, s.GapStd = meanStd(gaps)
	}
	if len(accs) > 0 {
		m, _ := meanStd(accs)
		s.AccMean = &m
	}
	s.Grad = gradSummary(s.records)
	return s
}

// sweepFindings states what the numbers show: the best setting against
// the runner-up and the spread, and the train/validation gap across
// settings.
func sweepFindings(sum *SweepSummary) []string {
	var f []string
	var ok []SettingSummary
	for _, s := range sum.Settings {
		if s.Seeds > 0 && finite(s.BestMean) {
			ok = append(ok, s)
		}
	}
	if len(ok) == 0 {
		return []string{"No setting finished a run without diverging; nothing can be ranked."}
	}
	a := ok[0]
	line := fmt.Sprintf("Lowest validation loss: %s, %s ± %s over %d seed(s).", a.Setting, g4(a.BestMean), g4(a.BestStd), a.Seeds)
	if len(ok) > 1 {
		b := ok[1]
		switch {
		case a.Seeds < 2 || b.Seeds < 2:
			line += fmt.Sprintf(" Runner-up: %s (%s); with one seed there is no spread to judge the gap by.", b.Setting, g4(b.BestMean))
		case b.BestMean-a.BestMean <= a.BestStd+b.BestStd:
			line += fmt.Sprintf(" The runner-up, %s (%s ± %s), is within the seed-to-seed spread.", b.Setting, g4(b.BestMean), g4(b.BestStd))
		default:
			line += fmt.Sprintf(" It leads the runner-up, %s (%s ± %s), by more than the spread over seeds.", b.Setting, g4(b.BestMean), g4(b.BestStd))
		}
	}
	f = append(f, line)
	// The gap, in the order of the settings.
	byGap := slices.Clone(ok)
	slices.SortStableFunc(byGap, func(x, y SettingSummary) int {
		switch {
		case x.GapMean < y.GapMean:
			return -1
		case x.GapMean > y.GapMean:
			return 1
		}
		return 0
	})
	if len(byGap) > 1 {
		lo, hi := byGap[0], byGap[len(byGap)-1]
		f = append(f, fmt.Sprintf("Train/validation gap (final validation loss minus final training loss): largest at %s, %s ± %s; smallest at %s, %s ± %s.",
			hi.Setting, g4(hi.GapMean), g4(hi.GapStd), lo.Setting, g4(lo.GapMean), g4(lo.GapStd)))
		if ax, vals, ok := numericAxis(sum); ok {
			order := slices.Clone(ok0(sum.Settings))
			slices.SortStableFunc(order, func(x, y SettingSummary) int {
				return cmpFloat(vals[x.Setting], vals[y.Setting])
			})
			up, down := true, true
			for i := 1; i < len(order); i++ {
				up = up && order[i].GapMean > order[i-1].GapMean
				down = down && order[i].GapMean < order[i-1].GapMean
			}
			switch {
			case up:
				f = append(f, fmt.Sprintf("The gap grows with %s at every step of the sweep.", ax))
			case down:
				f = append(f, fmt.Sprintf("The gap shrinks as %s grows, at every step of the sweep.", ax))
			default:
				f = append(f, fmt.Sprintf("The gap does not change monotonically with %s.", ax))
			}
		}
	}
	var steps []string
	for _, s := range ok {
		if s.Steps != ok[0].Steps {
			for _, t := range ok {
				steps = append(steps, fmt.Sprintf("%s %d", t.Setting, t.Steps))
			}
			f = append(f, "The settings ran different numbers of optimizer steps ("+strings.Join(steps, ", ")+"): the epochs ended the shorter runs first. For an equal number of steps, give --steps and an --epochs large enough not to end any run.")
			break
		}
	}
	var div []string
	for _, s := range sum.Settings {
		if s.DivergedSeeds > 0 {
			div = append(div, fmt.Sprintf("%s (%d of %d seeds)", s.Setting, s.DivergedSeeds, s.DivergedSeeds+s.Seeds))
		}
	}
	if len(div) > 0 {
		f = append(f, "Diverged: "+strings.Join(div, "; ")+".")
	}
	return f
}

// ok0 keeps the settings with finished seeds.
func ok0(ss []SettingSummary) []SettingSummary {
	var out []SettingSummary
	for _, s := range ss {
		if s.Seeds > 0 && finite(s.BestMean) {
			out = append(out, s)
		}
	}
	return out
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// numericAxis is the sweep's one axis when there is exactly one and its
// values are numbers, with each setting's value.
func numericAxis(sum *SweepSummary) (string, map[string]float64, bool) {
	if len(sum.Axes) != 1 {
		return "", nil, false
	}
	ax := sum.Axes[0]
	vals := map[string]float64{}
	for _, s := range sum.Settings {
		v, err := strconv.ParseFloat(s.Values[ax], 64)
		if err != nil {
			return "", nil, false
		}
		vals[s.Setting] = v
	}
	return ax, vals, true
}

// writeSweepOutputs writes trials.csv, the plots, summary.md and
// summary.json: all of them or none (writeReport).
func writeSweepOutputs(sum *SweepSummary, recs []Record, out string, log io.Writer) error {
	return writeReport(out, log, func(r *reportFiles) error { return writeSweepFiles(sum, recs, r) })
}

// writeSweepFiles stages a sweep report's files in r.
func writeSweepFiles(sum *SweepSummary, recs []Record, rf *reportFiles) error {
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write([]string{"setting", "seed", "final_val_loss", "best_val_loss", "final_train_loss", "gap", "best_val_accuracy", "steps", "wall_s", "diverged", "grad_sparsity", "noise_scale", "update_ratio"})
	num := func(v float64) string {
		if !finite(v) {
			return ""
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	for _, r := range recs {
		train, gap, acc := "", "", ""
		if n := len(r.Curve); n > 0 && !r.Diverged {
			t := finalTrainLoss(r.Curve)
			train, gap = num(t), num(r.Curve[n-1].ValLoss-t)
		}
		if r.BestAcc != nil {
			acc = num(*r.BestAcc)
		}
		sp, ns, ur := "", "", ""
		if d := r.Grad; d != nil {
			sp, ur = num(d.Sparsity), num(d.UpdateRatio)
			if d.NoiseScale >= 0 {
				ns = num(d.NoiseScale)
			}
		}
		div := "no"
		if r.Diverged {
			div = "yes"
		}
		w.Write([]string{r.Setting, strconv.FormatUint(r.Seed, 10), num(r.FinalVal), num(r.BestVal), train, gap, acc,
			strconv.FormatInt(r.Steps, 10), strconv.FormatFloat(r.WallS, 'f', 2, 64), div, sp, ns, ur})
	}
	w.Flush()
	if err := rf.write("trials.csv", []byte(b.String())); err != nil {
		return err
	}
	plotted, err := writeSweepPlots(sum, rf)
	if err != nil {
		return err
	}
	sum.Files = append([]string{"trials.csv", "summary.md", "summary.json"}, plotted...)
	sum.Markdown = sweepMarkdown(sum)
	if err := rf.write("summary.md", []byte(sum.Markdown)); err != nil {
		return err
	}
	c := *sum
	c.Settings = slices.Clone(sum.Settings)
	for i := range c.Settings {
		s := &c.Settings[i]
		for _, v := range []*float64{&s.BestMean, &s.BestStd, &s.FinalMean, &s.TrainMean, &s.GapMean, &s.GapStd} {
			if !finite(*v) {
				*v = -1
			}
		}
	}
	js, _ := json.MarshalIndent(c, "", "  ")
	return rf.write("summary.json", append(js, '\n'))
}

// sweepMarkdown is a general sweep's summary.md.
func sweepMarkdown(sum *SweepSummary) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Sweep: %s over %s\n\n", sum.Name, strings.Join(sum.Axes, ", "))
	if len(sum.Incomplete) > 0 {
		fmt.Fprintf(&b, "**Warning: incomplete report, some trials are missing:** %s.\n\n", strings.Join(sum.Incomplete, "; "))
	}
	b.WriteString("Each setting trained with every seed at the same budget; ranked by the mean over seeds of the best validation loss (settings with diverged seeds after the others). Gap: final validation loss minus final training loss (the mean batch loss over the last measurement interval, or the last few when the last is shorter than the longest, as an epoch's short last batch can make it).\n\n")
	b.WriteString("| rank | setting | best val loss (mean ± sd) | final val loss | final train loss | gap (mean ± sd) | best val acc | steps | diverged |\n|---|---|---|---|---|---|---|---|---|\n")
	for i, s := range sum.Settings {
		best, fin, tr, gap, acc := "-", "-", "-", "-", "-"
		rank := strconv.Itoa(i + 1)
		if s.Seeds > 0 {
			best = fmt.Sprintf("%s ± %s (%d)", g4(s.BestMean), g4(s.BestStd), s.Seeds)
			fin, tr = g4(s.FinalMean), g4(s.TrainMean)
			gap = fmt.Sprintf("%s ± %s", g4(s.GapMean), g4(s.GapStd))
			if s.DivergedSeeds > 0 {
				rank += " ⚠"
			}
		}
		if s.AccMean != nil {
			acc = fmt.Sprintf("%.4f", *s.AccMean)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %d | %d |\n", rank, s.Setting, best, fin, tr, gap, acc, s.Steps, s.DivergedSeeds)
	}
	b.WriteString("\n## Findings\n\n")
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

// writeSweepPlots draws the validation curves of every setting and, for
// one numeric axis, the losses and the gap against its value.
func writeSweepPlots(sum *SweepSummary, rf *reportFiles) ([]string, error) {
	xLabel, x := "epoch", func(p CurvePoint) float64 { return p.Epoch }
	if sum.StepBudget {
		xLabel, x = "step", func(p CurvePoint) float64 { return float64(p.Step) }
	}
	curves := plots.Chart{Title: sum.Name + ": validation loss per setting (mean over seeds, band: min-max)",
		XLabel: xLabel, YLabel: "validation loss", AutoLogY: true, LegendOutside: true, Distinct: true}
	for _, s := range sum.Settings {
		var rs []Record
		ser := plots.Series{Label: s.Setting}
		for _, r := range s.records {
			if r.Diverged {
				if n := len(r.Curve); n > 0 {
					ser.Diverged = append(ser.Diverged, x(r.Curve[n-1]))
				}
			} else if len(r.Curve) > 0 {
				rs = append(rs, r)
			}
		}
		n := math.MaxInt
		for _, r := range rs {
			n = min(n, len(r.Curve))
		}
		for i := 0; len(rs) > 0 && i < n; i++ {
			var vals []float64
			for _, r := range rs {
				vals = append(vals, r.Curve[i].ValLoss)
			}
			m, _ := meanStd(vals)
			ser.X = append(ser.X, x(rs[0].Curve[i]))
			ser.Y = append(ser.Y, m)
			ser.Lo = append(ser.Lo, slices.Min(vals))
			ser.Hi = append(ser.Hi, slices.Max(vals))
		}
		if len(ser.X) > 0 || len(ser.Diverged) > 0 {
			curves.Series = append(curves.Series, ser)
		}
	}
	charts := []struct {
		chart plots.Chart
		name  string
	}{{curves, "curves"}}
	if ax, vals, ok := numericAxis(sum); ok {
		order := ok0(sum.Settings)
		slices.SortStableFunc(order, func(a, b SettingSummary) int { return cmpFloat(vals[a.Setting], vals[b.Setting]) })
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, v := range vals {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
		by := plots.Chart{Title: sum.Name + ": losses at the end of training against " + ax + " (mean over seeds)",
			XLabel: ax, YLabel: "loss", LogX: lo > 0 && hi >= 10*lo, LegendOutside: true, Distinct: true}
		val := plots.Series{Label: "final validation loss", Points: true}
		tr := plots.Series{Label: "final training loss", Points: true}
		for _, s := range order {
			v := vals[s.Setting]
			val.X, val.Y = append(val.X, v), append(val.Y, s.FinalMean)
			tr.X, tr.Y = append(tr.X, v), append(tr.Y, s.TrainMean)
		}
		for _, s := range sum.Settings {
			if s.DivergedSeeds > 0 {
				val.Diverged = append(val.Diverged, vals[s.Setting])
			}
		}
		by.Series = []plots.Series{val, tr}
		charts = append(charts, struct {
			chart plots.Chart
			name  string
		}{by, "by-" + strings.ReplaceAll(ax, ".", "-")})
	}
	var files []string
	for _, p := range charts {
		if len(p.chart.Series) == 0 {
			continue
		}
		for _, ext := range []string{".png", ".svg"} {
			if err := rf.plot(p.chart, p.name+ext); err != nil {
				return nil, err
			}
			files = append(files, p.name+ext)
		}
	}
	return files, nil
}

// finalTrainLoss is a run's training loss at its end: the mean of its
// last points' training losses (each the mean since the point before),
// weighted by the steps each covers, going back until they cover as many
// steps as its longest interval between points. The last point alone can
// cover an epoch's short last batch, a sample or two, whose loss says
// little (a regression run's last point read 1,870 where its steps ran
// at 6,000 to 21,000).
func finalTrainLoss(curve []CurvePoint) float64 {
	longest := int64(0)
	for k, p := range curve {
		prev := int64(0)
		if k > 0 {
			prev = curve[k-1].Step
		}
		longest = max(longest, p.Step-prev)
	}
	var sum float64
	var steps int64
	for k := len(curve) - 1; k >= 0 && (steps < longest || steps == 0); k-- {
		prev := int64(0)
		if k > 0 {
			prev = curve[k-1].Step
		}
		n := max(1, curve[k].Step-prev)
		sum += curve[k].TrainLoss * float64(n)
		steps += n
	}
	if steps == 0 {
		return math.NaN()
	}
	return sum / float64(steps)
}
