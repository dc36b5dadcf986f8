package train

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/nettrain/nettrain/internal/safetensors"
	"github.com/nettrain/nettrain/internal/testutil"
)

// TestGivenOverridesInitFrom: parameter values typed in the config replace
// the initialiser and model.init_from; parameters not given keep theirs.
func TestGivenOverridesInitFrom(t *testing.T) {
	dir := t.TempDir()
	err := safetensors.Write(filepath.Join(dir, "init.safetensors"), []safetensors.Tensor{
		{Name: "0.weight", Shape: []int{2, 2}, Data: []float32{1, 2, 3, 4}},
		{Name: "0.bias", Shape: []int{2}, Data: []float32{5, 6}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := testutil.LoadConfig(t, dir, `model:
  input: [2]
  init_from: init.safetensors
  layers:
    - dense: {units: 2, bias: [0.25, -0.125]}
loss: mse
`)
	m, err := Load[float32](cfg)
	if err != nil {
		t.Fatal(err)
	}
	net, err := m.InitNetwork(1)
	if err != nil {
		t.Fatal(err)
	}
	if w, b := net.Params[0].W, net.Params[1].W; !slices.Equal(w, []float32{1, 2, 3, 4}) || !slices.Equal(b, []float32{0.25, -0.125}) {
		t.Errorf("weight %v (want init_from's), bias %v (want the config's)", w, b)
	}
}
