package model

import (
	"strings"
	"testing"

	"github.com/spf13/viper"

	"github.com/nettrain/nettrain/internal/backprop"
)

// TestResidualConfig: both forms of a residual block decode to the same
// graph, an inner layer takes part in the model hash, and the nested
// parameter names follow the README's PyTorch module.
func TestResidualConfig(t *testing.T) {
	const head = "model:\n  input: [2, 6, 6]\n  layers:\n"
	list := head + "    - residual: [{conv2d: {filters: 2, kernel: 3, padding: 1}}, batchnorm]\n"
	mapping := head + "    - residual: {layers: [{conv2d: {filters: 2, kernel: 3, padding: 1}}, batchnorm]}\n"
	other := head + "    - residual: [{conv2d: {filters: 2, kernel: 3, padding: 1}}, {batchnorm: {eps: 0.001}}]\n"
	var hashes []string
	for _, src := range []string{list, mapping, other} {
		c, err := Parse("r.yaml", []byte(src), nil, viper.New())
		if err != nil {
			t.Fatal(err)
		}
		g, err := Build(c, nil)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, p := range g.Specs[0].Params() {
			names = append(names, p.Name)
		}
		for _, b := range backprop.BuffersOf(g.Specs[0]) {
			names = append(names, b.Name)
		}
		if got := strings.Join(names, " "); got != "body.0.weight body.0.bias body.1.weight body.1.bias body.1.running_mean body.1.running_var body.1.num_batches_tracked" {
			t.Errorf("names %s", got)
		}
		hashes = append(hashes, c.ModelHash())
	}
	if hashes[0] != hashes[1] || hashes[0] == hashes[2] {
		t.Errorf("model hashes %v: the two forms must agree and an inner layer's change must show", hashes)
	}
}
