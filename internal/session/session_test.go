package session

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/safetensors"
	"github.com/nettrain/nettrain/internal/testutil"

	"github.com/nettrain/nettrain/internal/infer"
)

// writeBlobs writes a small 3-class classification CSV: points around three
// centres in 4-D.
func writeBlobs(t testing.TB, dir string, n int) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 7))
	var b strings.Builder
	b.WriteString("a,b,c,d,label\n")
	for i := 0; i < n; i++ {
		c := i % 3
		for k := 0; k < 4; k++ {
			fmt.Fprintf(&b, "%.4f,", float64(c*(k%2))+rng.NormFloat64()*0.5)
		}
		fmt.Fprintf(&b, "%d\n", c)
	}
	path := filepath.Join(dir, "blobs.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const blobsConfig = `name: blobs
seed: 3
data:
  train: blobs.csv
  validation_split: 0.2
  normalize: standardize
model:
  input: [4]
  layers:
    - dense: {units: 16}
    - relu
    - dropout: {p: 0.2}
    - dense: {units: 3}
optimizer: {name: adam, lr: 0.01}
training: {epochs: 3, batch_size: 16}
`

func loadConfig(t testing.TB, dir, src string, sets ...string) *model.Config {
	t.Helper()
	return testutil.LoadConfig(t, dir, src, sets...)
}

func weights(t *testing.T, path string) map[string][]float32 {
	t.Helper()
	f, err := safetensors.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]float32{}
	for _, name := range f.Names() {
		if info, _ := f.Info(name); info.DType.IsInt() {
			v, _, err := f.Int64(name)
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range v {
				m[name] = append(m[name], float32(x))
			}
			continue
		}
		v, _, err := f.Float32(name)
		if err != nil {
			t.Fatal(err)
		}
		m[name] = v
	}
	return m
}

func sameWeights(t *testing.T, a, b map[string][]float32) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%d tensors vs %d", len(a), len(b))
	}
	for name, va := range a {
		vb := b[name]
		for i := range va {
			if va[i] != vb[i] {
				t.Fatalf("%s[%d]: %v vs %v", name, i, va[i], vb[i])
			}
		}
	}
}

// stable drops the timing columns of metrics.csv.
func stable(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Split(line, ",")
		rows = append(rows, strings.Join(f[:len(f)-2], ","))
	}
	return rows
}

func TestRunIsDeterministic(t *testing.T) {
	dir := t.TempDir()
	writeBlobs(t, dir, 200)
	cfg := loadConfig(t, dir, blobsConfig)
	for _, out := range []string{"a", "b"} {
		if _, err := Run(cfg, Options{OutDir: filepath.Join(dir, out), Threads: map[string]int{"a": 1, "b": 2}[out]}); err != nil {
			t.Fatal(err)
		}
	}
	sameWeights(t, weights(t, filepath.Join(dir, "a/last.safetensors")), weights(t, filepath.Join(dir, "b/last.safetensors")))
	ra, rb := stable(t, filepath.Join(dir, "a/metrics.csv")), stable(t, filepath.Join(dir, "b/metrics.csv"))
	if strings.Join(ra, "\n") != strings.Join(rb, "\n") {
		t.Errorf("metrics differ:\n%s\n---\n%s", ra, rb)
	}
	if len(ra) != 4 {
		t.Errorf("want a header and 3 rows, got %q", ra)
	}
}

func TestResumeMidEpochIsBitIdentical(t *testing.T) {
	for _, tc := range []struct {
		sets  []string
		split int // steps before the interruption
	}{
		{nil, 14},
		{[]string{"schedule={name: cosine, interval: step, warmup: 5}"}, 14},
		{[]string{"schedule={name: plateau, patience: 0, factor: 0.5}"}, 14},
		{[]string{"optimizer={name: nadam}"}, 14},
		// Evaluations inside epochs: split between two, and at one.
		{[]string{"training.eval_every_steps=4"}, 14},
		{[]string{"training.eval_every_steps=4"}, 16},
		{[]string{"training.eval_every_steps=3", "checkpoint.every_steps=3"}, 12},
		// Early stopping's counter carries over: the run stops at the
		// same evaluation.
		{[]string{"training.eval_every_steps=2", "training.early_stopping={patience: 3, min_delta: 0.04}"}, 18},
		{[]string{"training.early_stopping={monitor: val_accuracy, patience: 1}", "training.epochs=6"}, 14},
	} {
		t.Run(strings.Join(tc.sets, ",")+"/"+strconv.Itoa(tc.split), func(t *testing.T) { testResume(t, tc.sets, tc.split) })
	}
}

func testResume(t *testing.T, sets []string, split int) {
	dir := t.TempDir()
	writeBlobs(t, dir, 200) // 160 training samples: 10 batches per epoch
	full := loadConfig(t, dir, blobsConfig, sets...)
	if _, err := Run(full, Options{OutDir: filepath.Join(dir, "full")}); err != nil {
		t.Fatal(err)
	}
	// Stop after split steps (inside epoch 2), then resume to the end.
	part := loadConfig(t, dir, blobsConfig, append(slices.Clone(sets), "training.steps="+strconv.Itoa(split))...)
	res, err := Run(part, Options{OutDir: filepath.Join(dir, "split")})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Stopped {
		t.Fatal("training.steps did not stop the run")
	}
	if _, err := Run(full, Options{OutDir: filepath.Join(dir, "split"), Resume: filepath.Join(dir, "split/last.safetensors")}); err != nil {
		t.Fatal(err)
	}
	sameWeights(t, weights(t, filepath.Join(dir, "full/last.safetensors")), weights(t, filepath.Join(dir, "split/last.safetensors")))
	sameWeights(t, weights(t, filepath.Join(dir, "full/best.safetensors")), weights(t, filepath.Join(dir, "split/best.safetensors")))
	a, b := stable(t, filepath.Join(dir, "full/metrics.csv")), stable(t, filepath.Join(dir, "split/metrics.csv"))
	if strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Errorf("metrics differ:\n%s\n---\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
	if testing.Verbose() {
		t.Logf("%d rows:\n%s", len(a)-1, strings.Join(a, "\n"))
	}
	if strings.Contains(strings.Join(sets, ","), "early_stopping") {
		// Both runs stopped early, at the same evaluation, and say so.
		for _, run := range []string{"full", "split"} {
			b, _ := os.ReadFile(filepath.Join(dir, run, "metrics.jsonl"))
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			if last := lines[len(lines)-1]; !strings.Contains(last, `"stop":"early stopping: val_`) {
				t.Errorf("%s: the last row does not record the early stop: %s", run, last)
			}
		}
		if len(a) > 30 {
			t.Errorf("early stopping did not stop the run: %d rows", len(a)-1)
		}
	}
}

func TestRunDirIsNotClobbered(t *testing.T) {
	dir := t.TempDir()
	writeBlobs(t, dir, 60)
	cfg := loadConfig(t, dir, blobsConfig, "training.epochs=1")
	out := filepath.Join(dir, "run")
	if _, err := Run(cfg, Options{OutDir: out}); err != nil {
		t.Fatal(err)
	}
	_, err := Run(cfg, Options{OutDir: out})
	if err == nil || !strings.Contains(err.Error(), "--resume") || !strings.Contains(err.Error(), "--overwrite") {
		t.Fatalf("second run into the same directory: %v", err)
	}
	if _, err := Run(cfg, Options{OutDir: out, Overwrite: true}); err != nil {
		t.Fatalf("--overwrite: %v", err)
	}
}

func TestCheckpointMismatch(t *testing.T) {
	dir := t.TempDir()
	writeBlobs(t, dir, 60)
	cfg := loadConfig(t, dir, blobsConfig, "training.epochs=1")
	out := filepath.Join(dir, "run")
	if _, err := Run(cfg, Options{OutDir: out}); err != nil {
		t.Fatal(err)
	}
	other := loadConfig(t, dir, blobsConfig, "model.layers.0.dense.units=8")
	_, err := infer.EvalCheckpoint(other, filepath.Join(out, "last.safetensors"), "train", 1)
	if err == nil || !strings.Contains(err.Error(), `tensor "0.weight" has shape [16 4], but layer 0 (dense) needs [8 4] (--set model.layers.0.dense.units=8 changed it; leave it out to match the checkpoint)`) {
		t.Fatalf("loading into a different architecture: %v", err)
	}
	// An override of a later layer did not change layer 0: not named.
	wider := loadConfig(t, dir, strings.Replace(blobsConfig, "units: 16", "units: 12", 1), "model.layers.2.dropout.p=0.3")
	_, err = infer.EvalCheckpoint(wider, filepath.Join(out, "last.safetensors"), "train", 1)
	if err == nil || !strings.HasSuffix(err.Error(), `needs [12 4]`) {
		t.Fatalf("loading into a wider layer 0, with an override of layer 2: %v", err)
	}
	// The same shapes, another function: refused by eval, predict and
	// export alike (the weights' config is the checkpoint's own).
	tanh := loadConfig(t, dir, blobsConfig, "model.layers.1=tanh")
	ck := filepath.Join(out, "last.safetensors")
	want := "--set model.layers.1=tanh: model.layers.1: layer 1 is tanh, but " + filepath.Join(out, "last.safetensors") + " was trained with relu there"
	_, err = infer.EvalCheckpoint(tanh, ck, "train", 1)
	_, err2 := infer.PredictInputs(tanh, infer.InputOptions{Checkpoint: ck, Inputs: []string{filepath.Join(dir, "blobs.csv")}, Threads: 1})
	_, err3 := infer.ExportONNX(tanh, ck, filepath.Join(dir, "m.onnx"))
	for i, err := range []error{err, err2, err3} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s with relu changed to tanh: %v, want %q", []string{"eval", "predict", "export"}[i], err, want)
		}
	}
	r, err := infer.EvalCheckpoint(cfg, filepath.Join(out, "last.safetensors"), "validation", 1)
	if err != nil {
		t.Fatal(err)
	}
	if r.Accuracy == nil || r.Count != 12 || len(r.Confusion) != 3 {
		t.Errorf("eval result %+v", r)
	}
}

// TestResumeCNN: a CNN's checkpoint (PyTorch conv layout) resumes
// bit-identically from the middle of an epoch too.
func TestResumeCNN(t *testing.T) {
	dir := t.TempDir()
	writeBlobs(t, dir, 200)
	src := strings.Replace(blobsConfig, `  input: [4]
  layers:
    - dense: {units: 16}
    - relu
    - dropout: {p: 0.2}
    - dense: {units: 3}`, `  input: [1, 2, 2]
  layers:
    - conv2d: {filters: 4, kernel: 2, padding: 1}
    - relu
    - maxpool2d: {size: 2, stride: 1}
    - dropout: {p: 0.2}
    - flatten
    - dense: {units: 3}`, 1)
	full := loadConfig(t, dir, src)
	if g, err := model.Build(full, nil); err != nil || g.Specs[0].Kind() != "conv2d" {
		t.Fatal("the CNN config did not apply")
	}
	if _, err := Run(full, Options{OutDir: filepath.Join(dir, "full")}); err != nil {
		t.Fatal(err)
	}
	part := loadConfig(t, dir, src, "training.steps=13")
	if _, err := Run(part, Options{OutDir: filepath.Join(dir, "split")}); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(full, Options{OutDir: filepath.Join(dir, "split"), Resume: filepath.Join(dir, "split/last.safetensors")}); err != nil {
		t.Fatal(err)
	}
	sameWeights(t, weights(t, filepath.Join(dir, "full/last.safetensors")), weights(t, filepath.Join(dir, "split/last.safetensors")))
	w := weights(t, filepath.Join(dir, "full/last.safetensors"))
	if len(w["0.weight"]) != 4*1*2*2 || len(w["0.bias"]) != 4 {
		t.Errorf("conv2d tensors: %d weights, %d biases", len(w["0.weight"]), len(w["0.bias"]))
	}
}

// TestResumeBatchNormResidual: batchnorm's running statistics (buffers)
// are saved and restored, so a resumed run ends with the same bits, and the
// optimizer never touches them.
func TestResumeBatchNormResidual(t *testing.T) {
	dir := t.TempDir()
	writeBlobs(t, dir, 200)
	src := strings.Replace(blobsConfig, `    - dense: {units: 16}
    - relu
    - dropout: {p: 0.2}
    - dense: {units: 3}`, `    - dense: {units: 8, bias: false}
    - batchnorm
    - relu
    - residual:
        - dense: {units: 8, bias: false}
        - batchnorm: {momentum: 0.2}
        - relu
    - dense: {units: 3}
optimizer: {name: adamw, lr: 0.01, weight_decay: 0.1}`, 1)
	src = strings.Replace(src, "optimizer: {name: adam, lr: 0.01}\n", "", 1)
	full := loadConfig(t, dir, src)
	if _, err := Run(full, Options{OutDir: filepath.Join(dir, "full")}); err != nil {
		t.Fatal(err)
	}
	part := loadConfig(t, dir, src, "training.steps=13")
	if _, err := Run(part, Options{OutDir: filepath.Join(dir, "split")}); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(full, Options{OutDir: filepath.Join(dir, "split"), Resume: filepath.Join(dir, "split/last.safetensors")}); err != nil {
		t.Fatal(err)
	}
	a, b := weights(t, filepath.Join(dir, "full/last.safetensors")), weights(t, filepath.Join(dir, "split/last.safetensors"))
	sameWeights(t, a, b)
	// 3 epochs of 10 batches (160 training samples, batch 16): every
	// training step counts one batch, validation none.
	if n := a["3.body.1.num_batches_tracked"]; len(n) != 1 || n[0] != 30 {
		t.Errorf("num_batches_tracked %v, want [30]", n)
	}
	for _, name := range []string{"1.running_var", "3.body.1.running_mean"} {
		if len(a[name]) != 8 {
			t.Errorf("%s: %d values", name, len(a[name]))
		}
		if _, ok := a["optimizer.exp_avg."+name]; ok {
			t.Errorf("the optimizer has state for buffer %s", name)
		}
	}
	if _, ok := a["optimizer.exp_avg.1.weight"]; !ok {
		t.Error("no optimizer state for the batchnorm weight")
	}
}

// TestBadTensorBoardDirTouchesNothing: a --tensorboard directory that
// cannot be written is refused before the run directory is touched: a
// new run leaves no directory, and --overwrite keeps the old run; an
// event file of a run refused later (or with nothing to train) is removed.
func TestBadTensorBoardDirTouchesNothing(t *testing.T) {
	dir := t.TempDir()
	writeBlobs(t, dir, 60)
	cfg := loadConfig(t, dir, blobsConfig, "training.epochs=1")
	out := filepath.Join(dir, "run")
	bad := filepath.Join(dir, "file")
	os.WriteFile(bad, []byte("x"), 0o644) // a file where the directory should be
	if _, err := Run(cfg, Options{OutDir: out, TensorBoard: filepath.Join(bad, "tb")}); err == nil || !strings.Contains(err.Error(), "--tensorboard "+filepath.Join(bad, "tb")) {
		t.Fatalf("new run: %v", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("the refused run left its directory: %v", err)
	}
	if _, err := Run(cfg, Options{OutDir: out}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadDir(out)
	if _, err := Run(cfg, Options{OutDir: out, Overwrite: true, TensorBoard: filepath.Join(bad, "tb")}); err == nil {
		t.Fatal("--overwrite with a bad --tensorboard ran")
	}
	if after, _ := os.ReadDir(out); len(after) != len(before) || len(before) < 5 {
		t.Errorf("--overwrite with a bad --tensorboard changed the old run: %d files before, %d after", len(before), len(after))
	}
	tb := filepath.Join(dir, "tb")
	if _, err := Run(cfg, Options{OutDir: out, TensorBoard: tb}); err == nil || !strings.Contains(err.Error(), "already holds a run") {
		t.Fatalf("into the old run: %v", err)
	}
	if _, err := os.Stat(tb); !os.IsNotExist(err) {
		t.Errorf("a refused run left its TensorBoard directory %s: %v", tb, err)
	}
}

// breakBestAt is a log that, when the run prints its n-th metrics row,
// turns best.safetensors into a directory, so that the save of a better
// best after that row fails (as on a full disk).
type breakBestAt struct {
	dir  string
	n    int
	rows int
	buf  bytes.Buffer
}

func (b *breakBestAt) Write(p []byte) (int, error) {
	b.buf.Write(p)
	if strings.Contains(string(p), "val_loss") {
		if b.rows++; b.rows == b.n {
			best := filepath.Join(b.dir, "best.safetensors")
			os.Remove(best)
			os.MkdirAll(filepath.Join(best, "blocked"), 0o755)
		}
	}
	return len(p), nil
}

// TestFailedBestSaveKeepsTheSavedBest: when writing a better
// best.safetensors fails, status.json names the best that was saved, not
// the one whose weights were lost.
func TestFailedBestSaveKeepsTheSavedBest(t *testing.T) {
	dir := t.TempDir()
	writeBlobs(t, dir, 200)
	out := filepath.Join(dir, "run")
	log := &breakBestAt{dir: out, n: 2}
	_, err := Run(loadConfig(t, dir, blobsConfig, "training.eval_every_steps=2", "training.epochs=1"), Options{OutDir: out, Log: log})
	if err == nil || !strings.Contains(err.Error(), "best.safetensors") {
		t.Fatalf("the run: %v\n%s", err, log.buf.String())
	}
	b, err := os.ReadFile(filepath.Join(out, StatusFile))
	if err != nil {
		t.Fatal(err)
	}
	var st Status
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	if st.Best == nil || st.Best.Step != 2 {
		t.Errorf("status.json's best is %+v, want the first evaluation's (step 2), the last best saved:\n%s\n%s", st.Best, b, log.buf.String())
	}
}
