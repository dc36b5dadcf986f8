package compare

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/nettrain/nettrain/internal/optim"
)

// largeLoss is the first-batch mean squared error above which a regression's
// targets are called unscaled: standardised targets start near 1.
const largeLoss = 100

// family is the registered optimizer a variant configures (sgd for sgd,
// momentum and nesterov).
func family(name string) string {
	v, ok := variant(name)
	if !ok {
		return name
	}
	return v.Optimizer
}

// failed reports whether an optimizer failed as a whole: no rate of its
// grid trained without diverging, a final seed diverged at its chosen
// rate, or the run at its default rate diverged.
func failed(s OptimizerSummary) bool { return len(failures(s)) > 0 }

// failures says how an optimizer failed (failed): "at every rate of its
// grid", else "at its default learning rate (R)"; and "in k of its n
// final runs".
func failures(s OptimizerSummary) []string {
	var why []string
	if s.ChosenLR == nil && len(s.Grid) > 0 && s.tuneMissing == 0 {
		why = append(why, "at every rate of its grid")
	} else if v, ok := variant(s.Name); ok {
		for _, r := range s.tuneRecords {
			if r.LR == v.DefaultLR() && r.Diverged {
				why = append(why, fmt.Sprintf("at its default learning rate (%s)", g4(r.LR)))
				break
			}
		}
	}
	if s.DivergedSeeds > 0 {
		why = append(why, fmt.Sprintf("in %d of its %d final runs", s.DivergedSeeds, s.Seeds+s.DivergedSeeds))
	}
	return why
}

// familyFindings names the measured cause when every compared member of an
// optimizer family diverged (at its default rate, or at every rate): the
// size of the first gradient against the weights, and for a regression
// the scale of its targets.
func familyFindings(sum *Summary) []string {
	members := map[string][]OptimizerSummary{}
	var fams []string
	for _, s := range sum.Optimizers {
		f := family(s.Name)
		if _, ok := members[f]; !ok {
			fams = append(fams, f)
		}
		members[f] = append(members[f], s)
	}
	var out, survivors []string
	var failedFams []string
	for _, f := range fams {
		if slices.ContainsFunc(members[f], func(s OptimizerSummary) bool { return !failed(s) }) {
			for _, s := range members[f] {
				if s.ChosenLR != nil && !failed(s) {
					survivors = append(survivors, s.Name)
				}
			}
			continue
		}
		failedFams = append(failedFams, f)
	}
	if len(failedFams) == 0 {
		return nil
	}
	// The first step's gradient is the same for every optimizer (same
	// weights, same batch): take the median over the tuning runs.
	var g0, gmax, w0, l0 []float64
	for _, s := range sum.Optimizers {
		for _, r := range s.tuneRecords {
			if r.FirstGradNorm > 0 {
				g0 = append(g0, r.FirstGradNorm)
				w0 = append(w0, r.WeightNorm)
				l0 = append(l0, r.FirstLoss)
			}
			if r.MaxGradNorm > 0 {
				gmax = append(gmax, r.MaxGradNorm)
			}
		}
	}
	for _, f := range failedFams {
		var names, hows []string
		for _, s := range members[f] {
			names = append(names, s.Name)
			hows = append(hows, s.Name+" "+strings.Join(failures(s), " and "))
		}
		what := fmt.Sprintf("Every %s variant compared diverged: %s.", f, strings.Join(hows, "; "))
		if len(names) == 1 {
			what = fmt.Sprintf("%s diverged %s.", names[0], strings.Join(failures(members[f][0]), " and "))
		}
		if len(g0) == 0 {
			out = append(out, what+" (These records carry no gradient norms to say why.)")
			continue
		}
		g, w, l := median(g0), median(w0), median(l0)
		line := what + fmt.Sprintf(" Measured: the gradient norm at the first step is %s (largest finite one in any run: %s), against initial weights of norm %s.",
			g4(g), g4(slices.Max(append(gmax, g))), g4(w))
		if c, ok := optim.Defaults(f); ok && stepScalesWithGradient(f) && w > 0 {
			lr := c.LearningRate()
			line += fmt.Sprintf(" An %s step is the learning rate times the gradient: at its default %s, the first step alone moves the weights by %s, %s times their norm.",
				f, g4(lr), g4(lr*g), g4(lr*g/w))
		}
		if isMSE(sum.Loss) && l > largeLoss {
			line += fmt.Sprintf(" The first batch's mean squared error is %s: the regression targets are unscaled (of the order of %s), and the gradient of the squared error grows with them; standardising the target column (or a smaller rate) would address it.",
				g4(l), g4(math.Sqrt(l)))
		}
		switch {
		case stepScalesWithGradient(f) && len(survivors) > 0:
			line += " Optimizers that divide each step by a running estimate of the gradient's scale are less exposed to it; these trained: " + strings.Join(survivors, ", ") + "."
		case !stepScalesWithGradient(f):
			// An adaptive step does not grow with the gradient: the
			// default rate itself is too large for this network.
			line += fmt.Sprintf(" A step of %s moves each weight by about the learning rate whatever the gradient's size, so divergence at its default means the default rate is too large for this network", f)
			var best []string
			for _, s := range members[f] {
				if s.ChosenLR != nil {
					best = append(best, fmt.Sprintf("%s %s", s.Name, g4(*s.ChosenLR)))
				}
			}
			if len(best) > 0 {
				line += " (best rate here: " + strings.Join(best, ", ") + ")"
			}
			line += "."
		}
		out = append(out, line)
	}
	return out
}

// stepScalesWithGradient tells whether the optimizer's step is
// proportional to the gradient (SGD and its momentum variants), rather than
// normalised per parameter by a running scale (the adaptive methods).
func stepScalesWithGradient(opt string) bool { return opt == "sgd" }

// isMSE reports whether the loss is a squared error.
func isMSE(loss string) bool { return loss == "mse" || loss == "half_sse" }
