package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEvalManyClasses: a model of more than 1000 outputs trains and is
// evaluated without a confusion matrix, and eval says so in its text and
// JSON; up to 20 classes the matrix is printed. Before, eval kept a
// classes x classes matrix whatever the count (3.2 GB at 20000: "fatal
// error: out of memory").
func TestEvalManyClasses(t *testing.T) {
	for _, tc := range []struct {
		units int
		text  string // in eval's text output
	}{
		{3, "confusion matrix (rows: true class, columns: predicted)"},
		{30, "(the 30x30 confusion matrix is in the --json output)"},
		{1500, "(no confusion matrix: 1500 classes: a confusion matrix is kept for up to 1000)"},
	} {
		t.Run(fmt.Sprint(tc.units), func(t *testing.T) {
			dir := t.TempDir()
			// The last sample has the largest class id, the others 0, 1, 2:
			// the ids between are classes without rows (data.csv.classes: ids).
			d := ckData(30)
			d = d[:strings.LastIndex(d[:len(d)-1], ",")+1] + fmt.Sprintf("%d\n", tc.units-1)
			os.WriteFile(filepath.Join(dir, "d.csv"), []byte(d), 0o644)
			os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(ckConfig), 0o644)
			units := fmt.Sprintf("model.layers.2.dense.units=%d", tc.units)
			runNettrain(t, dir, "train", "config.yaml", "--set", units, "--set", "data.csv.classes=ids", "--set", "training.steps=2", "--out", "run")
			eval := []string{"eval", "config.yaml", "--set", units, "--set", "data.csv.classes=ids", "--checkpoint", "run/last.safetensors", "--split", "validation"}
			out := runNettrain(t, dir, eval...)
			if !strings.Contains(out, tc.text) {
				t.Errorf("eval's output lacks %q:\n%.2000s", tc.text, out)
			}
			// Above 1000 classes, the table leaves out those without
			// samples (most of the ids here) and says so.
			if hidden := strings.Contains(out, "classes have no samples here and are not shown"); hidden != (tc.units > 1000) || tc.units > 1000 && strings.Count(out, "\n") > 60 {
				t.Errorf("%d classes: %d lines, note of hidden classes %v", tc.units, strings.Count(out, "\n"), hidden)
			}
			var r map[string]any
			if err := json.Unmarshal([]byte(runNettrain(t, dir, append(eval, "--json")...)), &r); err != nil {
				t.Fatal(err)
			}
			_, matrix := r["confusion"]
			omitted, _ := r["confusion_omitted"].(string)
			if support, _ := r["support"].([]any); len(support) != tc.units || matrix != (tc.units <= 1000) || (omitted != "") == matrix {
				t.Errorf("eval --json: %d supports, confusion %v, confusion_omitted %q", len(support), matrix, omitted)
			}
		})
	}
}

// TestClassNamesInTables: eval's and predict's tables show a class name
// the same way: as it is, or quoted when a space, a comma or a quote in it
// would blur the columns.
func TestClassNamesInTables(t *testing.T) {
	dir := t.TempDir()
	names := []string{"low", "high one", `"x,y"`}
	var b strings.Builder
	b.WriteString("a,b,c,d,label\n")
	for i, line := range strings.Split(strings.TrimSpace(ckData(30)), "\n")[1:] {
		b.WriteString(line[:strings.LastIndex(line, ",")+1] + names[i%3] + "\n")
	}
	os.WriteFile(filepath.Join(dir, "d.csv"), []byte(b.String()), 0o644)
	os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(ckConfig), 0o644)
	runNettrain(t, dir, "train", "config.yaml", "--set", "training.steps=2", "--out", "run")
	eval := runNettrain(t, dir, "eval", "config.yaml", "--checkpoint", "run/last.safetensors", "--split", "train")
	predict := runNettrain(t, dir, "predict", "config.yaml", "--checkpoint", "run/last.safetensors", "d.csv", "--top", "3")
	for _, tc := range []struct {
		shown, not string
	}{
		{"low", `"low"`},
		{`"high one"`, "high one  "},
		{`"x,y"`, "x,y  "},
	} {
		for cmd, out := range map[string]string{"eval": eval, "predict": predict} {
			if !strings.Contains(out, tc.shown) || strings.Contains(out, tc.not) {
				t.Errorf("%s shows %s otherwise than as %s:\n%s", cmd, tc.shown, tc.shown, out)
			}
		}
	}
}
