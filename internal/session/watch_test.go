package session

import (
	"bytes"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCurvesStatusAndSummary: a run draws curves.png and curves.svg, writes
// status.json when it ends and prints one summary naming the best
// evaluation, the files and the eval command.
func TestCurvesStatusAndSummary(t *testing.T) {
	dir := t.TempDir()
	writeBlobs(t, dir, 200)
	tests := []struct {
		name   string
		sets   []string
		status string
		log    []string
	}{
		{"epochs", nil, StatusFinished, []string{"done: finished at step 30 (epoch 3)", "best: epoch 3, step 30: val_loss"}},
		{"steps", []string{"training.steps=14", "training.eval_every_steps=5"}, StatusFinished, []string{"done: stopped by training.steps at step 14 (epoch 2)"}},
		{"early", []string{"training.eval_every_steps=2", "training.early_stopping={patience: 3, min_delta: 0.04}"}, StatusStoppedEarly,
			[]string{"stopped: early stopping: val_loss did not improve by more than 0.04 for 3 evaluations", "done: stopped early at step 26 (epoch 3)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, tc.name)
			var log bytes.Buffer
			if _, err := Run(loadConfig(t, dir, blobsConfig, tc.sets...), Options{OutDir: out, Log: &log}); err != nil {
				t.Fatal(err)
			}
			want := append(tc.log, "checkpoints: "+filepath.Join(out, "best.safetensors"), "curves: "+filepath.Join(out, "curves.png"),
				"next: nettrain eval "+filepath.Join(out, "config.yaml")+" --checkpoint "+filepath.Join(out, "best.safetensors")+" --split validation\n") // no data.test
			for _, w := range want {
				if !strings.Contains(log.String(), w) {
					t.Errorf("the log lacks %q:\n%s", w, log.String())
				}
			}
			f, err := os.Open(filepath.Join(out, "curves.png"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			img, err := png.Decode(f)
			if err != nil || img.Bounds().Dx() < 500 {
				t.Errorf("curves.png: %v, %v", err, img.Bounds())
			}
			if svg, _ := os.ReadFile(filepath.Join(out, "curves.svg")); !bytes.Contains(svg, []byte("<svg")) || !bytes.Contains(svg, []byte("running mean over the epoch")) {
				t.Error("curves.svg is not an SVG naming the training loss")
			}
			var st map[string]any
			b, _ := os.ReadFile(filepath.Join(out, StatusFile))
			if err := json.Unmarshal(b, &st); err != nil || st["status"] != tc.status || st["best"] == nil {
				t.Errorf("status.json: %v %s", err, b)
			}
		})
	}
}
