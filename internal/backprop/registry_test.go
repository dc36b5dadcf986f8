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
