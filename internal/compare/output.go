package compare

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/nettrain/nettrain/internal/plots"
)

// markdown is summary.md: the ranked table, the target, the findings and
// the files written.
func markdown(sum *Summary) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Optimizer comparison: %s\n\n", sum.Name)
	if len(sum.Incomplete) > 0 {
		fmt.Fprintf(&b, "**Warning: incomplete report, some trials are missing:** %s. The rankings and findings below cover only the trials present.\n\n", strings.Join(sum.Incomplete, "; "))
	}
	for _, w := range sum.Warnings {
		fmt.Fprintf(&b, "**Warning:** %s\n\n", w)
	}
	b.WriteString("Each optimizer's learning rate was tuned on a grid (lowest validation loss, one seed), then rerun with several seeds; ranked by the mean over seeds of the best validation loss.\n\n")
	b.WriteString("| rank | optimizer | lr | best val loss (mean ± sd) | min-max | final val loss | best val acc | steps to target | good lrs | diverged |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|\n")
	for i, s := range sum.Optimizers {
		lr, best, mm, fin, acc, steps := "-", "-", "-", "-", "-", "-"
		if s.ChosenLR != nil {
			lr = g4(*s.ChosenLR)
		}
		rank := strconv.Itoa(i + 1)
		if s.Seeds > 0 {
			best = fmt.Sprintf("%s ± %s (%d)", g4(s.BestMean), g4(s.BestStd), s.Seeds)
			if s.DivergedSeeds > 0 {
				best = fmt.Sprintf("%s ± %s (%d of %d seeds; %d diverged)", g4(s.BestMean), g4(s.BestStd), s.Seeds, s.Seeds+s.DivergedSeeds, s.DivergedSeeds)
				rank += " ⚠"
			}
			mm = g4(s.BestMin) + "-" + g4(s.BestMax)
			fin = g4(s.FinalMean)
		}
		if s.AccMean != nil {
			acc = fmt.Sprintf("%.4f", *s.AccMean)
		}
		if s.StepsMedian != nil {
			steps = fmt.Sprintf("%.0f", *s.StepsMedian)
		}
		if s.Reached < s.FinalSeeds && s.Reached > 0 {
			steps += fmt.Sprintf(" (%d of %d seeds)", s.Reached, s.FinalSeeds)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %d/%d | %d |\n", rank, s.Name, lr, best, mm, fin, acc, steps, s.Robust, len(s.Grid), len(s.Diverged))
	}
	for _, s := range sum.Optimizers {
		if s.DivergedSeeds > 0 && s.Seeds > 0 {
			b.WriteString("\n⚠ Some final seeds diverged: these rows are ranked after every row whose seeds all finished (by fewer diverged seeds, then the mean of the seeds that finished), since a mean over the survivors flatters them.\n")
			break
		}
	}
	var names []string
	for _, s := range sum.Optimizers {
		names = append(names, s.Name)
	}
	if forms := ConfigForms(names); forms != "" {
		b.WriteString("\n" + forms + "\n")
	}
	target := "Target validation loss: " + g4(sum.Target) + "."
	if sum.TargetAboveStart {
		target = fmt.Sprintf("Target validation loss: %s, not below the loss at the initial weights (%s), so no steps to it are counted (see the findings).", g4(sum.Target), g4(*sum.Start))
	}
	if !finite(sum.Target) {
		target = "No target validation loss: there are no final runs."
		for _, s := range sum.Optimizers {
			if len(s.finalRecords) > 0 {
				target = "No target validation loss: no final run finished without diverging."
			}
		}
	}
	fmt.Fprintf(&b, "\n%s Good lrs: grid rates within %.0f%% of the optimizer's best validation loss.\n\n", target, (robustWithin-1)*100)
	gradMarkdown(&b, sum)
	b.WriteString("## Findings\n\n")
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

// gradMarkdown writes the gradient diagnostics of the final runs: per
// optimizer, and the sparsity of each parameter's gradient.
func gradMarkdown(b *strings.Builder, sum *Summary) {
	var all []Record
	any := false
	for _, s := range sum.Optimizers {
		all = append(all, s.finalRecords...)
		any = any || s.Grad != nil
	}
	if !any {
		return
	}
	moved := slices.ContainsFunc(sum.Optimizers, func(s OptimizerSummary) bool { return s.Displacement != nil })
	pairs := ""
	if p := gradSummary(all); p != nil {
		pairs = strconv.Itoa(p.PairsMin) + " pairs per run; "
		switch {
		case p.PairsMax != p.PairsMin:
			pairs = fmt.Sprintf("%d to %d pairs per run; ", p.PairsMin, p.PairsMax)
		case p.PairsMin == 1:
			pairs = "1 pair per run; "
		}
	}
	fmt.Fprintf(b, "## Gradients\n\nMeasured every %d steps on a pair of consecutive steps (%smedians over the final runs): the step's size relative to the weights, the gradient noise scale (the batch size at which a batch gradient's noise equals its signal; 2 significant digits, the median over the runs that gave an estimate, with their number when some did not) and the fraction of gradient entries that are exactly zero. A noise scale of - means consecutive gradients did not agree on average in any run (they alternate in sign at a large rate), so it cannot be estimated from them. The findings interpret the noise scale only when every run measured at least %d pairs and at least half of the final runs (%d or more) gave an estimate.", diagEvery, pairs, minNoisePairs, minNoiseRuns)
	if moved {
		b.WriteString(" Moved in all: how far the weights ended from the initial ones, |w_end − w_0|/|w_0|, measured when each run ended.")
	}
	b.WriteString("\n\n| optimizer | \\|Δw\\|/\\|w\\| per step | noise scale (samples) | zero gradients |")
	if moved {
		b.WriteString(" moved in all |")
	}
	b.WriteString("\n|---|---|---|---|")
	if moved {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, s := range sum.Optimizers {
		if g := s.Grad; g != nil {
			ns := "-"
			if g.NoiseScale >= 0 {
				ns = sig2(g.NoiseScale)
				if g.NoiseRuns < g.Runs {
					ns += fmt.Sprintf(" (%d of %d runs)", g.NoiseRuns, g.Runs)
				}
			}
			fmt.Fprintf(b, "| %s | %s | %s | %s |", s.Name, g4(g.UpdateRatio), ns, pct(g.Sparsity))
			if moved {
				d := "-"
				if s.Displacement != nil {
					d = g4(*s.Displacement)
				}
				fmt.Fprintf(b, " %s |", d)
			}
			b.WriteString("\n")
		}
	}
	if p := gradSummary(all); p != nil && len(p.Params) > 0 {
		var parts []string
		for _, q := range p.Params {
			parts = append(parts, fmt.Sprintf("%s %s", q.Name, pct(q.Sparsity)))
		}
		fmt.Fprintf(b, "\nZero gradient entries by parameter (batch %d): %s.\n", p.BatchSize, strings.Join(parts, ", "))
	}
	b.WriteString("\n")
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

// writeOutputs writes the report into out: trials.csv, the plots, then
// summary.md and summary.json, which list the files written; all of them
// or none (writeReport). It sets sum.Files and sum.Markdown.
func writeOutputs(sum *Summary, recs []Record, out string, log io.Writer) error {
	return writeReport(out, log, func(r *reportFiles) error {
		if err := writeTrialsCSV(sum, recs, r); err != nil {
			return err
		}
		plotted, err := writePlots(sum, r)
		if err != nil {
			return err
		}
		sum.Files = append([]string{"trials.csv", "summary.md", "summary.json"}, plotted...)
		sum.Markdown = markdown(sum)
		if err := r.write("summary.md", []byte(sum.Markdown)); err != nil {
			return err
		}
		js, _ := json.MarshalIndent(sanitized(sum), "", "  ")
		return r.write("summary.json", append(js, '\n'))
	})
}

// writeTrialsCSV writes trials.csv: one row per trial, in the records'
// order.
func writeTrialsCSV(sum *Summary, recs []Record, rf *reportFiles) error {
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write([]string{"phase", "optimizer", "lr", "seed", "final_val_loss", "best_val_loss", "final_val_accuracy", "best_val_accuracy", "steps_to_target", "steps", "wall_s", "diverged", "grad_sparsity", "noise_scale", "update_ratio", "displacement"})
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
		if s := stepsTo(r, sum.Target); s >= 0 && !sum.TargetAboveStart {
			st = strconv.FormatInt(s, 10)
		}
		div := "no"
		if r.Diverged {
			div = "yes"
		}
		sp, ns, ur := "", "", ""
		if d := r.Grad; d != nil {
			sp, ur = num(d.Sparsity), num(d.UpdateRatio)
			if d.NoiseScale >= 0 {
				ns = num(d.NoiseScale)
			}
		}
		w.Write([]string{string(r.Phase), r.Optimizer, num(r.LR), strconv.FormatUint(r.Seed, 10), num(r.FinalVal), num(r.BestVal),
			opt(r.FinalAcc), opt(r.BestAcc), st, strconv.FormatInt(r.Steps, 10), strconv.FormatFloat(r.WallS, 'f', 2, 64), div, sp, ns, ur, opt(r.Displacement)})
	}
	w.Flush()
	return rf.write("trials.csv", []byte(b.String()))
}

// plotStyle is the optimizer's style in the plots: its place among every
// variant (VariantNames), so that it looks the same in every report
// whatever its rank; nil for a name that is no variant.
func plotStyle(name string) *int {
	if i := slices.Index(VariantNames(), name); i >= 0 {
		return &i
	}
	return nil
}

// writePlots writes the plots that have data, as PNG and SVG, and lists
// their files.
func writePlots(sum *Summary, rf *reportFiles) ([]string, error) {
	var files []string
	xLabel, x := "epoch", func(p CurvePoint) float64 { return p.Epoch }
	if sum.StepBudget {
		xLabel, x = "step", func(p CurvePoint) float64 { return float64(p.Step) }
	}
	// Learning curves at the chosen rates: mean over seeds, band min-max;
	// a diverged final run is a cross where it diverged.
	// (A y label longer than the axis shrinks the axis: details go in
	// the title.)
	curves := plots.Chart{Title: sum.Name + ": validation loss at each optimizer's chosen learning rate (mean over seeds, band: min-max)",
		XLabel: xLabel, YLabel: "validation loss",
		AutoLogY: true, LegendOutside: true, Distinct: true}
	epochsPerStep := 0.0
	for _, s := range sum.Optimizers {
		for _, r := range s.finalRecords {
			if n := len(r.Curve); n > 0 && r.Curve[n-1].Step > 0 {
				epochsPerStep = r.Curve[n-1].Epoch / float64(r.Curve[n-1].Step)
			}
		}
	}
	for _, s := range sum.Optimizers {
		var rs []Record
		ser := plots.Series{Label: fmt.Sprintf("%s (lr %s)", s.Name, lrText(s.ChosenLR)), Style: plotStyle(s.Name)}
		for _, r := range s.finalRecords {
			switch {
			case r.Diverged:
				at := float64(r.DivergedAt)
				if !sum.StepBudget {
					at *= epochsPerStep
				}
				ser.Diverged = append(ser.Diverged, at)
			case len(r.Curve) > 0:
				rs = append(rs, r)
			}
		}
		if len(rs) == 0 && len(ser.Diverged) == 0 {
			continue
		}
		n := 0
		if len(rs) > 0 {
			n = len(rs[0].Curve)
		}
		for _, r := range rs {
			n = min(n, len(r.Curve))
		}
		for i := 0; i < n; i++ {
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
		curves.Series = append(curves.Series, ser)
	}
	// Sensitivity: best validation loss of each tuning run against its
	// rate; a diverged run is a cross in the band above the data.
	sens := plots.Chart{Title: sum.Name + ": sensitivity to the learning rate (tuning runs)",
		XLabel: "learning rate", YLabel: "best validation loss", LogX: true, AutoLogY: true,
		LegendOutside: true, Distinct: true}
	for _, s := range sum.Optimizers {
		ser := plots.Series{Label: s.Name, Points: true, Style: plotStyle(s.Name)}
		for i, lr := range s.Grid {
			if s.TuneBest[i] != nil {
				ser.X = append(ser.X, lr)
				ser.Y = append(ser.Y, *s.TuneBest[i])
			} else {
				ser.Diverged = append(ser.Diverged, lr)
			}
		}
		if len(ser.X) > 0 || len(ser.Diverged) > 0 {
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
			if err := rf.plot(p.chart, p.name+ext); err != nil {
				return nil, err
			}
			files = append(files, p.name+ext)
		}
	}
	return files, nil
}
