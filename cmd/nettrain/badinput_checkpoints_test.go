package main

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nettrain/nettrain/internal/checkpoint/cktest"
	"github.com/nettrain/nettrain/internal/session"
	"github.com/nettrain/nettrain/internal/testutil"
)

var makeCheckpoints = flag.Bool("make-checkpoints", false, "rewrite the generated files of the checkpoint cases of testdata/badinput (then run -update for their messages)")

// ckConfig is the config of the generated checkpoint cases: 30 samples,
// 24 of them for training, 3 batches per epoch.
const ckConfig = `name: bad
data:
  train: d.csv
  validation_split: 0.2
model:
  input: [4]
  layers:
    - dense: {units: 8}
    - relu
    - dense: {units: 3}
loss: cross_entropy
optimizer: {name: adam, lr: 0.01}
training: {epochs: 2, batch_size: 8}
`

// ckData is the data of the checkpoint cases: n samples of 3 classes.
func ckData(n int) string {
	rng := rand.New(rand.NewPCG(5, 5))
	var b strings.Builder
	b.WriteString("a,b,c,d,label\n")
	for i := 0; i < n; i++ {
		for k := 0; k < 4; k++ {
			fmt.Fprintf(&b, "%.3f,", float64((i%3)*(k%2))+rng.NormFloat64()*0.5)
		}
		fmt.Fprintf(&b, "%d\n", i%3)
	}
	return b.String()
}

// ckDataOneSampleChanged is ckData(30) with the first sample's values
// changed.
func ckDataOneSampleChanged() string {
	lines := strings.SplitAfter(ckData(30), "\n")
	lines[1] = "9.000,9.000,9.000,9.000,0\n"
	return strings.Join(lines, "")
}

// checkpointCases are the bad-input cases whose files TestMakeCheckpointCases
// generates: a checkpoint of ckConfig stopped inside epoch 2 (epoch 1,
// batch 1, step 4; metrics_rows 1), changed by edit (with valid checksums)
// and then by raw (bytes, checksums not updated), next to ckConfig and
// the data (changed by data).
//
// The cases run in a new temporary directory each time, and a checkpoint's
// resume_sections hash the data's absolute path, so the generated
// checkpoints leave the sections out (as checkpoints written before them
// do); every other check applies.
var checkpointCases = []struct {
	name, args string
	edit       func(meta map[string]string, tensors map[string]any)
	raw        func([]byte) []byte
	data       string            // d.csv; "" for ckData(30)
	files      map[string]string // more files of the case
}{
	{name: "resume-metadata-bit-flip", args: "train config.yaml --resume ck.safetensors",
		// "batch_in_epoch":"1" (0x31) -> "5" (0x35): one bit.
		raw: func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"batch_in_epoch":"1"`), []byte(`"batch_in_epoch":"5"`), 1)
		}},
	{name: "resume-negative-batch-in-epoch", args: "train config.yaml --resume ck.safetensors",
		edit: setMeta("batch_in_epoch", "-1")},
	{name: "resume-batch-beyond-epoch", args: "train config.yaml --resume ck.safetensors",
		edit: setMeta("batch_in_epoch", "50", "step", "53")},
	{name: "resume-epoch-beyond-training", args: "train config.yaml --resume ck.safetensors",
		edit: setMeta("epoch", "7", "step", "22", "metrics_rows", "1")},
	{name: "resume-metrics-rows-beyond-metrics", args: "train config.yaml --resume ck.safetensors",
		files: map[string]string{"metrics.csv": "epoch,step,train_loss,val_loss,val_accuracy,val_mae,lr,grad_norm,samples_per_s,elapsed_s\n"}},
	{name: "resume-plain-weights", args: "train config.yaml --resume ck.safetensors",
		edit: func(meta map[string]string, _ map[string]any) { clear(meta) }},
	{name: "resume-unknown-format", args: "train config.yaml --resume ck.safetensors",
		edit: setMeta("format", "nettrain-checkpoint/9")},
	{name: "resume-data-shrunk", args: "train config.yaml --resume ck.safetensors",
		data: ckData(27)},
	{name: "eval-validation-data-changed", args: "eval config.yaml --checkpoint ck.safetensors --split validation",
		data: ckDataOneSampleChanged()},
	{name: "eval-nan-weight", args: "eval config.yaml --checkpoint ck.safetensors --split train",
		edit: func(_ map[string]string, ts map[string]any) { ts["2.weight"].([]float32)[9] = float32(math.NaN()) }},
	{name: "resume-negative-exp-avg-sq", args: "train config.yaml --resume ck.safetensors",
		edit: func(_ map[string]string, ts map[string]any) { ts["optimizer.exp_avg_sq.0.bias"].([]float32)[3] = -1 }},
	{name: "predict-csv-missing-feature", args: "predict config.yaml --checkpoint ck.safetensors new.csv",
		files: map[string]string{"new.csv": "a,b,d,label\n1,2,3,0\n"}},
	{name: "predict-csv-bad-value", args: "predict config.yaml --checkpoint ck.safetensors new.csv",
		files: map[string]string{"new.csv": "d,c,b,a\n1,2,3,4\n1,2,x,4\n"}},
	{name: "predict-csv-unknown-class", args: "predict config.yaml --checkpoint ck.safetensors new.csv",
		files: map[string]string{"new.csv": "a,b,c,d,label\n1,2,3,4,7\n"}},
	{name: "predict-not-an-input", args: "predict config.yaml --checkpoint ck.safetensors notes.txt",
		files: map[string]string{"notes.txt": "hello\n"}},
	{name: "predict-images-for-tabular-model", args: "predict config.yaml --checkpoint ck.safetensors img.png",
		files: map[string]string{"img.png": "\x89PNG\r\n\x1a\n"}},
	{name: "predict-out-extension", args: "predict config.yaml --checkpoint ck.safetensors d.csv --out p.txt"},
	{name: "predict-preprocess-huge-input", args: "predict config.yaml --checkpoint ck.safetensors d.csv",
		edit: func(meta map[string]string, _ map[string]any) {
			meta["preprocess"] = strings.Replace(meta["preprocess"], `"input":[4]`, `"input":[4294967296,4294967296]`, 1)
		}},
	{name: "init-from-nan-weight", args: "train config.yaml --set model.init_from=ck.safetensors --out run",
		edit: func(_ map[string]string, ts map[string]any) { ts["0.weight"].([]float32)[0] = float32(math.Inf(1)) }},
}

// setMeta is an edit that sets metadata entries.
func setMeta(kv ...string) func(map[string]string, map[string]any) {
	return func(meta map[string]string, _ map[string]any) {
		for i := 0; i < len(kv); i += 2 {
			meta[kv[i]] = kv[i+1]
		}
	}
}

// TestMakeCheckpointCases writes the files of checkpointCases into
// testdata/badinput:
//
//	go test ./cmd/nettrain -run TestMakeCheckpointCases -make-checkpoints
//	go test ./cmd/nettrain -run TestBadInput -update
func TestMakeCheckpointCases(t *testing.T) {
	if !*makeCheckpoints {
		t.Skip("run with -make-checkpoints to rewrite the generated cases")
	}
	work := t.TempDir()
	os.WriteFile(filepath.Join(work, "d.csv"), []byte(ckData(30)), 0o644)
	cfg := testutil.LoadConfig(t, work, ckConfig, "training.steps=4")
	if _, err := session.Run(cfg, session.Options{OutDir: filepath.Join(work, "run")}); err != nil {
		t.Fatal(err)
	}
	last := filepath.Join(work, "run", "last.safetensors")
	for _, tc := range checkpointCases {
		dir := filepath.Join("testdata", "badinput", tc.name)
		os.RemoveAll(dir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		ck := filepath.Join(dir, "ck.safetensors")
		err := cktest.Edit(last, ck, func(meta map[string]string, ts map[string]any) {
			delete(meta, "resume_sections")
			if tc.edit != nil {
				tc.edit(meta, ts)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if tc.raw != nil {
			b, _ := os.ReadFile(ck)
			changed := tc.raw(b)
			if bytes.Equal(b, changed) {
				t.Fatalf("%s: the raw edit changed nothing", tc.name)
			}
			os.WriteFile(ck, changed, 0o644)
		}
		data := tc.data
		if data == "" {
			data = ckData(30)
		}
		files := map[string]string{"config.yaml": ckConfig, "d.csv": data, "args": tc.args + "\n"}
		for k, v := range tc.files {
			files[k] = v
		}
		for name, content := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
