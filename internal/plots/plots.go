package plots

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/nettrain/nettrain/internal/safeio"
)

// Series is one labelled line, with an optional band (Lo, Hi around Y, e.g.
// the spread over seeds) drawn shaded behind it.
type Series struct {
	Label  string
	X, Y   []float64
	Lo, Hi []float64 // optional, same length as X
	Dashed bool
	Points bool // mark the points
}

// Chart is a line chart.
type Chart struct {
	Title, XLabel, YLabel string
	LogX, LogY            bool
	Series                []Series
}

// palette is the Okabe-Ito colour-blind-friendly set plus two; series
// beyond it reuse the colours with dashed lines.
var palette = []color.RGBA{
	{0, 114, 178, 255}, {213, 94, 0, 255}, {0, 158, 115, 255}, {204, 121, 167, 255},
	{230, 159, 0, 255}, {86, 180, 233, 255}, {0, 0, 0, 255}, {200, 180, 0, 255},
	{128, 128, 128, 255}, {140, 70, 20, 255},
}

// Save draws the chart into path; the extension (.png or .svg) picks the
// format.
func (c Chart) Save(path string, width, height vg.Length) (err error) {
	defer func() {
		if r := recover(); r != nil { // gonum/plot panics on some degenerate inputs
			err = fmt.Errorf("cannot draw plot %s: %v", path, r)
		}
	}()
	// A log axis needs positive values and a range; fall back to a linear
	// axis when the data have none.
	lo, hi := c.extent()
	if c.LogX && !(lo[0] > 0) {
		c.LogX = false
	}
	if c.LogY && !(lo[1] > 0) {
		c.LogY = false
	}
	p := plot.New()
	p.Title.Text = c.Title
	p.X.Label.Text = c.XLabel
	p.Y.Label.Text = c.YLabel
	if c.LogX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
		if lo[0] == hi[0] {
			p.X.Min, p.X.Max = lo[0]/10, hi[0]*10
		}
	}
	if c.LogY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
		if lo[1] == hi[1] {
			p.Y.Min, p.Y.Max = lo[1]/10, hi[1]*10
		}
	}
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	// Bands first, so that every line is drawn above every band.
	for i, s := range c.Series {
		col := palette[i%len(palette)]
		if len(s.Lo) == len(s.X) && len(s.Hi) == len(s.X) && len(s.X) > 1 {
			poly := make(plotter.XYs, 0, 2*len(s.X))
			for k := range s.X {
				poly = append(poly, plotter.XY{X: s.X[k], Y: s.Hi[k]})
			}
			for k := len(s.X) - 1; k >= 0; k-- {
				poly = append(poly, plotter.XY{X: s.X[k], Y: s.Lo[k]})
			}
			band, err := plotter.NewPolygon(poly)
			if err != nil {
				return fmt.Errorf("plot %s: %w", path, err)
			}
			// An opaque tint (the colour blended with white): translucent
			// fills get dark fringes from the PNG rasteriser.
			tint := func(c uint8) uint8 { return uint8(255 - (255-int(c))*25/100) }
			band.Color = color.RGBA{tint(col.R), tint(col.G), tint(col.B), 255}
			band.LineStyle.Width = 0
			band.LineStyle.Color = color.Transparent
			p.Add(band)
		}
	}
	for i, s := range c.Series {
		col := palette[i%len(palette)]
		xys := make(plotter.XYs, len(s.X))
		for k := range s.X {
			xys[k] = plotter.XY{X: s.X[k], Y: s.Y[k]}
		}
		line, err := plotter.NewLine(xys)
		if err != nil {
			return fmt.Errorf("plot %s: series %q: %w", path, s.Label, err)
		}
		line.Color = col
		line.Width = vg.Points(1.5)
		if s.Dashed || i >= len(palette) {
			line.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		}
		p.Add(line)
		if s.Points {
			sc, err := plotter.NewScatter(xys)
			if err != nil {
				return fmt.Errorf("plot %s: %w", path, err)
			}
			sc.GlyphStyle.Color = col
			sc.GlyphStyle.Shape = draw.CircleGlyph{}
			sc.GlyphStyle.Radius = vg.Points(2)
			p.Add(sc)
		}
		p.Legend.Add(s.Label, line)
	}
	ext := strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	if ext != "png" && ext != "svg" {
		return fmt.Errorf("plot %s: unknown image format %q (png or svg)", path, ext)
	}
	wt, err := p.WriterTo(width, height, ext)
	if err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	// Atomically, as every file nettrain writes.
	return safeio.WriteWith(path, func(w io.Writer) error {
		_, err := wt.WriteTo(w)
		return err
	})
}

// extent returns the smallest and largest x and y of every series.
func (c Chart) extent() (lo, hi [2]float64) {
	lo = [2]float64{math.Inf(1), math.Inf(1)}
	hi = [2]float64{math.Inf(-1), math.Inf(-1)}
	for _, s := range c.Series {
		for k := range s.X {
			lo[0], hi[0] = math.Min(lo[0], s.X[k]), math.Max(hi[0], s.X[k])
			ys := []float64{s.Y[k]}
			if len(s.Lo) == len(s.X) {
				ys = append(ys, s.Lo[k], s.Hi[k])
			}
			for _, y := range ys {
				lo[1], hi[1] = math.Min(lo[1], y), math.Max(hi[1], y)
			}
		}
	}
	return lo, hi
}
