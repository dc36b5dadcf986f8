package export_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/export"
	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/safetensors"
	"github.com/nettrain/nettrain/internal/testutil"
)

// TestWeights writes the weights of networks of every parameterised kind
// and reads the file back: exactly the state_dict names and shapes (in
// order), the values, and no metadata.
func TestWeights(t *testing.T) {
	for _, c := range []struct {
		name, input, layers string
		want                []string
	}{
		{"mlp", "[4]", "[{dense: {units: 3}}, relu, {dropout: {p: 0.1}}, {dense: {units: 2, bias: false}}]",
			[]string{"0.weight [3 4]", "0.bias [3]", "3.weight [2 3]"}},
		{"cnn", "[1, 6, 6]", "[{conv2d: {filters: 2, kernel: 3}}, {maxpool2d: {size: 2}}, flatten, {dense: {units: 2}}]",
			[]string{"0.weight [2 1 3 3]", "0.bias [2]", "3.weight [2 8]", "3.bias [2]"}},
		{"lstm", "[5]", "[{embedding: {dim: 3, vocab: 7}}, {lstm: {units: 4, layers: 2}}, {dense: {units: 7}}]",
			[]string{"0.weight [7 3]",
				"1.weight_ih_l0 [16 3]", "1.weight_hh_l0 [16 4]", "1.bias_ih_l0 [16]", "1.bias_hh_l0 [16]",
				"1.weight_ih_l1 [16 4]", "1.weight_hh_l1 [16 4]", "1.bias_ih_l1 [16]", "1.bias_hh_l1 [16]",
				"2.weight [7 4]", "2.bias [7]"}},
		{"batchnorm residual", "[2, 4, 4]", "[{residual: {layers: [{conv2d: {filters: 3, kernel: 3, stride: 2, padding: 1, bias: false}}, batchnorm], projection: conv}}]",
			[]string{"0.body.0.weight [3 2 3 3]", "0.body.1.weight [3]", "0.body.1.bias [3]", "0.projection.weight [3 2 1 1]", "0.projection.bias [3]",
				"0.body.1.running_mean [3]", "0.body.1.running_var [3]", "0.body.1.num_batches_tracked []"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := testutil.LoadConfig(t, dir, fmt.Sprintf("model:\n  input: %s\n  layers: %s\nloss: mse\n", c.input, c.layers))
			g, err := model.Build(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			net := backprop.NewNetwork[float32](g.Input, g.Specs, g.Loss, 1)
			for i := range net.W {
				net.W[i] = float32(i) / 7
			}
			for i := range net.B {
				net.B[i] = float32(i)
			}
			path := filepath.Join(dir, "w.safetensors")
			if err := safetensors.Write(path, export.Weights(net), nil); err != nil {
				t.Fatal(err)
			}
			f, err := safetensors.Read(path)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, name := range f.Names() {
				if info, _ := f.Info(name); info.DType == safetensors.I64 {
					v, shape, err := f.Int64(name)
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, fmt.Sprintf("%s %v", name, shape))
					if b := net.Buffers[len(net.Buffers)-1]; b.Name != name || float32(v[0]) != b.W[0] {
						t.Errorf("%s: %v, the network's %s holds %v", name, v, b.Name, b.W)
					}
					continue
				}
				v, shape, err := f.Float32(name)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, fmt.Sprintf("%s %v", name, shape))
				p := net.Param(name)
				for _, b := range net.Buffers {
					if b.Name == name {
						p = b
					}
				}
				if p == nil || !slices.Equal(v, p.W) {
					t.Errorf("%s: values differ from the network's", name)
				}
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("tensors\n%v\nwant\n%v", got, c.want)
			}
			if len(f.Metadata) != 0 {
				t.Errorf("metadata %v, want none", f.Metadata)
			}
		})
	}
}
