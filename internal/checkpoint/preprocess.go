package checkpoint

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/nettrain/nettrain/internal/data"
)

// Preprocess is how training turned raw data into the network's input,
// fitted on the training data and stored with every checkpoint (metadata
// "preprocess", JSON), so that eval, predict and export apply exactly
// training's preprocessing to new inputs without reading the training data
// again.
//
// Features are normalised as x' = (x - Offset[j]) * Scale[j] for feature j
// (data.Normalizer); Offset and Scale have one entry per feature, or one
// entry for all when every feature has the same (unit, none).
type Preprocess struct {
	// Kind says what the raw inputs are: "tabular" (CSV rows or
	// safetensors x), "images" (bytes from IDX files or image folders),
	// "series" or "text" (data.sequence).
	Kind string `json:"kind"`
	// Input is the shape of one sample as the network takes it.
	Input []int `json:"input"`
	// Sample is the shape of one sample as the data held it, when it
	// differs from Input (MNIST's [1, 28, 28] images for an MLP whose
	// input is [784]); the same number of values.
	Sample []int `json:"sample,omitempty"`
	// Bytes is true when the features are stored as bytes (IDX, images,
	// safetensors U8): raw values 0..255 before normalisation.
	Bytes bool `json:"bytes,omitempty"`
	// Normalize is the method (data.Method); Offset and Scale its fitted
	// values.
	Normalize string    `json:"normalize"`
	Offset    []float64 `json:"offset,omitempty"`
	Scale     []float64 `json:"scale,omitempty"`
	// Range is the smallest and the largest feature value of the
	// training part, before normalisation, when the features are floats
	// (kind tabular, Bytes false); nil for bytes (0..255), sequences, and
	// checkpoints written before nettrain recorded it. Predict puts image
	// pixels (bytes 0..255) on this scale: divided by 255 for a range
	// within [0, 1], as they are for one within [0, 255], and refused for
	// any other or none.
	Range []float64 `json:"range,omitempty"`
	// Features and Targets name the CSV columns the features and the
	// regression targets (or the class label) came from, in order: the
	// header's names, or 0-based column indexes in decimal when the file
	// had no header. Nil for other formats.
	Features []string `json:"features,omitempty"`
	Targets  []string `json:"targets,omitempty"`
	// Classes is the number of classes (0: regression); ClassNames names
	// them when the data did (class i is ClassNames[i]).
	Classes    int      `json:"classes,omitempty"`
	ClassNames []string `json:"class_names,omitempty"`
	// TargetDim is the number of regression targets per sample.
	TargetDim int `json:"target_dim,omitempty"`
	// Image is how image files become samples (image folders); nil for
	// other data.
	Image *ImageSpec `json:"image,omitempty"`
	// Baselines: the training targets' mean (regression) and the training
	// labels' count per class (classification), for eval's baseline.
	TargetMean []float64 `json:"target_mean,omitempty"`
	ClassFreq  []float64 `json:"class_freq,omitempty"`
	// Sequence is the window layout of a sequence model (Kind series or
	// text).
	Sequence *SequenceSpec `json:"sequence,omitempty"`
}

// ImageSpec is how an image file becomes a sample: decoded, converted to
// Channels (1: grey, 3: RGB) and resized to Size [H, W] with Resize
// ("bilinear" or "nearest"), as bytes in CHW order.
type ImageSpec struct {
	Channels int    `json:"channels"`
	Size     [2]int `json:"size"`
	Resize   string `json:"resize"`
}

// SequenceSpec is the windowing of a sequence model: Window positions in,
// the target Horizon positions after the window's last ("next") or after
// each position ("sequence").
type SequenceSpec struct {
	Window  int    `json:"window"`
	Horizon int    `json:"horizon"`
	Target  string `json:"target"`
	// Vocab lists a text's tokens (Vocab[0] is "<unk>").
	Vocab []string `json:"vocab,omitempty"`
	// Columns, In and Out are a series' columns and its input and target
	// columns as indexes into Columns; Offset and Scale (above) have one
	// entry per column. Differenced: the series holds the changes of the
	// file's rows.
	Columns     []string `json:"columns,omitempty"`
	In          []int    `json:"in,omitempty"`
	Out         []int    `json:"out,omitempty"`
	Differenced bool     `json:"differenced,omitempty"`
}

// Preprocessing kinds.
const (
	KindTabular = "tabular"
	KindImages  = "images"
	KindSeries  = "series"
	KindText    = "text"
)

// Limits on what a checkpoint's preprocessing may claim, so that a
// hostile file cannot make a reader allocate without bound: the metadata
// is itself bounded by the safetensors header limit, and these bound what
// is derived from it.
const (
	maxPreprocessValues = 1 << 26 // features of one sample, and names
	maxImageSide        = 1 << 14
)

// Features returns the number of values of one sample.
func (p *Preprocess) FeatureLen() int {
	n := 1
	for _, d := range p.Input {
		n *= d
	}
	return n
}

// OffsetScale returns feature j's offset and scale.
func (p *Preprocess) OffsetScale(j int) (float64, float64) {
	o, s := 0.0, 1.0
	if len(p.Offset) == 1 {
		o = p.Offset[0]
	} else if j < len(p.Offset) {
		o = p.Offset[j]
	}
	if len(p.Scale) == 1 {
		s = p.Scale[0]
	} else if j < len(p.Scale) {
		s = p.Scale[j]
	}
	return o, s
}

// ImageShape is the shape of one sample as the data held it: Sample, or
// Input when they are the same.
func (p *Preprocess) ImageShape() []int {
	if p.Sample != nil {
		return p.Sample
	}
	return p.Input
}

// CompactNorm returns offset and scale with a single entry when every
// entry is the same, the form Preprocess stores.
func CompactNorm(offset, scale []float64) ([]float64, []float64) {
	same := func(v []float64) bool {
		for _, x := range v {
			if x != v[0] {
				return false
			}
		}
		return true
	}
	if len(offset) > 1 && same(offset) && same(scale) {
		return offset[:1:1], scale[:1:1]
	}
	return offset, scale
}

// parsePreprocess reads and checks the "preprocess" metadata: shapes and
// counts in range and consistent, the normalisation one that training
// fits (checkNorm), and no CSV column named twice among the features and
// targets (they are found by name in new files). dtype is the
// checkpoint's ("float32", "float64"; "" read as float32).
func parsePreprocess(path, js, dtype string) (*Preprocess, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%s: metadata \"preprocess\" is invalid: %s", path, fmt.Sprintf(format, a...))
	}
	var p Preprocess
	d := json.NewDecoder(strings.NewReader(js))
	d.DisallowUnknownFields()
	if err := d.Decode(&p); err != nil || d.More() {
		return nil, fmt.Errorf("%s: metadata \"preprocess\" is unreadable: %v", path, err)
	}
	switch p.Kind {
	case KindTabular, KindImages, KindSeries, KindText:
	default:
		return nil, bad("kind %q is not tabular, images, series or text", p.Kind)
	}
	if len(p.Input) == 0 || len(p.Input) > 4 {
		return nil, bad("the input shape %v must have 1 to 4 dimensions", p.Input)
	}
	n := 1
	for _, v := range p.Input {
		if v < 1 || v > maxPreprocessValues || n*v > maxPreprocessValues {
			return nil, bad("the input shape %v is out of range", p.Input)
		}
		n *= v
	}
	if p.Sample != nil {
		m := 1
		for _, v := range p.Sample {
			if v < 1 || v > maxPreprocessValues {
				return nil, bad("the sample shape %v is out of range", p.Sample)
			}
			m *= v
		}
		if m != n || len(p.Sample) > 4 {
			return nil, bad("the sample shape %v does not hold the %d values of the input %v", p.Sample, n, p.Input)
		}
	}
	want := n
	if p.Sequence != nil && p.Kind == KindSeries {
		want = len(p.Sequence.Columns)
	}
	for _, v := range [][]float64{p.Offset, p.Scale} {
		if len(v) != 0 && len(v) != 1 && len(v) != want {
			return nil, bad("%d normalisation values for %d features", len(v), want)
		}
	}
	if len(p.Offset) != len(p.Scale) {
		return nil, bad("%d offsets but %d scales", len(p.Offset), len(p.Scale))
	}
	if msg := checkNorm(&p, dtype); msg != "" {
		return nil, bad("%s", msg)
	}
	if p.Classes < 0 || p.Classes > maxPreprocessValues || (p.ClassNames != nil && len(p.ClassNames) != p.Classes) {
		return nil, bad("%d class names for %d classes", len(p.ClassNames), p.Classes)
	}
	if p.TargetDim < 0 || p.TargetDim > maxPreprocessValues || (p.Classes > 0) == (p.TargetDim > 0) && p.Kind != KindText {
		return nil, bad("%d classes and %d regression targets: exactly one must be set", p.Classes, p.TargetDim)
	}
	if p.Features != nil && len(p.Features) != n {
		return nil, bad("%d feature columns for %d features", len(p.Features), n)
	}
	if msg := checkColumnNames(p.Features, p.Targets); msg != "" {
		return nil, bad("%s", msg)
	}
	if l := len(p.TargetMean); l != 0 && l != p.TargetDim {
		return nil, bad("%d target means for %d targets", l, p.TargetDim)
	}
	if l := len(p.ClassFreq); l != 0 && l != p.Classes {
		return nil, bad("%d class counts for %d classes", l, p.Classes)
	}
	if im := p.Image; im != nil {
		if im.Channels != 1 && im.Channels != 3 || im.Size[0] < 1 || im.Size[1] < 1 || im.Size[0] > maxImageSide || im.Size[1] > maxImageSide ||
			!slices.Equal(p.ImageShape(), []int{im.Channels, im.Size[0], im.Size[1]}) || (im.Resize != "bilinear" && im.Resize != "nearest") {
			return nil, bad("the image spec %+v does not fit the input %v", *im, p.Input)
		}
	}
	if sq := p.Sequence; sq != nil {
		if sq.Window < 1 || sq.Window > maxPreprocessValues || sq.Horizon < 1 || sq.Horizon > maxPreprocessValues || (sq.Target != "next" && sq.Target != "sequence") {
			return nil, bad("the window %d, horizon %d or target %q is out of range", sq.Window, sq.Horizon, sq.Target)
		}
		for _, ix := range [][]int{sq.In, sq.Out} {
			for _, i := range ix {
				if i < 0 || i >= len(sq.Columns) {
					return nil, bad("column index %d of %d columns", i, len(sq.Columns))
				}
			}
		}
	}
	if (p.Kind == KindSeries || p.Kind == KindText) != (p.Sequence != nil) {
		return nil, bad("kind %s with a sequence spec %v", p.Kind, p.Sequence != nil)
	}
	if msg := checkRange(&p, dtype); msg != "" {
		return nil, bad("%s", msg)
	}
	return &p, nil
}

// checkNorm checks a preprocessing's normalisation against what training
// fits (data.Fit, and per column for a series): a known method; offsets
// and scales for every kind but text; none and unit exactly their fixed
// values (offset 0; scale 1, or 1/255 for bytes under unit); every
// offset and scale finite, every scale > 0 (a constant feature gets 1) and
// at most data.MaxScale of the type the features were held in (bytes and
// dtype float32: 2^126; float64: 2^1022), and an offset (a mean or a
// minimum of the training values) within that type's range, 0..255 for
// bytes. It returns "" or what is wrong, naming the entry.
func checkNorm(p *Preprocess, dtype string) string {
	method := data.Method(p.Normalize)
	if !slices.Contains(data.Methods, method) {
		return fmt.Sprintf("normalize %q is not one of %v", p.Normalize, data.Methods)
	}
	if p.Kind == KindText {
		if method != data.None || len(p.Offset) != 0 {
			return fmt.Sprintf("a text's token ids are not normalised, but normalize is %q with %d offsets", p.Normalize, len(p.Offset))
		}
		return ""
	}
	if len(p.Offset) == 0 {
		return fmt.Sprintf("no offsets and scales for the %s normalisation of a %s input", p.Normalize, p.Kind)
	}
	f64 := dtype == "float64" && !p.Bytes
	maxScale, maxOffset, typ := data.MaxScale(f64), math.MaxFloat64, "float64"
	switch {
	case p.Bytes:
		maxOffset, typ = 255, "bytes"
	case !f64:
		maxOffset, typ = math.MaxFloat32, "float32"
	}
	for j := range p.Offset {
		o, s := p.Offset[j], p.Scale[j]
		switch {
		case math.IsNaN(o) || math.IsInf(o, 0):
			return fmt.Sprintf("offset[%d] is %v, not a finite number", j, o)
		case math.IsNaN(s) || math.IsInf(s, 0):
			return fmt.Sprintf("scale[%d] is %v, not a finite number", j, s)
		case !(s > 0):
			return fmt.Sprintf("scale[%d] is %v; a fitted scale is > 0 (a constant feature gets 1)", j, s)
		}
		switch method {
		case data.None, data.Unit:
			fixed := 1.0
			if method == data.Unit && p.Bytes {
				fixed = 1.0 / 255
			}
			if o != 0 || s != fixed {
				return fmt.Sprintf("offset[%d] is %v and scale[%d] %v, but %s normalisation of %s features is offset 0 and scale %v", j, o, j, s, method, typ, fixed)
			}
		default:
			if s > maxScale {
				bound := "2^126 (8.5e+37), the reciprocal of float32's smallest normal number"
				if f64 {
					bound = "2^1022 (4.5e+307), the reciprocal of float64's smallest normal number"
				}
				return fmt.Sprintf("scale[%d] is %v, more than %s fits for %s features: %s", j, s, method, typ, bound)
			}
			if p.Bytes && !(o >= 0 && o <= 255) || math.Abs(o) > maxOffset {
				return fmt.Sprintf("offset[%d] is %v, outside the range of the %s training features it was fitted on", j, o, typ)
			}
		}
	}
	return ""
}

// checkRange checks a preprocessing's feature range: none, or for float
// features (not bytes, not a sequence) two finite numbers, the smallest
// first, within the range of the type the features were held in (dtype
// float64: float64, else float32). It returns "" or what is wrong.
func checkRange(p *Preprocess, dtype string) string {
	r := p.Range
	switch {
	case r == nil:
		return ""
	case p.Bytes:
		return fmt.Sprintf("a range %v for byte features (0..255), which have none recorded", r)
	case p.Sequence != nil:
		return fmt.Sprintf("a range %v for a sequence, which has none recorded", r)
	case len(r) != 2:
		return fmt.Sprintf("the range %v has %d values, not 2 (the smallest and the largest feature value)", r, len(r))
	}
	bound := math.MaxFloat32
	if dtype == "float64" {
		bound = math.MaxFloat64
	}
	if !(r[0] <= r[1]) || math.Abs(r[0]) > bound || math.Abs(r[1]) > bound {
		return fmt.Sprintf("the range %v is not two finite numbers, the smallest first", r)
	}
	return ""
}

// checkColumnNames refuses a CSV column named twice among the features
// and the targets: new files are read by these names, and training
// refuses a file whose columns share a name.
func checkColumnNames(features, targets []string) string {
	seen := make(map[string]string, len(features)+len(targets))
	for _, l := range []struct {
		what  string
		names []string
	}{{"feature", features}, {"target", targets}} {
		for i, name := range l.names {
			role := fmt.Sprintf("%s %d", l.what, i)
			if prev, ok := seen[name]; ok {
				return fmt.Sprintf("column %q is named twice (as %s and as %s); the columns are found by name in new files", name, prev, role)
			}
			seen[name] = role
		}
	}
	return ""
}
