package train

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/nettrain/nettrain/internal/checkpoint"
	"github.com/nettrain/nettrain/internal/data"
	"github.com/nettrain/nettrain/internal/model"
)

// checkTrainedData refuses data settings of cfg that preprocess inputs
// otherwise than trained, the checkpoint's config, did: eval, predict and
// export apply the checkpoint's preprocessing and would ignore them, and
// a series' normalisation fitted again would feed the weights inputs of
// another scale. Where the data is and how it is split do not count.
//
// The settings are compared as the checkpoint's training resolved them
// (compareData, with p, its stored preprocessing), not as text: a default
// written out or a setting left to detection that found the same passes.
func checkTrainedData(cfg, trained *model.Config, p *checkpoint.Preprocess, ckpt, use string) error {
	if (cfg.Data.Sequence == nil) != (trained.Data.Sequence == nil) {
		return cfg.KeyError("data.sequence", "is %s, but %s was trained with data.sequence %s%s", show(cfg.Data.Sequence), ckpt, show(trained.Data.Sequence), use)
	}
	for _, s := range compareData(cfg, trained, p) {
		if !s.same {
			return cfg.KeyError(s.key, "is %s, but %s was trained with %s, and its weights expect inputs preprocessed as in that training%s", s.cur, ckpt, s.was, use)
		}
	}
	return nil
}

// dataSetting is a data key that decides how an input is preprocessed:
// its value in a config and in the checkpoint's, as a message shows them
// (a default as null or [] with what it means), and whether the two
// resolve to the same preprocessing.
type dataSetting struct {
	key      string
	cur, was string
	same     bool
}

// compareData compares the data settings of cfg that decide how an input
// is preprocessed with those of trained, the config a checkpoint was
// trained with (both sequence models, or neither), as resolved on the
// checkpoint's data: p, its stored preprocessing (nil for a checkpoint
// written before it was stored, where the settings compare as written).
//
//   - A setting cfg leaves to the data (data.csv.header and classes,
//     data.image.channels and size null) agrees with any: the
//     checkpoint's data is read as the checkpoint read it (Reading), and
//     predict's inputs as the checkpoint's preprocessing says.
//   - data.csv.label, targets and features name the columns p stores, by
//     name, or by index where the file's columns are known (the training
//     took every column, the label last); their defaults agree with the
//     checkpoint's defaults.
//   - data.csv.header and classes agree with what the checkpoint's
//     training set or detected: a header row unless every column p names
//     is an index, class names when p names its classes.
//   - data.normalize none and unit agree on float features (unit scales
//     bytes only), and any agrees on a text's token ids.
//   - data.image's channels, size and resize, and data.sequence's
//     settings, agree with p's image size and windows; a series' inputs
//     and targets name its columns.
func compareData(cfg, trained *model.Config, p *checkpoint.Preprocess) []dataSetting {
	c, t := cfg.Data, trained.Data
	var out []dataSetting
	add := func(key, cur, was string, same bool) { out = append(out, dataSetting{key, cur, was, same}) }

	floats := p != nil && (p.Kind == checkpoint.KindSeries || p.Kind == checkpoint.KindTabular && !p.Bytes)
	norm := func(m string) string {
		if floats && m == string(data.Unit) {
			return string(data.None) // floats are left as they are
		}
		return m
	}
	add("data.normalize", c.Normalize, t.Normalize, p != nil && p.Kind == checkpoint.KindText || norm(c.Normalize) == norm(t.Normalize))

	// The CSV file's columns, header and labels.
	csv := p != nil && p.Kind == checkpoint.KindTabular && p.Features != nil
	cols := csvLayout{}
	if csv {
		cols.names = slices.Concat(p.Features, p.Targets)
		if len(t.CSV.Features) == 0 && labelRefs(t.CSV) == nil {
			cols.all = cols.names // every other column, then the label: the file's order
		}
	}
	r := readingOf(trained, p)
	was := show(t.CSV.Header)
	if t.CSV.Header == nil && r.Header != nil {
		was += map[bool]string{true: " (detected: a header row)", false: " (detected: no header row)"}[*r.Header]
	}
	add("data.csv.header", show(c.CSV.Header), was, c.CSV.Header == nil || r.Header != nil && *c.CSV.Header == *r.Header)

	key := "data.csv.label"
	if len(c.CSV.Targets) > 0 {
		key = "data.csv.targets"
	}
	var labels []string
	if csv {
		labels = p.Targets
	}
	cur, wasRefs := labelRefs(c.CSV), labelRefs(t.CSV)
	same := false
	switch {
	case cur == nil:
		same = wasRefs == nil
	case csv:
		named, ok := cols.resolve(cur)
		same = ok && slices.Equal(named, p.Targets)
	default:
		same = slices.Equal(trimmed(cur), trimmed(wasRefs))
	}
	add(key, showLabels(c.CSV, key, nil), showLabels(t.CSV, key, labels), same)

	var features []string
	if csv {
		features = p.Features
	}
	switch {
	case len(c.CSV.Features) == 0:
		same = len(t.CSV.Features) == 0
	case csv:
		named, ok := cols.resolve(c.CSV.Features)
		same = ok && slices.Equal(named, p.Features)
	default:
		same = slices.Equal(trimmed(c.CSV.Features), trimmed(t.CSV.Features))
	}
	add("data.csv.features", showDefault(c.CSV.Features, "every other column", nil), showDefault(t.CSV.Features, "every other column", features), same)

	was = show(t.CSV.Classes)
	if t.CSV.Classes == nil && r.Classes != nil {
		was += map[string]string{"ids": " (the labels read as class ids)", "names": " (the labels read as class names)"}[*r.Classes]
	}
	add("data.csv.classes", show(c.CSV.Classes), was, c.CSV.Classes == nil || r.Classes != nil && *c.CSV.Classes == *r.Classes)

	// Image folders.
	ci, ti := c.Image, t.Image
	if ci == nil {
		ci = &model.ImageConfig{Resize: "bilinear"}
	}
	if ti == nil {
		ti = &model.ImageConfig{Resize: "bilinear"}
	}
	var im *checkpoint.ImageSpec
	if p != nil {
		im = p.Image
	}
	was = show(ti.Channels)
	switch {
	case ci.Channels == nil:
		same = true
	case im != nil:
		same = *ci.Channels == im.Channels
	default:
		same = ti.Channels != nil && *ti.Channels == *ci.Channels
	}
	if ti.Channels == nil && im != nil {
		was += fmt.Sprintf(" (taken as %d)", im.Channels)
	}
	add("data.image.channels", show(ci.Channels), was, same)
	was = showSize(ti.Size)
	switch {
	case len(ci.Size) == 0:
		same = true
	case im != nil:
		same = slices.Equal(ci.Size, im.Size[:])
	default:
		same = slices.Equal(ci.Size, ti.Size)
	}
	if len(ti.Size) == 0 && im != nil {
		was += fmt.Sprintf(" (taken as %s)", show(im.Size[:]))
	}
	add("data.image.size", showSize(ci.Size), was, same)
	resize := ti.Resize
	if im != nil {
		resize = im.Resize
	}
	add("data.image.resize", ci.Resize, ti.Resize, ci.Resize == resize)

	// Sequences.
	cs, ts := c.Sequence, t.Sequence
	if cs == nil || ts == nil {
		return out
	}
	var sp *checkpoint.SequenceSpec
	if p != nil {
		sp = p.Sequence
	}
	kind, window, horizon, target, diff := ts.Kind, ts.Window, ts.Horizon, ts.Target, ts.Difference
	if sp != nil {
		kind, window, horizon, target, diff = p.Kind, sp.Window, sp.Horizon, sp.Target, sp.Differenced
	}
	add("data.sequence.kind", cs.Kind, ts.Kind, cs.Kind == kind)
	add("data.sequence.window", show(cs.Window), show(ts.Window), cs.Window == window)
	add("data.sequence.horizon", show(cs.Horizon), show(ts.Horizon), cs.Horizon == horizon)
	add("data.sequence.target", cs.Target, ts.Target, cs.Target == target)
	var inputs, targets []string // a series' input and target columns
	if sp != nil && sp.Columns != nil {
		for _, k := range sp.In {
			inputs = append(inputs, sp.Columns[k])
		}
		for _, k := range sp.Out {
			targets = append(targets, sp.Columns[k])
		}
	}
	// Each side's columns as named, a default as resolved (ok false: not
	// known).
	in, inOK := trimmed(cs.Inputs), true
	if len(cs.Inputs) == 0 {
		in, inOK = inputs, len(ts.Inputs) == 0 // every column: the checkpoint's when it took every column too
	}
	tg, tgOK := trimmed(cs.Targets), true
	if len(cs.Targets) == 0 {
		tg, tgOK = in, inOK // the inputs
	}
	if inputs == nil { // no stored columns: as written
		in, inOK = nil, slices.Equal(trimmed(cs.Inputs), trimmed(ts.Inputs))
		tg, tgOK = nil, slices.Equal(trimmed(cs.Targets), trimmed(ts.Targets))
	}
	add("data.sequence.inputs", showDefault(cs.Inputs, "every column", nil), showDefault(ts.Inputs, "every column", inputs), inOK && slices.Equal(in, inputs))
	add("data.sequence.targets", showDefault(cs.Targets, "the inputs", nil), showDefault(ts.Targets, "the inputs", nil), tgOK && slices.Equal(tg, targets))
	add("data.sequence.difference", show(cs.Difference), show(ts.Difference), cs.Difference == diff)
	return out
}

// csvLayout is what a checkpoint stores of its training CSV file's
// columns: the names of those the model uses (features and labels), and
// all of the file's in order when they are known (nil otherwise).
type csvLayout struct{ names, all []string }

// resolve finds column references (names, or 0-based indexes as
// data.csv takes them; a name wins) among the stored columns: ok false
// when one is not there.
func (l csvLayout) resolve(refs []string) (names []string, ok bool) {
	for _, ref := range refs {
		ref = strings.TrimSpace(ref)
		if !slices.Contains(l.names, ref) {
			j, err := strconv.Atoi(ref)
			if err != nil || j < 0 || j >= len(l.all) {
				return nil, false
			}
			ref = l.all[j]
		}
		names = append(names, ref)
	}
	return names, true
}

// labelRefs are the label or target columns a config names
// (data.csv.targets, or data.csv.label); nil for the default, the last
// column.
func labelRefs(c model.CSVConfig) []string {
	switch {
	case len(c.Targets) > 0:
		return c.Targets
	case c.Label != "":
		return []string{c.Label}
	}
	return nil
}

// showLabels shows the label setting of c for a message about key
// (data.csv.label or data.csv.targets): the other key named when c sets
// that one; the default with the column it was, when known.
func showLabels(c model.CSVConfig, key string, resolved []string) string {
	switch {
	case len(c.Targets) > 0 && key == "data.csv.targets":
		return show(c.Targets)
	case len(c.Targets) > 0:
		return "data.csv.targets " + show(c.Targets)
	case c.Label != "" && key == "data.csv.label":
		return c.Label
	case c.Label != "":
		return "data.csv.label " + c.Label
	}
	if len(resolved) == 1 {
		return "null (default: the last column, " + resolved[0] + ")"
	}
	return "null (default: the last column)"
}

// showDefault shows a list of columns; empty, the default it stands for
// (what), with the columns it was when known.
func showDefault(list []string, what string, resolved []string) string {
	if len(list) > 0 {
		return show(list)
	}
	if len(resolved) > 0 {
		return "[] (default: " + what + ": " + strings.Join(resolved, ", ") + ")"
	}
	return "[] (default: " + what + ")"
}

// showSize shows data.image.size: null when not set.
func showSize(size []int) string {
	if len(size) == 0 {
		return "null"
	}
	return show(size)
}

// trimmed is a list of column references with their spaces trimmed.
func trimmed(refs []string) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = strings.TrimSpace(r)
	}
	return out
}

// show writes a setting's value as YAML would: null, [a, b].
func show(v any) string {
	r := reflect.ValueOf(v)
	switch {
	case !r.IsValid(), r.Kind() == reflect.Pointer && r.IsNil():
		return "null"
	case r.Kind() == reflect.Pointer && r.Elem().Kind() == reflect.Struct:
		return "set"
	case r.Kind() == reflect.Pointer:
		return show(r.Elem().Interface())
	case r.Kind() == reflect.Slice:
		items := make([]string, r.Len())
		for i := range items {
			items[i] = show(r.Index(i).Interface())
		}
		return "[" + strings.Join(items, ", ") + "]"
	}
	return fmt.Sprint(v)
}

// Reading is how a checkpoint's training read its data, for the settings
// a config may leave to the data: whether the CSV file has a header row
// (data.csv.header), what its labels are (data.csv.classes: "ids" or
// "names"), the channels and size of image folders (data.image). Nil and
// zero fields are not known. LoadAs reads a checkpoint's data.train with
// it, so that what detection decided then is decided again, by the rules
// of the nettrain that trained (labels 1 to 3 were class ids before
// data.csv.classes, for instance).
type Reading struct {
	Header   *bool
	Classes  *string
	Channels int
	Size     [2]int
}

// ReadingOf is how the checkpoint st read its training data: the settings
// of its config, and where the config left them to the data, what its
// stored preprocessing shows the data gave (a header row unless every CSV
// column it names is an index; class names when it names its classes,
// else ids; the image size). Nothing is known of a plain weights file.
func ReadingOf(st checkpoint.State) Reading {
	if st.Plain || strings.TrimSpace(st.Config) == "" {
		return Reading{}
	}
	trained, err := model.Parse("checkpoint", []byte(st.Config), nil, nil)
	if err != nil {
		return Reading{} // CheckTrainedModel says so
	}
	return readingOf(trained, st.Preprocess)
}

// readingOf is ReadingOf of a checkpoint of config trained and stored
// preprocessing p (nil when it has none).
func readingOf(trained *model.Config, p *checkpoint.Preprocess) Reading {
	c := trained.Data.CSV
	r := Reading{Header: c.Header, Classes: c.Classes}
	if p != nil && p.Kind == checkpoint.KindTabular && p.Features != nil { // a CSV file
		if r.Header == nil {
			h := !indexNames(slices.Concat(p.Features, p.Targets))
			r.Header = &h
		}
		if r.Classes == nil && p.Classes > 0 {
			m := "ids"
			if p.ClassNames != nil {
				m = "names"
			}
			r.Classes = &m
		}
	}
	if p != nil && p.Image != nil {
		r.Channels, r.Size = p.Image.Channels, p.Image.Size
	} else if im := trained.Data.Image; im != nil {
		if im.Channels != nil {
			r.Channels = *im.Channels
		}
		if len(im.Size) == 2 {
			r.Size = [2]int{im.Size[0], im.Size[1]}
		}
	}
	return r
}

// Equal reports whether two Readings say the same.
func (r Reading) Equal(o Reading) bool {
	eq := func(a, b *bool) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }
	es := func(a, b *string) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }
	return eq(r.Header, o.Header) && es(r.Classes, o.Classes) && r.Channels == o.Channels && r.Size == o.Size
}

// apply sets the load options of data.train that cfg leaves to the data
// to r's.
func (r Reading) apply(cfg *model.Config, o *data.LoadOptions) {
	c := cfg.Data.CSV
	if c.Header == nil && r.Header != nil {
		o.CSV.Header = data.HeaderAbsent
		if *r.Header {
			o.CSV.Header = data.HeaderPresent
		}
	}
	if c.Classes == nil && r.Classes != nil {
		o.CSV.LabelKind = labelKinds[*r.Classes]
	}
	im := cfg.Data.Image
	if (im == nil || im.Channels == nil) && r.Channels > 0 {
		o.Image.Channels = r.Channels
	}
	if (im == nil || len(im.Size) != 2) && r.Size != [2]int{} {
		o.Image.Size = r.Size
	}
}

// labelKinds are data.csv.classes' values.
var labelKinds = map[string]data.LabelKind{"ids": data.LabelsAreIDs, "names": data.LabelsAreNames}

// indexNames reports whether every column name is a 0-based index as the
// data package names the columns of a file without a header row.
func indexNames(names []string) bool {
	for _, n := range names {
		if j, err := strconv.Atoi(n); err != nil || strconv.Itoa(j) != n {
			return false
		}
	}
	return len(names) > 0
}

// ResumeSections is cfg.ResumeSections() for comparing with the
// checkpoint st's: when cfg's data settings resolve to the preprocessing
// the checkpoint's training had (compareData: a default written out,
// data.csv.header or classes set to what detection found, a setting left
// to the data that the checkpoint set), the data section is hashed with
// the checkpoint's own values of those settings, so that a resume, and
// eval's and export's checks of the training data, take them as the
// same. Other settings of the data section (its files, validation_split,
// augment, skip_bad, stride) must be the same as before.
func ResumeSections(cfg *model.Config, st checkpoint.State) map[string]string {
	cur := cfg.ResumeSections()
	if st.Plain || strings.TrimSpace(st.Config) == "" {
		return cur
	}
	trained, err := model.Parse("checkpoint", []byte(st.Config), nil, nil)
	if err != nil || (cfg.Data.Sequence == nil) != (trained.Data.Sequence == nil) {
		return cur
	}
	for _, s := range compareData(cfg, trained, st.Preprocess) {
		if !s.same {
			return cur
		}
	}
	aligned := *cfg
	aligned.Data = alignedData(cfg.Data, trained.Data)
	cur["data"] = aligned.ResumeSections()["data"]
	return cur
}

// alignedData is c with the preprocessing settings of t (compareData's:
// data.normalize, data.csv, data.image's channels, size and resize,
// data.sequence but its stride).
func alignedData(c, t model.DataConfig) model.DataConfig {
	a := c
	a.Normalize = t.Normalize
	a.CSV = t.CSV
	if c.Sequence != nil && t.Sequence != nil {
		s := *t.Sequence
		s.Stride = c.Sequence.Stride
		a.Sequence = &s
	}
	skip := c.Image != nil && c.Image.SkipBad
	switch {
	case t.Image == nil && !skip:
		a.Image = nil
	case t.Image == nil:
		a.Image = &model.ImageConfig{Resize: "bilinear", SkipBad: true}
	default:
		im := *t.Image
		im.SkipBad = skip
		a.Image = &im
	}
	return a
}
