package main

import (
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// seriesCSV writes s.csv: columns big (about 1000, swinging by 300),
// small (about 0.01) and mid (about 5), 60 rows.
func seriesCSV(t *testing.T, dir string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("big,small,mid\n")
	for i := range 60 {
		x := float64(i)
		fmt.Fprintf(&b, "%g,%g,%g\n", 1000+300*math.Sin(x/3), 0.01*math.Cos(x/4), 5+math.Sin(x/5))
	}
	if err := os.WriteFile(filepath.Join(dir, "s.csv"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// closeTo reports whether a printed number (6 significant digits, of
// errors summed in another order) is v.
func closeTo(printed string, v float64) bool {
	p, err := strconv.ParseFloat(printed, 64)
	return err == nil && math.Abs(p-v) <= 1e-4*math.Abs(v)
}

// TestForecastPrintsEachColumn: predict's summary of a series' validation
// forecasts gives, for several columns, each column's MSE and MAE (the
// model's and the naive forecast's) in its own units, computed from the
// predictions it wrote, rather than one average over columns of
// different units.
func TestForecastPrintsEachColumn(t *testing.T) {
	for _, tc := range []struct {
		columns []string
	}{
		{[]string{"big"}},
		{[]string{"big", "small"}},
		{[]string{"mid", "small", "big"}},
	} {
		t.Run(strings.Join(tc.columns, "+"), func(t *testing.T) {
			dir := t.TempDir()
			seriesCSV(t, dir)
			os.WriteFile(filepath.Join(dir, "c.yaml"), []byte(fmt.Sprintf(`data:
  train: s.csv
  validation_split: 0.25
  normalize: standardize
  sequence: {kind: series, window: 4, inputs: [%s]}
model: {layers: [{lstm: {units: 4}}, {dense: {units: %d}}]}
loss: mse
training: {epochs: 1, batch_size: 8}
`, strings.Join(tc.columns, ", "), len(tc.columns))), 0o644)
			runNettrain(t, dir, "train", "c.yaml", "--out", "run")
			out := runNettrain(t, dir, "predict", "c.yaml", "--checkpoint", "run/best.safetensors", "--no-plot")
			f, err := os.Open(filepath.Join(dir, "run", "predictions.csv"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			rows, err := csv.NewReader(f).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			for k, col := range tc.columns {
				var sum [4]float64 // model squared, absolute; naive squared, absolute
				for _, r := range rows[1:] {
					a, _ := strconv.ParseFloat(r[1+3*k], 64)
					p, _ := strconv.ParseFloat(r[2+3*k], 64)
					n, _ := strconv.ParseFloat(r[3+3*k], 64)
					sum[0] += (p - a) * (p - a)
					sum[1] += math.Abs(p - a)
					sum[2] += (n - a) * (n - a)
					sum[3] += math.Abs(n - a)
				}
				for i := range sum {
					sum[i] /= float64(len(rows) - 1)
				}
				if len(tc.columns) == 1 {
					m := regexp.MustCompile(`(?m)^model: +MSE (\S+)  MAE (\S+)\nnaive \(last value\): MSE (\S+)  MAE (\S+)$`).FindStringSubmatch(out)
					if m == nil || !closeTo(m[1], sum[0]) || !closeTo(m[2], sum[1]) || !closeTo(m[3], sum[2]) || !closeTo(m[4], sum[3]) {
						t.Errorf("output\n%s\nwant model MSE %.6g MAE %.6g, naive MSE %.6g MAE %.6g", out, sum[0], sum[1], sum[2], sum[3])
					}
					continue
				}
				m := regexp.MustCompile(`(?m)^` + col + ` +(\S+) +(\S+) +(\S+) +(\S+)$`).FindStringSubmatch(out)
				if m == nil || !closeTo(m[1], sum[0]) || !closeTo(m[2], sum[1]) || !closeTo(m[3], sum[2]) || !closeTo(m[4], sum[3]) {
					t.Errorf("output\n%s\nwant a line %q with model MSE %.6g MAE %.6g, naive MSE %.6g MAE %.6g", out, col, sum[0], sum[1], sum[2], sum[3])
				}
			}
		})
	}
}
