package backprop

import "testing"

// TestEveryKindNamesItsGradients: every layer kind says, for trace, what
// the gradient it passes below is (the textbook delta after an activation,
// W^T delta after a dense layer, ...): a kind added without it would show
// learners an unnamed quantity.
func TestEveryKindNamesItsGradients(t *testing.T) {
	for _, n := range KindNames() {
		k, _ := LookupKind(n)
		if k.Trace.GradIn == "" || k.Trace.Out == "" {
			t.Errorf("layer kind %s: Kind.Trace does not name its output and the gradient it passes below", n)
		}
	}
}

// TestNeedsSequenceSaysWhy: a layer over time given one vector per sample
// says what most likely gave it.
func TestNeedsSequenceSaysWhy(t *testing.T) {
	for _, c := range []struct {
		name string
		in   []int
		info *DataInfo
		want string
	}{
		{"text without an embedding", []int{3}, &DataInfo{Input: []int{3}, Tokens: true}, "got [3]: text's samples are token ids; put an embedding or onehot layer first"},
		{"a CSV's features", []int{4}, &DataInfo{Input: []int{4}}, "got [4]: the data gives one vector per sample (a CSV's feature columns, say); read a CSV series in windows with data.sequence"},
		{"an lstm's last step below", []int{3}, &DataInfo{Input: []int{12, 2}}, "got [3]: the layer below gives one vector per sample; an lstm or gru below passes every step with return_sequences: true"},
		{"no data", []int{3}, nil, "got [3]: one vector per sample; an lstm or gru below passes every step with return_sequences: true, and text needs an embedding or onehot layer first"},
		{"an image", []int{1, 4, 4}, &DataInfo{Input: []int{1, 4, 4}}, "got [1 4 4]"},
	} {
		for _, kind := range []string{"lstm", "gru", "conv1d", "maxpool1d"} {
			k, _ := LookupKind(kind)
			_, err := k.Build(k.Params(), c.in, c.info)
			want := "needs a sequence input (time steps, features), " + c.want
			if err == nil || err.Error() != want {
				t.Errorf("%s, %s: %v, want %q", c.name, kind, err, want)
			}
		}
	}
}
