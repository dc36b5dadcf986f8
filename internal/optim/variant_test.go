package optim

import (
	"slices"
	"testing"
)

// TestVariantConfigForm: each comparison variant written as a config's
// optimizer mapping, with only the keys it changes.
func TestVariantConfigForm(t *testing.T) {
	tests := []struct {
		name     string
		form     string
		settings []string
	}{
		{"sgd", "{name: sgd}", nil},
		{"momentum", "{name: sgd, momentum: 0.9}", []string{"momentum 0.9"}},
		{"nesterov", "{name: sgd, momentum: 0.9, nesterov: true}", []string{"momentum 0.9", "nesterov true"}},
		{"adamw", "{name: adamw}", nil},
		{"nadam", "{name: nadam}", nil},
	}
	for _, tc := range tests {
		i := slices.IndexFunc(Variants(), func(v Variant) bool { return v.Name == tc.name })
		if i < 0 {
			t.Fatalf("no variant %s", tc.name)
		}
		v := Variants()[i]
		if got := v.ConfigForm(); got != tc.form {
			t.Errorf("%s: config form %q, want %q", tc.name, got, tc.form)
		}
		if got := v.Settings(); !slices.Equal(got, tc.settings) {
			t.Errorf("%s: settings %q, want %q", tc.name, got, tc.settings)
		}
	}
}
