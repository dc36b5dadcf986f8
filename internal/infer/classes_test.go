package infer

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nettrain/nettrain/internal/checkpoint/cktest"
	"github.com/nettrain/nettrain/internal/session"
	"github.com/nettrain/nettrain/internal/testutil"
)

// TestPredictRefusesOutputsBeyondTheClasses: a checkpoint whose model
// outputs more values than it has classes (training refuses that now;
// older runs could have it) is refused by predict, rather than answering
// classes no sample had ("4" among setosa, versicolor, virginica).
func TestPredictRefusesOutputsBeyondTheClasses(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("a,b,y\n")
	for i := range 30 {
		fmt.Fprintf(&b, "%d,%d,%d\n", i%4, i%3, i%5)
	}
	os.WriteFile(filepath.Join(dir, "d.csv"), []byte(b.String()), 0o644)
	os.WriteFile(filepath.Join(dir, "new.csv"), []byte("a,b\n1,2\n3,0\n"), 0o644)
	cfg := testutil.LoadConfig(t, dir, `name: m
data: {train: d.csv, validation_split: 0}
model: {layers: [{dense: {units: 5}}]}
training: {epochs: 1, batch_size: 8}
`)
	if _, err := session.Run(cfg, session.Options{OutDir: filepath.Join(dir, "run")}); err != nil {
		t.Fatal(err)
	}
	ck := filepath.Join(dir, "run", "last.safetensors")
	for _, tc := range []struct {
		name    string
		classes []string // the checkpoint's class names; nil: its own 5 ids
		want    string   // "": no error
	}{
		{"one output per class", nil, ""},
		{"five outputs, three named classes", []string{"setosa", "versicolor", "virginica"},
			"the model outputs 5 values, but was trained on 3 classes; it needs one output per class: retrain it with units: classes in its last layer"},
		{"five outputs, four named classes", []string{"a", "b", "c", "d"},
			"the model outputs 5 values, but was trained on 4 classes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			use := ck
			if tc.classes != nil {
				use = filepath.Join(dir, "edited.safetensors")
				err := cktest.Edit(ck, use, func(meta map[string]string, _ map[string]any) {
					var p map[string]any
					json.Unmarshal([]byte(meta["preprocess"]), &p)
					p["classes"], p["class_names"], p["class_freq"] = len(tc.classes), tc.classes, make([]float64, len(tc.classes))
					js, _ := json.Marshal(p)
					meta["preprocess"] = string(js)
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			var answers []string
			_, err := PredictInputs(cfg, InputOptions{Checkpoint: use, Inputs: []string{filepath.Join(dir, "new.csv")}, Top: 5,
				Each: func(p Prediction) { answers = append(answers, p.Top[0].Name) }})
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("predict: %v (answers %q), want %q", err, answers, tc.want)
			}
		})
	}
}
