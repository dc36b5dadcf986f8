package tracepage

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"
	"strconv"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"github.com/nettrain/nettrain/internal/inspect"
	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/safeio"
)

// WriteFiles writes the trace of cfg's network as an HTML page (html, when
// not "") and as a PNG picture (png, when not ""), their numbers with the
// config's trace.digits significant digits (else DefaultDigits).
func WriteFiles(cfg *model.Config, tr *inspect.Trace, html, pngPath string) error {
	if html == "" && pngPath == "" {
		return nil
	}
	return Build(cfg, tr).WriteFiles(html, pngPath)
}

// WriteFiles writes the page (html, when not "") and the picture (png,
// when not "").
func (p *Page) WriteFiles(html, pngPath string) error {
	if html != "" {
		if err := safeio.WriteWith(html, p.WriteHTML); err != nil {
			return err
		}
	}
	if pngPath != "" {
		if err := safeio.WriteWith(pngPath, p.WritePNG); err != nil {
			return err
		}
	}
	return nil
}

// The static picture: one band per layer, its forward quantities on the
// left and its backward ones on the right, for the first sample; each
// heatmap with its own symmetric scale (blue negative, white zero, red
// positive) and, where cells are large enough, the values written in.
const (
	pngWidth   = 1500
	pngMargin  = 16
	panelMaxPx = 220 // the longer side of a heatmap at most
	cellMax    = 48  // pixels per cell at most
)

type fonts struct{ title, cap, small, cell, tiny font.Face }

func newFonts() (*fonts, error) {
	reg, err := opentype.Parse(goregular.TTF)
	if err != nil {
		return nil, err
	}
	bold, err := opentype.Parse(gobold.TTF)
	if err != nil {
		return nil, err
	}
	face := func(f *opentype.Font, size float64) font.Face {
		fc, _ := opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
		return fc
	}
	return &fonts{title: face(bold, 17), cap: face(bold, 13), small: face(reg, 12), cell: face(reg, 11), tiny: face(reg, 9)}, nil
}

func textWidth(f font.Face, s string) int { return font.MeasureString(f, s).Ceil() }

func drawText(img draw.Image, f font.Face, x, y int, s string, c color.Color) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: f, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

// heat is a heatmap to draw: values laid out as planes in a grid.
type heat struct {
	cap, sub string
	data     []float64
	shape    []int
	scale    float64
	lay      grid
	kx, ky   float64 // pixels per cell, across and down
	w, h     int     // of the map, in pixels
	pool     *poolMarks
	nd       int // significant digits of the values written in
}

// poolMarks draws pooling windows and arrows to their maxima on a plane.
type poolMarks struct {
	g      *Geometry
	argmax []int     // of channel 0 of the first sample
	w      int       // input width
	routed bool      // the gradient passed below: badges count the windows adding up
	dy     []float64 // routed: the gradient arriving, of channel 0 of the first sample
}

type grid struct{ ph, pw, planes, gc, gr, n, gap int }

func layoutOf(shape []int) grid {
	n := 1
	for _, d := range shape {
		n *= d
	}
	switch len(shape) {
	case 3:
		c := shape[0]
		gc := c
		if c > 4 {
			gc = int(math.Ceil(math.Sqrt(float64(c))))
		}
		return grid{shape[1], shape[2], c, gc, (c + gc - 1) / gc, n, b2i(c > 1)}
	case 4:
		if shape[1] == 1 { // one input channel: the filters in a square
			return layoutOf([]int{shape[0], shape[2], shape[3]})
		}
		return grid{shape[2], shape[3], shape[0] * shape[1], shape[1], shape[0], n, b2i(shape[0]*shape[1] > 1)}
	case 2:
		return grid{shape[0], shape[1], 1, 1, 1, n, 0}
	}
	if n <= 40 {
		return grid{1, max(n, 1), 1, 1, 1, n, 0}
	}
	cols := int(math.Ceil(math.Sqrt(float64(n))))
	return grid{(n + cols - 1) / cols, cols, 1, 1, 1, n, 0}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// cells is the grid's size in cells.
func (g grid) cells() (int, int) {
	return g.gc*g.pw + (g.gc-1)*g.gap, g.gr*g.ph + (g.gr-1)*g.gap
}

// at is the cell of flat index i.
func (g grid) at(i int) (int, int) {
	per := g.ph * g.pw
	p, r := i/per, i%per
	return (p%g.gc)*(g.pw+g.gap) + r%g.pw, (p/g.gc)*(g.ph+g.gap) + r/g.pw
}

// cellDigits is the most significant digits of a value written in a cell
// (and of a map's |max|); fewer when the page's digits are fewer.
const cellDigits = 3

func newHeat(cap string, data []float64, shape []int) *heat {
	return newHeatSized(cap, data, shape, cellMax, panelMaxPx, cellDigits)
}

// heat is a heatmap of the page's picture, its values written with the
// page's digits, 3 at most.
func (p *Page) heat(cap string, data []float64, shape []int) *heat {
	return newHeatSized(cap, data, shape, cellMax, panelMaxPx, p.digits())
}

func newHeatSized(cap string, data []float64, shape []int, cellMax, panelMaxPx float64, nd int) *heat {
	h := &heat{cap: cap, data: data, shape: shape, lay: layoutOf(shape), nd: min(nd, cellDigits)}
	h.scale = maxAbs(data)
	tw, th := h.lay.cells()
	h.kx, h.ky = scaleFor(tw, th, cellMax, panelMaxPx)
	h.w, h.h = max(1, int(math.Round(float64(tw)*h.kx))), max(1, int(math.Round(float64(th)*h.ky)))
	h.sub = shapeStr(shape) + "  |max| " + short(h.scale, h.nd)
	if nonFinite(data) {
		h.sub += " (finite values; some are Inf or NaN)"
	}
	if h.kx < 1 || h.ky < 1 {
		h.sub += "  (downscaled: largest |value| per pixel)"
	}
	return h
}

// scaleFor sizes a grid of tw x th cells in at most maxPx pixels each way:
// square cells of up to cellMax pixels (whole pixels from 3 up), or, when a
// side has more cells than pixels, that side downscaled.
func scaleFor(tw, th int, cellMax, maxPx float64) (kx, ky float64) {
	kx, ky = math.Min(cellMax, maxPx/float64(tw)), math.Min(cellMax, maxPx/float64(th))
	switch {
	case kx >= 1 && ky >= 1:
		k := math.Min(kx, ky)
		if k >= 3 {
			k = math.Floor(k)
		}
		kx, ky = k, k
		if float64(th)*k < 8 {
			ky = math.Min(cellMax, 8/float64(th)) // a thin strip stays visible
		}
	case kx < 1 && ky >= 1:
		ky = math.Min(ky, 2)
	case ky < 1 && kx >= 1:
		kx = math.Min(kx, 2)
	}
	return kx, ky
}

func maxAbs(d []float64) float64 {
	m := 0.0
	for _, v := range d {
		if !math.IsNaN(v) && !math.IsInf(v, 0) && math.Abs(v) > m {
			m = math.Abs(v)
		}
	}
	return m
}

// nonFinite tells whether d holds an Inf or a NaN (which the colour scale,
// from the finite values, leaves out).
func nonFinite(d []float64) bool {
	for _, v := range d {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return true
		}
	}
	return false
}

func shapeStr(s []int) string {
	out := "("
	for i, d := range s {
		if i > 0 {
			out += ", "
		}
		out += strconv.Itoa(d)
	}
	return out + ")"
}

// shorter formats a value in fewer characters than short: 2 significant
// digits (at most n), no leading zero.
func shorter(v float64, n int) string {
	s := short(v, min(n, 2))
	if math.IsNaN(v) || math.IsInf(v, 0) || v == 0 {
		return s
	}
	if len(s) > 1 && s[0] == '0' && s[1] == '.' {
		s = s[1:]
	} else if len(s) > 2 && s[:3] == "-0." {
		s = "-" + s[2:]
	}
	return s
}

// short formats a value in a few characters, as written in a cell: n
// significant digits (3 at most, 2 in the exponent form).
func short(v float64, n int) string {
	n = max(1, min(n, cellDigits))
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return strconv.FormatFloat(v, 'g', -1, 64)
	case v == 0:
		return "0"
	case math.Abs(v) >= 1000 || math.Abs(v) < 0.001:
		return strconv.FormatFloat(v, 'e', min(1, n-1), 64)
	}
	return strconv.FormatFloat(v, 'g', n, 64)
}

func colourOf(v, m float64) color.RGBA {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return color.RGBA{255, 0, 255, 255}
	}
	t := 0.0
	if m > 0 {
		t = math.Max(-1, math.Min(1, v/m))
	}
	end := [3]float64{178, 24, 43}
	if t < 0 {
		end = [3]float64{33, 102, 172}
	}
	a := math.Abs(t)
	c := func(e float64) uint8 { return uint8(math.Round(255 + (e-255)*a)) }
	return color.RGBA{c(end[0]), c(end[1]), c(end[2]), 255}
}

// panelSize is the heatmap's panel with its captions.
func (h *heat) panelSize(f *fonts) (int, int) {
	w := max(h.w, textWidth(f.cap, h.cap), textWidth(f.small, h.sub))
	return w, 34 + h.h
}

func (h *heat) draw(img *image.RGBA, f *fonts, x, y int) {
	drawText(img, f.cap, x, y+12, h.cap, color.Black)
	drawText(img, f.small, x, y+27, h.sub, color.Gray{90})
	y0 := y + 33
	tw, th := h.lay.cells()
	bg := color.RGBA{236, 236, 236, 255}
	// cell index of each cell of the grid (-1 in gaps)
	idx := make([]int, tw*th)
	for i := range idx {
		idx[i] = -1
	}
	for i := 0; i < h.lay.n; i++ {
		cx, cy := h.lay.at(i)
		idx[cy*tw+cx] = i
	}
	k := math.Min(h.kx, h.ky)
	for py := 0; py < h.h; py++ {
		cy0 := min(th-1, int(float64(py)/h.ky))
		cy1 := max(cy0+1, min(th, int(float64(py+1)/h.ky)))
		for px := 0; px < h.w; px++ {
			cx0 := min(tw-1, int(float64(px)/h.kx))
			cx1 := max(cx0+1, min(tw, int(float64(px+1)/h.kx)))
			// the block's largest |value|, so that sparse values show
			best, bv := -1, 0.0
			for cy := cy0; cy < cy1; cy++ {
				for cx := cx0; cx < cx1; cx++ {
					if i := idx[cy*tw+cx]; i >= 0 && (best < 0 || math.Abs(h.data[i]) > math.Abs(bv) || math.IsNaN(h.data[i])) {
						best, bv = i, h.data[i]
					}
				}
			}
			c := bg
			if best >= 0 {
				c = colourOf(bv, h.scale)
			}
			if k >= 12 && (float64(px) >= float64(cx0+1)*k-1 || float64(py) >= float64(cy0+1)*k-1) {
				c = color.RGBA{c.R * 7 / 8, c.G * 7 / 8, c.B * 7 / 8, 255}
			}
			img.SetRGBA(x+px, y0+py, c)
		}
	}
	// a frame around each plane, so that zeros (white) show where they are
	frame := color.RGBA{185, 185, 185, 255}
	for p := 0; p < h.lay.planes; p++ {
		cx, cy := h.lay.at(p * h.lay.ph * h.lay.pw)
		ax, ay := float64(x)+float64(cx)*h.kx-1, float64(y0)+float64(cy)*h.ky-1
		bx, by := ax+float64(h.lay.pw)*h.kx+1, ay+float64(h.lay.ph)*h.ky+1
		if h.lay.planes == 1 {
			bx, by = float64(x+h.w), float64(y0+h.h)
		}
		line(img, ax, ay, bx, ay, 1, frame)
		line(img, bx, ay, bx, by, 1, frame)
		line(img, bx, by, ax, by, 1, frame)
		line(img, ax, by, ax, ay, 1, frame)
	}
	if k >= 28 {
		for i := 0; i < h.lay.n; i++ {
			cx, cy := h.lay.at(i)
			s := short(h.data[i], h.nd)
			var tc color.Color = color.RGBA{17, 17, 17, 255}
			if h.scale > 0 && math.Abs(h.data[i])/h.scale > 0.6 {
				tc = color.White
			}
			face, dy := f.cell, 4
			if textWidth(face, s) > int(k)-4 {
				face, dy = f.tiny, 3
			}
			if textWidth(face, s) > int(k)-3 {
				s = shorter(h.data[i], h.nd)
			}
			if textWidth(face, s) > int(k)-2 {
				continue
			}
			tx := x + int(float64(cx)*k+k/2) - textWidth(face, s)/2
			ty := y0 + int(float64(cy)*k+k/2) + dy
			drawText(img, face, tx, ty, s, tc)
		}
	}
	if h.pool != nil && h.pool.routed {
		h.drawBadges(img, f, x, y0)
	} else if h.pool != nil {
		h.drawPool(img, x, y0)
	}
}

// drawBadges marks each cell of the gradient that receives the gradients
// of two or more windows (their maximum) with their count.
func (h *heat) drawBadges(img *image.RGBA, f *fonts, x0, y0 int) {
	k := math.Min(h.kx, h.ky)
	if k < 16 || h.pool.argmax == nil {
		return
	}
	parts := map[int][]float64{}
	for n, a := range h.pool.argmax {
		if a >= 0 {
			parts[a] = append(parts[a], h.pool.dy[n])
		}
	}
	for a, ps := range parts {
		n := len(ps)
		if n < 2 {
			continue
		}
		// the sum written out under the value, where it fits
		if k >= 40 {
			terms := shorter(ps[0], h.nd)
			for _, v := range ps[1:] {
				if v < 0 {
					terms += "−" + shorter(-v, h.nd)
				} else {
					terms += "+" + shorter(v, h.nd)
				}
			}
			if w := textWidth(f.tiny, terms); w <= int(k)-4 {
				var tc color.Color = color.RGBA{17, 17, 17, 255}
				if v := h.data[a]; h.scale > 0 && math.Abs(v)/h.scale > 0.6 {
					tc = color.White
				}
				drawText(img, f.tiny, x0+int(float64(a%h.pool.w)*k+k/2)-w/2, y0+int(float64(a/h.pool.w+1)*k)-5, terms, tc)
			}
		}
		cx := float64(x0) + float64(a%h.pool.w+1)*k - 8
		cy := float64(y0) + float64(a/h.pool.w)*k + 8
		for yy := -6.0; yy <= 6; yy++ {
			d := math.Sqrt(36 - yy*yy)
			line(img, cx-d, cy+yy, cx+d, cy+yy, 1, color.RGBA{30, 30, 30, 255})
		}
		s := strconv.Itoa(n)
		drawText(img, f.tiny, int(cx)-textWidth(f.tiny, s)/2, int(cy)+3, s, color.White)
	}
}

var palette = []color.RGBA{{27, 158, 119, 255}, {217, 95, 2, 255}, {117, 112, 179, 255}, {231, 41, 138, 255}, {102, 166, 30, 255}, {230, 171, 2, 255}, {166, 118, 29, 255}, {31, 120, 180, 255}}

// drawPool outlines each window of channel 0 and draws an arrow from its
// centre to its maximum.
func (h *heat) drawPool(img *image.RGBA, x0, y0 int) {
	g, k := h.pool.g, math.Min(h.kx, h.ky)
	many := g.OutH*g.OutW > 64
	for i := 0; i < g.OutH; i++ {
		for j := 0; j < g.OutW; j++ {
			n := i*g.OutW + j
			col := palette[n%len(palette)]
			inset := 1.0
			if !many {
				inset = float64(2 + (n%3)*3)
			}
			r0, c0 := float64(i*g.SH-g.PadT), float64(j*g.SW-g.PadL)
			ax, ay := float64(x0)+c0*k+inset, float64(y0)+r0*k+inset
			bx, by := float64(x0)+(c0+float64(g.KW))*k-inset, float64(y0)+(r0+float64(g.KH))*k-inset
			th := 2.0
			if many {
				th = 1
			}
			if many { // too many windows for colours: grey outlines, a dot at each maximum
				col = color.RGBA{90, 90, 90, 255}
			}
			line(img, ax, ay, bx, ay, th, col)
			line(img, bx, ay, bx, by, th, col)
			line(img, bx, by, ax, by, th, col)
			line(img, ax, by, ax, ay, th, col)
			if h.pool.argmax == nil {
				continue
			}
			a := h.pool.argmax[n]
			if a < 0 {
				continue
			}
			cx, cy := (ax+bx)/2, (ay+by)/2
			tx := float64(x0) + (float64(a%h.pool.w)+0.5)*k
			ty := float64(y0) + (float64(a/h.pool.w)+0.5)*k
			if many {
				r := math.Max(1.5, k*0.22)
				for yy := -r; yy <= r; yy++ {
					line(img, tx-math.Sqrt(r*r-yy*yy), ty+yy, tx+math.Sqrt(r*r-yy*yy), ty+yy, 1, color.RGBA{20, 20, 20, 255})
				}
				if k >= 10 {
					line(img, cx, cy, tx, ty, 1, color.RGBA{20, 20, 20, 255})
				}
				continue
			}
			// the arrow stops short of the maximum's value, which a ring marks
			stop := 0.0
			if l := math.Hypot(tx-cx, ty-cy); k >= 20 && l > k*0.4 {
				stop = k * 0.3 / l
			}
			arrow(img, cx, cy, tx-(tx-cx)*stop, ty-(ty-cy)*stop, th, math.Min(k*0.35, 10), col)
			if k >= 20 {
				for a := 0.0; a < 2*math.Pi; a += 0.05 {
					line(img, tx+k*0.3*math.Cos(a), ty+k*0.3*math.Sin(a), tx+k*0.3*math.Cos(a+0.05), ty+k*0.3*math.Sin(a+0.05), 2, col)
				}
			}
		}
	}
}

func line(img *image.RGBA, x0, y0, x1, y1, th float64, c color.RGBA) {
	n := int(math.Max(math.Abs(x1-x0), math.Abs(y1-y0))) + 1
	r := int(th / 2)
	for s := 0; s <= n; s++ {
		t := float64(s) / float64(n)
		x, y := int(math.Round(x0+(x1-x0)*t)), int(math.Round(y0+(y1-y0)*t))
		for dy := -r; dy <= r-1+int(th)%2; dy++ {
			for dx := -r; dx <= r-1+int(th)%2; dx++ {
				if image.Pt(x+dx, y+dy).In(img.Rect) {
					img.SetRGBA(x+dx, y+dy, c)
				}
			}
		}
	}
}

func arrow(img *image.RGBA, x0, y0, x1, y1, th, head float64, c color.RGBA) {
	dx, dy := x1-x0, y1-y0
	l := math.Hypot(dx, dy)
	if l < 2 {
		for a := 0.0; a < 2*math.Pi; a += 0.3 {
			line(img, x1, y1, x1+3*math.Cos(a), y1+3*math.Sin(a), th, c)
		}
		return
	}
	ux, uy := dx/l, dy/l
	line(img, x0, y0, x1, y1, th, c)
	line(img, x1, y1, x1-ux*head-uy*head*0.5, y1-uy*head+ux*head*0.5, th, c)
	line(img, x1, y1, x1-ux*head+uy*head*0.5, y1-uy*head-ux*head*0.5, th, c)
}

// band is one row of the picture: a title, formulas and panels.
type band struct {
	title string
	lines []string
	fwd   []*heat
	bwd   []*heat
	// plain: no FORWARD and BACKWARD over the panels (the loss's band)
	plain bool
}

// firstSample is the first sample of a batched tensor: its values and
// shape (the tensor itself when it has no samples axis).
func firstSample(t Tensor) ([]float64, []int) {
	if len(t.Shape) == 0 || t.Shape[0] == 0 {
		return t.Data, t.Shape
	}
	per := len(t.Data) / t.Shape[0]
	return t.Data[:per], t.Shape[1:]
}

func (p *Page) bands() []band {
	var bs []band
	d, s := firstSample(p.Input)
	bs = append(bs, band{title: "input x " + shapeStr(s), fwd: []*heat{p.heat("x, the input", d, s)}})
	for li, l := range p.Layers {
		last := li == len(p.Layers)-1
		next := ""
		if !last {
			next = p.Layers[li+1].Kind
		}
		n := pngNames(l.Kind, next, l.Index, p.LossFn == "")
		b := band{title: fmt.Sprintf("layer %d: %s   %s -> %s", l.Index, l.About, shapeStr(l.In), shapeStr(l.Out)), lines: pngFormulas(l)}
		for _, pr := range l.Params {
			b.fwd = append(b.fwd, p.heat(named(symbol(pr), pr.Name), pr.Value.Data, pr.Value.Shape))
		}
		if l.Pool != nil && len(l.In) == 3 {
			var in Tensor
			if li == 0 {
				in = p.Input
			} else {
				in = p.Layers[li-1].Output
			}
			d, s := firstSample(in)
			h := newHeatSized("x, the input, with the windows (channel 0)", d[:s[1]*s[2]], s[1:], 64, 320, p.digits())
			h.pool = &poolMarks{g: l.Pool, w: s[2]}
			if l.Argmax != nil {
				h.pool.argmax = l.Argmax[:l.Pool.OutH*l.Pool.OutW]
				h.cap = "x, the input, with each window's arrow to its maximum (channel 0)"
				if l.Pool.OutH*l.Pool.OutW > 64 {
					h.cap = "x, the input: the windows, a dot at each maximum (channel 0)"
				}
			}
			b.fwd = append(b.fwd, h)
		}
		d, s := firstSample(l.Output)
		b.fwd = append(b.fwd, p.heat(n[0], d, s))
		if l.GradOutput != nil {
			d, s := firstSample(*l.GradOutput)
			b.bwd = append(b.bwd, p.heat(n[1], d, s))
		}
		for _, pr := range l.Params {
			b.bwd = append(b.bwd, p.heat(named("dL/d"+symbol(pr), "dL/d"+pr.Name), pr.Grad.Data, pr.Grad.Shape))
		}
		if l.GradInput != nil {
			d, s := firstSample(*l.GradInput)
			b.bwd = append(b.bwd, p.heat(n[2], d, s))
			if l.Pool != nil && l.Argmax != nil && len(s) == 3 && (l.Pool.SH < l.Pool.KH || l.Pool.SW < l.Pool.KW) {
				h := newHeatSized("dL/dx, channel 0: each window's dL/dy routed to its maximum", d[:s[1]*s[2]], s[1:], 64, 320, p.digits())
				h.pool = &poolMarks{g: l.Pool, w: s[2], routed: true, argmax: l.Argmax[:l.Pool.OutH*l.Pool.OutW]}
				if l.GradOutput != nil {
					dy, _ := firstSample(*l.GradOutput)
					h.pool.dy = dy[:l.Pool.OutH*l.Pool.OutW]
				} else {
					h.pool.dy = make([]float64, l.Pool.OutH*l.Pool.OutW)
				}
				h.sub += "  (a badge: the number of windows adding up)"
				b.bwd = append(b.bwd, h)
			}
		}
		bs = append(bs, b)
	}
	return append(bs, p.lossBand())
}

// lossBand is the picture's last band, as the page's: the loss and what
// it compares the output with, the first sample's targets (a heatmap) or
// labels.
func (p *Page) lossBand() band {
	b := band{title: p.lossText(), plain: true}
	if p.LossFn == "" {
		return b
	}
	if p.Labels != nil {
		b.lines = append(b.lines, labelsText(p.Labels, p.Samples))
	}
	if p.Targets != nil {
		d, s := firstSample(*p.Targets)
		cap := "t, the targets"
		if p.Samples > 1 {
			cap += " (the first sample's)"
		}
		b.fwd = append(b.fwd, p.heat(cap, d, s))
	}
	return b
}

// maxLabels is the most labels the picture lists.
const maxLabels = 40

// labelsText lists the labels of a batch of n samples (one per sample, or
// per position of a sequence), the first sample's apart when there are
// several, as the page does.
func labelsText(labels []int32, n int) string {
	list := func(ls []int32) string {
		var b strings.Builder
		for i, l := range ls {
			if i == maxLabels {
				fmt.Fprintf(&b, ", … (%d in all)", len(ls))
				break
			}
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(strconv.Itoa(int(l)))
		}
		return b.String()
	}
	s := "labels: " + list(labels)
	if n > 1 && len(labels)%n == 0 {
		s += "   (the first sample's: " + list(labels[:len(labels)/n]) + ")"
	}
	return s
}

// pngNames are the captions of the output, the gradient arriving and the
// gradient passed below.
func pngNames(kind, next string, index int, noLoss bool) [3]string {
	from := fmt.Sprintf("from layer %d", index+1)
	switch {
	case next == "" && noLoss:
		from = "given at the output"
	case next == "":
		from = "from the loss"
	}
	if isActivation(next) && kind != "dense" && kind != "conv2d" {
		from += ", where it is δ = dL/dz"
	}
	switch kind {
	case "dense", "conv2d":
		return [3]string{"z = W x + b, the output", "δ = dL/dz, the delta (" + from + ")", "dL/dx (passed below)"}
	case "sigmoid", "relu", "tanh", "leaky_relu", "softmax":
		return [3]string{"y = " + kind + "(z), the output", "dL/dy (" + from + ")", "δ = dL/dz, the delta (passed below)"}
	}
	return [3]string{"y, the output", "dL/dy (" + from + ")", "dL/dx (passed below)"}
}

func pngFormulas(l Layer) []string {
	switch l.Kind {
	case "dense":
		return []string{"z = W x + b;   dL/dW = δ x^T, dL/db = δ, dL/dx = W^T δ"}
	case "conv2d":
		return []string{"z[f,i,j] = b[f] + Σ W[f,c,u,v] x[c, s·i+u−p, s·j+v−p];   dL/dW = x correlated with δ, dL/db[f] = Σ δ[f], dL/dx = δ convolved with the flipped kernels"}
	case "maxpool2d":
		return []string{"y = the maximum of each window;   dL/dx: each window's dL/dy routed to its argmax, added up where windows overlap"}
	case "avgpool2d":
		return []string{"y = the mean of each window;   dL/dx: each window's dL/dy spread evenly over it, added up where windows overlap"}
	case "sigmoid":
		return []string{"y = s(z);   δ = dL/dz = dL/dy · s(z)(1 − s(z))"}
	case "relu":
		return []string{"y = max(0, z);   δ = dL/dz = dL/dy · [z > 0]"}
	case "tanh":
		return []string{"y = tanh z;   δ = dL/dz = dL/dy · (1 − y²)"}
	case "leaky_relu":
		return []string{fmt.Sprintf("y = z if z > 0 else %g z;   δ = dL/dz = dL/dy · (1 if z > 0 else %g)", l.Slope, l.Slope)}
	case "flatten":
		return []string{"y = x as one axis;   dL/dx = dL/dy shaped back"}
	}
	return nil
}

// WritePNG draws the trace's first sample as a PNG.
func (p *Page) WritePNG(w io.Writer) error {
	img, err := p.Image()
	if err != nil {
		return err
	}
	return png.Encode(w, img)
}

// Image draws the trace's first sample.
func (p *Page) Image() (*image.RGBA, error) {
	f, err := newFonts()
	if err != nil {
		return nil, err
	}
	type placed struct {
		h    *heat
		x, y int
	}
	type text struct {
		face font.Face
		x, y int
		s    string
		c    color.Color
	}
	var hs []placed
	var ts []text
	var rules []int
	y := pngMargin
	title := "nettrain trace"
	if p.Title != "" {
		title += ": " + p.Title
	}
	ts = append(ts, text{f.title, pngMargin, y + 16, title, color.Black})
	y += 24
	samples := ""
	if p.Samples > 1 {
		samples = fmt.Sprintf(" (the first of %d samples shown; dL/dW and dL/db summed over all %d)", p.Samples, p.Samples)
	}
	ts = append(ts, text{f.small, pngMargin, y + 12, fmt.Sprintf("%s%s · %s · blue negative, white 0, red positive, each map scaled to its |max|", p.Source, samples, p.lossText()), color.Gray{60}})
	y += 18
	ts = append(ts, text{f.small, pngMargin, y + 12, "dense/conv2d: z = W x + b and δ = dL/dz (the textbook delta) arrives from above; activation: y = f(z), dL/dy arrives, δ = dL/dz = dL/dy · f'(z) is passed below", color.Gray{60}})
	y += 24
	half := pngWidth / 2
	for _, b := range p.bands() {
		rules = append(rules, y)
		y += 6
		ts = append(ts, text{f.cap, pngMargin, y + 14, b.title, color.Black})
		y += 20
		for _, l := range b.lines {
			ts = append(ts, text{f.small, pngMargin, y + 12, l, color.Gray{50}})
			y += 16
		}
		if !b.plain {
			ts = append(ts, text{f.small, pngMargin, y + 12, "FORWARD", color.Gray{120}})
			if len(b.bwd) > 0 {
				ts = append(ts, text{f.small, half + pngMargin, y + 12, "BACKWARD", color.RGBA{170, 51, 51, 255}})
			}
			y += 18
		} else if len(b.fwd) > 0 {
			y += 4
		}
		place := func(list []*heat, x0, x1 int) int {
			x, yy, rowH := x0, y, 0
			for _, h := range list {
				w, hh := h.panelSize(f)
				if x > x0 && x+w > x1 {
					x, yy, rowH = x0, yy+rowH+10, 0
				}
				hs = append(hs, placed{h, x, yy})
				x += w + 18
				rowH = max(rowH, hh)
			}
			return yy + rowH
		}
		x1 := half - 10
		if len(b.bwd) == 0 {
			x1 = pngWidth - pngMargin
		}
		bottom := place(b.fwd, pngMargin, x1)
		bottom = max(bottom, place(b.bwd, half+pngMargin, pngWidth-pngMargin))
		y = bottom + 12
	}
	img := image.NewRGBA(image.Rect(0, 0, pngWidth, y+pngMargin))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	for _, r := range rules {
		for x := pngMargin; x < pngWidth-pngMargin; x++ {
			img.SetRGBA(x, r, color.RGBA{210, 210, 210, 255})
		}
	}
	for _, t := range ts {
		drawText(img, t.face, t.x, t.y, t.s, t.c)
	}
	for _, h := range hs {
		h.h.draw(img, f, h.x, h.y)
	}
	return img, nil
}

func isActivation(kind string) bool {
	switch kind {
	case "sigmoid", "relu", "tanh", "leaky_relu", "softmax":
		return true
	}
	return false
}

// symbol is a parameter's name in the formulas: W, b, or its own.
func symbol(p Param) string {
	switch p.Role {
	case "weight":
		return "W"
	case "bias":
		return "b"
	}
	return p.Name
}

// named captions a parameter's map: "W = 0.weight", or the name alone
// when it has no symbol of its own (an LSTM's weight_ih_l0).
func named(sym, name string) string {
	if sym == name {
		return name
	}
	return sym + " = " + name
}

// lossText is the loss in words, with the page's digits.
func (p *Page) lossText() string {
	if p.LossFn == "" {
		return "no loss: backprop starts from the gradient given at the output"
	}
	return fmt.Sprintf("loss %s = %s", p.LossFn, FormatNumber(float64(p.Loss), p.digits()))
}
