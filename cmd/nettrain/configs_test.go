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

// TestEveryShippedConfigHasATorchModule: the README's Export section has
// a PyTorch module for every config in configs/ (a block whose first line
// names it), which scripts/exportcheck/check_torch.py loads the exported
// weights into; a new config without one would make that check fail.
func TestEveryShippedConfigHasATorchModule(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	i, j := strings.Index(text, "\n## Export\n"), strings.Index(text, "\n## Reliability\n")
	if i < 0 || j < i {
		t.Fatal("the README has no Export section before Reliability (check_torch.py reads it)")
	}
	var firsts []string
	for _, block := range strings.Split(text[i:j], "```python\n")[1:] {
		firsts = append(firsts, strings.SplitN(block, "\n", 2)[0])
	}
	paths, _ := filepath.Glob("../../configs/*.yaml")
	for _, p := range paths {
		name := "configs/" + filepath.Base(p)
		found := false
		for _, f := range firsts {
			found = found || strings.HasPrefix(f, "# configs/") && strings.Contains(f, name)
		}
		if !found {
			t.Errorf("the README's Export section has no PyTorch module for %s", name)
		}
	}
}
