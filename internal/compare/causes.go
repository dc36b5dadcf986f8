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
			line += fmt.Sprintf(" An %s step is the learning rate times the gradient: at its default %s, the first step alone moves the weights by %s, %s times their norm%s.",
				f, g4(lr), g4(lr*g), g4(lr*g/w), firstStepsApart(members[f]))
		}
		if isMSE(sum.Loss) && l > largeLoss {
			line += fmt.Sprintf(" The first batch's mean squared error is %s: the regression targets are unscaled (of the order of %s), and the gradient of the squared error grows with them; standardising the target column in the data file (data.normalize scales the features, not a regression's targets), or a smaller rate, would address it.",
				g4(l), g4(math.Sqrt(l)))
		}
		switch {
		case stepScalesWithGradient(f) && len(survivors) > 0:
			line += " Optimizers that divide each step by a running estimate of the gradient's scale are less exposed to it; these trained: " + strings.Join(survivors, ", ") + "."
		case !stepScalesWithGradient(f):
			// An adaptive step does not grow with the gradient: the
			// default rate itself is too large for this network.
			line += " " + adaptiveStep(f) + " So divergence at its default rate points at the rate rather than at the gradients' scale: the default is too large for this network"
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

// stepScalesWithGradient tells whether the optimizer's step grows with
// the gradient (SGD and its momentum variants) rather than being divided
// by a measure of the gradient's size (the adaptive methods), as its rule
// runs at its defaults: its first step under a gradient of 1000 against
// one under a gradient of 1.
func stepScalesWithGradient(opt string) bool {
	c, ok := optim.Defaults(opt)
	if !ok {
		return false
	}
	return optim.ConstantGradientSteps(c, 1000, 1)[0] > 10*optim.ConstantGradientSteps(c, 1, 1)[0]
}

// firstStepsApart names the members of a family of SGD variants whose
// first step differs from plain SGD's lr·g at their defaults (Nesterov's
// is (1 + momentum) times it), as ", nesterov's first step is 1.9 times
// that"; "" when none does.
func firstStepsApart(members []OptimizerSummary) string {
	var out []string
	for _, s := range members {
		v, ok := variant(s.Name)
		if !ok {
			continue
		}
		if r := optim.ConstantGradientSteps(v.Config(v.DefaultLR()), 1, 1)[0]; sig2(r) != "1" {
			out = append(out, fmt.Sprintf("%s's first step is %s times that", s.Name, sig2(r)))
		}
	}
	if len(out) == 0 {
		return ""
	}
	return " (" + strings.Join(out, "; ") + ")"
}

// adaptiveStep describes, in a sentence, the step of an optimizer that
// divides it by a measure of the gradient's size, from its rule at its
// defaults (optim.ConstantGradientSteps): how far it moves a weight, in
// learning rates, at steps 1, 10 and 100 under a constant gradient, which
// is far from "about the learning rate" for some (RMSprop's average of
// g² starts at zero, so its first step is 10 times the rate; AdaDelta's
// is a small fraction of it).
func adaptiveStep(opt string) string {
	c, ok := optim.Defaults(opt)
	if !ok {
		return ""
	}
	at := []int{1, 10, 100}
	small, large := optim.ConstantGradientSteps(c, 1, at...), optim.ConstantGradientSteps(c, 1000, at...)
	var fs []string
	size := ", of size 1 or 1000 alike"
	for i := range at {
		fs = append(fs, sig2(small[i]))
		if sig2(small[i]) != sig2(large[i]) {
			size = " of size 1"
		}
	}
	by := fmt.Sprintf("%s×, %s× and %s× the learning rate at steps 1, 10 and 100", fs[0], fs[1], fs[2])
	if fs[0] == fs[1] && fs[1] == fs[2] {
		by = fmt.Sprintf("%s× the learning rate at steps 1, 10 and 100 alike", fs[0])
	}
	return fmt.Sprintf("A step of %s is divided by a measure of the gradient's size from its history, so it does not grow with the gradient: under a constant gradient%s, torch's rule at its defaults moves a weight by %s.", opt, size, by)
}

// isMSE reports whether the loss is a squared error.
func isMSE(loss string) bool { return loss == "mse" || loss == "half_sse" }
