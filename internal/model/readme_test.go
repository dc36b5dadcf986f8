package model

import (
	"os"
	"strings"
	"testing"

	"github.com/spf13/viper"
)

// TestREADMEConfigReference parses the config reference block of the
// README exactly as written: the documented defaults must be valid.
func TestREADMEConfigReference(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	start := strings.Index(readme, "## Config reference")
	if start < 0 {
		t.Fatal("no Config reference section")
	}
	block := readme[start:]
	i := strings.Index(block, "```yaml\n")
	j := strings.Index(block[i+8:], "```")
	if i < 0 || j < 0 {
		t.Fatal("no yaml block in the Config reference section")
	}
	src := block[i+8 : i+8+j]
	c, err := Parse("README.md", []byte(src), nil, viper.New())
	if err != nil {
		t.Fatalf("the README's config reference does not load: %v", err)
	}
	if c.Name != "mnist-mlp" || c.Training.Epochs != 3 || c.Compare.GridPoints != 7 {
		t.Errorf("decoded %+v", c.Training)
	}
}

// TestEveryLayerKindIsDocumented: each registered layer kind has a row in
// the README's Layers table.
func TestEveryLayerKindIsDocumented(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	start := strings.Index(readme, "### Layers")
	end := strings.Index(readme[start+1:], "\n### ")
	if start < 0 || end < 0 {
		t.Fatal("no Layers section in the README")
	}
	table := readme[start : start+1+end]
	for _, kind := range LayerKinds() {
		if !strings.Contains(table, "| `"+kind+"`") && !strings.Contains(table, "| `"+kind+":") && !strings.Contains(table, ", `"+kind+"`") {
			t.Errorf("layer kind %s has no row in the README's Layers table", kind)
		}
	}
}
