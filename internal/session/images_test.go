package session

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nettrain/nettrain/internal/data"
	"github.com/nettrain/nettrain/internal/testutil"
)

const imagesConfig = `name: images
seed: 5
data:
  train: images
  validation_split: 0.25
  image: {channels: 3}
  augment: {flip_horizontal: true, random_crop: {padding: 2}, rotate: 10, translate: 0.1}
model:
  input: [3, 8, 8]
  layers:
    - conv2d: {filters: 4, kernel: 3, padding: 1}
    - relu
    - maxpool2d: {size: 2}
    - flatten
    - dense: {units: classes}
optimizer: {name: adam, lr: 0.01}
training: {epochs: 3, batch_size: 8}
`

// TestResumeWithAugmentation: with random augmentation, a run stopped in
// the middle of an epoch and resumed ends with the same bits as an
// uninterrupted one, and augmentation does change the run.
func TestResumeWithAugmentation(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteImageFolder(t, filepath.Join(dir, "images"), 3, 16, 8, 8, true) // 36 training samples: 5 batches per epoch
	full := loadConfig(t, dir, imagesConfig)
	if _, err := Run(full, Options{OutDir: filepath.Join(dir, "full")}); err != nil {
		t.Fatal(err)
	}
	part := loadConfig(t, dir, imagesConfig, "training.steps=7")
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
	a, b := stable(t, filepath.Join(dir, "full/metrics.csv")), stable(t, filepath.Join(dir, "split/metrics.csv"))
	if strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Errorf("metrics differ:\n%s\n---\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}

	plain := loadConfig(t, dir, strings.Replace(imagesConfig, "  augment:", "  # augment:", 1))
	if _, err := Run(plain, Options{OutDir: filepath.Join(dir, "plain")}); err != nil {
		t.Fatal(err)
	}
	wa, wp := weights(t, filepath.Join(dir, "full/last.safetensors")), weights(t, filepath.Join(dir, "plain/last.safetensors"))
	if wa["0.weight"][0] == wp["0.weight"][0] && wa["4.weight"][0] == wp["4.weight"][0] {
		t.Error("augmentation did not change the run")
	}
	// A resume with other augmentation settings is refused.
	other := loadConfig(t, dir, imagesConfig, "data.augment.rotate=5")
	_, err = Run(other, Options{OutDir: filepath.Join(dir, "split"), Resume: filepath.Join(dir, "split/last.safetensors"), Overwrite: true})
	if err == nil || !strings.Contains(err.Error(), "data") {
		t.Errorf("resume with other augmentation: %v", err)
	}
}

// TestSkipBadWarns: skipped files are counted in the log.
func TestSkipBadWarns(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteImageFolder(t, filepath.Join(dir, "images"), 3, 8, 8, 8, true)
	os.WriteFile(filepath.Join(dir, "images/c1/notes.txt"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(dir, "images/c2/broken.png"), []byte("\x89PNG\r\n\x1a\n"), 0o644)
	cfg := loadConfig(t, dir, strings.Replace(imagesConfig, "{channels: 3}", "{channels: 3, skip_bad: true}", 1), "training.epochs=2")
	var log strings.Builder
	if _, err := Run(cfg, Options{OutDir: filepath.Join(dir, "run"), Log: &log}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "warning: data.image.skip_bad skipped 2 files that could not be read as images:\n  data.train: "+dir+"/images/c1/notes.txt: not an image file") ||
		!strings.Contains(log.String(), "data.train: "+dir+"/images/c2/broken.png: PNG image is truncated") {
		t.Errorf("log:\n%s", log.String())
	}
}

// writeIDX writes an IDX file of unsigned bytes with the given dimensions.
func writeIDX(t *testing.T, path string, dims []int, data []uint8) {
	t.Helper()
	b := []byte{0, 0, 0x08, byte(len(dims))}
	for _, d := range dims {
		b = append(b, byte(d>>24), byte(d>>16), byte(d>>8), byte(d))
	}
	if err := os.WriteFile(path, append(b, data...), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestMNISTFolderEqualsIDX is the acceptance test of image folders: the
// first 3000 MNIST training digits written as PNG files in class folders
// train the MLP to exactly the bits (weights, validation loss and
// accuracy) that the same digits in the same order train to from IDX
// files: PNG is lossless, a grayscale PNG is read as its bytes, and the
// folder's order (class, then file name) is the IDX files' order.
func TestMNISTFolderEqualsIDX(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and trains on 3000 MNIST digits")
	}
	loc := data.DefaultLocator()
	if _, _, err := loc.Find("mnist", "train"); err != nil {
		testutil.NeedData(t, "MNIST cannot be obtained here: %v", err)
	}
	ds, err := data.Load("mnist:train", data.LoadOptions{Locator: loc})
	if err != nil {
		t.Fatal(err)
	}
	const n, f = 3000, 28 * 28
	dir := t.TempDir()
	// The folder's order: by class, then by index in MNIST.
	var images []uint8
	var labels []uint8
	for c := int32(0); c < 10; c++ {
		cd := filepath.Join(dir, "digits", fmt.Sprint(c))
		if err := os.MkdirAll(cd, 0o755); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < n; i++ {
			if ds.Labels[i] != c {
				continue
			}
			m := image.NewGray(image.Rect(0, 0, 28, 28))
			copy(m.Pix, ds.U8[i*f:(i+1)*f])
			var b bytes.Buffer
			if err := png.Encode(&b, m); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(cd, fmt.Sprintf("%05d.png", i)), b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			images = append(images, m.Pix...)
			labels = append(labels, uint8(c))
		}
	}
	writeIDX(t, filepath.Join(dir, "train-images-idx3-ubyte"), []int{n, 28, 28}, images)
	writeIDX(t, filepath.Join(dir, "train-labels-idx1-ubyte"), []int{n}, labels)

	cfg, err := os.ReadFile("../../configs/mnist-mlp.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(string(cfg), "  test: mnist:test", "", 1)
	rows := map[string][]string{}
	for _, train := range []string{"digits", "train-images-idx3-ubyte"} {
		c := loadConfig(t, dir, src, "data.train="+train, "training.epochs=2", "name="+train)
		res, err := Run(c, Options{OutDir: filepath.Join(dir, "runs", train)})
		if err != nil {
			t.Fatal(err)
		}
		if acc := res.Rows[len(res.Rows)-1].ValAccuracy; acc == nil || *acc < 0.8 {
			t.Errorf("%s: validation accuracy %v, want at least 0.8", train, *acc)
		} else {
			t.Logf("%s: validation accuracy %.4f", train, *acc)
		}
		rows[train] = stable(t, filepath.Join(dir, "runs", train, "metrics.csv"))
	}
	sameWeights(t, weights(t, filepath.Join(dir, "runs/digits/last.safetensors")), weights(t, filepath.Join(dir, "runs/train-images-idx3-ubyte/last.safetensors")))
	if a, b := strings.Join(rows["digits"], "\n"), strings.Join(rows["train-images-idx3-ubyte"], "\n"); a != b {
		t.Errorf("metrics differ:\nfolder\n%s\nIDX\n%s", a, b)
	}
}
