package infer

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nettrain/nettrain/internal/session"
	"github.com/nettrain/nettrain/internal/testutil"
)

// evalColumns is the per-column part of eval's JSON.
type evalColumns struct {
	Columns []struct {
		Column   string  `json:"column"`
		MSE      float64 `json:"mse"`
		MAE      float64 `json:"mae"`
		Baseline *struct {
			MSE float64 `json:"mse"`
			MAE float64 `json:"mae"`
		} `json:"baseline"`
	} `json:"columns"`
}

// TestEvalErrorsPerColumn: eval of a model with several regression
// target columns (a series' columns, a CSV's targets) scores each column
// in its own units, with its baseline's scores: the same numbers predict
// gives for each column. One target column needs no breakdown.
func TestEvalErrorsPerColumn(t *testing.T) {
	close := func(a, b float64) bool { return math.Abs(a-b) <= 1e-4*math.Max(math.Abs(b), 1e-12) }
	for _, tc := range []struct {
		name    string
		series  bool
		columns []string
	}{
		{"series of one column", true, []string{"big"}},
		{"series of two columns", true, []string{"big", "small"}},
		{"series of three columns", true, []string{"mid", "small", "big"}},
		{"CSV with one target", false, []string{"y big"}},
		{"CSV with two targets", false, []string{"y big", "y small"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var b strings.Builder
			var src string
			if tc.series {
				b.WriteString(testutil.ThreeScaleSeries())
				src = fmt.Sprintf(`name: s
data:
  train: d.csv
  validation_split: 0.25
  normalize: standardize
  sequence: {kind: series, window: 4, inputs: [%s]}
model: {layers: [{lstm: {units: 4}}, {dense: {units: %d}}]}
loss: mse
training: {epochs: 1, batch_size: 8}
`, strings.Join(tc.columns, ", "), len(tc.columns))
			} else {
				b.WriteString("x1,x2,y big,y small\n")
				for i := range 60 {
					x1, x2 := math.Sin(float64(i)), math.Cos(float64(i)*0.7)
					fmt.Fprintf(&b, "%g,%g,%g,%g\n", x1, x2, 1000+300*x1, 0.01*x2)
				}
				src = fmt.Sprintf(`name: t
data: {train: d.csv, validation_split: 0.25, normalize: standardize, csv: {targets: [%s]}}
model: {layers: [{dense: {units: 4}}, relu, {dense: {units: %d}}]}
loss: mse
training: {epochs: 1, batch_size: 8}
`, strings.Join(tc.columns, ", "), len(tc.columns))
			}
			os.WriteFile(filepath.Join(dir, "d.csv"), []byte(b.String()), 0o644)
			cfg := testutil.LoadConfig(t, dir, src)
			out := filepath.Join(dir, "run")
			if _, err := session.Run(cfg, session.Options{OutDir: out}); err != nil {
				t.Fatal(err)
			}
			ck := filepath.Join(out, "best.safetensors")
			ev, err := EvalCheckpoint(cfg, ck, Validation, 1)
			if err != nil {
				t.Fatal(err)
			}
			js, _ := json.Marshal(ev)
			var got evalColumns
			json.Unmarshal(js, &got)
			if len(tc.columns) == 1 {
				if got.Columns != nil {
					t.Errorf("one target column, broken down: %s", js)
				}
				return
			}
			// The reference: each column's errors from the validation part's
			// predictions (a series: predict's forecasts; a CSV: the
			// validation rows' outputs, as predict computes them).
			want := make([][4]float64, len(tc.columns)) // mse, mae, baseline mse, mae
			if tc.series {
				r, err := ForecastValidation(cfg, ck, filepath.Join(dir, "p.csv"), "")
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range r.Predictions {
					for k := range tc.columns {
						d, e := p.Predicted[k]-p.Actual[k], p.Naive[k]-p.Actual[k]
						want[k][0] += d * d / float64(len(r.Predictions))
						want[k][1] += math.Abs(d) / float64(len(r.Predictions))
						want[k][2] += e * e / float64(len(r.Predictions))
						want[k][3] += math.Abs(e) / float64(len(r.Predictions))
					}
				}
			} else {
				// The mean of the columns is the overall score, which is
				// right; the columns' own are checked against it and
				// against each other below.
				want = nil
			}
			if len(got.Columns) != len(tc.columns) {
				t.Fatalf("columns %+v, want one per target column %v (JSON %s)", got.Columns, tc.columns, js)
			}
			var meanMSE, meanMAE float64
			for k, c := range got.Columns {
				meanMSE += c.MSE / float64(len(got.Columns))
				meanMAE += c.MAE / float64(len(got.Columns))
				if c.Column != tc.columns[k] || c.Baseline == nil {
					t.Errorf("column %d: %+v, want %q with a baseline", k, c, tc.columns[k])
					continue
				}
				if want != nil && (!close(c.MSE, want[k][0]) || !close(c.MAE, want[k][1]) || !close(c.Baseline.MSE, want[k][2]) || !close(c.Baseline.MAE, want[k][3])) {
					t.Errorf("column %q: mse %g mae %g baseline %+v; predict's %v", c.Column, c.MSE, c.MAE, *c.Baseline, want[k])
				}
			}
			if !close(meanMSE, *ev.MSE) || !close(meanMAE, *ev.MAE) {
				t.Errorf("the columns' mean mse %g mae %g; overall %g %g", meanMSE, meanMAE, *ev.MSE, *ev.MAE)
			}
			if !tc.series && !(got.Columns[0].MSE > 1000*got.Columns[1].MSE) {
				t.Errorf("the large target's MSE %g is not far above the small one's %g", got.Columns[0].MSE, got.Columns[1].MSE)
			}
		})
	}
}
