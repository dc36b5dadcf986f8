package compare

import (
	"math"
	"sort"
)

// meanStd is the mean and the sample standard deviation (n-1 in the
// denominator; 0 for one value) of v, which is not empty.
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

// median is the median of v (not empty); v is not modified.
func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// finite reports whether v is neither NaN nor infinite.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// validTarget reports whether v can be a target validation loss.
func validTarget(v float64) bool { return v > 0 && !math.IsInf(v, 0) }

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
