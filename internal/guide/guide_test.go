package guide

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFailureSaysThePageIsStale: a failure after some problems' reports
// were rewritten says which ones, and that the page was not rebuilt (or
// not written), and how to go on.
func TestFailureSaysThePageIsStale(t *testing.T) {
	records, err := os.ReadFile(filepath.Join("..", "..", "docs", "guide", "mnist-mlp", "trials.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name       string
		page       bool
		reportOnly bool
		want       []string
	}{
		{"report, page there", true, true, []string{"fashion-mnist-cnn: ", "(the reports of mnist-mlp are new, but the page ", "README.md was not rebuilt and still describes the earlier records; rebuild it with the same command once the records are there)"}},
		{"report, no page", false, true, []string{"README.md was not written; rebuild it"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := t.TempDir()
			if err := os.MkdirAll(filepath.Join(out, "mnist-mlp"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(out, "mnist-mlp", "trials.jsonl"), records, 0o644); err != nil {
				t.Fatal(err)
			}
			if c.page {
				if err := os.WriteFile(filepath.Join(out, "README.md"), []byte(pageTitle+"\nold\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := Run(Options{Out: out, Problems: []string{"mnist-mlp", "fashion-mnist-cnn"}, LRGrid: 5, Seeds: 3, Workers: 1, Scale: 1, ReportOnly: c.reportOnly})
			if err == nil {
				t.Fatal("no error with fashion-mnist-cnn's records missing")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if c.page {
				if b, _ := os.ReadFile(filepath.Join(out, "README.md")); string(b) != pageTitle+"\nold\n" {
					t.Errorf("the page was changed:\n%s", b)
				}
			}
		})
	}
	// The first problem failing leaves nothing new to mention.
	if s := notRebuilt(nil, &Options{Out: "g"}); s != "" {
		t.Errorf("nothing done, yet %q", s)
	}
	if s := notRebuilt([]Result{{Problem: Suite[0]}}, &Options{Out: "g"}); !strings.Contains(s, "run the same command again: the trials done are kept") {
		t.Errorf("a run's note %q does not say how to go on", s)
	}
}

// TestConfigsMissing: run from another directory than the repository's
// root, the guide says where the suite's configs are before any work.
func TestConfigsMissing(t *testing.T) {
	for _, c := range []struct {
		dir  string
		want string
	}{
		{"configs", "--configs configs: no mnist-mlp.yaml there (no such file or directory): the suite's configs are the repository's configs/ directory; run from the repository's root or give --configs that directory"},
		{filepath.Join("..", "..", "configs"), ""},
	} {
		err := checkConfigs(c.dir, Suite[:1])
		if got := fmt.Sprint(err); (c.want == "") != (err == nil) || c.want != "" && got != c.want {
			t.Errorf("checkConfigs(%s) = %v, want %q", c.dir, err, c.want)
		}
	}
	out := t.TempDir()
	if _, err := Run(Options{ConfigsDir: filepath.Join(out, "configs"), Out: filepath.Join(out, "g"), LRGrid: 1, Seeds: 1, Workers: 1, Scale: 1}); err == nil || !strings.Contains(err.Error(), "run from the repository's root") {
		t.Errorf("Run without configs: %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, "g")); err == nil {
		t.Error("Run without configs left an output directory")
	}
}
