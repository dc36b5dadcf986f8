package main

import (
	"github.com/nettrain/nettrain/internal/testutil"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestShippedConfigs runs summary, trace and a small gradcheck on every
// config in configs/ and configs/learn/: each must load its data, build,
// and pass.
func TestShippedConfigs(t *testing.T) {
	paths, _ := filepath.Glob("../../configs/*.yaml")
	learn, _ := filepath.Glob("../../configs/learn/*.yaml")
	paths = append(paths, learn...)
	if len(paths) < 11 {
		t.Fatalf("only %d configs", len(paths))
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			if strings.Contains(p, "fashion") {
				if _, err := os.Stat("/usr/share/datasets/fashion-mnist"); err != nil {
					testutil.NeedData(t, "Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
				}
			}
			for _, args := range [][]string{
				{"summary", p},
				{"trace", p, "--json"},
				{"gradcheck", p, "--samples", "1", "--max-entries", "6"},
			} {
				s, out, errOut := streams()
				if code := Main(args, s); code != 0 {
					t.Errorf("%v: exit %d: %s\n%s", args, code, errOut, out)
				}
				if args[0] == "gradcheck" && (!strings.Contains(out.String(), ": PASS") || strings.Contains(out.String(), "NOT CHECKED")) {
					t.Errorf("%v: not a pass with every tensor checked:\n%s", args, out)
				}
			}
		})
	}
}
