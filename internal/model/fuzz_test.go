package model

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/viper"
)

// FuzzParse feeds arbitrary text to the config decoder: it must return a
// config or an error, never panic. The seed corpus is every shipped config
// plus testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	paths, _ := filepath.Glob("../../configs/*.yaml")
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(base))
	f.Fuzz(func(t *testing.T, src []byte) {
		c, err := Parse("fuzz.yaml", src, nil, viper.New())
		if err == nil && c == nil {
			t.Fatal("no config and no error")
		}
		if err != nil && err.Error() == "" {
			t.Fatal("empty error message")
		}
	})
}
