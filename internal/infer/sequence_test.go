package infer

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/nettrain/nettrain/internal/checkpoint/cktest"
	"github.com/nettrain/nettrain/internal/data"
	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/session"
	"github.com/nettrain/nettrain/internal/testutil"
)

const alphabetConfig = `name: abc
data:
  train: abc.txt
  validation_split: 0.1
  sequence: {kind: text, window: 3}
model:
  layers:
    - onehot
    - lstm: {units: 16}
    - dense: {units: classes}
optimizer: {name: adam, lr: 0.02}
training: {epochs: 12, batch_size: 16}
`

func TestAlphabetLSTM(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "abc.txt"), []byte(strings.Repeat("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 20)), 0o644)
	cfg := testutil.LoadConfig(t, dir, alphabetConfig)
	out := filepath.Join(dir, "run")
	res, err := session.Run(cfg, session.Options{OutDir: out})
	if err != nil {
		t.Fatal(err)
	}
	last := res.Rows[len(res.Rows)-1]
	if *last.ValAccuracy != 1 {
		t.Errorf("validation accuracy %v, want 1", *last.ValAccuracy)
	}
	r, err := EvalCheckpoint(cfg, filepath.Join(out, "best.safetensors"), "validation", 1)
	if err != nil {
		t.Fatal(err)
	}
	if r.Baseline == nil || r.Baseline.Loss < r.Loss+2 || len(r.ClassNames) != 27 || r.ClassNames[0] != "<unk>" {
		t.Errorf("eval %+v baseline %+v", r, r.Baseline)
	}
	text, err := Generate(cfg, GenerateOptions{Checkpoint: filepath.Join(out, "best.safetensors"), Prime: "XYZ", Length: 10})
	if err != nil {
		t.Fatal(err)
	}
	if text != "XYZABCDEFGHIJ" {
		t.Errorf("generated %q", text)
	}
	// With Out, the prime and each character go there as they are drawn.
	var writes []string
	streamed, err := Generate(cfg, GenerateOptions{Checkpoint: filepath.Join(out, "best.safetensors"), Prime: "XYZ", Length: 10, Out: writerFunc(func(b []byte) { writes = append(writes, string(b)) })})
	if err != nil || streamed != text || strings.Join(writes, "") != text || len(writes) != 11 {
		t.Errorf("streamed %q in %d writes %q (%v), want %q in 11", streamed, len(writes), writes, err, text)
	}
	next, unknown, err := NextChars(cfg, filepath.Join(out, "best.safetensors"), "KLm", 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(next) != 3 || !(next[0].Probability >= next[1].Probability && next[1].Probability >= next[2].Probability) || len(unknown) != 1 || unknown[0] != "m" {
		t.Errorf("next after KLm: %+v, unknown %q", next, unknown)
	}
	if next, unknown, _ = NextChars(cfg, filepath.Join(out, "best.safetensors"), "KLM", 1); next[0].Name != "N" || next[0].Probability < 0.9 || unknown == nil || len(unknown) != 0 {
		t.Errorf("next after KLM: %+v, unknown %#v (want an empty list: JSON [])", next, unknown)
	}
	// A prime with characters the text lacks: generated all the same, with
	// a note naming them, as --prompt's.
	var notes []string
	warn := func(msg string) { notes = append(notes, msg) }
	if _, err := Generate(cfg, GenerateOptions{Checkpoint: filepath.Join(out, "best.safetensors"), Prime: "XYé z", Length: 3, Warn: warn}); err != nil || len(notes) != 1 || notes[0] != `the training text has no "é", " ", "z": read as <unk>` {
		t.Errorf("generate after a prime with unknown characters: %v, notes %q", err, notes)
	}
	notes = nil
	if _, err := Generate(cfg, GenerateOptions{Checkpoint: filepath.Join(out, "best.safetensors"), Prime: "XYZ", Length: 3, Warn: warn}); err != nil || len(notes) != 0 {
		t.Errorf("generate after a known prime: %v, notes %q", err, notes)
	}
	if _, err := EvalCheckpoint(cfg, filepath.Join(out, "best.safetensors"), "test", 1); err == nil || !strings.Contains(err.Error(), "no test split") {
		t.Errorf("test split of a sequence: %v", err)
	}
	// The text changed since: its vocabulary may map characters to other
	// ids, so generate (and predict, eval) refuse.
	os.WriteFile(filepath.Join(dir, "abc.txt"), []byte(strings.Repeat("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 19)+"abcdefghijklmnopqrstuvwxyz"), 0o644)
	_, err = Generate(cfg, GenerateOptions{Checkpoint: filepath.Join(out, "best.safetensors"), Prime: "XYZ", Length: 10})
	if want := "data.train (abc.txt): the characters differ from those the checkpoint was trained on (the same 520 characters"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("generate on a changed text: %v\nwant %s", err, want)
	}
}

func TestSeriesLSTMPredict(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("t,v\n")
	for i := 0; i < 80; i++ {
		b.WriteString(strconv.Itoa(i) + "," + strconv.Itoa(10+i+[]int{0, 3, 5, 3}[i%4]+[]int{0, 1, 0, 2, 1, 0, 2}[i%7]) + "\n")
	}
	os.WriteFile(filepath.Join(dir, "s.csv"), []byte(b.String()), 0o644)
	src := `name: s
data:
  train: s.csv
  validation_split: 0.2
  normalize: standardize
  sequence: {kind: series, window: 4, inputs: [v], difference: true}
model:
  layers:
    - lstm: {units: 8}
    - dense: {units: 1}
loss: mse
optimizer: {name: adam, lr: 0.02}
training: {epochs: 60, batch_size: 8}
`
	cfg := testutil.LoadConfig(t, dir, src)
	out := filepath.Join(dir, "run")
	if _, err := session.Run(cfg, session.Options{OutDir: out}); err != nil {
		t.Fatal(err)
	}
	r, err := ForecastValidation(cfg, filepath.Join(out, "best.safetensors"), filepath.Join(out, "p.csv"), filepath.Join(out, "p.png"))
	if err != nil {
		t.Fatal(err)
	}
	// A trend plus a period-4 pattern: the change model beats the last value.
	if !(r.MSE < r.NaiveMSE/4) {
		t.Errorf("model MSE %v, naive %v", r.MSE, r.NaiveMSE)
	}
	for _, f := range []string{"p.csv", "p.png"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	ev, err := EvalCheckpoint(cfg, filepath.Join(out, "best.safetensors"), "validation", 1)
	if err != nil {
		t.Fatal(err)
	}
	// eval runs in the config's float32, predict in float64.
	if ev.MSE == nil || abs(*ev.MSE-r.MSE) > 1e-4*r.MSE || ev.Baseline == nil || abs(*ev.Baseline.MSE-r.NaiveMSE) > 1e-9 {
		t.Errorf("eval mse %v baseline %+v; predict mse %v naive %v", *ev.MSE, ev.Baseline, r.MSE, r.NaiveMSE)
	}
	// Beyond the data: rows 81 to 92 of the file (80 rows, differenced:
	// the last level is row 80's), close to the series' own continuation,
	// far closer than repeating the last value.
	ah, err := ForecastAhead(cfg, filepath.Join(out, "best.safetensors"), 12, filepath.Join(out, "f.csv"), filepath.Join(out, "f.png"))
	if err != nil {
		t.Fatal(err)
	}
	level := func(i int) float64 { return float64(10 + i + []int{0, 3, 5, 3}[i%4] + []int{0, 1, 0, 2, 1, 0, 2}[i%7]) }
	var mse, naive float64
	for k, row := range ah.Rows {
		if row != 80+k {
			t.Fatalf("forecast rows %v, want 80 onwards", ah.Rows)
		}
		d := ah.Values[k][0] - level(row)
		mse += d * d
		d = level(79) - level(row)
		naive += d * d
	}
	if ah.LastRow != 79 || ah.Last[0] != level(79) || !(mse < naive/4) {
		t.Errorf("last row %d (%v); forecast MSE %v, naive %v: %v", ah.LastRow, ah.Last, mse/12, naive/12, ah.Values)
	}
	for _, f := range []string{"f.csv", "f.png"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	if want := []string{filepath.Join(out, "f.csv"), filepath.Join(out, "f.png")}; !slices.Equal(append(ah.CSV, ah.Plots...), want) {
		t.Errorf("files %v %v, want %v", ah.CSV, ah.Plots, want)
	}
	// generate on a series model: the command line's mistake (exit 2), as
	// predict's flags for another kind of model are.
	_, err = Generate(cfg, GenerateOptions{Checkpoint: filepath.Join(out, "best.safetensors"), Prime: "1", Length: 2})
	var fe model.FlagError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "generate samples text; this model forecasts a series (use predict)") {
		t.Errorf("generate on a series model: %#v", err)
	}
}

// TestColumnPlots: one plot per forecast column, each keeping the
// extension (and so the format) asked for.
func TestColumnPlots(t *testing.T) {
	for _, c := range []struct {
		path    string
		columns []string
		want    []string
	}{
		{"f.png", []string{"v"}, []string{"f.png"}},
		{"f.png", []string{"a b"}, []string{"f.png"}},
		{"f.png", []string{"a", "b"}, []string{"f-a.png", "f-b.png"}},
		{"out/p.svg", []string{"b", "c/d"}, []string{"out/p-b.svg", "out/p-c_d.svg"}},
		{"P.PNG", []string{"a", "b", "c"}, []string{"P-a.PNG", "P-b.PNG", "P-c.PNG"}},
		{"f.png", []string{"x", "a b", "a_b"}, []string{"f-x.png", "f-a_b-2.png", "f-a_b-3.png"}},
		{"f.png", []string{"", "-"}, []string{"f-_.png", "f--.png"}},
		// A numbered name that is another column's own: numbered again.
		{"f.png", []string{"a b", "a_b", "a_b-2"}, []string{"f-a_b-1.png", "f-a_b-2.png", "f-a_b-2-2.png"}},
	} {
		if got := columnPlots(c.path, c.columns); !slices.Equal(got, c.want) {
			t.Errorf("columnPlots(%q, %q) = %q, want %q", c.path, c.columns, got, c.want)
		}
	}
}

func abs(v float64) float64 { return max(v, -v) }

func TestSequenceBadInput(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "abc.txt"), []byte("ABCDEFGHIJ"), 0o644)
	os.WriteFile(filepath.Join(dir, "long.txt"), []byte(strings.Repeat("ABCDEFGHIJ", 10)), 0o644)
	os.WriteFile(filepath.Join(dir, "empty.txt"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, "s.csv"), []byte("a,b\n1,2\n3,4\n5,6\n7,8\n"), 0o644)
	tests := []struct {
		sets []string
		want string
	}{
		{[]string{"data.sequence.window=20"}, "abc.txt"},
		{[]string{"data.train=empty.txt"}, "empty.txt"},
		{[]string{"data.validation_split=0.9"}, "abc.txt: validation fraction 0.9"},
		{[]string{"data.train=s.csv", "data.sequence.kind=series", "data.sequence.inputs=[c]"}, `s.csv`},
		{[]string{"data.train=long.txt", "model.layers.0=lstm"}, "layer 0 (lstm): needs a sequence input (time steps, features), got [3]: text's samples are token ids; put an embedding or onehot layer first"},
		{[]string{"data.train=long.txt", "model.layers.2.dense.units=5"}, "the text has 11 distinct characters (with <unk>), but layer 2 (dense) outputs 5 values; use dense units: classes"},
	}
	for _, tc := range tests {
		cfg := testutil.LoadConfig(t, dir, alphabetConfig, tc.sets...)
		_, err := session.Run(cfg, session.Options{OutDir: filepath.Join(dir, "run")})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.sets, err, tc.want)
		} else {
			t.Logf("%v: %v", tc.sets, err)
		}
		if _, err := os.Stat(filepath.Join(dir, "run", "metrics.csv")); err == nil {
			t.Errorf("%v: training started", tc.sets)
		}
	}
}

// TestGenerateChecksItsOptions: Generate refuses, before loading anything,
// a length beyond MaxGenerateLength and a temperature that is not a finite
// number >= 0 (a NaN temperature used to sample from NaN probabilities).
func TestGenerateChecksItsOptions(t *testing.T) {
	dir := t.TempDir()
	cfg := testutil.LoadConfig(t, dir, alphabetConfig)
	for _, tc := range []struct {
		o    GenerateOptions
		want string
	}{
		{GenerateOptions{Length: MaxGenerateLength + 1}, "length 1000001 is more than the 1000000 characters generate writes at most"},
		{GenerateOptions{Length: -1}, "length -1 is negative"},
		{GenerateOptions{Length: 5, Temperature: math.NaN()}, "temperature NaN is not a finite number >= 0"},
		{GenerateOptions{Length: 5, Temperature: math.Inf(1)}, "temperature +Inf is not a finite number >= 0"},
	} {
		tc.o.Checkpoint = filepath.Join(dir, "none.safetensors")
		if _, err := Generate(cfg, tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.o, err, tc.want)
		}
	}
}

// TestGenerateOnAnMLP: generate on a model that is not a sequence model is
// the command line's mistake (exit 2), as on a series model, refused
// before the checkpoint is read.
func TestGenerateOnAnMLP(t *testing.T) {
	dir := t.TempDir()
	cfg := testutil.LoadConfig(t, dir, `name: m
data: {train: d.safetensors}
model: {input: [3], layers: [{dense: {units: 2}}]}
`)
	_, err := Generate(cfg, GenerateOptions{Checkpoint: filepath.Join(dir, "none.safetensors"), Length: 2})
	var fe model.FlagError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "generate samples text from a character model (data.sequence); this model is not one (use predict)") {
		t.Errorf("generate on an MLP: %#v", err)
	}
}

// TestPromptIDs: a prompt shorter than the window is left-padded with the
// space's id, or <unk> (0) when the text has no space; a longer one is
// kept whole (the caller reads its last window), as the README tells
// users of the ONNX export.
func TestPromptIDs(t *testing.T) {
	for _, c := range []struct {
		text, prompt string
		want         []int32
	}{
		{"ab ba ab", "ab", []int32{1, 1, 2, 3}},       // vocab <unk>, ' ', a, b
		{"abbaab", "a", []int32{0, 0, 0, 1}},          // no space: <unk>
		{"ab ba ab", "ba ab", []int32{3, 2, 1, 2, 3}}, // longer than the window
		{"ab ba ab", "xa", []int32{1, 1, 0, 2}},       // an unknown character is <unk>
	} {
		seq, _, _, err := data.ParseText("t.txt", []byte(c.text), data.SeqOptions{Kind: data.SeqText, Window: 4, Stride: 1, Horizon: 1, Target: data.TargetNext})
		if err != nil {
			t.Fatal(err)
		}
		if got := promptIDs(seq, c.prompt); !slices.Equal(got, c.want) {
			t.Errorf("text %q, prompt %q: %v, want %v (vocabulary %q)", c.text, c.prompt, got, c.want, seq.Vocab)
		}
	}
}

// TestForecastLeavesTheRange: a forecast that leaves the values the series
// can hold (a finite float32, or float64 under dtype float64) is an error
// naming the column, the row and how many rows stay in range, and nothing
// is written; before, a recursive forecast that diverged wrote values
// beyond float32 or +Inf rows, silently. The model doubles its input (in
// normalised units) at every step: dense weight 2, bias 0.
func TestForecastLeavesTheRange(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("v\n")
	for i := range 40 {
		b.WriteString(strconv.Itoa(10+i%7+i) + "\n")
	}
	os.WriteFile(filepath.Join(dir, "s.csv"), []byte(b.String()), 0o644)
	// The same shape near float32's end: the validation forecast 2x - mean
	// of a value of 3.3e38 is beyond it.
	b.Reset()
	b.WriteString("v\n")
	for i := range 40 {
		b.WriteString(strconv.Itoa(i%5+1) + "e37\n")
	}
	b.WriteString("3.3e38\n3.3e38\n")
	os.WriteFile(filepath.Join(dir, "big.csv"), []byte(b.String()), 0o644)
	const src = `data:
  train: s.csv
  validation_split: 0.2
  normalize: standardize
  sequence: {kind: series, window: 1, difference: false}
model:
  layers: [flatten, {dense: {units: 1}}]
loss: mse
training: {epochs: 1, batch_size: 8}
`
	for _, tc := range []struct {
		name string
		sets []string
		want string
	}{
		{"float32", []string{"dtype=float32"}, `: predict --steps 5000: the forecast of column "v" at row `},
		{"float64", []string{"dtype=float64"}, `: predict --steps 5000: the forecast of column "v" at row `},
		{"float32 differenced", []string{"dtype=float32", "data.sequence.difference=true"}, `: predict --steps 5000: the forecast of column "v" at row `},
		{"float64 differenced", []string{"dtype=float64", "data.sequence.difference=true"}, `: predict --steps 5000: the forecast of column "v" at row `},
		{"validation", []string{"dtype=float32", "data.train=big.csv"}, `: the validation forecast of column "v" for row 41 is 6.3`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := strings.ReplaceAll(tc.name, " ", "-")
			cfg := testutil.LoadConfig(t, dir, src, append(tc.sets, "name="+name)...)
			out := filepath.Join(dir, name)
			if _, err := session.Run(cfg, session.Options{OutDir: out}); err != nil {
				t.Fatal(err)
			}
			ck := filepath.Join(out, "last.safetensors")
			err := cktest.Edit(ck, ck, func(_ map[string]string, ts map[string]any) {
				for name, v := range ts {
					w := 0.0
					if name == "1.weight" {
						w = 2
					}
					switch v := v.(type) {
					case []float32:
						if !strings.HasPrefix(name, "optimizer.") {
							v[0] = float32(w)
						}
					case []float64:
						if !strings.HasPrefix(name, "optimizer.") {
							v[0] = w
						}
					}
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			typ := strings.Fields(tc.name)[0]
			csvPath := filepath.Join(out, "f.csv")
			if tc.name == "validation" {
				_, err = ForecastValidation(cfg, ck, csvPath, "")
			} else {
				_, err = ForecastAhead(cfg, ck, 5000, csvPath, "")
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "beyond the range of") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("got %v, want one line with %q", err, tc.want)
			}
			if _, serr := os.Stat(csvPath); serr == nil {
				t.Errorf("%s was written", csvPath)
			}
			if tc.name == "validation" {
				return
			}
			// The rows the message says stay in range do.
			_, steps, ok := strings.Cut(err.Error(), "stay in range (--steps ")
			n, _ := strconv.Atoi(strings.TrimSuffix(steps, ")"))
			if !ok || n < 10 || !strings.Contains(err.Error(), "beyond the range of "+typ) {
				t.Fatalf("%v: want the rows in range of %s", err, typ)
			}
			r, err := ForecastAhead(cfg, ck, n, csvPath, "")
			if err != nil {
				t.Fatalf("--steps %d: %v", n, err)
			}
			if last := r.Values[len(r.Values)-1][0]; len(r.Values) != n || !inSeriesRange(last, typ == "float64") {
				t.Errorf("--steps %d: %d rows, the last %v", n, len(r.Values), last)
			}
		})
	}
}

// TestForecastErrorsPerColumn: the validation forecasts of a series of
// columns in different units are scored per column, in each column's
// units: the result lists each column's MSE and MAE (and the naive
// forecast's), and each column's plot title gives that column's, not an
// average over columns of different units.
func TestForecastErrorsPerColumn(t *testing.T) {
	for _, tc := range []struct {
		name    string
		columns []string
	}{
		{"one column", []string{"big"}},
		{"two columns in other units", []string{"big", "small"}},
		{"three columns", []string{"small", "big", "mid"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var b strings.Builder
			b.WriteString(testutil.ThreeScaleSeries())
			os.WriteFile(filepath.Join(dir, "s.csv"), []byte(b.String()), 0o644)
			src := fmt.Sprintf(`name: s
data:
  train: s.csv
  validation_split: 0.25
  normalize: standardize
  sequence: {kind: series, window: 4, inputs: [%s]}
model:
  layers:
    - lstm: {units: 4}
    - dense: {units: %d}
loss: mse
training: {epochs: 1, batch_size: 8}
`, strings.Join(tc.columns, ", "), len(tc.columns))
			cfg := testutil.LoadConfig(t, dir, src)
			out := filepath.Join(dir, "run")
			if _, err := session.Run(cfg, session.Options{OutDir: out}); err != nil {
				t.Fatal(err)
			}
			r, err := ForecastValidation(cfg, filepath.Join(out, "best.safetensors"), filepath.Join(out, "p.csv"), filepath.Join(out, "p.svg"))
			if err != nil {
				t.Fatal(err)
			}
			js, _ := json.Marshal(r)
			var got struct {
				PerColumn []struct {
					Column   string
					MSE, MAE float64
					NaiveMSE float64 `json:"naive_mse"`
					NaiveMAE float64 `json:"naive_mae"`
				} `json:"per_column"`
			}
			json.Unmarshal(js, &got)
			if len(got.PerColumn) != len(tc.columns) {
				t.Errorf("per_column %+v, want one entry per column %v", got.PerColumn, tc.columns)
			}
			for k, col := range tc.columns {
				var mse, mae, nmse, nmae float64
				for _, p := range r.Predictions {
					d, e := p.Predicted[k]-p.Actual[k], p.Naive[k]-p.Actual[k]
					mse, mae, nmse, nmae = mse+d*d, mae+math.Abs(d), nmse+e*e, nmae+math.Abs(e)
				}
				n := float64(len(r.Predictions))
				mse, mae, nmse, nmae = mse/n, mae/n, nmse/n, nmae/n
				close := func(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }
				if k >= len(got.PerColumn) {
					// reported above
				} else if pc := got.PerColumn[k]; pc.Column != col || !close(pc.MSE, mse) || !close(pc.MAE, mae) || !close(pc.NaiveMSE, nmse) || !close(pc.NaiveMAE, nmae) {
					t.Errorf("column %q: per_column %+v, want mse %g mae %g naive %g %g", col, got.PerColumn[k], mse, mae, nmse, nmae)
				}
				svg, err := os.ReadFile(r.Plots[k])
				if err != nil {
					t.Fatal(err)
				}
				if want := fmt.Sprintf("MSE %.4g, naive %.4g", mse, nmse); !strings.Contains(string(svg), want) {
					t.Errorf("plot %s of column %q: no %q in its title", r.Plots[k], col, want)
				}
			}
		})
	}
}

// TestForecastPlotFileNames: each forecast column's plot is named after
// the column, with characters other than letters, digits, '.', '_' and
// '-' (a space, a path separator, '*') made '_', and a number added where two
// columns would get the same name; one column keeps the name asked for.
func TestForecastPlotFileNames(t *testing.T) {
	for _, tc := range []struct {
		columns []string
		want    []string // the plots of the validation forecast (p.svg) and of --steps (f.png)
	}{
		{[]string{"temp C"}, []string{"p.svg", "f.png"}},
		{[]string{"temp C", "humidity"}, []string{"p-temp_C.svg", "p-humidity.svg", "f-temp_C.png", "f-humidity.png"}},
		{[]string{"in/out", "..", "größe", "a*b"}, []string{"p-in_out.svg", "p-...svg", "p-größe.svg", "p-a_b.svg", "f-in_out.png", "f-...png", "f-größe.png", "f-a_b.png"}},
		{[]string{"a b", "a_b", "a?b"}, []string{"p-a_b-1.svg", "p-a_b-2.svg", "p-a_b-3.svg", "f-a_b-1.png", "f-a_b-2.png", "f-a_b-3.png"}},
	} {
		t.Run(strings.Join(tc.columns, ","), func(t *testing.T) {
			dir := t.TempDir()
			var b strings.Builder
			for i, c := range tc.columns {
				if i > 0 {
					b.WriteString(",")
				}
				b.WriteString(strconv.Quote(c))
			}
			b.WriteString("\n")
			for i := range 40 {
				for k := range tc.columns {
					if k > 0 {
						b.WriteString(",")
					}
					fmt.Fprintf(&b, "%g", math.Sin(float64(i+k)/3))
				}
				b.WriteString("\n")
			}
			os.WriteFile(filepath.Join(dir, "s.csv"), []byte(b.String()), 0o644)
			cfg := testutil.LoadConfig(t, dir, fmt.Sprintf(`name: s
data:
  train: s.csv
  validation_split: 0.25
  sequence: {kind: series, window: 3}
model: {layers: [{lstm: {units: 2}}, {dense: {units: %d}}]}
loss: mse
training: {epochs: 1, batch_size: 8}
`, len(tc.columns)))
			out := filepath.Join(dir, "run")
			if _, err := session.Run(cfg, session.Options{OutDir: out}); err != nil {
				t.Fatal(err)
			}
			ck := filepath.Join(out, "best.safetensors")
			var got []string
			if r, err := ForecastValidation(cfg, ck, filepath.Join(out, "p.csv"), filepath.Join(out, "p.svg")); err != nil {
				t.Errorf("validation forecast: %v", err)
			} else {
				got = append(got, r.Plots...)
			}
			if r, err := ForecastAhead(cfg, ck, 2, filepath.Join(out, "f.csv"), filepath.Join(out, "f.png")); err != nil {
				t.Errorf("forecast beyond the data: %v", err)
			} else {
				got = append(got, r.Plots...)
			}
			var want []string
			for _, f := range tc.want {
				want = append(want, filepath.Join(out, f))
			}
			if !slices.Equal(got, want) {
				t.Errorf("plots %q, want %q", got, want)
			}
			for _, f := range got {
				if _, err := os.Stat(f); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// TestForecastFromAFile: a series model forecasts after the end of a CSV
// file of its columns (found by name, in any order, among others), from
// the file's last window: from the training data's own last rows it is
// the forecast beyond the data, bit for bit; a file too short, or
// without one of the model's columns, is refused naming it.
func TestForecastFromAFile(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("date,a,b\n")
	for i := range 60 {
		fmt.Fprintf(&b, "d%d,%d,%g\n", i, 10+i%7+i, 50-0.5*float64(i%9))
	}
	os.WriteFile(filepath.Join(dir, "s.csv"), []byte(b.String()), 0o644)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	write := func(name string, rows []string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(strings.Join(rows, "\n")+"\n"), 0o644)
		return p
	}
	// The last 6 rows, columns reordered, another column added.
	var swapped []string
	swapped = append(swapped, "b,other,a")
	for _, l := range lines[len(lines)-6:] {
		f := strings.Split(l, ",")
		swapped = append(swapped, f[2]+",x,"+f[1])
	}
	const src = `data:
  train: s.csv
  validation_split: 0.2
  normalize: standardize
  sequence: {kind: series, window: 4, inputs: [a, b]}
model:
  layers: [{lstm: {units: 5}}, {dense: {units: 2}}]
loss: mse
training: {epochs: 2, batch_size: 8}
`
	for _, tc := range []struct {
		name string
		sets []string
	}{
		{"float32", nil},
		{"differenced", []string{"data.sequence.difference=true"}},
		{"float64", []string{"dtype=float64"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testutil.LoadConfig(t, dir, src, append(tc.sets, "name="+tc.name)...)
			out := filepath.Join(dir, tc.name)
			if _, err := session.Run(cfg, session.Options{OutDir: out}); err != nil {
				t.Fatal(err)
			}
			ck := filepath.Join(out, "last.safetensors")
			want, err := ForecastAhead(cfg, ck, 3, filepath.Join(out, "ahead.csv"), "")
			if err != nil {
				t.Fatal(err)
			}
			// Another validation_split fits no other normalisation: the
			// checkpoint's applies.
			cfgSplit := testutil.LoadConfig(t, dir, src, append(tc.sets, "name="+tc.name, "data.validation_split=0.5")...)
			if got, err := ForecastAhead(cfgSplit, ck, 3, filepath.Join(out, "ahead-split.csv"), ""); err != nil || !reflect.DeepEqual(got.Values, want.Values) {
				t.Errorf("validation_split 0.5: %v, %v; want %v", got, err, want.Values)
			}
			tail := write(tc.name+"-tail.csv", append([]string{lines[0]}, lines[len(lines)-6:]...))
			// The forecast after a file needs the checkpoint, not the
			// training data: the same without s.csv.
			os.Rename(filepath.Join(dir, "s.csv"), filepath.Join(dir, "s.csv.away"))
			got, err := ForecastFrom(cfgSplit, ck, tail, 3, "", "")
			os.Rename(filepath.Join(dir, "s.csv.away"), filepath.Join(dir, "s.csv"))
			if err != nil || !reflect.DeepEqual(got.Values, want.Values) {
				t.Errorf("without the training data: %v, %v; want %v", got, err, want.Values)
			}
			for _, path := range []string{tail, write(tc.name+"-swapped.csv", swapped)} {
				got, err := ForecastFrom(cfg, ck, path, 3, "", "")
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got.Values, want.Values) || !slices.Equal(got.Columns, want.Columns) || got.LastRow != 5 || !slices.Equal(got.Rows, []int{6, 7, 8}) {
					t.Errorf("%s: %v at rows %v after %d, want %v (the forecast beyond the data)", filepath.Base(path), got.Values, got.Rows, got.LastRow, want.Values)
				}
			}
			short := 4 // the window; one more to difference
			need := "the model reads the last 4 (its window)"
			if tc.name == "differenced" {
				short, need = 5, "the model reads the last 5 (its window and one more, to difference)"
			}
			// A plot that cannot be written leaves an old --out as it was.
			old := filepath.Join(out, "old.csv")
			os.WriteFile(old, []byte("old\n"), 0o644)
			if _, err := ForecastFrom(cfg, ck, tail, 2, old, filepath.Join(dir, "missing", "p.png")); err == nil {
				t.Error("a plot into a missing directory wrote")
			}
			if _, err := ForecastAhead(cfg, ck, 2, old, filepath.Join(dir, "missing", "p.png")); err == nil {
				t.Error("a plot into a missing directory wrote")
			}
			if _, err := ForecastValidation(cfg, ck, old, filepath.Join(dir, "missing", "p.png")); err == nil {
				t.Error("a plot into a missing directory wrote")
			}
			if b, _ := os.ReadFile(old); string(b) != "old\n" {
				t.Errorf("--out after a failed plot: %q, want the old file", b)
			}
			// Rows that would not fit in memory are refused before they
			// are made.
			cfgSmall := testutil.LoadConfig(t, dir, src, append(tc.sets, "name="+tc.name, "training.memory_limit=4MiB")...)
			if _, err := ForecastFrom(cfgSmall, ck, tail, 1000000, "", ""); err == nil || !strings.Contains(err.Error(), "1000000 rows of 2 columns need") || !strings.Contains(err.Error(), "more than training.memory_limit 4MiB") {
				t.Errorf("a million rows in 4 MiB: %v", err)
			}
			// Exactly the rows the model reads are enough: the forecast
			// beyond the data's end again.
			exact := write(tc.name+"-exact.csv", append([]string{lines[0]}, lines[len(lines)-short:]...))
			if got, err := ForecastFrom(cfg, ck, exact, 3, "", ""); err != nil || !reflect.DeepEqual(got.Values, want.Values) {
				t.Errorf("%d rows: %v, %v; want %v", short, got, err, want.Values)
			}
			for _, c := range []struct {
				rows []string
				want string
			}{
				{append([]string{lines[0]}, lines[len(lines)-short+1:]...), need},
				{[]string{"date,a", "d1,1", "d2,2", "d3,3", "d4,4", "d5,5", "d6,6"}, `input column "b" not found (columns: date, a)`},
			} {
				path := write(tc.name+"-bad.csv", c.rows)
				if _, err := ForecastFrom(cfg, ck, path, 1, "", ""); err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) {
					t.Errorf("%q: %v, want %q naming the file", c.rows, err, c.want)
				}
			}
		})
	}
}

// writerFunc is an io.Writer that hands each write to a function.
type writerFunc func([]byte)

func (f writerFunc) Write(b []byte) (int, error) { f(b); return len(b), nil }
