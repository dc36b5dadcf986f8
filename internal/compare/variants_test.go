package compare

import (
	"strings"
	"testing"
)

// TestReportWritesVariantsAsConfig: summary.md states the config form of
// every compared name that is no optimizer of a config (momentum,
// nesterov), so that a recommendation can be used as it stands.
func TestReportWritesVariantsAsConfig(t *testing.T) {
	const (
		momentum = "`momentum` is `optimizer: {name: sgd, momentum: 0.9}`"
		nesterov = "`nesterov` is `optimizer: {name: sgd, momentum: 0.9, nesterov: true}`"
	)
	tests := []struct {
		names []string
		want  []string
		not   []string
	}{
		{[]string{"sgd", "adam"}, nil, []string{"In a config"}},
		{[]string{"sgd", "momentum", "adam"}, []string{"In a config", momentum}, []string{nesterov}},
		{[]string{"nesterov", "momentum"}, []string{"In a config", nesterov, momentum}, nil},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.names, ","), func(t *testing.T) {
			var recs []Record
			for _, n := range tc.names {
				r := Record{Key: Key{Phase: PhaseFinal, Optimizer: n, LR: 0.1, Seed: 1}}
				r.BestVal, r.FinalVal, r.Steps = 1, 1, 10
				recs = append(recs, r)
			}
			sum := &Summary{Name: "t"}
			for _, n := range tc.names {
				sum.Optimizers = append(sum.Optimizers, summarise(n, recs))
			}
			md := markdown(sum)
			for _, w := range tc.want {
				if !strings.Contains(md, w) {
					t.Errorf("summary.md lacks %q:\n%s", w, md)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(md, w) {
					t.Errorf("summary.md has %q:\n%s", w, md)
				}
			}
		})
	}
}
