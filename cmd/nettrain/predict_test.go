package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/nettrain/nettrain/internal/checkpoint/cktest"
	"github.com/nettrain/nettrain/internal/testutil"
)

// TestPredictSequenceFlags: flags of predict that would be ignored, or
// fail only after a file was written, are usage errors before anything
// runs: a sequence model's flags with INPUT files, files of the wrong
// kind, flags that contradict each other.
func TestPredictSequenceFlags(t *testing.T) {
	checkFlagCases(t, func(ran *bool) *cobra.Command {
		s, _, _ := streams()
		return NewCmdPredict(s, func(*PredictOptions) error { *ran = true; return nil })
	}, []flagCase{
		{[]string{"c.yaml", "--checkpoint", "k", "--prompt", ""}, "--prompt is empty"},
		{[]string{"c.yaml", "--checkpoint", "k", "--prompt", "abc", "--steps", "3"}, "do not go together"},
		{[]string{"c.yaml", "--checkpoint", "k", "--steps", "3", "--out", "f.jsonl"}, "name a .csv file"},
		{[]string{"c.yaml", "--checkpoint", "k", "--out", "f.txt"}, "name a .csv file"},
		{[]string{"c.yaml", "--checkpoint", "k", "--steps", "2", "--plot", "p.txt"}, "name a .png or .svg file"},
		{[]string{"c.yaml", "--checkpoint", "k", "--steps", "2", "--out", "f.CSV", "--plot", "p.svg"}, ""},
		{[]string{"c.yaml", "--checkpoint", "k", "--prompt", "abc", "--out", "p.csv"}, "--out and --plot are for a series model's forecasts"},
		{[]string{"c.yaml", "--checkpoint", "k", "--prompt", "abc", "--json"}, ""},
		{[]string{"c.yaml", "--checkpoint", "k", "in.csv", "--out", "p.jsonl"}, ""},
		// INPUT files: no sequence model's flag; predictions go to .csv or .jsonl.
		{[]string{"c.yaml", "--checkpoint", "k", "in.csv", "--out", "P.JSONL", "--show", "2", "--top", "1", "--threads", "1"}, ""},
		{[]string{"c.yaml", "--checkpoint", "k", "in.csv", "--out", "preds.txt"}, "--out preds.txt: predictions are written as CSV or JSON lines: name a .csv or .jsonl file"},
		{[]string{"c.yaml", "--checkpoint", "k", "in.csv", "--out", "preds"}, "name a .csv or .jsonl file"},
		// A series model's flags go with a CSV file of its rows: the
		// config decides (TestPredictFlagsForKind).
		{[]string{"c.yaml", "--checkpoint", "k", "in.csv", "--plot", "p.png"}, ""},
		{[]string{"c.yaml", "--checkpoint", "k", "in.csv", "--steps", "3"}, ""},
		{[]string{"c.yaml", "--checkpoint", "k", "in.csv", "--prompt", "a"}, "--prompt is for text models, which take no INPUT files"},
		{[]string{"c.yaml", "--checkpoint", "k", "--plot", "p.png", "--no-plot"}, "--plot names the plot's file and --no-plot draws none: give one"},
	})
}

// TestPredictFlagsForKind: a flag of predict that does not apply to the
// model's kind (predictions on INPUT files, by a classifier or a
// regression; a series' forecast; a text's next character) is a usage
// error naming the flag, what it is for and the model's kind, before
// anything is read or written; flags that apply are accepted.
func TestPredictFlagsForKind(t *testing.T) {
	dir := trainSmall(t) // a classifier of CSV rows: config.yaml, d.csv, run/
	var reg strings.Builder
	reg.WriteString("a,b,y\n")
	for i := range 20 {
		fmt.Fprintf(&reg, "%d,%d,%d\n", i%3, i%5, i%7)
	}
	os.WriteFile(filepath.Join(dir, "r.csv"), []byte(reg.String()), 0o644)
	os.WriteFile(filepath.Join(dir, "reg.yaml"), []byte("data: {train: r.csv}\nmodel:\n  layers: [{dense: {units: 1}}]\nloss: mse\ntraining: {batch_size: 8}\n"), 0o644)
	runNettrain(t, dir, "train", "reg.yaml", "--set", "training.steps=2", "--out", "regrun")
	series, _ := filepath.Abs("../../configs/series-lstm.yaml")
	text, _ := filepath.Abs("../../configs/alphabet-lstm.yaml")
	const ck = "--checkpoint run/last.safetensors"
	for _, tc := range []struct {
		args string // split at spaces; SERIES and TEXT are the shipped configs
		want string // "": it runs
	}{
		{"config.yaml " + ck + " d.csv --top 2 --out p.csv --show 1 --threads 1", ""},
		{"config.yaml " + ck + " d.csv --plot x.png", "--plot is for series models, but config.yaml predicts on INPUT files (it has no data.sequence)"},
		{"config.yaml " + ck + " d.csv --steps 2", "--steps is for series models, but config.yaml predicts on INPUT files"},
		{"config.yaml " + ck + " d.csv --show 2", "--show sets the rows of the table printed with --out; without --out every row is printed"},
		{"config.yaml " + ck + " d.csv --show 2 --out x.csv --json", "--show sets the rows of the table, and --json prints no table"},
		{"config.yaml " + ck + " --steps 3", "--steps is for series models, but config.yaml predicts on INPUT files (it has no data.sequence)"},
		{"config.yaml " + ck + " --prompt ab", "--prompt is for text models, but config.yaml predicts on INPUT files"},
		{"config.yaml " + ck, "predict: give INPUT files"},
		{"reg.yaml --checkpoint regrun/last.safetensors r.csv --out p.jsonl --show 1", ""},
		{"reg.yaml --checkpoint regrun/last.safetensors r.csv --top 2", "--top is for classifiers on INPUT files and text models (--prompt), but reg.yaml is a regression model (its outputs are values, not classes)"},
		{"SERIES --checkpoint none.safetensors --top 5 --show 2", "--top is for classifiers on INPUT files and text models (--prompt), but " + series + " is a series model (data.sequence.kind: series)"},
		{"SERIES --checkpoint none.safetensors --show 2 --out x.csv", "--show is for predictions on INPUT files with --out, but"},
		{"SERIES --checkpoint none.safetensors --threads 2", "--threads is for predictions on INPUT files, but"},
		{"SERIES --checkpoint none.safetensors --prompt ab", "--prompt is for text models, but " + series + " is a series model"},
		{"SERIES --checkpoint none.safetensors d.csv r.csv", series + " is a series model (data.sequence.kind: series): give one CSV file of its columns (the rows the forecast continues), not 2"},
		{"SERIES --checkpoint none.safetensors d.csv --no-plot", "--no-plot: the forecast from a file is plotted only with --plot FILE"},
		{"SERIES --checkpoint none.safetensors d.csv --steps 0", "--steps 0: the forecast after a file has at least one row"},
		{"SERIES --checkpoint none.safetensors d.csv --out x.jsonl", "--out x.jsonl: a series model's forecasts are written as CSV: name a .csv file"},
		{"SERIES --checkpoint none.safetensors d.csv --plot x.txt", "--plot x.txt: the plot is written as PNG or SVG"},
		{"TEXT --checkpoint none.safetensors d.csv", text + " is a text model (data.sequence.kind: text), which takes its input with --prompt: give no INPUT files"},
		{"TEXT --checkpoint none.safetensors", text + " is a text model (data.sequence.kind: text): give --prompt TEXT"},
		{"TEXT --checkpoint none.safetensors --out x.csv", "--out is for predictions on INPUT files and series forecasts, but " + text + " is a text model"},
		{"TEXT --checkpoint none.safetensors --steps 2", "--steps is for series models, but"},
		{"TEXT --checkpoint none.safetensors --no-plot", "--no-plot is for series models, but"},
		{"TEXT --checkpoint none.safetensors --prompt ab --show 2", "--show is for predictions on INPUT files with --out, but"},
	} {
		args := append([]string{"predict"}, strings.Fields(strings.NewReplacer("SERIES", series, "TEXT", text).Replace(tc.args))...)
		out, err := nettrainCmd(t, dir, args...).CombinedOutput()
		var exit *exec.ExitError
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v\n%s", tc.args, err, out)
		case tc.want != "" && (!errors.As(err, &exit) || exit.ExitCode() != exitUsage || !strings.Contains(string(out), tc.want) || strings.Count(string(out), "\n") != 1):
			t.Errorf("%s: %v\n%s\nwant exit %d and one line with %q", tc.args, err, out, exitUsage, tc.want)
		}
		if _, err := os.Stat(filepath.Join(dir, "x.csv")); tc.want != "" && err == nil {
			t.Errorf("%s: x.csv was written", tc.args)
		}
	}
}

// TestOverflowingModelWritesJSON: a checkpoint whose finite weights make
// the outputs overflow gives NaN losses and probabilities; eval --json and
// predict's JSON lines write them as null instead of failing with
// encoding/json's "unsupported value: NaN".
func TestOverflowingModelWritesJSON(t *testing.T) {
	dir := trainSmall(t)
	err := cktest.Edit(filepath.Join(dir, "run", "last.safetensors"), filepath.Join(dir, "big.safetensors"),
		func(meta map[string]string, ts map[string]any) {
			for name, v := range ts {
				if w, ok := v.([]float32); ok && !strings.HasPrefix(name, "optimizer.") {
					for i := range w {
						w[i] = 3e38 // the sums overflow to Inf, and Inf-Inf is NaN
					}
				}
			}
		})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		file string // the JSON lines to read; "" for stdout
	}{
		{[]string{"eval", "config.yaml", "--checkpoint", "big.safetensors", "--split", "validation", "--json"}, ""},
		{[]string{"predict", "config.yaml", "--checkpoint", "big.safetensors", "d.csv", "--out", "p.jsonl"}, "p.jsonl"},
	} {
		out := runNettrain(t, dir, tc.args...)
		text := out
		if tc.file != "" {
			b, err := os.ReadFile(filepath.Join(dir, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			text = string(b)
		}
		if !strings.Contains(text, "null") {
			t.Errorf("%v: no null in the output, so nothing overflowed and the test checks nothing:\n%s", tc.args, text)
		}
		dec := json.NewDecoder(strings.NewReader(text))
		for n := 0; ; n++ {
			var v any
			if err := dec.Decode(&v); err == io.EOF {
				if n == 0 {
					t.Errorf("%v: no JSON value written:\n%s", tc.args, text)
				}
				break
			} else if err != nil {
				t.Errorf("%v: not JSON (%v):\n%s", tc.args, err, text)
				break
			}
		}
	}
}

// trainSmall trains ckConfig for 2 steps in a new directory: config.yaml,
// d.csv and run/ with its checkpoints.
func trainSmall(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "d.csv"), []byte(ckData(30)), 0o644)
	os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(ckConfig), 0o644)
	runNettrain(t, dir, "train", "config.yaml", "--set", "training.steps=2", "--out", "run")
	return dir
}

// TestOutputsNeverOverwriteInputs: an --out, --plot, --html or --png
// naming a file the command reads (the checkpoint, the config, a data
// file, an input; also by another path), or a file of a training run in
// its directory, is refused before anything is written, and the file is
// left as it was.
func TestOutputsNeverOverwriteInputs(t *testing.T) {
	dir := trainSmall(t)
	os.WriteFile(filepath.Join(dir, "in.csv"), []byte("a,b,c,d\n0.1,0.2,0.3,0.4\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "t.html"), []byte("page"), 0o644)
	if err := os.Symlink("t.html", filepath.Join(dir, "l.png")); err != nil { // two outputs, one file
		t.Fatal(err)
	}
	os.Mkdir(filepath.Join(dir, "cmp"), 0o755) // a comparison's output, by its files
	os.WriteFile(filepath.Join(dir, "cmp", "trials.jsonl"), []byte("{}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "cmp", "trials.csv"), []byte("trial\n"), 0o644)
	ck := "run/last.safetensors"
	for _, tc := range []struct {
		args []string
		file string // the file that must survive
		want string
	}{
		{[]string{"export", "config.yaml", "--checkpoint", ck, "--out", ck}, ck, "--out run/last.safetensors is the checkpoint"},
		{[]string{"export", "config.yaml", "--checkpoint", ck, "--format", "safetensors", "--out", "./run/../run/last.safetensors"}, ck, "is the checkpoint"},
		{[]string{"export", "config.yaml", "--checkpoint", ck, "--out", "config.yaml"}, "config.yaml", "--out config.yaml is the config"},
		{[]string{"predict", "config.yaml", "--checkpoint", ck, "in.csv", "--out", "in.csv"}, "in.csv", "--out in.csv is an input"},
		{[]string{"predict", "config.yaml", "--checkpoint", ck, "in.csv", "--out", "d.csv"}, "d.csv", "is the data file data.train"},
		{[]string{"trace", "config.yaml", "--weights", ck, "--html", ck}, ck, "--html run/last.safetensors: the file is written as HTML"},
		{[]string{"trace", "config.yaml", "--png", "d.csv"}, "d.csv", "--png d.csv: the file is written as PNG; name a .png file"},
		{[]string{"trace", "config.yaml", "--html", "d.csv"}, "d.csv", "--html d.csv: the file is written as HTML; name a .html file"},
		{[]string{"trace", "config.yaml", "--html", "t.html", "--png", "l.png"}, "t.html", "--html and --png name the same file (l.png)"},
		// A file of the run in its directory, though the command does
		// not read it: a resume, the board or a report would break.
		{[]string{"export", "config.yaml", "--checkpoint", "run/best.safetensors", "--format", "safetensors", "--out", ck}, ck, "--out run/last.safetensors is a file of the training run in run, which nettrain does not overwrite"},
		{[]string{"export", "config.yaml", "--checkpoint", ck, "--format", "onnx", "--out", "run/config.yaml"}, "run/config.yaml", "--out run/config.yaml is a file of the training run in run"},
		{[]string{"predict", "config.yaml", "--checkpoint", ck, "in.csv", "--out", "run/metrics.csv"}, "run/metrics.csv", "--out run/metrics.csv is a file of the training run in run"},
		{[]string{"trace", "config.yaml", "--weights", "run/best.safetensors", "--png", "run/curves.png"}, "run/curves.png", "--png run/curves.png is a file of the training run in run"},
		{[]string{"predict", "config.yaml", "--checkpoint", ck, "in.csv", "--out", "cmp/trials.csv"}, "cmp/trials.csv", "--out cmp/trials.csv is a file of the comparison in cmp"},
		{[]string{"predict", "config.yaml", "--checkpoint", ck, "in.csv", "--out", "cmp/trials.jsonl"}, "cmp/trials.jsonl", "--out cmp/trials.jsonl is a file of the comparison in cmp"},
	} {
		var before []byte
		if tc.file != "" {
			before, _ = os.ReadFile(filepath.Join(dir, tc.file))
		}
		out, err := nettrainCmd(t, dir, tc.args...).CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != exitUsage || !strings.Contains(string(out), tc.want) {
			t.Errorf("%v: %v\n%s\nwant exit %d and %q", tc.args, err, out, exitUsage, tc.want)
		}
		if after, _ := os.ReadFile(filepath.Join(dir, tc.file)); !bytes.Equal(before, after) || len(before) == 0 {
			t.Errorf("%v: %s changed (%d bytes before, %d after)", tc.args, tc.file, len(before), len(after))
		}
	}
	// A new file, or one that is not read, is written; so is a file of
	// the user's own in a run directory.
	runNettrain(t, dir, "export", "config.yaml", "--checkpoint", ck, "--out", "m.onnx")
	runNettrain(t, dir, "export", "config.yaml", "--checkpoint", ck, "--out", "m.onnx")
	runNettrain(t, dir, "predict", "config.yaml", "--checkpoint", ck, "in.csv", "--out", "run/predictions.csv")
	runNettrain(t, dir, "predict", "config.yaml", "--checkpoint", ck, "in.csv", "--out", "run/predictions.csv")
	// A file of its own that is named as a run's or a comparison's
	// marker makes no run or comparison of its directory: it is written
	// again.
	for _, name := range []string{"mine/metrics.csv", "mine/metrics.jsonl", "mine/trials.jsonl"} {
		os.MkdirAll(filepath.Join(dir, "mine"), 0o755)
		runNettrain(t, dir, "predict", "config.yaml", "--checkpoint", ck, "in.csv", "--out", name)
		runNettrain(t, dir, "predict", "config.yaml", "--checkpoint", ck, "in.csv", "--out", name)
		os.RemoveAll(filepath.Join(dir, "mine"))
	}
}

// TestDataErrorsNameTheOverride: a data file or init_from that cannot be
// read names the --set or NETTRAIN_* that set it, else the key's
// line:column.
func TestDataErrorsNameTheOverride(t *testing.T) {
	dir := t.TempDir()
	series, err := filepath.Abs("../../configs/series-lstm.yaml")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(ckConfig), 0o644)
	for _, tc := range []struct {
		args []string
		env  string
		want string
	}{
		{[]string{"train", "config.yaml"}, "", "nettrain: config.yaml:3:10: data.train: cannot read d.csv: no such file or directory"},
		{[]string{"train", "config.yaml", "--set", "data.train=other.csv"}, "", "nettrain: --set data.train=other.csv: data.train: cannot read other.csv"},
		{[]string{"train", "config.yaml", "--set", "data.train=nodir/"}, "", "nettrain: --set data.train=nodir/: data.train: cannot read nodir: no such file or directory"},
		{[]string{"train", "config.yaml"}, "NETTRAIN_DATA_TRAIN=env.csv", "nettrain: NETTRAIN_DATA_TRAIN=env.csv: data.train: cannot read env.csv"},
		{[]string{"train", "config.yaml", "--set", "model.init_from=w.safetensors"}, "", "nettrain: --set model.init_from=w.safetensors: model.init_from: "},
		// Found once the data is read: the key, at its override or place.
		{[]string{"train", "config.yaml", "--set", "model.layers.2.dense.units=2"}, "", `nettrain: --set model.layers.2.dense.units=2 (config.yaml:10:7): model.layers.2: d.csv has 3 classes (d.csv:4: column "label" (index 4): class id 2), but layer 2 (dense) outputs 2 values`},
		{[]string{"train", series, "--set", "loss=cross_entropy"}, "", "nettrain: --set loss=cross_entropy: loss: a series is a regression"},
	} {
		if len(tc.args) > 2 && !strings.Contains(tc.args[len(tc.args)-1], "data.train") {
			os.WriteFile(filepath.Join(dir, "d.csv"), []byte(ckData(30)), 0o644)
		}
		cmd := nettrainCmd(t, dir, tc.args...)
		if tc.env != "" {
			cmd.Env = append(cmd.Env, tc.env)
		}
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.HasPrefix(string(out), tc.want) || strings.Count(string(out), "\n") != 1 {
			t.Errorf("%v %s: %v\n%s\nwant one line starting %q", tc.args, tc.env, err, out, tc.want)
		}
	}
}

// TestPredictCountsSkippedFiles: the files of input folders that are not
// images are counted in the summary, in the singular for one.
func TestPredictCountsSkippedFiles(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteImageFolder(t, filepath.Join(dir, "images"), 2, 4, 4, 4, false)
	os.WriteFile(filepath.Join(dir, "c.yaml"), []byte("data: {train: images, validation_split: 0.25}\nmodel:\n  layers: [flatten, {dense: {units: classes}}]\ntraining: {batch_size: 4}\n"), 0o644)
	runNettrain(t, dir, "train", "c.yaml", "--set", "training.steps=1", "--out", "run")
	for _, tc := range []struct {
		extra []string // files in images/c0 that are not images
		want  string   // "": no line about skipped files
	}{
		{nil, ""},
		{[]string{"notes.txt"}, "skipped 1 file in the input folders that is not an image\n"},
		{[]string{"notes.txt", "x.csv"}, "skipped 2 files in the input folders that are not images\n"},
	} {
		for _, f := range tc.extra {
			os.WriteFile(filepath.Join(dir, "images", "c0", f), []byte("x\n"), 0o644)
		}
		out := runNettrain(t, dir, "predict", "c.yaml", "--checkpoint", "run/last.safetensors", "images")
		if got := strings.Contains(out, "skipped"); tc.want == "" && got || tc.want != "" && !strings.Contains(out, tc.want) {
			t.Errorf("%v: output\n%s\nwant %q", tc.extra, out, tc.want)
		}
	}
}

// TestPredictScoresForOtherLosses: a classifier trained with mse or
// half_sse has no softmax, so its outputs are scores, not probabilities
// (they may be negative): the table, the CSV and the JSON lines name them
// "score", and --json says "scores": true; a cross-entropy model's stay
// probabilities.
func TestPredictScoresForOtherLosses(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteImageFolder(t, filepath.Join(dir, "images"), 3, 4, 4, 4, false)
	os.WriteFile(filepath.Join(dir, "c.yaml"), []byte("data: {train: images, validation_split: 0.25}\nmodel:\n  layers: [flatten, {dense: {units: classes}}]\ntraining: {batch_size: 4}\n"), 0o644)
	for _, tc := range []struct {
		loss  string
		value string // what the values are called
		other string // what they must not be called
	}{
		{"cross_entropy", "probability", "score"},
		{"mse", "score", "probability"},
		{"half_sse", "score", "probability"},
	} {
		t.Run(tc.loss, func(t *testing.T) {
			run := "run-" + tc.loss
			runNettrain(t, dir, "train", "c.yaml", "--set", "loss="+tc.loss, "--set", "training.steps=2", "--out", run)
			predict := func(extra ...string) string {
				return runNettrain(t, dir, append([]string{"predict", run + "/config.yaml", "--checkpoint", run + "/last.safetensors", "images", "--top", "2"}, extra...)...)
			}
			table := predict()
			head, _, _ := strings.Cut(table, "\n")
			if !strings.Contains(head, "predicted  "+tc.value) || strings.Contains(head, tc.other) {
				t.Errorf("the table's header %q; want the values called %q", head, tc.value)
			}
			predict("--out", "p.csv")
			b, _ := os.ReadFile(filepath.Join(dir, "p.csv"))
			want := fmt.Sprintf("input,predicted,%s,class_2,%[1]s_2,label\n", tc.value)
			if head, _, _ := strings.Cut(string(b), "\n"); head+"\n" != want {
				t.Errorf("the CSV's header %q; want %q", head, want)
			}
			summary := predict("--out", "p.jsonl", "--json")
			b, _ = os.ReadFile(filepath.Join(dir, "p.jsonl"))
			if !strings.Contains(string(b), `"`+tc.value+`":`) || strings.Contains(string(b), `"`+tc.other+`":`) {
				t.Errorf("JSON lines %s; want the values called %q", b, tc.value)
			}
			if got := strings.Contains(summary, `"scores": true`); got != (tc.value == "score") {
				t.Errorf("--json %s; want \"scores\": true exactly for scores", summary)
			}
		})
	}
}

// TestImageMemoryLimitEndToEnd: predict and train check each image against
// the memory limit before decoding it, by what decoding, converting and
// resizing it allocates, and refuse one that needs more with one line.
// A 190-byte progressive JPEG claiming 5792x5792 pixels (image/jpeg
// allocates 400 MiB of coefficients for it, and the planes and RGBA
// images beside them) crashed predict out of memory under prlimit
// --as=2000000000, with a 190-line trace: predict read images without a
// limit. So did train on a folder holding two copies of it, decoded at
// once. Each case runs as a real nettrain process under an address-space
// cap (capMemory, as TestBadInput): without training.memory_limit the
// limit is three quarters of what the cap leaves, about 384 MiB, and a
// third, about 170 MiB, for a data set (train).
func TestImageMemoryLimitEndToEnd(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteImageFolder(t, filepath.Join(dir, "images"), 2, 4, 8, 8, true)
	config := "data: {train: images, validation_split: 0.25, image: {channels: 3, size: [8, 8]}}\nmodel:\n  layers: [flatten, {dense: {units: classes}}]\ntraining: {batch_size: 4}\n"
	os.WriteFile(filepath.Join(dir, "c.yaml"), []byte(config), 0o644)
	runNettrain(t, dir, "train", "c.yaml", "--set", "training.steps=1", "--out", "run")
	jpg := testutil.ProgressiveJPEG(5792, 5792, []byte{0x11, 0x11, 0x11}, true)
	if len(jpg) != 190 {
		t.Fatalf("the JPEG has %d bytes, want the reviewer's 190", len(jpg))
	}
	files := map[string][]byte{
		"x.jpg":        jpg,
		"il16.png":     testutil.PNG(5792, 5792, 16, 2, true, false, false), // valid, 200 KB: 512 MiB with its passes
		"trunc.png":    testutil.PNG(5792, 5792, 16, 6, false, false, true),
		"bomb/a/1.jpg": jpg,
		"bomb/b/1.jpg": jpg,
	}
	for name, b := range files {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "bomb.yaml"), []byte(strings.Replace(config, "{train: images, validation_split: 0.25,", "{train: bomb, validation_split: 0.5,", 1)), 0o644)
	const jpegNeeds = "x.jpg: decoding this progressive JPEG image (5792x5792 pixels) needs 608.0 MiB of memory, more than "
	const ulimit = "three quarters of what the process's ulimit -v or -d leaves ("
	const dataUlimit = "a data file's share (a third) of what the process's ulimit -v or -d leaves ("
	predict := []string{"predict", "c.yaml", "--checkpoint", "run/last.safetensors"}
	for _, tc := range []struct {
		name string
		args []string
		want string // the line's start, after "nettrain: "
	}{
		{"predict progressive JPEG", append(predict, "x.jpg"), jpegNeeds + ulimit},
		{"predict progressive JPEG, memory_limit", append(predict, "x.jpg", "--set", "training.memory_limit=64MiB"),
			jpegNeeds + "training.memory_limit 64MiB (64.0 MiB) allows"},
		{"predict interlaced PNG", append(predict, "il16.png"),
			"il16.png: decoding this interlaced PNG image (5792x5792 pixels) needs 512.3 MiB of memory, more than " + ulimit},
		{"predict truncated PNG, memory_limit", append(predict, "trunc.png", "--set", "training.memory_limit=64MiB"),
			"trunc.png: decoding this PNG image (5792x5792 pixels) needs 256.1 MiB of memory, more than training.memory_limit 64MiB (64.0 MiB) allows"},
		{"train two progressive JPEGs", []string{"train", "bomb.yaml", "--out", "bombrun"}, "bomb.yaml:1:15: data.train: bomb/a/1." + jpegNeeds[2:] + dataUlimit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := nettrainCmd(t, dir, tc.args...)
			cmd.Env = append(cmd.Env, "GO_TEST_MEMORY_MIB="+strconv.Itoa(badInputMemoryMiB))
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			done := make(chan error, 1)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			go func() { done <- cmd.Wait() }()
			var err error
			select {
			case err = <-done:
			case <-time.After(badInputTimeout):
				cmd.Process.Kill()
				t.Fatalf("still running after %v (killed); stderr %q", badInputTimeout, stderr.String())
			}
			msg := stderr.String()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 1 {
				t.Errorf("exit: %v, want status 1", err)
			}
			if !strings.HasPrefix(msg, "nettrain: "+tc.want) || strings.Count(msg, "\n") != 1 || strings.Contains(msg, "goroutine ") {
				t.Errorf("stderr (%d lines)\n%.2000s\nwant one line starting\n  nettrain: %s", strings.Count(msg, "\n"), msg, tc.want)
			}
			if stdout.Len() > 0 {
				t.Errorf("wrote to stdout: %q", stdout.String())
			}
		})
	}
}
