package model

import (
	"testing"

	"github.com/nettrain/nettrain/internal/backprop"
)

// TestLSTMAfterOneHot checks the link of the lstm registry entry: an lstm
// right after a onehot layer reads one-hot rows (the gather path), after
// an embedding it does not, and the parameters are the same either way.
func TestLSTMAfterOneHot(t *testing.T) {
	src := func(first string) string {
		return `name: t
data:
  train: x.txt
  sequence: {kind: text, window: 8}
model:
  layers:
    - ` + first + `
    - lstm: {units: 4, layers: 2}
    - dense: {units: classes}
loss: cross_entropy
optimizer: {name: adam}
training: {epochs: 1}
`
	}
	for _, tc := range []struct {
		first  string
		oneHot bool
	}{{"onehot", true}, {"embedding: {dim: 6}", false}} {
		c, err := parse(t, src(tc.first))
		if err != nil {
			t.Fatal(err)
		}
		s := mustBuild(t, c, &DataInfo{Input: []int{8}, Classes: 6, Vocab: 6, Tokens: true}).Specs[1].(backprop.LSTMSpec)
		if s.OneHot != tc.oneHot {
			t.Errorf("%s: LSTMSpec.OneHot = %v", tc.first, s.OneHot)
		}
		if p := s.Params()[0]; p.Name != "weight_ih_l0" || p.Shape[0] != 16 || p.Shape[1] != 6 {
			t.Errorf("%s: first parameter %s %v", tc.first, p.Name, p.Shape)
		}
	}
}
