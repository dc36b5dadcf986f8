package plots

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
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

// TestDistinctStyles: nine series differ pairwise in colour, dash pattern
// or marker, and in dash pattern or marker alone (grey print).
func TestDistinctStyles(t *testing.T) {
	type style struct{ dash, glyph int }
	seen := map[style]int{}
	for i := 0; i < 9; i++ {
		st := style{i % len(dashes), i % len(glyphs)}
		if j, ok := seen[st]; ok {
			t.Errorf("series %d and %d share dash pattern and marker", j, i)
		}
		seen[st] = i
		for j := 0; j < i; j++ {
			if distinct[i] == distinct[j] {
				t.Errorf("series %d and %d share a colour", j, i)
			}
		}
	}
}

// TestLogTicksLabelANarrowAxis: an axis inside one decade still gets at
// least two labelled ticks (once it had one).
func TestLogTicksLabelANarrowAxis(t *testing.T) {
	for _, r := range [][2]float64{{0.31, 0.48}, {2500, 3300}, {0.02, 30}, {1e-5, 100}} {
		n := 0
		for _, tk := range (logTicks{}).Ticks(r[0], r[1]) {
			if tk.Label != "" {
				n++
			}
		}
		if n < 2 {
			t.Errorf("axis %v: %d labelled ticks", r, n)
		}
	}
}

// TestAutoLogYAndDiverged: a chart whose data span more than a factor of
// 10 gets a log y axis; diverged runs widen the axis above the data.
func TestAutoLogYAndDiverged(t *testing.T) {
	c := Chart{AutoLogY: true, LegendOutside: true, Distinct: true, Series: []Series{
		{Label: "a", X: []float64{1, 2, 3}, Y: []float64{1, 100, 2}},
		{Label: "b", X: []float64{1, 2}, Y: []float64{3, 4}, Diverged: []float64{2.5}},
	}}
	p, leg, err := c.plot("x.png")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.Y.Scale.(plot.LogScale); !ok {
		t.Errorf("y scale %T, want log", p.Y.Scale)
	}
	if !(p.Y.Max > 100) {
		t.Errorf("y max %g: no strip above the data for the crosses", p.Y.Max)
	}
	if leg == nil {
		t.Error("no outside legend")
	}
	c.Series[0].Y[1] = 5
	if p, _, _ = c.plot("x.png"); p.Y.Scale != nil {
		if _, ok := p.Y.Scale.(plot.LogScale); ok {
			t.Error("log y for data within a factor of 10")
		}
	}
	if err := c.Save(filepath.Join(t.TempDir(), "c.png"), 6*vg.Inch, 3*vg.Inch); err != nil {
		t.Error(err)
	}
}

// TestThin: a line of more than maxLinePoints points is drawn through at
// most that many, keeping its ends, its extremes, the order of x and a
// gap where a run of it is NaN; a shorter one is drawn whole.
func TestThin(t *testing.T) {
	line := func(n int, y func(i int) float64) plotter.XYs {
		xys := make(plotter.XYs, n)
		for i := range xys {
			xys[i] = plotter.XY{X: float64(i), Y: y(i)}
		}
		return xys
	}
	short := line(maxLinePoints, func(i int) float64 { return float64(i % 7) })
	if got := thin(short); len(got) != len(short) {
		t.Errorf("%d points thinned to %d", len(short), len(got))
	}
	for _, tc := range []struct {
		name string
		n    int
		y    func(i int) float64
	}{
		{"ramp", 1_000_000, func(i int) float64 { return float64(i) }},
		{"spikes", 100_003, func(i int) float64 {
			switch i {
			case 54_321:
				return 1e6
			case 77_777:
				return -1e6
			}
			return math.Sin(float64(i) / 100)
		}},
		{"nan run", 50_000, func(i int) float64 {
			if i >= 20_000 && i < 30_000 {
				return math.NaN()
			}
			return float64(i % 13)
		}},
	} {
		xys := line(tc.n, tc.y)
		got := thin(xys)
		if len(got) > maxLinePoints || got[0] != xys[0] || got[len(got)-1] != xys[len(xys)-1] {
			t.Errorf("%s: %d points, ends %v %v", tc.name, len(got), got[0], got[len(got)-1])
			continue
		}
		lo, hi, nan := math.Inf(1), math.Inf(-1), false
		for i, p := range got {
			if i > 0 && p.X <= got[i-1].X {
				t.Errorf("%s: x not increasing at %d", tc.name, i)
				break
			}
			if math.IsNaN(p.Y) {
				nan = true
				continue
			}
			lo, hi = min(lo, p.Y), max(hi, p.Y)
		}
		wantLo, wantHi, wantNaN := math.Inf(1), math.Inf(-1), false
		for _, p := range xys {
			if math.IsNaN(p.Y) {
				wantNaN = true
				continue
			}
			wantLo, wantHi = min(wantLo, p.Y), max(wantHi, p.Y)
		}
		if lo != wantLo || hi != wantHi || nan != wantNaN {
			t.Errorf("%s: range [%g, %g] NaN %v, want [%g, %g] NaN %v", tc.name, lo, hi, nan, wantLo, wantHi, wantNaN)
		}
	}
}
