package guide

import (
	"strings"
	"testing"
)

// TestSensitivity: the most and least sensitive optimizers, ties named
// together.
func TestSensitivity(t *testing.T) {
	for _, c := range []struct {
		robust map[string]float64
		want   string
	}{
		{map[string]float64{"adadelta": 0.47 * 5, "adagrad": 0.33 * 5, "sgd": 0.33 * 5, "adam": 0.33 * 5}, "adadelta 47%; most sensitive: adagrad, adam, sgd 33%."},
		{map[string]float64{"adam": 0.6 * 5, "nadam": 0.6 * 5, "sgd": 0.2 * 5}, "adam, nadam 60%; most sensitive: sgd 20%."},
		{map[string]float64{"adam": 2, "sgd": 2}, "Every optimizer was equally sensitive to the learning rate, averaged over the problems (the fraction of grid rates within 20% of the optimizer's best): 40%."},
		{map[string]float64{"adam": 2}, ""},
	} {
		got := sensitivity(c.robust, 5)
		if !strings.HasSuffix(got, c.want) || (c.want == "") != (got == "") {
			t.Errorf("%v: %q, want it to end %q", c.robust, got, c.want)
		}
	}
}
