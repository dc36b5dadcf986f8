package train

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/checkpoint"
	"github.com/nettrain/nettrain/internal/data"
	"github.com/nettrain/nettrain/internal/testutil"
)

// TestFromPreprocess: a model made from the stored preprocessing (after a
// JSON round trip, as in a checkpoint) reads a file into the same batches,
// bit for bit, as the model fitted on the training data, and scores the
// same baseline; no training data is read.
func TestFromPreprocess(t *testing.T) {
	var b strings.Builder
	b.WriteString("w,h,name,size\n")
	for i := range 60 {
		fmt.Fprintf(&b, "%g,%g,%s,%g\n", math.Sin(float64(i))*3, float64(i%7)+0.1, []string{"cat", "dog", "eel"}[i%3], float64(i)/10)
	}
	csv := b.String()
	for _, tc := range []struct{ name, config string }{
		{"classes by name, standardised", `name: p
seed: 3
data: {train: d.csv, validation_split: 0.25, normalize: standardize, csv: {label: name, features: [size, w]}}
model: {layers: [{dense: {units: 4}}, relu, {dense: {units: 3}}]}
loss: cross_entropy
optimizer: {name: sgd, lr: 0.1}
training: {epochs: 1, batch_size: 8}
`},
		{"regression, minmax", `name: p
seed: 3
data: {train: d.csv, validation_split: 0.25, normalize: minmax, csv: {targets: [size, h], features: [w]}}
model: {layers: [{dense: {units: 2}}]}
loss: mse
optimizer: {name: sgd, lr: 0.1}
training: {epochs: 1, batch_size: 8}
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "d.csv"), []byte(csv), 0o644)
			cfg := testutil.LoadConfig(t, dir, tc.config)
			fitted, err := Load[float64](cfg)
			if err != nil {
				t.Fatal(err)
			}
			js, err := json.Marshal(fitted.Data.Preprocess())
			if err != nil {
				t.Fatal(err)
			}
			var p checkpoint.Preprocess
			if err := json.Unmarshal(js, &p); err != nil {
				t.Fatal(err)
			}
			// The training file is gone: the stored model needs none.
			os.Rename(filepath.Join(dir, "d.csv"), filepath.Join(dir, "new.csv"))
			stored, err := FromPreprocess[float64](cfg, &p, "c.safetensors")
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(stored.Graph.Input, fitted.Graph.Input) || stored.Classes() != fitted.Classes() || !slices.Equal(stored.Data.ClassNames, fitted.Data.ClassNames) {
				t.Fatalf("stored model: input %v, %d classes %v; fitted: %v, %d %v", stored.Graph.Input, stored.Classes(), stored.Data.ClassNames,
					fitted.Graph.Input, fitted.Classes(), fitted.Data.ClassNames)
			}
			fill := func(m *Model[float64]) ([]float64, []float64, *Baseline) {
				s, err := m.Data.LoadFile(filepath.Join(dir, "new.csv"))
				if err != nil {
					t.Fatal(err)
				}
				n := s.Len()
				pos := make([]int, n)
				for i := range pos {
					pos[i] = i
				}
				x := make([]float64, n*backprop.Prod(m.Graph.Input))
				var labels []int32
				var values []float64
				if m.Classes() > 0 {
					labels = make([]int32, n)
				} else {
					values = make([]float64, n*m.Data.TargetDim())
				}
				s.Fill(pos, x, labels, values)
				for _, l := range labels {
					values = append(values, float64(l))
				}
				return x, values, s.(baseliner).baseline(backprop.CrossEntropy, 1)
			}
			x1, y1, b1 := fill(fitted)
			x2, y2, b2 := fill(stored)
			if !slices.Equal(x1, x2) || !slices.Equal(y1, y2) {
				t.Errorf("batches differ:\n%v %v\n%v %v", x1[:4], y1[:4], x2[:4], y2[:4])
			}
			if b1 == nil || !reflect.DeepEqual(*b1, *b2) {
				t.Errorf("baselines differ: %+v, %+v", b1, b2)
			}
		})
	}
}

// TestFromPreprocessOtherInput: a checkpoint of a model with other inputs
// than the config states is refused naming both files.
func TestFromPreprocessOtherInput(t *testing.T) {
	cfg := testutil.LoadConfig(t, t.TempDir(), `name: p
data: {train: d.csv}
model: {input: [784], layers: [{dense: {units: 3}}]}
loss: cross_entropy
optimizer: {name: sgd, lr: 0.1}
training: {epochs: 1, batch_size: 8}
`)
	p := &checkpoint.Preprocess{Kind: checkpoint.KindImages, Input: []int{1, 28, 28}, Classes: 10}
	_, err := FromPreprocess[float32](cfg, p, "runs/cnn/best.safetensors")
	want := "model.input is [784], but runs/cnn/best.safetensors was trained on inputs of shape [1 28 28]"
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), cfg.File) {
		t.Fatalf("error %v, want %q after the config's name", err, want)
	}
}

// TestBaselineInTheRunsLoss: the class-frequency baseline's loss is the
// config's loss of always outputting the smoothed training frequencies p
// (for cross_entropy, as logits log p), computed here with the loss
// itself: eval compared a half_sse model with a cross-entropy baseline.
func TestBaselineInTheRunsLoss(t *testing.T) {
	labels := []int32{0, 0, 0, 1, 2, 2, 0, 2, 1, 0, 0, 2}
	idx := make([]int, len(labels))
	for i := range idx {
		idx[i] = i
	}
	s := &tabular[float64]{sub: data.Subset{DS: &data.Dataset{N: len(labels), Labels: labels}, Idx: idx}, freq: []float64{40, 7, 23}}
	total := 40 + 7 + 23 + 3.0
	n := len(labels)
	// The model may have more outputs than the training data has classes
	// (the extra ones predicted 0).
	for _, width := range []int{3, 5} {
		for _, loss := range backprop.Losses {
			got := s.baseline(loss, width)
			out := make([]float64, 0, n*width)
			for range n {
				for k := range width {
					p := 0.0
					if k < len(s.freq) {
						p = (s.freq[k] + 1) / total
					}
					if loss == backprop.CrossEntropy {
						p = math.Log(p) // -Inf for the extra outputs: exp gives 0
					}
					out = append(out, p)
				}
			}
			fn := backprop.NewLoss[float64](loss, []int{width}, n)
			want, _, _ := fn.Forward(out, backprop.Target[float64]{Labels: labels}, n)
			if got == nil || math.Abs(got.Loss-want) > 1e-12*math.Max(1, want) {
				t.Errorf("%s, %d outputs: baseline %+v, want loss %g", loss, width, got, want)
			}
		}
	}
}
