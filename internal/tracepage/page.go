// Package tracepage draws a trace (inspect.Trace: one forward and backward
// pass, layer by layer) as pictures: a self-contained HTML page
// (`nettrain trace --html`) of heatmaps with each value and the formula
// that produced it on hover, and pooling windows drawn on their input with
// an arrow to each window's maximum; and a static PNG (`nettrain trace
// --png`).
//
// Design: Build turns the trace and the config's layers into Page, the
// data the page embeds as JSON (in a <script type="application/json">,
// with <, > and & escaped, so no string from a file can end the script);
// page.js draws it with canvas and puts every string into the page as
// text, never as markup. The page makes no requests. The geometry of
// convolutions and pooling comes from the layers' specs (backprop's Build
// on the traced shapes); the argmax of each max-pooling window is
// recomputed from the traced input with the engine's rule (the first
// maximum, NaN wins, padding never does).
package tracepage

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/inspect"
	"github.com/nettrain/nettrain/internal/model"
)

//go:embed page.html
var pageHTML string

//go:embed page.css
var pageCSS string

//go:embed page.js
var pageJS string

// Tensor is a tensor as the page embeds it: values of tensors larger than
// ExactLimit are rounded to 7 significant digits to keep the file small;
// NaN and infinities are written as strings.
type Tensor struct {
	Shape []int
	Data  []float64
}

// Number is a float64 written to JSON as a number, or as "NaN",
// "Infinity" or "-Infinity" (as Tensor writes its values; the page reads
// them with Number()), so that a loss that overflowed is shown as it is.
type Number float64

// MarshalJSON writes the number, or its non-finite value as a string.
func (n Number) MarshalJSON() ([]byte, error) {
	v := float64(n)
	switch {
	case math.IsNaN(v):
		return []byte(`"NaN"`), nil
	case math.IsInf(v, 1):
		return []byte(`"Infinity"`), nil
	case math.IsInf(v, -1):
		return []byte(`"-Infinity"`), nil
	}
	return strconv.AppendFloat(nil, v, 'g', -1, 64), nil
}

// ExactLimit is the size up to which a tensor's values are embedded
// exactly (shortest round-trip form).
const ExactLimit = 4096

// MarshalJSON writes {"shape": [...], "data": [...]}.
func (t Tensor) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"shape":`)
	sh, _ := json.Marshal(t.Shape)
	if t.Shape == nil {
		sh = []byte("[]")
	}
	b.Write(sh)
	b.WriteString(`,"data":[`)
	prec := -1
	if len(t.Data) > ExactLimit {
		prec = 7
	}
	var num []byte
	for i, v := range t.Data {
		if i > 0 {
			b.WriteByte(',')
		}
		switch {
		case math.IsNaN(v):
			b.WriteString(`"NaN"`)
		case math.IsInf(v, 1):
			b.WriteString(`"Infinity"`)
		case math.IsInf(v, -1):
			b.WriteString(`"-Infinity"`)
		default:
			num = strconv.AppendFloat(num[:0], v, 'g', prec, 64)
			b.Write(num)
		}
	}
	b.WriteString("]}")
	return b.Bytes(), nil
}

func tensor(t inspect.Tensor) Tensor { return Tensor{Shape: t.Shape, Data: t.Data} }

func tensorPtr(t *inspect.Tensor) *Tensor {
	if t == nil {
		return nil
	}
	x := tensor(*t)
	return &x
}

// Geometry is a convolution's or pooling's window: size, stride and
// padding (top, left, bottom, right).
type Geometry struct {
	KH   int    `json:"kh"`
	KW   int    `json:"kw"`
	SH   int    `json:"sh"`
	SW   int    `json:"sw"`
	PadT int    `json:"pt"`
	PadL int    `json:"pl"`
	PadB int    `json:"pb"`
	PadR int    `json:"pr"`
	OutH int    `json:"oh"`
	OutW int    `json:"ow"`
	Op   string `json:"op,omitempty"` // pooling: max or avg
}

// Param is a parameter's value and gradient.
type Param struct {
	Name  string `json:"name"`
	Role  string `json:"role"` // weight, bias or other
	Value Tensor `json:"value"`
	Grad  Tensor `json:"grad"`
}

// Layer is one layer of the page.
type Layer struct {
	Index int    `json:"index"`
	Kind  string `json:"kind"`
	// About describes the layer in words ("conv2d 2x2, stride 1, padding 0").
	About string    `json:"about"`
	In    []int     `json:"in"`  // input shape per sample
	Out   []int     `json:"out"` // output shape per sample
	Conv  *Geometry `json:"conv,omitempty"`
	Pool  *Geometry `json:"pool,omitempty"`
	// Argmax is, for max pooling, the flat index in the input plane (h*W+w)
	// of each window's maximum, per sample, channel and window (-1: the
	// window holds only padding).
	Argmax []int `json:"argmax,omitempty"`
	// Slope is leaky_relu's negative slope.
	Slope      float64 `json:"slope,omitempty"`
	Output     Tensor  `json:"output"`
	GradOutput *Tensor `json:"grad_output"`
	GradInput  *Tensor `json:"grad_input"`
	Params     []Param `json:"params"`
}

// Page is the data the page draws.
type Page struct {
	Title   string   `json:"title"`
	Source  string   `json:"source"`
	Samples int      `json:"samples"`
	LossFn  string   `json:"loss_fn"`
	Loss    Number   `json:"loss"`
	Input   Tensor   `json:"input"`
	Labels  []int32  `json:"labels,omitempty"`
	Targets *Tensor  `json:"targets,omitempty"`
	Layers  []Layer  `json:"layers"`
	Notes   []string `json:"notes,omitempty"`
	// Digits is the significant digits of the numbers the page and the
	// picture write out (the loss, the values and formulas on hover), as
	// `nettrain trace` prints them (%g); 0 means DefaultDigits. The values
	// written in the heatmaps' cells, and their scales, have 3 (fewer when
	// Digits are fewer).
	Digits int `json:"digits"`
}

// DefaultDigits is the significant digits of the numbers shown when
// neither --digits nor trace.digits says.
const DefaultDigits = 6

// digits is p.Digits, or DefaultDigits.
func (p *Page) digits() int {
	if p.Digits > 0 {
		return p.Digits
	}
	return DefaultDigits
}

// FormatNumber writes v with digits significant digits as `nettrain trace`
// prints its numbers (strconv's %g; -0 as 0). page.js's num does the same.
func FormatNumber(v float64, digits int) string {
	if v == 0 {
		v = 0
	}
	return strconv.FormatFloat(v, 'g', digits, 64)
}

// Build turns a trace of cfg's network into the page's data. cfg gives
// the name, the layers' parameters (for the geometry of convolutions and
// pooling) and trace.digits (Digits; set it to follow --digits); it may be
// nil, and a layer it does not describe is drawn without its geometry.
func Build(cfg *model.Config, tr *inspect.Trace) *Page {
	lossFn := tr.LossFn
	if lossFn == inspect.NoLoss {
		lossFn = "" // backprop starts from a gradient given at the output
	}
	p := &Page{Samples: tr.Samples, Source: tr.Source, LossFn: lossFn, Loss: Number(tr.Loss),
		Input: tensor(tr.Input), Labels: tr.Labels, Targets: tensorPtr(tr.Targets), Layers: []Layer{},
		Digits: DefaultDigits}
	if cfg != nil {
		p.Title = cfg.Name
		if tc := cfg.Trace; tc != nil && tc.Digits != nil {
			p.Digits = *tc.Digits
		}
	}
	in := tr.Input
	for i, tl := range tr.Layers {
		l := Layer{Index: tl.Index, Kind: tl.Kind, About: tl.Kind, In: perSample(in.Shape), Out: perSample(tl.Output.Shape),
			Output: tensor(tl.Output), GradOutput: tensorPtr(tl.GradOutput), GradInput: tensorPtr(tl.GradInput), Params: []Param{}}
		for _, pr := range tl.Params {
			l.Params = append(l.Params, Param{Name: pr.Name, Role: role(pr.Name), Value: tensor(pr.Value), Grad: tensor(pr.Grad)})
		}
		if sp := specOf(cfg, i, tl.Kind, l.In); sp != nil {
			describe(&l, sp, in)
		}
		p.Layers = append(p.Layers, l)
		in = tl.Output
	}
	return p
}

func perSample(shape []int) []int {
	if len(shape) == 0 {
		return []int{}
	}
	return append([]int{}, shape[1:]...)
}

func role(name string) string {
	switch {
	case strings.HasSuffix(name, "weight"):
		return "weight"
	case strings.HasSuffix(name, "bias"):
		return "bias"
	}
	return "other"
}

// specOf builds layer i's spec from the config on the traced input shape
// (nil when the config does not describe the layer).
func specOf(cfg *model.Config, i int, kind string, in []int) (sp backprop.Spec) {
	if cfg == nil || i >= len(cfg.Model.Layers) || cfg.Model.Layers[i].Kind != kind {
		return nil
	}
	k, ok := backprop.LookupKind(kind)
	if !ok || k.Build == nil {
		return nil
	}
	defer func() {
		if recover() != nil {
			sp = nil
		}
	}()
	s, err := k.Build(cfg.Model.Layers[i].Params, in, nil)
	if err != nil {
		return nil
	}
	return s
}

// describe fills in what the layer's spec tells: its geometry, the
// argmax of max pooling, leaky_relu's slope.
func describe(l *Layer, sp backprop.Spec, in inspect.Tensor) {
	switch s := sp.(type) {
	case backprop.Conv2DSpec:
		oh, ow := s.OutHW()
		l.Conv = &Geometry{KH: s.KH, KW: s.KW, SH: s.SH, SW: s.SW, PadT: s.PadT, PadL: s.PadL, PadB: s.PadB, PadR: s.PadR, OutH: oh, OutW: ow}
		l.About = fmt.Sprintf("conv2d %d filters %dx%d, stride %d, padding %s", s.Filters, s.KH, s.KW, s.SH, padStr(s.PadT, s.PadL, s.PadB, s.PadR))
		if s.SH != s.SW {
			l.About = fmt.Sprintf("conv2d %d filters %dx%d, stride %dx%d, padding %s", s.Filters, s.KH, s.KW, s.SH, s.SW, padStr(s.PadT, s.PadL, s.PadB, s.PadR))
		}
	case backprop.Pool2DSpec:
		oh, ow := s.OutHW()
		g := &Geometry{KH: s.KH, KW: s.KW, SH: s.SH, SW: s.SW, PadT: s.PH, PadL: s.PW, PadB: s.PH, PadR: s.PW, OutH: oh, OutW: ow, Op: string(s.Op)}
		l.Pool = g
		l.About = fmt.Sprintf("%s %dx%d, stride %s, padding %s", s.Kind(), s.KH, s.KW, pairStr(s.SH, s.SW), padStr(s.PH, s.PW, s.PH, s.PW))
		if (s.SH < s.KH || s.SW < s.KW) && oh*ow > 1 {
			l.About += " (windows overlap)"
		}
		if s.Op == backprop.PoolMax && len(in.Shape) == 4 {
			l.Argmax = argmax(in, g)
		}
	case backprop.LeakyReLUSpec:
		l.Slope = s.Slope
		l.About = fmt.Sprintf("leaky_relu (negative slope %g)", s.Slope)
	case backprop.DenseSpec:
		l.About = fmt.Sprintf("dense %d units", s.Units)
		if !s.Bias {
			l.About += ", no bias"
		}
	}
}

func pairStr(h, w int) string {
	if h == w {
		return strconv.Itoa(h)
	}
	return fmt.Sprintf("%dx%d", h, w)
}

func padStr(t, l, b, r int) string {
	if t == b && l == r {
		return pairStr(t, l)
	}
	return fmt.Sprintf("top %d left %d bottom %d right %d", t, l, b, r)
}

// argmax finds each max-pooling window's maximum in x (N, C, H, W) as the
// engine does: the first maximum in row-major order, NaN wins, padding
// never does.
func argmax(x inspect.Tensor, g *Geometry) []int {
	n, c, h, w := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	out := make([]int, 0, n*c*g.OutH*g.OutW)
	for p := 0; p < n*c; p++ {
		plane := x.Data[p*h*w : (p+1)*h*w]
		for i := 0; i < g.OutH; i++ {
			for j := 0; j < g.OutW; j++ {
				best, bv := -1, 0.0
				for u := 0; u < g.KH; u++ {
					r := i*g.SH - g.PadT + u
					if r < 0 || r >= h {
						continue
					}
					for v := 0; v < g.KW; v++ {
						col := j*g.SW - g.PadL + v
						if col < 0 || col >= w {
							continue
						}
						x := plane[r*w+col]
						if best < 0 || x > bv || (math.IsNaN(x) && !math.IsNaN(bv)) {
							best, bv = r*w+col, x
						}
					}
				}
				out = append(out, best)
			}
		}
	}
	return out
}

// JSON is the page's data as embedded: JSON with <, > and & escaped (as
// \u003c...), so that it cannot close the <script> element holding it.
func (p *Page) JSON() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(true)
	if err := enc.Encode(p); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// WriteHTML writes the page: one HTML file with its style, script and
// data inline.
func (p *Page) WriteHTML(w io.Writer) error {
	data, err := p.JSON()
	if err != nil {
		return err
	}
	// The script and style are this package's own files; only the data
	// comes from outside, escaped above. Guard the invariant anyway.
	if bytes.Contains(bytes.ToLower(data), []byte("</script")) {
		return fmt.Errorf("tracepage: the data would close its script element")
	}
	r := strings.NewReplacer("{{CSS}}", pageCSS, "{{JS}}", pageJS, "{{DATA}}", string(data))
	_, err = io.WriteString(w, r.Replace(pageHTML))
	return err
}
