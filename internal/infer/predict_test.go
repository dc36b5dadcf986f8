package infer

import (
	"bufio"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nettrain/nettrain/internal/checkpoint/cktest"
	"github.com/nettrain/nettrain/internal/data"
	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/safetensors"
	"github.com/nettrain/nettrain/internal/session"
	"github.com/nettrain/nettrain/internal/testutil"
)

const mnistPredictConfig = `name: mp
seed: 2
data: {train: mnist:train, test: test.safetensors, validation_split: 0.1, normalize: unit}
model:
  input: [1, 28, 28]
  layers: [flatten, {dense: {units: 32}}, relu, {dense: {units: 10}}]
optimizer: {name: adam, lr: 0.003}
training: {steps: 150, epochs: 1, batch_size: 64}
`

// TestPredictImagesEqualsEval: predict on test digits written as PNG files
// in class folders, and on the same digits as a safetensors file, gives
// the accuracy and loss eval computes on them, and the same class and
// probabilities for each digit in both forms: the preprocessing stored in
// the checkpoint is training's.
func TestPredictImagesEqualsEval(t *testing.T) {
	test, err := data.Load("mnist:test", data.LoadOptions{})
	if err != nil {
		testutil.NeedData(t, "MNIST: %v", err)
		return
	}
	dir := t.TempDir()
	const n = 300
	f := test.FeatureLen()
	x, y := test.U8[:n*f], test.Labels[:n]
	if err := safetensors.Write(filepath.Join(dir, "test.safetensors"), []safetensors.Tensor{
		{Name: "x", Shape: []int{n, 1, 28, 28}, Data: x}, {Name: "y", Shape: []int{n}, Data: y}}, nil); err != nil {
		t.Fatal(err)
	}
	// The digits as PNG files, <label>/<index>.png.
	name := make([]string, n)
	for i := range n {
		img := image.NewGray(image.Rect(0, 0, 28, 28))
		copy(img.Pix, x[i*f:(i+1)*f])
		name[i] = filepath.Join(dir, "png", fmt.Sprint(y[i]), fmt.Sprintf("%04d.png", i))
		os.MkdirAll(filepath.Dir(name[i]), 0o755)
		w, _ := os.Create(name[i])
		if err := png.Encode(w, img); err != nil {
			t.Fatal(err)
		}
		w.Close()
	}
	os.WriteFile(filepath.Join(dir, "png", "notes.txt"), []byte("not an image"), 0o644)
	cfg := testutil.LoadConfig(t, dir, mnistPredictConfig)
	run := filepath.Join(dir, "run")
	if _, err := session.Run(cfg, session.Options{OutDir: run}); err != nil {
		t.Fatal(err)
	}
	ckpt := filepath.Join(run, "last.safetensors")
	ev, err := EvalCheckpoint(cfg, ckpt, Test, 0)
	if err != nil {
		t.Fatal(err)
	}
	if *ev.Accuracy < 0.7 {
		t.Fatalf("the model learnt too little to test with: accuracy %v", *ev.Accuracy)
	}
	byInput := map[string]Prediction{}
	predict := func(input, out string) *InputResult {
		t.Helper()
		r, err := PredictInputs(cfg, InputOptions{Checkpoint: ckpt, Inputs: []string{input}, Top: 3, Out: out,
			Each: func(p Prediction) { byInput[p.Input] = p }})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, tc := range []struct{ input, out string }{
		{filepath.Join(dir, "test.safetensors"), filepath.Join(dir, "st.jsonl")},
		{filepath.Join(dir, "png"), filepath.Join(dir, "png.csv")},
	} {
		r := predict(tc.input, tc.out)
		if r.Count != n || r.Labelled != n || r.Accuracy == nil || r.Loss == nil {
			t.Fatalf("%s: %+v", tc.input, r)
		}
		if *r.Accuracy != *ev.Accuracy || math.Abs(*r.Loss-ev.Loss) > 1e-6*ev.Loss {
			t.Errorf("%s: accuracy %v, loss %v; eval: %v, %v", tc.input, *r.Accuracy, *r.Loss, *ev.Accuracy, ev.Loss)
		}
	}
	// The same digits as floats: 0..255 reads as the bytes do, without a
	// warning; within [0, 1] (x/255, as PyTorch's ToTensor gives them) it
	// warns, naming the file, before anything is computed; within [-1, 1]
	// (another normalisation) it does not guess.
	raw, unit, signed := make([]float32, n*f), make([]float32, n*f), make([]float32, n*f)
	for i, v := range x {
		raw[i], unit[i], signed[i] = float32(v), float32(v)/255, float32(v)/127.5-1
	}
	for _, tc := range []struct {
		file        string
		x           []float32
		warn        string // "": none
		sameAsBytes bool   // eval's accuracy
	}{
		{"raw.safetensors", raw, "", true},
		{"signed.safetensors", signed, "", false},
		{"unit.safetensors", unit, `unit.safetensors: tensor "x" holds floats within [0, 1] (the largest 1), but the model was trained on bytes 0..255`, false},
	} {
		file := filepath.Join(dir, tc.file)
		if err := safetensors.Write(file, []safetensors.Tensor{
			{Name: "x", Shape: []int{n, 1, 28, 28}, Data: tc.x}, {Name: "y", Shape: []int{n}, Data: y}}, nil); err != nil {
			t.Fatal(err)
		}
		var warned []string
		r, err := PredictInputs(cfg, InputOptions{Checkpoint: ckpt, Inputs: []string{file}, Top: 1,
			Warn: func(msg string) { warned = append(warned, msg) }})
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case tc.warn == "" && len(warned) > 0:
			t.Errorf("%s: warned %q", tc.file, warned)
		case tc.warn != "" && (len(warned) != 1 || !strings.Contains(warned[0], tc.warn)):
			t.Errorf("%s: warned %q, want one warning with %q", tc.file, warned, tc.warn)
		case tc.sameAsBytes && *r.Accuracy != *ev.Accuracy:
			t.Errorf("%s: accuracy %v, eval's %v", tc.file, *r.Accuracy, *ev.Accuracy)
		}
	}
	// Each digit: the same answer from its PNG file and its tensor.
	for i := range n {
		a, b := byInput[fmt.Sprintf("test.safetensors[%d]", i)], byInput[name[i]]
		if a.Top == nil || b.Top == nil {
			t.Fatalf("digit %d: no prediction (%v, %v)", i, a, b)
		}
		for k := range a.Top {
			if a.Top[k].Class != b.Top[k].Class || math.Abs(a.Top[k].Probability-b.Top[k].Probability) > 1e-6 {
				t.Fatalf("digit %d: %v from the tensor, %v from the PNG", i, a.Top, b.Top)
			}
		}
		if *a.Label != int(y[i]) || *b.Label != int(y[i]) {
			t.Fatalf("digit %d: labels %d and %d, want %d", i, *a.Label, *b.Label, y[i])
		}
	}
	// The files written: a row per digit (and a header for CSV).
	for _, tc := range []struct {
		file  string
		lines int
		first string
	}{
		{"st.jsonl", n, `{"input":"test.safetensors[0]","top":[{"class":`},
		{"png.csv", n + 1, "input,predicted,probability,class_2,probability_2,class_3,probability_3,label"},
	} {
		fh, err := os.Open(filepath.Join(dir, tc.file))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		lines, first := 0, ""
		for sc.Scan() {
			if lines == 0 {
				first = sc.Text()
			}
			if strings.HasSuffix(tc.file, ".jsonl") && !json.Valid(sc.Bytes()) {
				t.Errorf("%s: line %d is not JSON: %s", tc.file, lines+1, sc.Text())
			}
			lines++
		}
		fh.Close()
		if lines != tc.lines || !strings.HasPrefix(first, tc.first) {
			t.Errorf("%s: %d lines starting %q; want %d starting %q", tc.file, lines, first, tc.lines, tc.first)
		}
	}
}

// TestPredictCSV: CSV rows are found by column name whatever the file's
// column order; a label column, when present, gives the accuracy; without
// it the rows are only predicted; a missing feature column is named.
func TestPredictCSV(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("a,b,kind\n")
	for i := range 200 {
		a, bb := float64(i%20)/2, float64(i%7)
		kind := "low"
		if a+bb > 7 {
			kind = "high"
		}
		fmt.Fprintf(&b, "%g,%g,%s\n", a, bb, kind)
	}
	os.WriteFile(filepath.Join(dir, "d.csv"), []byte(b.String()), 0o644)
	cfg := testutil.LoadConfig(t, dir, `name: c
seed: 1
data: {train: d.csv, validation_split: 0.2, normalize: standardize, csv: {label: kind}}
model: {layers: [{dense: {units: 8}}, tanh, {dense: {units: 2}}]}
loss: cross_entropy
optimizer: {name: adam, lr: 0.05}
training: {epochs: 30, batch_size: 16}
`)
	run := filepath.Join(dir, "run")
	if _, err := session.Run(cfg, session.Options{OutDir: run}); err != nil {
		t.Fatal(err)
	}
	ckpt := filepath.Join(run, "best.safetensors")
	// New rows: the columns in another order, with and without labels.
	os.WriteFile(filepath.Join(dir, "labelled.csv"), []byte("kind,note,b,a\nhigh,x,6,9\nlow,y,0,0.5\nhigh,z,5,4.5\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "new.csv"), []byte("b,a\n6,9\n0,0.5\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "bad.csv"), []byte("b,c\n6,9\n"), 0o644)
	var got []Prediction
	r, err := PredictInputs(cfg, InputOptions{Checkpoint: ckpt, Inputs: []string{filepath.Join(dir, "labelled.csv"), filepath.Join(dir, "new.csv")}, Top: 2,
		Each: func(p Prediction) { got = append(got, p) }})
	if err != nil {
		t.Fatal(err)
	}
	if r.Count != 5 || r.Labelled != 3 || r.Accuracy == nil || *r.Accuracy != 1 {
		t.Fatalf("result %+v", r)
	}
	want := []string{"high", "low", "high", "high", "low"}
	for i, p := range got {
		if p.Top[0].Name != want[i] || len(p.Top) != 2 || math.Abs(p.Top[0].Probability+p.Top[1].Probability-1) > 1e-6 {
			t.Errorf("row %d (%s): %+v, want %s", i, p.Input, p.Top, want[i])
		}
	}
	if !strings.HasSuffix(got[3].Input, "new.csv:2") || got[3].Label != nil {
		t.Errorf("an unlabelled row: %+v", got[3])
	}
	// A checkpoint written before the preprocessing was stored: it is
	// fitted again on the training data, and gives the same answers.
	old := filepath.Join(dir, "old.safetensors")
	if err := cktest.Edit(ckpt, old, func(meta map[string]string, _ map[string]any) { delete(meta, "preprocess") }); err != nil {
		t.Fatal(err)
	}
	var again []Prediction
	if _, err := PredictInputs(cfg, InputOptions{Checkpoint: old, Inputs: []string{filepath.Join(dir, "labelled.csv"), filepath.Join(dir, "new.csv")}, Top: 2,
		Each: func(p Prediction) { again = append(again, p) }}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again, got) {
		t.Errorf("without stored preprocessing: %+v\nwith: %+v", again, got)
	}
	_, err = PredictInputs(cfg, InputOptions{Checkpoint: ckpt, Inputs: []string{filepath.Join(dir, "bad.csv")}, Top: 1})
	if err == nil || !strings.Contains(err.Error(), `has no column "a", a feature the model was trained on`) || !strings.Contains(err.Error(), "bad.csv") {
		t.Errorf("a file without the feature column a: %v", err)
	}
}

// TestPredictCSVConstantMemory: half a million CSV rows (16 MB as float32
// features, 20 MB of text) stream through predict with the heap growing
// by less than 8 MB: rows are read, predicted and dropped batch by batch.
func TestPredictCSVConstantMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 20 MB file")
	}
	dir := t.TempDir()
	const feats = 8
	train := func(rows int) string {
		var b strings.Builder
		for j := range feats {
			fmt.Fprintf(&b, "f%d,", j)
		}
		b.WriteString("y\n")
		for i := range rows {
			for j := range feats {
				fmt.Fprintf(&b, "%d.%d,", (i*7+j)%10, j)
			}
			fmt.Fprintf(&b, "%d\n", i%3)
		}
		return b.String()
	}
	os.WriteFile(filepath.Join(dir, "d.csv"), []byte(train(60)), 0o644)
	big, err := os.Create(filepath.Join(dir, "big.csv"))
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(big)
	w.WriteString(strings.SplitN(train(0), "\n", 2)[0] + "\n")
	const rows = 500_000
	for i := range rows {
		for j := range feats {
			fmt.Fprintf(w, "%d.%d,", (i*7+j)%10, j)
		}
		fmt.Fprintf(w, "%d\n", i%3)
	}
	w.Flush()
	big.Close()
	cfg := testutil.LoadConfig(t, dir, `name: big
data: {train: d.csv, normalize: standardize}
model: {layers: [{dense: {units: 3}}]}
loss: cross_entropy
optimizer: {name: sgd, lr: 0.1}
training: {epochs: 1, batch_size: 64, threads: 1}
`)
	run := filepath.Join(dir, "run")
	if _, err := session.Run(cfg, session.Options{OutDir: run}); err != nil {
		t.Fatal(err)
	}
	var r *InputResult
	testutil.Bounded(t, 2*time.Minute, 8<<20, func() {
		r, err = PredictInputs(cfg, InputOptions{Checkpoint: filepath.Join(run, "last.safetensors"), Inputs: []string{filepath.Join(dir, "big.csv")}, Top: 1})
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.Count != rows || r.Labelled != rows {
		t.Errorf("%d predictions, %d labelled; want %d", r.Count, r.Labelled, rows)
	}
}

// TestPredictRGBFolderEqualsEval: the shipped RGB image-folder config
// trains, and predict on its test folder (class subfolders as labels)
// gives eval's accuracy and loss, the images read with the channels, size
// and resizing the checkpoint stores.
func TestPredictRGBFolderEqualsEval(t *testing.T) {
	cfg, err := model.Load("../../configs/shapes-rgb-cnn.yaml", []string{"training.epochs=12"})
	if err != nil {
		t.Fatal(err)
	}
	run := filepath.Join(t.TempDir(), "run")
	if _, err := session.Run(cfg, session.Options{OutDir: run}); err != nil {
		t.Fatal(err)
	}
	ckpt := filepath.Join(run, "best.safetensors")
	ev, err := EvalCheckpoint(cfg, ckpt, Test, 0)
	if err != nil {
		t.Fatal(err)
	}
	r, err := PredictInputs(cfg, InputOptions{Checkpoint: ckpt, Inputs: []string{"../../configs/data/shapes/test"}, Top: 2})
	if err != nil {
		t.Fatal(err)
	}
	if r.Count != 150 || r.Labelled != 150 || *r.Accuracy != *ev.Accuracy || math.Abs(*r.Loss-ev.Loss) > 1e-6*ev.Loss {
		t.Errorf("predict: %d inputs, %d labelled, accuracy %v, loss %v; eval: accuracy %v, loss %v", r.Count, r.Labelled, *r.Accuracy, *r.Loss, *ev.Accuracy, ev.Loss)
	}
	if *r.Accuracy < 0.6 {
		t.Errorf("accuracy %v after 12 epochs: hardly better than chance", *r.Accuracy)
	}
}

// TestPredictOutBadInput: with --out, an error in the inputs (a bad cell
// in a later batch, after predictions were written to the temporary
// file) is reported as itself, naming the input file, its line and
// column, not as a failure to write the output; the output file keeps
// its old contents and no temporary file is left.
func TestPredictOutBadInput(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("a,b,kind\n")
	for i := range 40 {
		fmt.Fprintf(&b, "%d,%d,%d\n", i%5, i%3, i%2)
	}
	os.WriteFile(filepath.Join(dir, "d.csv"), []byte(b.String()), 0o644)
	cfg := testutil.LoadConfig(t, dir, `name: c
data: {train: d.csv, normalize: standardize}
model: {layers: [{dense: {units: 2}}]}
loss: cross_entropy
training: {epochs: 1, batch_size: 8}
`)
	run := filepath.Join(dir, "run")
	if _, err := session.Run(cfg, session.Options{OutDir: run}); err != nil {
		t.Fatal(err)
	}
	// 30 good rows (more than a batch of 8) and then a bad one.
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte(strings.Repeat("a,b,kind\n", 1)+strings.Repeat("1,2,0\n", 30)+"1,x,0\n"), 0o644)
	short := filepath.Join(dir, "short.csv")
	os.WriteFile(short, []byte("b,a\n1,2\n3\n"), 0o644)
	for _, tt := range []struct {
		name, out, input, want string
	}{
		{"a bad cell, CSV out", "p.csv", bad, bad + `:32: column "b" (index 1): "x" is not a number`},
		{"a bad cell, JSON lines out", "p.jsonl", bad, bad + `:32: column "b" (index 1): "x" is not a number`},
		{"a short row", "p.csv", short, short + ":3: row has 1 fields, but line 1 has 2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), tt.out)
			os.WriteFile(out, []byte("old"), 0o644)
			_, err := PredictInputs(cfg, InputOptions{Checkpoint: filepath.Join(run, "last.safetensors"), Inputs: []string{tt.input}, Top: 1, Out: out})
			if err == nil || err.Error() != tt.want {
				t.Errorf("error\n  %v\nwant\n  %s", err, tt.want)
			}
			if got, _ := os.ReadFile(out); string(got) != "old" {
				t.Errorf("%s now holds %q", out, got)
			}
			if entries, _ := os.ReadDir(filepath.Dir(out)); len(entries) != 1 {
				t.Errorf("files left beside %s: %v", out, entries)
			}
		})
	}
}

// TestPredictBytesOnFloatModel: image files and U8 tensors (bytes 0..255)
// given to a model trained on float tensors are put on the training
// data's scale, which the checkpoint records as the features' range:
// divided by 255 for floats within [0, 1] (torchvision's ToTensor), as
// they are within [0, 255], each with one warning naming the inputs; for
// any other range, or a checkpoint without one, they are refused naming
// the input, since their scale would be a guess.
func TestPredictBytesOnFloatModel(t *testing.T) {
	const n, f = 64, 64 // samples of [1, 8, 8]
	pix := make([]uint8, n*f)
	y := make([]int32, n)
	for i := range n {
		y[i] = int32(i % 2)
		for j := range f {
			pix[i*f+j] = uint8((i*37 + j*11 + int(y[i])*90) % 256)
		}
	}
	// The new input: one 8x8 grey image, as a PNG file, as a U8 tensor,
	// and as floats on each training scale.
	in := pix[:f]
	for _, tc := range []struct {
		name  string
		scale func(v uint8) float32 // the training data's floats (and the expected input's)
		norm  string
		old   bool   // the checkpoint does not record the range
		warn  string // the warning, when the bytes are accepted
		err   string // the error, when they are refused
	}{
		{name: "within [0, 1]", scale: func(v uint8) float32 { return float32(v) / 255 }, norm: "unit",
			warn: "the model was trained on floats within [0, 1], not on bytes: the pixel values 0..255 are divided by 255, as torchvision's ToTensor does"},
		{name: "within [0, 1], standardised", scale: func(v uint8) float32 { return float32(v) / 255 }, norm: "standardize",
			warn: "divided by 255"},
		{name: "within [0, 255]", scale: func(v uint8) float32 { return float32(v) }, norm: "minmax",
			warn: "the model was trained on floats within [0, 255], not on bytes: the pixel values 0..255 are taken as they are"},
		{name: "within [-1, 1]", scale: func(v uint8) float32 { return float32(v)/127.5 - 1 }, norm: "unit",
			err: "bytes 0..255, but the model was trained on floats within [-1, 1], neither within [0, 1] (pixels / 255) nor within [0, 255] (pixels)"},
		{name: "beyond 255", scale: func(v uint8) float32 { return float32(v) * 4 }, norm: "standardize",
			err: "trained on floats within [0, 1020], neither"},
		{name: "range not recorded", scale: func(v uint8) float32 { return float32(v) / 255 }, norm: "unit", old: true,
			err: "bytes 0..255, but the model was trained on floats whose range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			x := make([]float32, n*f)
			for i, v := range pix {
				x[i] = tc.scale(v)
			}
			if err := safetensors.Write(filepath.Join(dir, "x.safetensors"), []safetensors.Tensor{
				{Name: "x", Shape: []int{n, 1, 8, 8}, Data: x}, {Name: "y", Shape: []int{n}, Data: y}}, nil); err != nil {
				t.Fatal(err)
			}
			want := make([]float32, f)
			for j, v := range in {
				want[j] = tc.scale(v)
			}
			img := image.NewGray(image.Rect(0, 0, 8, 8))
			copy(img.Pix, in)
			files := map[string]func() error{
				"want.safetensors": func() error {
					return safetensors.Write(filepath.Join(dir, "want.safetensors"), []safetensors.Tensor{{Name: "x", Shape: []int{1, 1, 8, 8}, Data: want}}, nil)
				},
				"u8.safetensors": func() error {
					return safetensors.Write(filepath.Join(dir, "u8.safetensors"), []safetensors.Tensor{{Name: "x", Shape: []int{1, 1, 8, 8}, Data: slices.Clone(in)}}, nil)
				},
				"in.png": func() error {
					w, err := os.Create(filepath.Join(dir, "in.png"))
					if err != nil {
						return err
					}
					defer w.Close()
					return png.Encode(w, img)
				},
			}
			for name, write := range files {
				if err := write(); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
			}
			cfg := testutil.LoadConfig(t, dir, fmt.Sprintf(`name: f
seed: 1
data: {train: x.safetensors, validation_split: 0.25, normalize: %s}
model: {layers: [flatten, {dense: {units: 4}}, tanh, {dense: {units: classes}}]}
training: {epochs: 2, batch_size: 16}
`, tc.norm))
			run := filepath.Join(dir, "run")
			if _, err := session.Run(cfg, session.Options{OutDir: run}); err != nil {
				t.Fatal(err)
			}
			ckpt := filepath.Join(run, "last.safetensors")
			if tc.old {
				old := filepath.Join(dir, "old.safetensors")
				if err := cktest.Edit(ckpt, old, func(meta map[string]string, _ map[string]any) {
					var p map[string]any
					json.Unmarshal([]byte(meta["preprocess"]), &p)
					delete(p, "range")
					b, _ := json.Marshal(p)
					meta["preprocess"] = string(b)
				}); err != nil {
					t.Fatal(err)
				}
				ckpt = old
			}
			predict := func(input string) (Prediction, []string, error) {
				var got Prediction
				var warned []string
				_, err := PredictInputs(cfg, InputOptions{Checkpoint: ckpt, Inputs: []string{filepath.Join(dir, input)}, Top: 2,
					Each: func(p Prediction) { got = p }, Warn: func(msg string) { warned = append(warned, msg) }})
				return got, warned, err
			}
			ref, warned, err := predict("want.safetensors")
			if err != nil || len(warned) > 0 {
				t.Fatalf("floats on the training scale: %v, warned %q", err, warned)
			}
			for _, input := range []string{"in.png", "u8.safetensors"} {
				got, warned, err := predict(input)
				if tc.err != "" {
					if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.HasPrefix(err.Error(), filepath.Join(dir, input)+": ") {
						t.Errorf("%s: error %v, want one naming it with %q", input, err, tc.err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s: %v", input, err)
				}
				if len(warned) != 1 || !strings.Contains(warned[0], tc.warn) || !strings.HasPrefix(warned[0], filepath.Join(dir, input)+": ") {
					t.Errorf("%s: warned %q, want one warning naming it with %q", input, warned, tc.warn)
				}
				if !reflect.DeepEqual(got.Top, ref.Top) {
					t.Errorf("%s: %+v; the same pixels on the training scale: %+v", input, got.Top, ref.Top)
				}
			}
		})
	}
}

// TestPredictCSVForModelOfOtherData: a CSV file given to a model trained on
// a safetensors file is refused naming it, with what the model does take:
// a safetensors x of the model's sample shape, and images only when its
// samples are images whose scale pixels can be put on (bytes, or floats
// within [0, 255]).
func TestPredictCSVForModelOfOtherData(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "new.csv"), []byte("a,b,c,d,e,f\n1,2,3,4,5,6\n"), 0o644)
	const n = 16
	y := make([]int32, n)
	for i := range y {
		y[i] = int32(i % 2)
	}
	floats := func(f int, v func(i int) float32) []float32 {
		x := make([]float32, n*f)
		for i := range x {
			x[i] = v(i)
		}
		return x
	}
	px := make([]uint8, n*16)
	for i := range px {
		px[i] = uint8(i * 7)
	}
	for _, tc := range []struct {
		name  string
		shape []int
		x     any
		want  string
	}{
		{"tabular floats", []int{6}, floats(6, func(i int) float32 { return float32(i % 5) }),
			"give a safetensors file with x of shape (N, 6)"},
		{"image bytes", []int{1, 4, 4}, px,
			"give images or a safetensors file with x of shape (N, 1, 4, 4)"},
		{"image floats within [0, 1]", []int{1, 4, 4}, floats(16, func(i int) float32 { return float32(i%9) / 8 }),
			"give images or a safetensors file with x of shape (N, 1, 4, 4)"},
		{"image floats within [-1, 1]", []int{1, 4, 4}, floats(16, func(i int) float32 { return float32(i%9)/4 - 1 }),
			"give a safetensors file with x of shape (N, 1, 4, 4)"},
		{"samples of two channels", []int{2, 2, 2}, floats(8, func(i int) float32 { return float32(i % 3) }),
			"give a safetensors file with x of shape (N, 2, 2, 2)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sub := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
			os.MkdirAll(sub, 0o755)
			if err := safetensors.Write(filepath.Join(sub, "x.safetensors"), []safetensors.Tensor{
				{Name: "x", Shape: append([]int{n}, tc.shape...), Data: tc.x}, {Name: "y", Shape: []int{n}, Data: y}}, nil); err != nil {
				t.Fatal(err)
			}
			cfg := testutil.LoadConfig(t, sub, `name: s
data: {train: x.safetensors, validation_split: 0.25}
model: {layers: [flatten, {dense: {units: classes}}]}
training: {epochs: 1, batch_size: 4}
`)
			run := filepath.Join(sub, "run")
			if _, err := session.Run(cfg, session.Options{OutDir: run}); err != nil {
				t.Fatal(err)
			}
			in := filepath.Join(dir, "new.csv")
			_, err := PredictInputs(cfg, InputOptions{Checkpoint: filepath.Join(run, "last.safetensors"), Inputs: []string{in}, Top: 1})
			want := in + ": the model was not trained on a CSV file, so it has no feature columns to find in one; " + tc.want
			if err == nil || err.Error() != want {
				t.Errorf("error\n  %v\nwant\n  %s", err, want)
			}
		})
	}
}
