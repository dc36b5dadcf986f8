package plots

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"
)

// TestDivergedStripIsApartFromTheData: the crosses of diverged runs sit in
// a strip above the data that reads as no loss at all: no y tick labels a
// value above the data (a cross would read as that loss), and the strip
// is named on the plot itself, not only in the legend.
func TestDivergedStripIsApartFromTheData(t *testing.T) {
	line := func(label string, ys ...float64) Series {
		s := Series{Label: label, Points: true}
		for i, y := range ys {
			s.X, s.Y = append(s.X, float64(i+1)), append(s.Y, y)
		}
		return s
	}
	div := func(s Series, xs ...float64) Series { s.Diverged = xs; return s }
	tests := []struct {
		name string
		c    Chart
	}{
		{"linear, one series diverged", Chart{Series: []Series{line("a", 3300, 3400, 30000), div(line("b", 3500, 4000), 3, 4)}}},
		{"linear, three series diverged at the same rates", Chart{Series: []Series{div(line("a", 3300, 29000), 3), div(line("b", 3500, 4000), 3), div(line("c", 5000, 6000), 3, 4)}}},
		{"log y, as iris's sensitivity", Chart{AutoLogY: true, LogX: true, LegendOutside: true, Distinct: true,
			Series: []Series{line("adam", 1.15, 0.4, 0.048), div(line("rmsprop", 1.1, 0.18), 3)}}},
		{"log y, narrow", Chart{AutoLogY: true, Series: []Series{line("a", 0.31, 0.4), div(line("b", 0.35, 0.48), 2)}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, _, err := tc.c.plot("x.png")
			if err != nil {
				t.Fatal(err)
			}
			_, hi := tc.c.extent()
			if !(p.Y.Max > hi[1]) {
				t.Fatalf("y max %g: no strip above the data (max %g)", p.Y.Max, hi[1])
			}
			for _, tk := range p.Y.Tick.Marker.Ticks(p.Y.Min, p.Y.Max) {
				if _, err := strconv.ParseFloat(tk.Label, 64); err == nil && tk.Value > hi[1]*(1+1e-9) {
					t.Errorf("y tick %q above the data (max %g): a cross there reads as that loss", tk.Label, hi[1])
				}
			}
			path := filepath.Join(t.TempDir(), "c.svg")
			if err := tc.c.Save(path, 8*vg.Inch, 4*vg.Inch); err != nil {
				t.Fatal(err)
			}
			svg, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(string(svg), ">diverged"); n < 2 {
				t.Errorf("the strip is named %d times (the legend's, and on the plot)", n)
			}
		})
	}
}
