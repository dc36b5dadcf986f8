package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/nettrain/nettrain/internal/testutil"
)

// seriesCSV writes s.csv: columns big (about 1000, swinging by 300),
// small (about 0.01) and mid (about 5), 60 rows.
func seriesCSV(t *testing.T, dir string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "s.csv"), []byte(testutil.ThreeScaleSeries()), 0o644); err != nil {
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

// TestEvalPrintsEachColumn: eval of a model with several regression
// target columns prints each column's MSE and MAE, and its baseline's,
// in the column's own units (the numbers of --json's columns), and no
// single figure averaged over columns of different units.
func TestEvalPrintsEachColumn(t *testing.T) {
	dir := t.TempDir()
	seriesCSV(t, dir)
	var b strings.Builder
	b.WriteString("x1,x2,price k,rooms\n")
	for i := range 60 {
		x1, x2 := math.Sin(float64(i)), math.Cos(float64(i)*0.7)
		fmt.Fprintf(&b, "%g,%g,%g,%g\n", x1, x2, 300+100*x1, 3+x2)
	}
	os.WriteFile(filepath.Join(dir, "h.csv"), []byte(b.String()), 0o644)
	os.WriteFile(filepath.Join(dir, "s.yaml"), []byte(`data:
  train: s.csv
  validation_split: 0.25
  normalize: standardize
  sequence: {kind: series, window: 4, inputs: [big, small, mid]}
model: {layers: [{lstm: {units: 4}}, {dense: {units: 3}}]}
loss: mse
training: {epochs: 1, batch_size: 8}
`), 0o644)
	os.WriteFile(filepath.Join(dir, "h.yaml"), []byte(`data: {train: h.csv, validation_split: 0.25, normalize: standardize, csv: {targets: [price k, rooms]}}
model: {layers: [{dense: {units: 4}}, relu, {dense: {units: 2}}]}
loss: mse
training: {epochs: 1, batch_size: 8}
`), 0o644)
	for _, tc := range []struct {
		config   string
		columns  []string
		baseline string
	}{
		{"s.yaml", []string{"big", "small", "mid"}, "last value"},
		{"h.yaml", []string{"price k", "rooms"}, "training mean"},
	} {
		t.Run(tc.config, func(t *testing.T) {
			run := "run-" + tc.config
			runNettrain(t, dir, "train", tc.config, "--out", run)
			args := []string{"eval", tc.config, "--checkpoint", run + "/best.safetensors", "--split", "validation"}
			js := runNettrain(t, dir, append(args, "--json")...)
			var r struct {
				Columns []struct {
					Column   string
					MSE, MAE float64
					Baseline struct{ MSE, MAE float64 }
				}
			}
			if err := json.Unmarshal([]byte(js), &r); err != nil {
				t.Fatal(err)
			}
			out := runNettrain(t, dir, args...)
			if len(r.Columns) != len(tc.columns) {
				t.Fatalf("--json columns %+v, want %v\n%s", r.Columns, tc.columns, js)
			}
			for k, c := range r.Columns {
				m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(tc.columns[k]) + ` +(\S+) +(\S+) +(\S+) +(\S+)$`).FindStringSubmatch(out)
				if c.Column != tc.columns[k] || m == nil || !closeTo(m[1], c.MSE) || !closeTo(m[2], c.MAE) || !closeTo(m[3], c.Baseline.MSE) || !closeTo(m[4], c.Baseline.MAE) {
					t.Errorf("column %+v: output\n%s\nwant a line %q with its mse, mae and baseline's", c, out, tc.columns[k])
				}
			}
			if regexp.MustCompile(`(?m)^(mse|mae) `).MatchString(out) || !strings.Contains(out, tc.baseline) {
				t.Errorf("output\n%s\nwant no mse or mae over all columns, and the baseline named %q", out, tc.baseline)
			}
		})
	}
}

// TestPredictNamesEachTarget: predict with a model of several regression
// targets names each output by its target column in the table, and gives
// the MSE and MAE of each target in its own units (those of the
// predictions it wrote), not one figure over targets of different units.
func TestPredictNamesEachTarget(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("x1,x2,price k,rooms,y\n")
	for i := range 40 {
		x1, x2 := math.Sin(float64(i)), math.Cos(float64(i)*0.7)
		fmt.Fprintf(&b, "%g,%g,%g,%g,%g\n", x1, x2, 300+100*x1, 3+x2, x1+x2)
	}
	os.WriteFile(filepath.Join(dir, "h.csv"), []byte(b.String()), 0o644)
	os.WriteFile(filepath.Join(dir, "new.csv"), []byte("x2,x1\n0.5,0.1\n"), 0o644)
	for _, tc := range []struct {
		targets []string
	}{
		{[]string{"price k", "rooms"}},
		{[]string{"rooms", "y", "price k"}},
		{[]string{"price k"}},
	} {
		t.Run(strings.Join(tc.targets, "+"), func(t *testing.T) {
			os.WriteFile(filepath.Join(dir, "c.yaml"), []byte(fmt.Sprintf(`data: {train: h.csv, validation_split: 0.25, normalize: standardize, csv: {features: [x1, x2], targets: [%s]}}
model: {layers: [{dense: {units: 4}}, relu, {dense: {units: %d}}]}
loss: mse
training: {epochs: 1, batch_size: 8}
`, strings.Join(tc.targets, ", "), len(tc.targets))), 0o644)
			runNettrain(t, dir, "train", "c.yaml", "--out", "run", "--overwrite")
			out := runNettrain(t, dir, "predict", "c.yaml", "--checkpoint", "run/best.safetensors", "new.csv", "h.csv", "--out", "p.csv", "--show", "3")
			lines := strings.Split(out, "\n")
			head := `^input`
			for _, c := range tc.targets {
				head += ` +` + regexp.QuoteMeta(c)
			}
			for _, c := range tc.targets {
				head += ` +actual ` + regexp.QuoteMeta(c)
			}
			if !regexp.MustCompile(head + `$`).MatchString(lines[0]) {
				t.Errorf("table header %q, want the target columns %q, then their actual values", lines[0], tc.targets)
			}
			f, err := os.Open(filepath.Join(dir, "p.csv"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			rows, err := csv.NewReader(f).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			n := len(tc.targets)
			for k, col := range tc.targets {
				var sq, ab float64
				cnt := 0
				for _, r := range rows[1:] {
					if r[1+n+k] == "" {
						continue // new.csv: no targets
					}
					p, _ := strconv.ParseFloat(r[1+k], 64)
					a, _ := strconv.ParseFloat(r[1+n+k], 64)
					sq += (p - a) * (p - a)
					ab += math.Abs(p - a)
					cnt++
				}
				sq, ab = sq/float64(cnt), ab/float64(cnt)
				re := `(?m)^` + regexp.QuoteMeta(col) + ` +MSE (\S+) +MAE (\S+)$`
				if n == 1 {
					re = `(?m)with targets: MSE (\S+), MAE (\S+)$`
				}
				m := regexp.MustCompile(re).FindStringSubmatch(out)
				if m == nil || !closeTo(m[1], sq) || !closeTo(m[2], ab) {
					t.Errorf("output\n%s\nwant %q's MSE %.6g and MAE %.6g", out, col, sq, ab)
				}
			}
		})
	}
}

// TestForecastFromAFileCommand: predict with a CSV file of a series
// model's columns forecasts after the file's end: the table, --out's CSV
// and --plot's plot per column; the same rows as the forecast beyond the
// data when the file is the data's end.
func TestForecastFromAFileCommand(t *testing.T) {
	dir := t.TempDir()
	seriesCSV(t, dir)
	os.WriteFile(filepath.Join(dir, "c.yaml"), []byte(`data:
  train: s.csv
  validation_split: 0.25
  normalize: standardize
  sequence: {kind: series, window: 4, inputs: [big, small]}
model: {layers: [{lstm: {units: 4}}, {dense: {units: 2}}]}
loss: mse
training: {epochs: 1, batch_size: 8}
`), 0o644)
	runNettrain(t, dir, "train", "c.yaml", "--out", "run")
	b, _ := os.ReadFile(filepath.Join(dir, "s.csv"))
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	os.WriteFile(filepath.Join(dir, "recent.csv"), []byte(lines[0]+"\n"+strings.Join(lines[len(lines)-5:], "\n")+"\n"), 0o644)
	out := runNettrain(t, dir, "predict", "c.yaml", "--checkpoint", "run/best.safetensors", "recent.csv", "--steps", "2", "--out", "f.csv", "--plot", "f.png")
	ahead := runNettrain(t, dir, "predict", "c.yaml", "--checkpoint", "run/best.safetensors", "--steps", "2", "--out", "a.csv", "--no-plot")
	for _, want := range []string{"forecast of 2 rows after row 4 of recent.csv (big, small):", "wrote f.csv", "wrote f-big.png", "wrote f-small.png"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	rowsOf := func(s string) []string { // the table's values, without the row numbers
		var v []string
		for _, l := range strings.Split(s, "\n") {
			if f := strings.Fields(l); len(f) == 3 && f[0] != "row" {
				v = append(v, f[1]+" "+f[2])
			}
		}
		return v
	}
	if a, b := rowsOf(out), rowsOf(ahead); len(a) != 2 || !slices.Equal(a, b) {
		t.Errorf("forecast after recent.csv %v, beyond the data %v: want the same two rows", a, b)
	}
	f, err := os.ReadFile(filepath.Join(dir, "f.csv"))
	if err != nil || !strings.HasPrefix(string(f), "row,big,small\n5,") {
		t.Errorf("f.csv: %q (%v)", f, err)
	}
}
