package checkpoint_test

import (
	"math"
	"strings"
	"testing"

	"github.com/nettrain/nettrain/internal/checkpoint"
)

// TestLoadRefusesNonFinite: a non-finite parameter, or optimizer state out
// of its range, with valid checksums, is refused when loaded, naming the
// tensor and the index.
func TestLoadRefusesNonFinite(t *testing.T) {
	fx := newFixture(t)
	setValue := func(tensor string, i int, v float64) func(map[string]string, map[string]any) {
		return func(_ map[string]string, ts map[string]any) {
			switch d := ts[tensor].(type) {
			case []float32:
				d[i] = float32(v)
			case []float64:
				d[i] = v
			}
		}
	}
	tests := []struct {
		name      string
		edit      func(map[string]string, map[string]any)
		optimizer bool // LoadOptimizer, else LoadWeights
		want      string
	}{
		{"NaN weight", setValue("0.weight", 6, math.NaN()), false, `tensor "0.weight" holds NaN at index [1 2]`},
		{"infinite bias", setValue("2.bias", 1, math.Inf(-1)), false, `tensor "2.bias" holds -Inf at index [1]`},
		{"NaN exp_avg", setValue("optimizer.exp_avg.0.weight", 0, math.NaN()), true, `"optimizer.exp_avg.0.weight" holds NaN at index [0 0]`},
		{"infinite exp_avg_sq", setValue("optimizer.exp_avg_sq.2.weight", 4, math.Inf(1)), true, `"optimizer.exp_avg_sq.2.weight" holds +Inf at index [0 4]`},
		{"negative exp_avg_sq", setValue("optimizer.exp_avg_sq.0.bias", 2, -0.5), true, `"optimizer.exp_avg_sq.0.bias" holds -0.5 at index [2]; exp_avg_sq must be >= 0`},
		{"negative max_exp_avg_sq", setValue("optimizer.max_exp_avg_sq.2.bias", 0, -1e-3), true, `"optimizer.max_exp_avg_sq.2.bias" holds -0.001 at index [0]; max_exp_avg_sq must be >= 0`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := fx.edited(t, strings.ReplaceAll(tc.name, " ", "-"), tc.edit)
			f, st, err := checkpoint.Read(p)
			if err != nil {
				t.Fatal(err)
			}
			if tc.optimizer {
				err = checkpoint.LoadOptimizer(f, st, fx.net, fx.opt, fx.name)
			} else {
				err = checkpoint.LoadWeights(f, fx.net, fx.m.LayerName)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
				t.Fatalf("load: %v\nwant an error naming %s and containing %s", err, p, tc.want)
			}
		})
	}
	// A negative value where the sign is free (exp_avg) loads.
	p := fx.edited(t, "negative-exp-avg", setValue("optimizer.exp_avg.0.weight", 0, -0.5))
	f, st, err := checkpoint.Read(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkpoint.LoadOptimizer(f, st, fx.net, fx.opt, fx.name); err != nil {
		t.Errorf("a negative exp_avg: %v", err)
	}
}
