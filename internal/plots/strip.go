package plots

import (
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// divergedStrip is the band above the data where the crosses of diverged
// runs go: [bottom, top] in axis units, a gap above the data's maximum
// (dataMax), one row per series with diverged runs. It is drawn as a grey
// band with a line at its foot; the y axis labels it "diverged" and
// labels no value above the data, so that a cross cannot be read as a
// loss.
type divergedStrip struct {
	dataMax, bottom, top float64
	rows                 int
	log                  bool
}

// Fractions of the data's range (of its decades on a log axis): the gap
// between the data and the strip, and the strip's height per row of
// crosses (at least stripMin, at most stripMax).
const (
	stripGap    = 0.04
	stripPerRow = 0.05
	stripMin    = 0.1
	stripMax    = 0.3
)

// newStrip places the strip above data spanning [lo, hi], for rows series
// with diverged runs, on a log axis or not.
func newStrip(lo, hi float64, rows int, log bool) *divergedStrip {
	h := min(stripMax, max(stripMin, stripPerRow*float64(rows)))
	s := &divergedStrip{dataMax: hi, rows: rows, log: log}
	if log {
		r := hi / lo
		if !(r > 1) {
			r = 100 // one value: the decade either side of it
		}
		s.bottom = hi * math.Pow(r, stripGap)
		s.top = s.bottom * math.Pow(r, h)
		return s
	}
	r := hi - lo
	if r == 0 {
		r = math.Max(math.Abs(hi)*0.1, 1e-3)
	}
	s.bottom = hi + stripGap*r
	s.top = s.bottom + h*r
	return s
}

// row is the height of row k (0-based) of crosses: the rows evenly
// inside the strip, clear of its edges.
func (s *divergedStrip) row(k int) float64 {
	f := 0.15 + 0.7*(float64(k)+0.5)/float64(s.rows)
	if s.log {
		return s.bottom * math.Pow(s.top/s.bottom, f)
	}
	return s.bottom + (s.top-s.bottom)*f
}

// middle is the strip's centre, where the axis names it.
func (s *divergedStrip) middle() float64 {
	if s.log {
		return math.Sqrt(s.bottom * s.top)
	}
	return (s.bottom + s.top) / 2
}

// ticks wraps the y axis' ticker: its ticks up to the data's maximum, and
// one tick labelled "diverged" in the strip's middle.
func (s *divergedStrip) ticks(t plot.Ticker) plot.Ticker { return stripTicks{t, s} }

type stripTicks struct {
	plot.Ticker
	s *divergedStrip
}

func (t stripTicks) Ticks(min, max float64) []plot.Tick {
	limit := t.s.dataMax + 1e-9*math.Abs(t.s.dataMax)
	var out []plot.Tick
	for _, tk := range t.Ticker.Ticks(min, max) {
		if tk.Value <= limit {
			out = append(out, tk)
		}
	}
	return append(out, plot.Tick{Value: t.s.middle(), Label: "diverged"})
}

// stripColor is the band's fill; stripLine its foot's.
var (
	stripColor = color.RGBA{236, 236, 236, 255}
	stripLine  = color.RGBA{150, 150, 150, 255}
)

// Plot draws the band across the plotting area, under the crosses (it is
// added before the series).
func (s *divergedStrip) Plot(c draw.Canvas, p *plot.Plot) {
	_, trY := p.Transforms(&c)
	y0, y1 := trY(s.bottom), min(trY(s.top), c.Max.Y)
	c.FillPolygon(stripColor, []vg.Point{{X: c.Min.X, Y: y0}, {X: c.Max.X, Y: y0}, {X: c.Max.X, Y: y1}, {X: c.Min.X, Y: y1}})
	c.StrokeLine2(draw.LineStyle{Color: stripLine, Width: vg.Points(0.75), Dashes: []vg.Length{vg.Points(3), vg.Points(2)}}, c.Min.X, y0, c.Max.X, y0)
}
