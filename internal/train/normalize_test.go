package train

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nettrain/nettrain/internal/model"
)

// TestNormalizeSpreadTooSmall: a feature (or a series' column) whose
// spread is too small for data.normalize to scale is an error at
// data.normalize's line and column, for tabular data and for a series
// alike: the fix is that setting (or the data), not data.train.
func TestNormalizeSpreadTooSmall(t *testing.T) {
	const tabular = "name: t\ndata:\n  train: d.csv\n  normalize: %s\nmodel: {layers: [{dense: {units: 1}}]}\nloss: mse\n"
	const series = "name: t\ndata:\n  train: d.csv\n  normalize: %s\n  validation_split: 0.2\n  sequence: {kind: series, window: 3}\nmodel: {layers: [{lstm: {units: 2}}, {dense: {units: 2}}]}\nloss: mse\n"
	var b strings.Builder
	b.WriteString("a,b\n")
	for i := range 40 {
		tiny := "0"
		if i%2 == 1 {
			tiny = "1e-40"
		}
		fmt.Fprintf(&b, "%s,%d\n", tiny, i%5)
	}
	for _, tc := range []struct {
		name, config, method, want string
	}{
		{"tabular, minmax", tabular, "minmax", `c.yaml:4:14: data.normalize: d.csv: column "a" (feature 0) has a range of only 1e-40`},
		{"tabular, standardize", tabular, "standardize", `c.yaml:4:14: data.normalize: d.csv: column "a" (feature 0) has a standard deviation of only 4.99e-41`},
		{"series, minmax", series, "minmax", `c.yaml:4:14: data.normalize: d.csv: column "a" has a range of only 1e-40`},
		{"series, standardize", series, "standardize", `c.yaml:4:14: data.normalize: d.csv: column "a" has a standard deviation of only 5e-41`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "d.csv"), []byte(b.String()), 0o644)
			src := fmt.Sprintf(tc.config, tc.method)
			cfg, err := model.Parse(filepath.Join(dir, "c.yaml"), []byte(src), nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Load[float32](cfg)
			if err == nil || !strings.HasPrefix(strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), ""), tc.want) {
				t.Errorf("Load: %v\nwant an error starting %s", err, tc.want)
			}
		})
	}
}
