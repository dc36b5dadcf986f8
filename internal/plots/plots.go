package plots

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

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
	// Style, when set, is the index of the series' colour, dash pattern
	// and marker among the chart's styles (wrapping around): the same
	// index gives the same look on every chart, e.g. one per optimizer
	// across reports. Nil: the series' position in the chart.
	Style *int
	// Diverged are the x positions of runs of this series that diverged
	// (no finite value to draw): each is marked by a cross in the
	// series' colour, in a band above the data that the y axis names
	// "diverged" (divergedStrip).
	Diverged []float64
}

// Chart is a line chart.
type Chart struct {
	Title, XLabel, YLabel string
	LogX, LogY            bool
	Series                []Series
	// LegendRoom, when > 0, widens the y axis by that fraction of the
	// data's range (of its decades on a log axis) above the data (below
	// with LegendBottom), where the legend goes, so that it covers no
	// curve. 0: the axis fits the data and the legend sits over it.
	LegendRoom float64
	// LegendBottom puts the legend in the bottom right corner (top right
	// by default).
	LegendBottom bool
	// LegendOutside puts the legend in a column right of the plotting
	// area, where it covers nothing (LegendRoom is then not needed).
	LegendOutside bool
	// AutoLogY uses a log y axis when the data span more than a factor
	// of 10 (one spike would otherwise flatten every other curve).
	AutoLogY bool
	// Distinct gives every series its own colour, dash pattern and
	// marker shape (markers at a few points along each line), so that
	// nine series stay apart, in grey print too.
	Distinct bool
}

// palette is the Okabe-Ito colour-blind-friendly set plus two; series
// beyond it reuse the colours with dashed lines.
var palette = []color.RGBA{
	{0, 114, 178, 255}, {213, 94, 0, 255}, {0, 158, 115, 255}, {204, 121, 167, 255},
	{230, 159, 0, 255}, {86, 180, 233, 255}, {0, 0, 0, 255}, {200, 180, 0, 255},
	{128, 128, 128, 255}, {140, 70, 20, 255},
}

// style is series i's index among the styles: its Style, else i.
func (c Chart) style(i int) int {
	if s := c.Series[i].Style; s != nil && *s >= 0 {
		return *s
	}
	return i
}

// color is the colour of style k: a line's, its band's, its crosses'.
func (c Chart) color(k int) color.RGBA {
	if c.Distinct {
		return distinct[k%len(distinct)]
	}
	return palette[k%len(palette)]
}

// Save draws the chart into path; the extension (.png or .svg) picks the
// format.
func (c Chart) Save(path string, width, height vg.Length) error {
	return SaveStack(path, []Chart{c}, width, height)
}

// SaveWith is Save writing the file through write (a safeio.Batch's
// WriteWith, say: the plot then lands with the files written with it).
func (c Chart) SaveWith(path string, width, height vg.Length, write func(path string, content func(io.Writer) error) error) error {
	return saveStack(path, []Chart{c}, width, height, write)
}

// SaveStack draws charts one above the other into one image at path (the
// panels of a figure, e.g. loss, accuracy and learning rate over the same
// training), their plot areas aligned; the extension (.png or .svg) picks
// the format. The file is written atomically.
func SaveStack(path string, charts []Chart, width, height vg.Length) error {
	return saveStack(path, charts, width, height, safeio.WriteWith)
}

// saveStack is SaveStack writing the file through write.
func saveStack(path string, charts []Chart, width, height vg.Length, write func(path string, content func(io.Writer) error) error) (err error) {
	defer func() {
		if r := recover(); r != nil { // gonum/plot panics on some degenerate inputs
			err = fmt.Errorf("cannot draw plot %s: %v", path, r)
		}
	}()
	ext := strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	if ext != "png" && ext != "svg" {
		return fmt.Errorf("plot %s: unknown image format %q (png or svg)", path, ext)
	}
	if len(charts) == 0 {
		return fmt.Errorf("plot %s: no charts", path)
	}
	ps := make([][]*plot.Plot, len(charts))
	legends := make([]*plot.Legend, len(charts))
	var legendW vg.Length
	for i, c := range charts {
		p, leg, err := c.plot(path)
		if err != nil {
			return err
		}
		ps[i] = []*plot.Plot{p}
		if leg != nil {
			legends[i] = leg
			legendW = max(legendW, leg.Rectangle(draw.Canvas{}).Size().X)
		}
	}
	var canvas vg.CanvasWriterTo
	if ext == "png" {
		canvas = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(96))}
	} else {
		canvas = vgsvg.New(width, height)
	}
	dc := draw.New(canvas)
	area := dc
	if legendW > 0 {
		// The plots keep the left part; the legends get a column on the
		// right, each beside its own panel.
		area.Max.X -= legendW + vg.Points(12)
	}
	tiles := draw.Tiles{Rows: len(charts), Cols: 1, PadTop: vg.Points(4), PadBottom: vg.Points(4), PadX: vg.Points(4), PadY: vg.Points(10), PadLeft: vg.Points(4), PadRight: vg.Points(8)}
	for i, row := range plot.Align(ps, tiles, area) {
		ps[i][0].Draw(row[0])
		if leg := legends[i]; leg != nil {
			col := dc
			col.Min.X = area.Max.X + vg.Points(4)
			col.Min.Y, col.Max.Y = row[0].Min.Y, row[0].Max.Y-vg.Points(24) // below the title's line
			leg.Draw(col)
		}
	}
	// Atomically, as every file nettrain writes.
	return write(path, func(w io.Writer) error {
		_, err := canvas.WriteTo(w)
		return err
	})
}

// plot builds the chart's gonum plot, and its legend when the legend goes
// outside (else the plot holds it); path names it in errors.
func (c Chart) plot(path string) (*plot.Plot, *plot.Legend, error) {
	// A log axis needs positive values and a range; fall back to a linear
	// axis when the data have none.
	lo, hi := c.extent()
	if c.AutoLogY && lo[1] > 0 && hi[1] > 10*lo[1] {
		c.LogY = true
	}
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
		p.X.Tick.Marker = logTicks{}
		if lo[0] == hi[0] {
			p.X.Min, p.X.Max = lo[0]/10, hi[0]*10
		}
	}
	if c.LogY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = logTicks{}
		if lo[1] == hi[1] {
			p.Y.Min, p.Y.Max = lo[1]/10, hi[1]*10
		}
	}
	if c.LegendRoom > 0 && lo[1] <= hi[1] {
		// Room above (or below) the data for the legend, so that it
		// covers no curve.
		p.Y.Min, p.Y.Max = lo[1], hi[1]
		switch {
		case c.LogY && hi[1] > lo[1]:
			f := math.Pow(hi[1]/lo[1], c.LegendRoom)
			if c.LegendBottom {
				p.Y.Min = lo[1] / f
			} else {
				p.Y.Max = hi[1] * f
			}
		case c.LogY:
			// One value: the decade around it, set above.
			p.Y.Min, p.Y.Max = lo[1]/10, hi[1]*10
		default:
			r := hi[1] - lo[1]
			if r == 0 {
				r = math.Max(math.Abs(hi[1])*0.1, 1e-3)
				p.Y.Min, p.Y.Max = lo[1]-r/2, hi[1]+r/2
			}
			if c.LegendBottom {
				p.Y.Min -= r * c.LegendRoom
			} else {
				p.Y.Max += r * c.LegendRoom
			}
		}
	}
	if !c.LogX {
		p.X.Tick.Marker = niceTicks{}
	}
	if !c.LogY {
		p.Y.Tick.Marker = niceTicks{}
	}
	p.Legend.Top = !c.LegendBottom
	p.Add(plotter.NewGrid())
	// Bands first, so that every line is drawn above every band.
	for i, s := range c.Series {
		col := c.color(c.style(i))
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
				return nil, nil, fmt.Errorf("plot %s: %w", path, err)
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
	legend := &p.Legend
	if c.LegendOutside {
		l := plot.NewLegend()
		l.Top, l.Left = true, true
		if c.Distinct {
			l.Padding = vg.Points(3) // room for the markers
		}
		legend = &l
	}
	// Diverged runs are crosses in a strip above the data, apart from it:
	// a grey band, named "diverged" where the y axis labels values,
	// with no tick above the data (a cross must not read as a loss).
	nDiverging, kDiverging := 0, 0 // series with diverged runs; drawn so far
	anyDiverged := false
	for _, s := range c.Series {
		if len(s.Diverged) > 0 {
			nDiverging++
		}
	}
	var strip *divergedStrip
	if nDiverging > 0 && hi[1] >= lo[1] {
		strip = newStrip(lo[1], hi[1], nDiverging, c.LogY)
		top := strip.top
		if c.LegendRoom > 0 && !c.LegendBottom {
			top = math.Max(top, p.Y.Max)
		}
		if c.LogY && lo[1] == hi[1] {
			p.Y.Min = lo[1] / 10 // the decade around the one value, as above
		}
		p.Y.Max = top
		p.Y.Tick.Marker = strip.ticks(p.Y.Tick.Marker)
		p.Add(strip)
	}
	for i, s := range c.Series {
		k := c.style(i)
		col := c.color(k)
		xys := make(plotter.XYs, len(s.X))
		for k := range s.X {
			xys[k] = plotter.XY{X: s.X[k], Y: s.Y[k]}
		}
		thumbs := []plot.Thumbnailer{}
		if len(xys) > 0 {
			line, err := plotter.NewLine(thin(xys))
			if err != nil {
				return nil, nil, fmt.Errorf("plot %s: series %q: %w", path, s.Label, err)
			}
			line.Color = col
			line.Width = vg.Points(1.5)
			switch {
			case c.Distinct:
				line.Dashes = dashes[k%len(dashes)]
			case s.Dashed || k >= len(palette):
				line.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
			}
			p.Add(line)
			thumbs = append(thumbs, line)
		}
		if marks := markers(xys, k, s.Points, c.Distinct); len(marks) > 0 {
			sc, err := plotter.NewScatter(marks)
			if err != nil {
				return nil, nil, fmt.Errorf("plot %s: %w", path, err)
			}
			sc.GlyphStyle.Color = col
			sc.GlyphStyle.Shape = draw.CircleGlyph{}
			sc.GlyphStyle.Radius = vg.Points(2)
			if c.Distinct {
				sc.GlyphStyle.Shape = glyphs[k%len(glyphs)]
				sc.GlyphStyle.Radius = vg.Points(3)
			}
			p.Add(sc)
			thumbs = append(thumbs, sc)
		}
		if len(s.Diverged) > 0 && strip != nil {
			// Each series with diverged runs in a row of its own in the
			// strip, so that crosses at the same x do not hide one
			// another.
			y := strip.row(kDiverging)
			kDiverging++
			var xs plotter.XYs
			for _, x := range s.Diverged {
				xs = append(xs, plotter.XY{X: x, Y: y})
			}
			sc, err := plotter.NewScatter(xs)
			if err != nil {
				return nil, nil, fmt.Errorf("plot %s: %w", path, err)
			}
			sc.GlyphStyle = draw.GlyphStyle{Color: col, Shape: draw.CrossGlyph{}, Radius: vg.Points(5)}
			p.Add(sc)
			anyDiverged = true
		}
		if s.Label != "" && len(thumbs) > 0 {
			legend.Add(s.Label, thumbs...)
		}
	}
	if anyDiverged {
		// A scatter only for its thumbnail: it is not added to the plot.
		thumb, _ := plotter.NewScatter(plotter.XYs{{}})
		thumb.GlyphStyle = draw.GlyphStyle{Color: color.Black, Shape: draw.CrossGlyph{}, Radius: vg.Points(5)}
		legend.Add("diverged (band at the top)", thumb)
	}
	if c.LegendOutside {
		return p, legend, nil
	}
	return p, nil, nil
}

// distinct is nine colours apart from each other and from white (the
// Okabe-Ito set without its yellow, plus three darker hues), for Distinct
// charts; with dashes and glyphs each series differs in three ways.
var distinct = []color.RGBA{
	{0, 114, 178, 255}, {213, 94, 0, 255}, {0, 158, 115, 255}, {204, 121, 167, 255},
	{230, 159, 0, 255}, {86, 180, 233, 255}, {0, 0, 0, 255}, {120, 60, 160, 255},
	{140, 90, 40, 255},
}

// dashes are the line patterns of Distinct charts: solid, dashed, dotted,
// dash-dot, long dashes.
var dashes = [][]vg.Length{
	nil,
	{vg.Points(6), vg.Points(3)},
	{vg.Points(1.5), vg.Points(2.5)},
	{vg.Points(7), vg.Points(2.5), vg.Points(1.5), vg.Points(2.5)},
	{vg.Points(12), vg.Points(4)},
}

// glyphs are the marker shapes of Distinct charts.
var glyphs = []draw.GlyphDrawer{
	draw.CircleGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{}, draw.RingGlyph{},
	draw.BoxGlyph{}, draw.PyramidGlyph{}, draw.PlusGlyph{}, draw.CircleGlyph{}, draw.SquareGlyph{},
}

// markers are the points to mark of the series of style i: every point
// with Points, else for a Distinct chart about eight points along the
// line, shifted per style so that coinciding lines keep their markers
// apart.
// maxLinePoints bounds the points of a drawn line: a chart is some
// 1,000 pixels wide, and gonum keeps a glyph box for every point of a
// line while it lays the chart out (a forecast of 10^6 rows ran out of
// memory there under a 2 GB cap).
const maxLinePoints = 4096

// thin returns xys, or when it has more than maxLinePoints points, its
// first and last points and, of each of maxLinePoints/2-1 runs of
// consecutive points between them, the lowest and the highest (in their
// order): the line's envelope at the chart's resolution. A run whose
// values are all NaN keeps its first point, so the line keeps its gap.
func thin(xys plotter.XYs) plotter.XYs {
	n := len(xys)
	if n <= maxLinePoints {
		return xys
	}
	runs := maxLinePoints/2 - 1
	out := make(plotter.XYs, 0, maxLinePoints)
	out = append(out, xys[0])
	inner := xys[1 : n-1]
	for r := range runs {
		lo, hi := r*len(inner)/runs, (r+1)*len(inner)/runs
		minI, maxI := -1, -1
		for i := lo; i < hi; i++ {
			y := inner[i].Y
			if math.IsNaN(y) {
				continue
			}
			if minI < 0 || y < inner[minI].Y {
				minI = i
			}
			if maxI < 0 || y > inner[maxI].Y {
				maxI = i
			}
		}
		switch {
		case minI < 0:
			out = append(out, inner[lo])
		case minI == maxI:
			out = append(out, inner[minI])
		case minI < maxI:
			out = append(out, inner[minI], inner[maxI])
		default:
			out = append(out, inner[maxI], inner[minI])
		}
	}
	return append(out, xys[n-1])
}

func markers(xys plotter.XYs, i int, points, distinct bool) plotter.XYs {
	switch {
	case points:
		return xys
	case !distinct || len(xys) == 0:
		return nil
	}
	every := max(1, len(xys)/8)
	var out plotter.XYs
	for k := (i * every / 9) % every; k < len(xys); k += every {
		out = append(out, xys[k])
	}
	return out
}

// extent returns the smallest and largest x and y of every series.
func (c Chart) extent() (lo, hi [2]float64) {
	lo = [2]float64{math.Inf(1), math.Inf(1)}
	hi = [2]float64{math.Inf(-1), math.Inf(-1)}
	for _, s := range c.Series {
		for _, x := range s.Diverged {
			lo[0], hi[0] = math.Min(lo[0], x), math.Max(hi[0], x)
		}
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

// niceTicks labels four to eight round values (1, 2 or 5 times a power of
// ten apart) with four unlabelled ticks between labels: gonum's default
// often labels only two or three values on a wide axis.
type niceTicks struct{}

func (niceTicks) Ticks(min, max float64) []plot.Tick {
	if !(max > min) || math.IsInf(max-min, 0) {
		return plot.DefaultTicks{}.Ticks(min, max)
	}
	raw := (max - min) / 8
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if step = m * mag; step >= raw {
			break
		}
	}
	prec := max0(-int(math.Floor(math.Log10(step))))
	var ticks []plot.Tick
	minor := step / 5
	for k := math.Ceil(min / minor); k*minor <= max; k++ {
		v := k * minor
		t := plot.Tick{Value: v}
		if r := math.Round(v / step); math.Abs(v/step-r) < 1e-6 {
			t.Value = r * step
			t.Label = strconv.FormatFloat(t.Value, 'f', prec, 64)
		}
		ticks = append(ticks, t)
	}
	return ticks
}

func max0(v int) int {
	if v < 0 {
		return 0
	}
	return v
}

// logTicks marks 1 to 9 times each power of ten, labelling 1, 2 and 5
// times it when the axis spans less than three decades (gonum's LogTicks
// labels powers of ten only, often a single one on a loss curve) and the
// powers of ten alone beyond. When that labels fewer than three values (an
// axis inside one decade), every mark is labelled; when even that labels
// fewer than two, the axis gets niceTicks' round values instead.
type logTicks struct{}

func (logTicks) Ticks(min, max float64) []plot.Tick {
	if !(min > 0) || !(max > min) {
		return plot.LogTicks{Prec: -1}.Ticks(min, max)
	}
	lo, hi := math.Floor(math.Log10(min)), math.Ceil(math.Log10(max))
	wide := hi-lo > 3
	var ticks []plot.Tick
	labelled := 0
	for d := lo; d <= hi; d++ {
		p := math.Pow(10, d)
		for m := 1.0; m <= 9; m++ {
			v := m * p
			if v < min*(1-1e-9) || v > max*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || !wide && (m == 2 || m == 5) {
				t.Label = strconv.FormatFloat(v, 'g', -1, 64)
				labelled++
			}
			ticks = append(ticks, t)
		}
	}
	if labelled >= 3 || wide {
		return ticks
	}
	if len(ticks) >= 2 {
		for i := range ticks {
			ticks[i].Label = strconv.FormatFloat(ticks[i].Value, 'g', -1, 64)
		}
		return ticks
	}
	return niceTicks{}.Ticks(min, max)
}
