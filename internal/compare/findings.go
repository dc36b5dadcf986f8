package compare

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// findings states what the numbers show, and only that. gradient is the
// part of them about the gradients themselves (sparsity, noise) and the
// measured causes of divergence, in the same order: what the optimizer
// guide quotes under "What the gradients say".
func findings(sum *Summary) (f, gradient []string) {
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
	causes := familyFindings(sum)
	shape, steps := whyFindings(sum)
	f = append(f, causes...)
	f = append(f, shape...)
	f = append(f, steps...)
	gradient = append(causes, shape...)
	return f, gradient
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
	var never, few []string
	for _, s := range sum.Optimizers {
		switch {
		case s.StepsMedian != nil:
			fast = append(fast, s)
		case s.Seeds > 0 && s.Reached == 0:
			never = append(never, s.Name)
		case s.Seeds > 0:
			few = append(few, fmt.Sprintf("%s (%d of %d seeds)", s.Name, s.Reached, s.FinalSeeds))
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
	if sum.TargetAboveStart {
		f = append(f, targetAboveStart(sum))
	} else if len(fast)+len(few) > 0 {
		line := fmt.Sprintf("No optimizer reached the target validation loss %s in more than half of its seeds.", g4(sum.Target))
		if len(fast) > 0 {
			var others []string
			for _, s := range fast[1:] {
				others = append(others, fmt.Sprintf("%s %.0f", s.Name, *s.StepsMedian))
			}
			line = fmt.Sprintf("Fastest to the target validation loss %s: %s, in a median of %.0f steps", g4(sum.Target), fast[0].Name, *fast[0].StepsMedian)
			if len(others) > 0 {
				line += " (" + strings.Join(others, ", ") + ")"
			}
			line += "."
		}
		if len(few) > 0 {
			line += fmt.Sprintf(" Reached by only half of their seeds or fewer (no median): %s.", strings.Join(few, ", "))
		}
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

// targetAboveStart says why no optimizer is called fastest: the target is
// not below the loss the runs start from, so every run meets it at its
// first measurement.
func targetAboveStart(sum *Summary) string {
	start := fmt.Sprintf("the validation loss at the initial weights (%s, median over the final runs)", g4(*sum.Start))
	if sum.StartFromBatch {
		start = fmt.Sprintf("the loss at the initial weights (%s: the first batch's training loss, median over the final runs; these records do not hold the validation loss there)", g4(*sum.Start))
	}
	return fmt.Sprintf("The target validation loss %s is not below %s: every run meets it from its first measurement, so steps to it measure no speed, and none are counted. (The default target is %g times the lowest mean best validation loss, above the start when training barely improved on it; --target-loss or compare.target_loss below the start sets one that ranks speed.)",
		g4(sum.Target), start, defaultTargetFactor)
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

// g4 formats v with 4 significant digits.
func g4(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }

// lrText is a chosen rate, or "?" when none is known (a partial report
// whose final runs disagree on it).
func lrText(lr *float64) string {
	if lr == nil {
		return "?"
	}
	return g4(*lr)
}
