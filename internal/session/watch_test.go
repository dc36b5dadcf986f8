package session

import (
	"bytes"
	"encoding/json"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
		reason string // how status.json's begins, "" for none
		noBest bool   // status.json has no best row
	}{
		{"epochs", nil, StatusFinished, []string{"done: finished at step 30 (epoch 3)", "best: epoch 3, step 30: val_loss"}, "", false},
		{"steps", []string{"training.steps=14", "training.eval_every_steps=5"}, StatusFinished, []string{"done: stopped by training.steps at step 14 (epoch 2)",
			// The stop's evaluation beats best, and the summary says why it is not best.
			"note: the evaluation at step 14, where training.steps stopped the run inside an epoch, had a lower val_loss"}, "stopped by training.steps", false},
		{"steps-first-epoch", []string{"training.steps=3"}, StatusFinished, []string{"done: stopped by training.steps at step 3 (epoch 1)",
			"best: none yet: training.steps stopped the first epoch, and best.safetensors holds the weights at step 3"}, "stopped by training.steps", true},
		{"no-validation", []string{"data.validation_split=0"}, StatusFinished, []string{"done: finished at step 39 (epoch 3)", "best: epoch 3, step 39: train_loss 0.5786 (no validation data)"}, "", false},
		{"early", []string{"training.eval_every_steps=2", "training.early_stopping={patience: 3, min_delta: 0.04}"}, StatusStoppedEarly,
			[]string{"stopped: early stopping: val_loss did not improve on ", " by more than 0.04 for 3 evaluations", "done: stopped early at step 26 (epoch 3)"},
			"early stopping: val_loss did not improve on ", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, tc.name)
			var log bytes.Buffer
			if _, err := Run(loadConfig(t, dir, blobsConfig, tc.sets...), Options{OutDir: out, Log: &log}); err != nil {
				t.Fatal(err)
			}
			split := " --split validation" // no data.test
			if tc.name == "no-validation" {
				split = " --split train" // nor validation data
			}
			want := append(tc.log, "checkpoints: "+filepath.Join(out, "best.safetensors"), "curves: "+filepath.Join(out, "curves.png"),
				"next: nettrain eval "+filepath.Join(out, "config.yaml")+" --checkpoint "+filepath.Join(out, "best.safetensors")+split+"\n")
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
			if err := json.Unmarshal(b, &st); err != nil || st["status"] != tc.status || (st["best"] == nil) != tc.noBest {
				t.Errorf("status.json: %v %s", err, b)
			}
			if r, _ := st["reason"].(string); !strings.HasPrefix(r, tc.reason) || (r == "") != (tc.reason == "") {
				t.Errorf("status.json's reason %q, want it to start with %q", r, tc.reason)
			}
			if tc.name == "epochs" && strings.Contains(log.String(), "is not a candidate for best") {
				t.Errorf("a run of whole epochs has no stop evaluation to explain:\n%s", log.String())
			}
		})
	}
}

// TestProgressBarAroundMeasurements: the terminal's progress bar is full
// (100%) once per epoch, at its end, not at each measurement inside it,
// and reaches the epoch's sample count.
func TestProgressBarAroundMeasurements(t *testing.T) {
	dir := t.TempDir()
	writeBlobs(t, dir, 200) // 160 training samples, 10 batches of 16
	var bar bytes.Buffer
	o := Options{OutDir: filepath.Join(dir, "run"), Log: io.Discard, Progress: &bar, StepDelay: 30 * time.Millisecond}
	if _, err := Run(loadConfig(t, dir, blobsConfig, "training.eval_every_steps=4", "training.epochs=2"), o); err != nil {
		t.Fatal(err)
	}
	out := bar.String()
	if n := strings.Count(out, "100%"); n != 2 {
		t.Errorf("the bar was full %d times in 2 epochs:\n%q", n, out)
	}
	if !strings.Contains(out, "(160/160") {
		t.Errorf("no bar reached the epoch's 160 samples:\n%q", out)
	}
}
