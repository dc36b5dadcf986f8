package plots

import (
	"os"
	"path/filepath"
	"testing"

	"gonum.org/v1/plot/vg"
)

func TestSaveDegenerate(t *testing.T) {
	dir := t.TempDir()
	tests := []Chart{
		{Title: "one point on log axes", LogX: true, LogY: true, Series: []Series{{Label: "a", X: []float64{1e-30}, Y: []float64{1.1}}}},
		{Title: "zero on a log axis", LogX: true, Series: []Series{{Label: "a", X: []float64{0, 1}, Y: []float64{1, 2}}}},
		{Title: "band", Series: []Series{{Label: "a", X: []float64{0, 1, 2}, Y: []float64{1, 2, 3}, Lo: []float64{0, 1, 2}, Hi: []float64{2, 3, 4}}}},
		{Title: "many series", Series: func() []Series {
			var s []Series
			for i := 0; i < 12; i++ {
				s = append(s, Series{Label: "s", X: []float64{0, 1}, Y: []float64{float64(i), float64(i + 1)}})
			}
			return s
		}()},
	}
	for i, c := range tests {
		for _, ext := range []string{".png", ".svg"} {
			path := filepath.Join(dir, c.Title+ext)
			if err := c.Save(path, 4*vg.Inch, 3*vg.Inch); err != nil {
				t.Errorf("%d %s: %v", i, c.Title, err)
				continue
			}
			if st, err := os.Stat(path); err != nil || st.Size() == 0 {
				t.Errorf("%s: %v", path, err)
			}
		}
	}
	if err := (Chart{}).Save(filepath.Join(dir, "x.gif"), vg.Inch, vg.Inch); err == nil {
		t.Error("a .gif path was accepted")
	}
}
