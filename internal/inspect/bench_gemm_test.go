package inspect

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/nettrain/nettrain/internal/testutil"
	"github.com/nettrain/nettrain/internal/train"
)

// TestRecordGemms: the products of one training step, as a BLAS would see
// them. A dense layer multiplies X W^T forward, dY^T X for its weights and
// dY W for its input (not for the first layer); a stride-1 convolution
// runs one product per sample reading its padded image in place.
func TestRecordGemms(t *testing.T) {
	type shape struct {
		ta, tb  bool
		m, n, k int
		rows    bool
		calls   int
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "d.csv"), []byte("a,b,c,d,y\n1,2,3,4,0\n3,4,5,6,1\n5,6,7,8,0\n7,8,9,1,1\n"), 0o644)
	testutil.WriteImageFolder(t, filepath.Join(dir, "img"), 2, 3, 8, 8, false)
	for _, c := range []struct {
		name, yaml string
		want       []shape
	}{
		{"mlp", `name: g
data: {train: d.csv, validation_split: 0}
model: {layers: [{dense: {units: 3}}, relu, {dense: {units: 2}}]}
loss: cross_entropy
optimizer: {name: sgd, lr: 0.1}
training: {epochs: 1, batch_size: 2}
`, []shape{
			{false, true, 2, 3, 4, false, 1},  // X W1^T
			{true, false, 3, 4, 2, false, 1},  // dW1 = dY^T X
			{false, true, 2, 2, 3, false, 1},  // H W2^T
			{true, false, 2, 3, 2, false, 1},  // dW2
			{false, false, 2, 3, 2, false, 1}, // dH = dY W2
		}},
		{"cnn", `name: g
data: {train: img, validation_split: 0, image: {channels: 1, size: [8, 8]}}
model: {layers: [{conv2d: {filters: 2, kernel: 3, padding: 1}}, relu, flatten, {dense: {units: 2}}]}
loss: cross_entropy
optimizer: {name: sgd, lr: 0.1}
training: {epochs: 1, batch_size: 4}
`, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := testutil.LoadConfig(t, dir, c.yaml)
			m, err := train.LoadWithData[float32](cfg, "test")
			if err != nil {
				t.Fatal(err)
			}
			net, err := m.InitNetwork(cfg.Training.BatchSize)
			if err != nil {
				t.Fatal(err)
			}
			got := recordGemms(cfg, m, net)
			if c.want == nil { // the convolution: per-sample products read in place
				var conv int
				for _, s := range got {
					if s.Rows {
						conv++
						if s.Calls != 4 || !s.TA || s.M != 2 || s.K != 10 {
							t.Errorf("convolution product %+v: want 4 calls (one per sample) of 2 filters over 9 taps and the bias row", s)
						}
					}
				}
				if conv == 0 {
					t.Errorf("no convolution product read in place among %+v", got)
				}
				return
			}
			if len(got) != len(c.want) {
				t.Fatalf("recorded %+v, want %d shapes", got, len(c.want))
			}
			for _, w := range c.want {
				found := false
				for _, s := range got {
					found = found || (s == GemmShape{TA: w.ta, TB: w.tb, M: w.m, N: w.n, K: w.k, Rows: w.rows, Calls: w.calls})
				}
				if !found {
					t.Errorf("no %+v among %+v", w, got)
				}
			}
		})
	}
}
