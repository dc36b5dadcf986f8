package infer

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/checkpoint"
	"github.com/nettrain/nettrain/internal/data"
	"github.com/nettrain/nettrain/internal/finitejson"
	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/safeio"
	"github.com/nettrain/nettrain/internal/train"
)

// InputOptions are the arguments of predictions on new inputs.
type InputOptions struct {
	Checkpoint string
	// Inputs are image files, folders of images, CSV files or safetensors
	// files with x.
	Inputs []string
	// Top is the number of most likely classes reported per sample (at
	// least 1; at most the number of classes).
	Top int
	// Out, when set, is a .csv or .jsonl file that receives every
	// prediction, written atomically: an error in the inputs leaves it as
	// it was and is reported as itself, not as a failure to write Out.
	Out string
	// Threads for the forward passes (0: training.threads, else the
	// cores the process may use, GOMAXPROCS); image decoding uses
	// GOMAXPROCS goroutines, fewer when the memory limit cannot hold that
	// many of a batch's largest image being decoded at once (data.ImageWorkers).
	Threads int
	// Each, when set, receives every prediction in input order, as it is
	// made (the command's table).
	Each func(Prediction)
	// Progress, when set, is told the samples done and the total (-1 when
	// unknown) after every batch.
	Progress func(done, total int)
	// Check, when set, is given the model's number of classes (0: a
	// regression) once the checkpoint is loaded, before any input is read
	// or anything written; an error it returns is returned as it is (the
	// command refuses a flag that does not apply to the model).
	Check func(classes int) error
	// Targets, when set, is given the names of a regression model's
	// outputs (its target columns) once the checkpoint is loaded and
	// checked, before any prediction (the command's table header).
	Targets func(names []string)
	// Warn, when set, is told of an input that reads but most likely
	// does not hold what the model was trained on (floats within [0, 1]
	// for a model trained on bytes 0..255), or that is read in a way the
	// user may not expect (the columns of a CSV file with a header row by
	// position, for a model trained on a file without one; the pixels of
	// images given to a model trained on floats, divided by 255 or taken
	// as they are, once for all such inputs), before anything is computed.
	Warn func(msg string)
}

// ClassProb is a class and its probability (or its score: Score).
type ClassProb struct {
	Class       int     `json:"class"`
	Name        string  `json:"name"`
	Probability float64 `json:"probability"`
	// Score says that Probability is the model's raw output for the
	// class, a score and no probability (a model trained with mse or
	// half_sse has no softmax: it may be negative, or above 1); JSON then
	// names it "score".
	Score bool `json:"-"`
}

// MarshalJSON writes c as {"class", "name", "probability"} (or "score"
// for a Score), a value that is not finite as null, as package
// finitejson does.
func (c ClassProb) MarshalJSON() ([]byte, error) {
	v := &c.Probability
	if math.IsNaN(*v) || math.IsInf(*v, 0) {
		v = nil
	}
	if c.Score {
		return json.Marshal(struct {
			Class int      `json:"class"`
			Name  string   `json:"name"`
			Score *float64 `json:"score"`
		}{c.Class, c.Name, v})
	}
	return json.Marshal(struct {
		Class       int      `json:"class"`
		Name        string   `json:"name"`
		Probability *float64 `json:"probability"`
	}{c.Class, c.Name, v})
}

// Prediction is the model's answer for one input sample.
type Prediction struct {
	// Input names the sample: an image file, "file.csv:line",
	// "file.safetensors[i]".
	Input string `json:"input"`
	// Top holds the most likely classes, most likely first
	// (classification); Top[0] is the prediction.
	Top []ClassProb `json:"top,omitempty"`
	// Values are the regression outputs, in the targets' own units.
	Values []float64 `json:"values,omitempty"`
	// Label is the sample's class when the input has labels (nil: none);
	// Targets its regression targets.
	Label     *int      `json:"label,omitempty"`
	LabelName string    `json:"label_name,omitempty"`
	Targets   []float64 `json:"targets,omitempty"`
}

// InputResult sums up predictions on new inputs.
type InputResult struct {
	Count int `json:"count"`
	// Labelled counts the samples with labels or targets; the metrics
	// below are over them.
	Labelled int `json:"labelled"`
	// Classification: the accuracy, and the loss (mean cross-entropy of
	// the labels under the predicted probabilities, as eval's loss).
	Accuracy *float64 `json:"accuracy,omitempty"`
	Loss     *float64 `json:"loss,omitempty"`
	// Regression: mean squared and absolute errors over every target
	// (several targets: the mean over targets in their own, different,
	// units), and with several targets each one's in Columns.
	MSE     *float64       `json:"mse,omitempty"`
	MAE     *float64       `json:"mae,omitempty"`
	Columns []TargetErrors `json:"columns,omitempty"`
	// Classes names the classes (ids as text when the data named none);
	// Targets the regression outputs.
	Classes []string `json:"classes,omitempty"`
	Targets []string `json:"targets,omitempty"`
	// Scores says that the classes' values are the model's raw outputs,
	// scores and no probabilities: a classifier trained with mse or
	// half_sse, which has no softmax (ClassProb.Score).
	Scores bool `json:"scores,omitempty"`
	// Skipped counts files in input folders that are not images.
	Skipped int    `json:"skipped_files,omitempty"`
	Out     string `json:"out,omitempty"`
}

// TargetErrors are the errors of the predictions of one regression
// target, in its own units.
type TargetErrors struct {
	Column string  `json:"column"`
	MSE    float64 `json:"mse"`
	MAE    float64 `json:"mae"`
}

// PredictInputs runs a checkpoint's model on new inputs, preprocessed
// exactly as its training data was (the preprocessing stored in the
// checkpoint, or fitted again on the config's training data for a
// checkpoint older than that), streaming them in batches so that memory
// stays constant however many there are. Bytes (image pixels, U8
// tensors) given to a model trained on floats are put on the scale of its
// training data, as its recorded range allows, or refused
// (bytesOnFloatScale).
func PredictInputs(cfg *model.Config, o InputOptions) (*InputResult, error) {
	if cfg.DType == "float64" {
		return predictInputs[float64](cfg, o)
	}
	return predictInputs[float32](cfg, o)
}

func predictInputs[T backprop.Float](cfg *model.Config, o InputOptions) (*InputResult, error) {
	if len(o.Inputs) == 0 {
		return nil, fmt.Errorf("predict: no inputs given")
	}
	format := ""
	if o.Out != "" {
		switch strings.ToLower(filepath.Ext(o.Out)) {
		case ".csv":
			format = "csv"
		case ".jsonl":
			format = "jsonl"
		default:
			return nil, fmt.Errorf("%s: --out must end in .csv or .jsonl", o.Out)
		}
	}
	limit, what := train.MemoryLimit(cfg)
	f, st, err := checkpoint.ReadLimit(o.Checkpoint, limit, what)
	if err != nil {
		return nil, err
	}
	if st.Preprocess == nil {
		if err := cfg.RequireData("to predict with a checkpoint that does not store its preprocessing (written before nettrain stored it)"); err != nil {
			return nil, err
		}
	}
	if p := st.Preprocess; p != nil && p.Sequence != nil {
		return nil, fmt.Errorf("%s: a sequence model predicts from its own data: run predict without inputs (a series forecast, --steps) or with --prompt (a text)", cfg.File)
	}
	if cfg.Data.Sequence != nil {
		return nil, fmt.Errorf("%s: a sequence model predicts from its own data: run predict without inputs (a series forecast, --steps) or with --prompt (a text)", cfg.File)
	}
	m, err := modelFor[T](cfg, o.Checkpoint, st, false, "to predict")
	if err != nil {
		return nil, err
	}
	batch := max(1, cfg.Training.BatchSize)
	net, err := m.NewPredictNetwork(batch)
	if err != nil {
		return nil, err
	}
	if err := checkpoint.LoadWeights(f, net, m.LayerName); err != nil {
		return nil, train.OtherModel(cfg, o.Checkpoint, st, err)
	}
	if err := train.CheckTrainedModel(cfg, m.Graph, o.Checkpoint, st); err != nil {
		return nil, err
	}
	classes := m.Classes()
	if out := net.OutShape(); classes > 0 && out[len(out)-1] != classes {
		// Training refuses this now: outputs beyond the classes are classes
		// no sample has, which the table would name by number.
		return nil, fmt.Errorf("%s: the model outputs %d values, but was trained on %d classes; it needs one output per class: retrain it with units: classes in its last layer",
			o.Checkpoint, out[len(out)-1], classes)
	}
	if o.Check != nil {
		if err := o.Check(classes); err != nil {
			return nil, err
		}
	}
	r := &InputResult{}
	if classes > 0 {
		for c := range classes {
			r.Classes = append(r.Classes, className(m.Data.ClassNames, c))
		}
		r.Scores = cfg.Loss != backprop.CrossEntropy
	} else {
		r.Targets = targetNames(m.Data.LabelColumns(), backprop.Prod(net.OutShape()))
		if o.Targets != nil {
			o.Targets(r.Targets)
		}
	}
	top := min(max(o.Top, 1), max(classes, 1))

	// The inputs, checked before anything is computed or written.
	var sources []source
	defer func() {
		for _, s := range sources {
			s.close()
		}
	}()
	var byteInputs []string // byte inputs (images, U8 tensors) of a model trained on floats
	for _, in := range o.Inputs {
		s, skipped, err := openInput[T](m, in, limit, what)
		if err != nil {
			return nil, err
		}
		if msg := unitScaleBytes(m.Data, s, in); msg != "" && o.Warn != nil {
			o.Warn(msg)
		}
		if holdsBytes(s) && !m.Data.ByteFeatures() {
			divide, err := bytesOnFloatScale(m.Data, o.Checkpoint, s, in)
			if err != nil {
				s.close()
				return nil, err
			}
			if divide {
				s = &unitSource{source: s, f64: !backprop.Is32[T]()}
			}
			byteInputs = append(byteInputs, in)
		}
		if cs, ok := s.(*csvSource); ok && cs.s.Note() != "" && o.Warn != nil {
			o.Warn(cs.s.Note())
		}
		r.Skipped += skipped
		sources = append(sources, s)
	}
	if msg := bytesOnFloatNote(m.Data, byteInputs); msg != "" && o.Warn != nil {
		o.Warn(msg)
	}
	total := 0
	for _, s := range sources {
		if n := s.total(); n < 0 || total < 0 {
			total = -1
		} else {
			total += n
		}
	}

	pool := train.NewPool(train.Threads(cfg, o.Threads))
	defer pool.Close()
	ctx := pool.Ctx()
	ctx.Train = false
	var lossSum float64
	correct := 0
	// sq and ab sum each target's squared and absolute errors.
	sq, ab := make([]float64, len(r.Targets)), make([]float64, len(r.Targets))
	run := func(emit func(Prediction) error) error {
		buf := train.NewBatch(net, false)
		pos := make([]int, batch)
		for i := range pos {
			pos[i] = i
		}
		for _, src := range sources {
			for {
				ds, ids, err := src.next(batch)
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					return err
				}
				split, err := m.Data.SplitOf(ds)
				if err != nil {
					return err
				}
				n := ds.N
				split.Fill(pos[:n], buf.X, nil, nil)
				y := net.Predict(ctx, buf.X[:n*backprop.Prod(net.In)], n)
				width := backprop.Prod(net.OutShape())
				for i := range n {
					p := Prediction{Input: ids[i]}
					row := y[i*width : (i+1)*width]
					if classes > 0 {
						probs := softmax(row, cfg.Loss == backprop.CrossEntropy)
						p.Top = topK(probs, top, m.Data.ClassNames)
						for k := range p.Top {
							p.Top[k].Score = r.Scores
						}
						if ds.Labels != nil {
							l := int(ds.Labels[i])
							p.Label, p.LabelName = &l, className(m.Data.ClassNames, l)
							r.Labelled++
							if p.Top[0].Class == l {
								correct++
							}
							lossSum -= math.Log(max(probs[l], math.SmallestNonzeroFloat64))
						}
					} else {
						p.Values = make([]float64, width)
						for k, v := range row {
							p.Values[k] = float64(v)
						}
						if ds.HasTargets() {
							td := ds.TargetDim
							r.Labelled++
							for k := range td {
								t := ds.Target(i*td + k)
								p.Targets = append(p.Targets, t)
								d := p.Values[k] - t
								sq[k] += d * d
								ab[k] += math.Abs(d)
							}
						}
					}
					r.Count++
					if err := emit(p); err != nil {
						return err
					}
					if o.Each != nil {
						o.Each(p)
					}
				}
				if o.Progress != nil {
					o.Progress(r.Count, total)
				}
			}
		}
		return nil
	}
	if o.Out == "" {
		err = run(func(Prediction) error { return nil })
	} else {
		// An error of the inputs (a bad row of a CSV file) is reported as
		// itself, not as a failure to write o.Out, which is left as it was.
		var inputErr error
		err = safeio.WriteWith(o.Out, func(w io.Writer) error {
			pw := newPredictionWriter(w, format, r, top)
			var writeErr error
			err := run(func(p Prediction) error {
				writeErr = pw.write(p)
				return writeErr
			})
			if err != nil {
				if writeErr == nil {
					inputErr = err
				}
				return err
			}
			return pw.flush()
		})
		if inputErr != nil {
			err = inputErr
		}
		r.Out = o.Out
	}
	if err != nil {
		return nil, err
	}
	if r.Labelled > 0 && classes > 0 {
		acc, loss := float64(correct)/float64(r.Labelled), lossSum/float64(r.Labelled)
		r.Accuracy = &acc
		if cfg.Loss == backprop.CrossEntropy {
			r.Loss = &loss
		}
	}
	if r.Labelled > 0 && classes == 0 {
		var mse, mae float64
		for k, name := range r.Targets {
			te := TargetErrors{Column: name, MSE: sq[k] / float64(r.Labelled), MAE: ab[k] / float64(r.Labelled)}
			mse += te.MSE / float64(len(r.Targets))
			mae += te.MAE / float64(len(r.Targets))
			if len(r.Targets) > 1 {
				r.Columns = append(r.Columns, te)
			}
		}
		r.MSE, r.MAE = &mse, &mae
	}
	return r, nil
}

// openInput opens one INPUT argument as a source of samples for m.
func openInput[T backprop.Float](m *train.Model[T], in string, limit int64, what string) (source, int, error) {
	kind, err := inputKind(in)
	if err != nil {
		return nil, 0, err
	}
	d := m.Data
	f64 := !backprop.Is32[T]() // a float64 model reads numbers as float64
	cm := (*data.ClassMap)(nil)
	if c := m.Classes(); c > 0 {
		cm = &data.ClassMap{NumClasses: c, Names: d.ClassNames}
	}
	switch kind {
	case "folder", "image":
		opts, err := imageOptions(d.Image, d.SampleShape(), in)
		if err != nil {
			return nil, 0, err
		}
		s := &imageSource{opts: opts, shape: slices.Clone(m.Graph.Input), workers: runtime.GOMAXPROCS(0), limit: limit, what: what}
		skipped := 0
		if kind == "image" {
			s.files = []string{in}
		} else if s.files, s.labels, skipped, err = listImages(in, m.Classes(), d.ClassNames); err != nil {
			return nil, 0, err
		}
		if s.labels != nil {
			s.classes, s.names = cm.NumClasses, cm.Names
		}
		return s, skipped, nil
	case "csv":
		cols := d.FeatureColumns()
		if cols == nil {
			give := "a safetensors file with x of shape " + shapeN(d.SampleShape())
			if takesImages(d) {
				give = "images or " + give
			}
			return nil, 0, fmt.Errorf("%s: the model was not trained on a CSV file, so it has no feature columns to find in one; give %s", in, give)
		}
		task := data.Classification
		if m.Classes() == 0 {
			task = data.Regression
		}
		s, err := data.OpenCSVStream(in, data.CSVOptions{Features: cols, Labels: d.LabelColumns(), Task: task, Classes: cm, Float64: f64}, limit, what)
		if err != nil {
			return nil, 0, err
		}
		return &csvSource{s: s, name: in}, 0, nil
	default:
		ds, err := data.ReadSafetensorsInputs(in, cm, limit, what, f64)
		if err != nil {
			return nil, 0, err
		}
		if want := m.Graph.Input; backprop.Prod(ds.Shape) != backprop.Prod(want) {
			return nil, 0, fmt.Errorf("%s: tensor \"x\" holds samples of shape %v, but the model takes %v", in, ds.Shape, want)
		}
		return &setSource{ds: ds}, 0, nil
	}
}

// unitScaleBytes describes a safetensors input of floats all within
// [0, 1] (PyTorch's ToTensor, Keras' rescaling) for a model trained on
// bytes 0..255, which it normalises from that scale: "" for any other
// input.
func unitScaleBytes[T backprop.Float](d *train.Data[T], s source, in string) string {
	st, ok := s.(*setSource)
	if !ok || !d.ByteFeatures() || st.ds.U8 != nil {
		return ""
	}
	smallest, largest := math.Inf(1), math.Inf(-1)
	for _, v := range st.ds.F32 {
		smallest, largest = min(smallest, float64(v)), max(largest, float64(v))
	}
	for _, v := range st.ds.F64 {
		smallest, largest = min(smallest, v), max(largest, v)
	}
	if smallest < 0 || largest > 1 || math.IsInf(largest, -1) {
		return "" // not [0, 1] (e.g. [-1, 1], normalised): no guess at its scale
	}
	return fmt.Sprintf("%s: tensor \"x\" holds floats within [0, 1] (the largest %g), but the model was trained on bytes 0..255 and normalises from that scale: multiply x by 255, or store it as U8", in, largest)
}

// holdsBytes reports whether a source yields bytes 0..255: image files,
// and safetensors files whose x is U8.
func holdsBytes(s source) bool {
	switch s := s.(type) {
	case *imageSource:
		return true
	case *setSource:
		return s.ds.U8 != nil
	}
	return false
}

// bytesOnFloatScale decides how the bytes 0..255 of input in (image
// pixels, a U8 tensor) become the features of a model trained on floats
// whose range the checkpoint ckpt records: divided by 255 (divide true, as
// torchvision's ToTensor does) for a range within [0, 1], as they are for
// one within [0, 255]. Any other range, or none recorded, says nothing of
// the scale the bytes should be on: an error naming in.
func bytesOnFloatScale[T backprop.Float](d *train.Data[T], ckpt string, s source, in string) (divide bool, err error) {
	what := in + ": its pixels are bytes 0..255"
	if _, ok := s.(*setSource); ok {
		what = in + `: tensor "x" holds U8 bytes 0..255`
	}
	if divide, ok := floatScale(d); ok {
		return divide, nil
	}
	lo, hi, known := d.FloatRange()
	if !known {
		return false, fmt.Errorf("%s, but the model was trained on floats whose range %s does not record (written before nettrain recorded it), so their scale is unknown: give a safetensors file with x on the training data's scale, or train again",
			what, ckpt)
	}
	return false, fmt.Errorf("%s, but the model was trained on floats within [%.6g, %.6g], neither within [0, 1] (pixels / 255) nor within [0, 255] (pixels): give a safetensors file with x on the training data's scale",
		what, lo, hi)
}

// floatScale says how bytes 0..255 become the features of a model trained
// on floats: divided by 255 (divide) when their recorded range lies within
// [0, 1], as they are within [0, 255]; ok is false for any other range,
// or none recorded.
func floatScale[T backprop.Float](d *train.Data[T]) (divide, ok bool) {
	lo, hi, known := d.FloatRange()
	return known && lo >= 0 && hi <= 1, known && lo >= 0 && hi <= 255
}

// takesImages reports whether image files can be given to the model: its
// samples are images of 1 or 3 channels, [C, H, W], of bytes or of floats
// whose scale the pixels can be put on (floatScale).
func takesImages[T backprop.Float](d *train.Data[T]) bool {
	if _, err := imageOptions(d.Image, d.SampleShape(), ""); err != nil {
		return false
	}
	_, ok := floatScale(d)
	return d.ByteFeatures() || ok
}

// shapeN writes the shape of a tensor of samples of the given shape, as
// PyTorch users write it: "(N, 1, 28, 28)".
func shapeN(sample []int) string {
	var b strings.Builder
	b.WriteString("(N")
	for _, v := range sample {
		fmt.Fprintf(&b, ", %d", v)
	}
	return b.String() + ")"
}

// bytesOnFloatNote says, once for all the byte inputs (image files, U8
// tensors) given to a model trained on floats, how their bytes were put
// on the training data's scale (bytesOnFloatScale): "" when there are
// none.
func bytesOnFloatNote[T backprop.Float](d *train.Data[T], inputs []string) string {
	if len(inputs) == 0 {
		return ""
	}
	lo, hi, _ := d.FloatRange()
	in := inputs[0]
	switch len(inputs) {
	case 1:
	case 2:
		in += " and 1 other input"
	default:
		in += fmt.Sprintf(" and %d other inputs", len(inputs)-1)
	}
	how := "divided by 255, as torchvision's ToTensor does"
	if hi > 1 {
		how = "taken as they are"
	}
	return fmt.Sprintf("%s: the model was trained on floats within [%.6g, %.6g], not on bytes: the pixel values 0..255 are %s", in, lo, hi, how)
}

// unitSource divides the bytes of a source by 255, giving floats within
// [0, 1] as torchvision's ToTensor does (float32(v) / 255; float64(v) /
// 255 for a float64 model, f64), for a model trained on floats within
// [0, 1]. Its buffers hold one batch.
type unitSource struct {
	source
	f64 bool
	b32 []float32
	b64 []float64
}

func (u *unitSource) next(max int) (*data.Dataset, []string, error) {
	ds, ids, err := u.source.next(max)
	if err != nil || ds.U8 == nil {
		return ds, ids, err
	}
	c := *ds
	c.U8 = nil
	if u.f64 {
		u.b64 = unitScaled(u.b64, ds.U8)
		c.F64 = u.b64
	} else {
		u.b32 = unitScaled(u.b32, ds.U8)
		c.F32 = u.b32
	}
	return &c, ids, nil
}

// unitScaled is bytes b divided by 255 (in F's arithmetic), in buf when
// it holds them.
func unitScaled[F float32 | float64](buf []F, b []uint8) []F {
	if cap(buf) < len(b) {
		buf = make([]F, len(b))
	}
	buf = buf[:len(b)]
	for i, v := range b {
		buf[i] = F(v) / 255
	}
	return buf
}

// className names class c: its name, or its id when the data named none.
func className(names []string, c int) string {
	if c >= 0 && c < len(names) {
		return names[c]
	}
	return strconv.Itoa(c)
}

// targetNames names the regression outputs: the CSV target columns, or
// y0, y1, ...
func targetNames(cols []string, n int) []string {
	if len(cols) == n {
		return slices.Clone(cols)
	}
	names := make([]string, n)
	for i := range names {
		names[i] = "y" + strconv.Itoa(i)
	}
	return names
}

// softmax returns the probabilities of a row of logits (with a
// cross-entropy loss, whose softmax the network leaves to the loss), or the
// row itself when the model's outputs are already its scores.
func softmax[T backprop.Float](row []T, logits bool) []float64 {
	p := make([]float64, len(row))
	if !logits {
		for i, v := range row {
			p[i] = float64(v)
		}
		return p
	}
	hi := math.Inf(-1)
	for _, v := range row {
		hi = max(hi, float64(v))
	}
	sum := 0.0
	for i, v := range row {
		p[i] = math.Exp(float64(v) - hi)
		sum += p[i]
	}
	for i := range p {
		p[i] /= sum
	}
	return p
}

// topK returns the k most likely classes, most likely first (ties: the
// lower class id first).
func topK(probs []float64, k int, names []string) []ClassProb {
	idx := make([]int, len(probs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case probs[a] > probs[b]:
			return -1
		case probs[a] < probs[b]:
			return 1
		}
		return 0
	})
	out := make([]ClassProb, min(k, len(idx)))
	for i := range out {
		c := idx[i]
		out[i] = ClassProb{Class: c, Name: className(names, c), Probability: probs[c]}
	}
	return out
}

// predictionWriter writes predictions as CSV or JSON lines.
type predictionWriter struct {
	format string
	csv    *csv.Writer
	w      io.Writer // JSON lines
	r      *InputResult
	top    int
	header bool
}

func newPredictionWriter(w io.Writer, format string, r *InputResult, top int) *predictionWriter {
	pw := &predictionWriter{format: format, r: r, top: top}
	if format == "csv" {
		pw.csv = csv.NewWriter(w)
	} else {
		pw.w = w
	}
	return pw
}

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func (pw *predictionWriter) write(p Prediction) error {
	if pw.w != nil {
		return finitejson.Encode(pw.w, p, "")
	}
	if !pw.header {
		pw.header = true
		h := []string{"input"}
		if pw.r.Classes != nil {
			value := "probability"
			if pw.r.Scores {
				value = "score"
			}
			h = append(h, "predicted", value)
			for i := 2; i <= pw.top; i++ {
				h = append(h, fmt.Sprintf("class_%d", i), fmt.Sprintf("%s_%d", value, i))
			}
			h = append(h, "label")
		} else {
			h = append(h, pw.r.Targets...)
			for _, t := range pw.r.Targets {
				h = append(h, "actual_"+t)
			}
		}
		if err := pw.csv.Write(h); err != nil {
			return err
		}
	}
	row := []string{p.Input}
	if p.Top != nil {
		for _, c := range p.Top {
			row = append(row, c.Name, fmtFloat(c.Probability))
		}
		row = append(row, p.LabelName)
	} else {
		for _, v := range p.Values {
			row = append(row, fmtFloat(v))
		}
		for k := range pw.r.Targets {
			s := ""
			if k < len(p.Targets) {
				s = fmtFloat(p.Targets[k])
			}
			row = append(row, s)
		}
	}
	return pw.csv.Write(row)
}

func (pw *predictionWriter) flush() error {
	if pw.csv != nil {
		pw.csv.Flush()
		return pw.csv.Error()
	}
	return nil
}
