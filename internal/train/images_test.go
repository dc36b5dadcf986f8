package train

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nettrain/nettrain/internal/data"
	"github.com/nettrain/nettrain/internal/optim"
	"github.com/nettrain/nettrain/internal/testutil"
)

const imageConfig = `name: img
seed: 3
data:
  train: images
  validation_split: 0.25
  augment: {flip_horizontal: true, random_crop: {padding: 2}}
model:
  input: [3, 8, 8]
  layers:
    - flatten
    - dense: {units: classes}
training: {batch_size: 8}
`

// TestAugmentedSplit: only the training split is augmented; its batches
// depend on the epoch and the seed, not on anything else; the image
// options are reported for prediction.
func TestAugmentedSplit(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteImageFolder(t, filepath.Join(dir, "images"), 2, 8, 8, 8, true)
	fill := func(sets ...string) (train0, train1, val []float32) {
		m, err := Load[float32](testutil.LoadConfig(t, dir, imageConfig, sets...))
		if err != nil {
			t.Fatal(err)
		}
		if o := m.Data.Image; o == nil || *o != (data.ImageOptions{Channels: 3, Size: [2]int{8, 8}, Resize: "bilinear"}) {
			t.Errorf("Data.Image = %+v", o)
		}
		pos := []int{0, 1, 2, 3}
		get := func(s Split[float32], epoch int) []float32 {
			if e, ok := s.(epochSplit[float32]); ok {
				e.SetEpoch(epoch)
			}
			x := make([]float32, len(pos)*3*8*8)
			s.Fill(pos, x, make([]int32, len(pos)), nil)
			return x
		}
		if plain := get(m.Data.TrainForEval(), 1); !slices.Equal(plain, get(m.Data.TrainForEval(), 0)) {
			t.Error("TrainForEval depends on the epoch")
		}
		return get(m.Data.Train, 0), get(m.Data.Train, 1), get(m.Data.Val, 0)
	}
	a0, a1, av := fill()
	b0, b1, bv := fill()
	c0, _, _ := fill("seed=4")
	p0, _, pv := fill("data.augment.flip_horizontal=false", "data.augment.random_crop=null")
	switch {
	case !slices.Equal(a0, b0) || !slices.Equal(a1, b1):
		t.Error("the same config filled other batches")
	case slices.Equal(a0, a1):
		t.Error("epochs 0 and 1 have the same augmentation")
	case slices.Equal(a0, p0):
		t.Error("augmentation changed nothing")
	case !slices.Equal(av, bv) || !slices.Equal(av, pv):
		t.Error("the validation split is augmented")
	}
	_ = c0 // another seed splits differently too; data's tests compare seeds on the same samples
}

// TestImageKeysNeedImages: data.augment and data.image on data that is
// not images are errors at their line:column.
func TestImageKeysNeedImages(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("x,y\n")
	for i := 0; i < 20; i++ {
		fmt.Fprintf(&b, "%d,%d\n", i, i%2)
	}
	os.WriteFile(filepath.Join(dir, "d.csv"), []byte(b.String()), 0o644)
	for _, tc := range []struct{ key, want string }{
		{"augment: {flip_horizontal: true}", "c.yaml:4:12: data.augment: augmentation needs image samples, bytes of shape [channels height width] (an image folder, IDX images), but " + dir + "/d.csv holds float values of shape [1]"},
		{"image: {channels: 1}", "c.yaml:4:10: data.image: applies to image folders (a folder with one subfolder of images per class), but data.train is d.csv"},
	} {
		cfg := testutil.LoadConfig(t, dir, "name: x\ndata:\n  train: d.csv\n  "+tc.key+"\nmodel: {layers: [{dense: {units: 2}}]}\n")
		_, err := Load[float32](cfg)
		if err == nil || err.Error() != dir+"/"+tc.want {
			t.Errorf("error\n  %v\nwant\n  %s", err, tc.want)
		}
	}
}

// TestOtherFoldersTakeTheTrainingShape: a validation folder is read with
// the channels and size the training folder settled (here: gray 8x8,
// from the images alone), whatever its own images are.
func TestOtherFoldersTakeTheTrainingShape(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteImageFolder(t, filepath.Join(dir, "images"), 2, 4, 8, 8, false)
	testutil.WriteImageFolder(t, filepath.Join(dir, "val"), 2, 3, 12, 10, true)
	cfg := testutil.LoadConfig(t, dir, "name: x\ndata: {train: images, validation: val}\nmodel: {layers: [flatten, {dense: {units: classes}}]}\n")
	m, err := Load[float32](cfg)
	if err != nil {
		t.Fatal(err)
	}
	if m.Data.Val.Len() != 6 || *m.Data.Image != (data.ImageOptions{Channels: 1, Size: [2]int{8, 8}, Resize: "bilinear"}) {
		t.Errorf("%d validation samples, image options %+v", m.Data.Val.Len(), *m.Data.Image)
	}
}

// TestTrainersHaveTheirOwnEpoch: two trainers on one Data (parallel
// comparison trials) do not share the epoch of the augmented split.
func TestTrainersHaveTheirOwnEpoch(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteImageFolder(t, filepath.Join(dir, "images"), 2, 8, 8, 8, true)
	cfg := testutil.LoadConfig(t, dir, imageConfig)
	m, err := Load[float32](cfg)
	if err != nil {
		t.Fatal(err)
	}
	pool := NewPool(1)
	defer pool.Close()
	var trainers [2]*Trainer[float32]
	for i := range trainers {
		net, err := m.InitNetwork(8)
		if err != nil {
			t.Fatal(err)
		}
		trainers[i] = NewTrainer(cfg, net, optim.New[float32](cfg.Optimizer.Optim, net.NumParams()), pool.Ctx(), m.Data.Train, m.Data.Classes)
	}
	trainers[0].Train.(epochSplit[float32]).SetEpoch(5)
	if trainers[1].Train.(*tabular[float32]).epoch != 0 || m.Data.Train.(*tabular[float32]).epoch != 0 {
		t.Error("setting one trainer's epoch set another's")
	}
}
