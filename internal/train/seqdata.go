package train

import (
	"errors"
	"fmt"
	"math"

	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/checkpoint"
	"github.com/nettrain/nettrain/internal/data"
	"github.com/nettrain/nettrain/internal/model"
)

// Windows is a Split of sliding windows over one sequence.
type Windows[T backprop.Float] struct {
	W          data.Windows
	inLen, tgt int // input values and target values (or labels) per window
}

func (s *Windows[T]) Len() int { return s.W.Len() }

func (s *Windows[T]) Fill(pos []int, x []T, labels []int32, values []T) {
	n := len(pos)
	if labels != nil {
		labels = labels[:n*s.tgt]
	}
	if values != nil {
		values = values[:n*s.tgt]
	}
	data.FillWindows(s.W, pos, x[:n*s.inLen], labels, values)
}

// denorm maps target element k of a window (row-major over TargetShape)
// back to the series' units.
func (s *Windows[T]) denorm(k int, v float64) float64 {
	seq := s.W.Seq
	return seq.Denormalize(seq.Out[k%len(seq.Out)], v)
}

// baseline is the trivial predictor to beat on the windows: for a text,
// the training character frequencies (add-one smoothed over the
// vocabulary), scored by cross-entropy; for a series, the last observed
// value (the value Horizon steps before each target), scored by MSE and MAE
// in the series' units.
func (s *Windows[T]) baseline(string, int) *Baseline {
	seq, w := s.W.Seq, s.W
	if w.Len() == 0 {
		return nil
	}
	targets := func(i int) []int { // positions of window i's targets
		start := w.Start(i)
		if seq.Target == data.TargetSequence {
			p := make([]int, seq.Window)
			for k := range p {
				p[k] = start + k + seq.Horizon
			}
			return p
		}
		return []int{start + seq.Window - 1 + seq.Horizon}
	}
	if seq.Kind == data.SeqText {
		counts := make([]float64, seq.NumClasses())
		for p := 0; p < seq.TrainEnd; p++ {
			counts[seq.Token(p)]++
		}
		total := float64(seq.TrainEnd + len(counts))
		var sum float64
		var n int
		for i := 0; i < w.Len(); i++ {
			for _, p := range targets(i) {
				sum -= math.Log((counts[seq.Token(p)] + 1) / total)
				n++
			}
		}
		return &Baseline{Name: "training character frequencies", Loss: sum / float64(n)}
	}
	var sq, ab float64
	var n int
	cols := make([]ColumnBaseline, len(seq.Out))
	for i := 0; i < w.Len(); i++ {
		for _, p := range targets(i) {
			for k, col := range seq.Out {
				// The last value forecast: the level Horizon steps before.
				d := seq.Level(p-seq.Horizon, col) - seq.Level(p, col)
				sq += d * d
				ab += math.Abs(d)
				cols[k].MSE += d * d
				cols[k].MAE += math.Abs(d)
				n++
			}
		}
	}
	mse, mae := sq/float64(n), ab/float64(n)
	b := &Baseline{Name: "last value", MSE: &mse, MAE: &mae}
	if len(cols) > 1 {
		per := float64(n / len(cols))
		for k := range cols {
			cols[k].MSE /= per
			cols[k].MAE /= per
		}
		b.Columns = cols
	}
	return b
}

// targetColumns names the series' target columns, in the order of the
// model's outputs.
func (s *Windows[T]) targetColumns() []string {
	seq := s.W.Seq
	if seq.Kind != data.SeqSeries {
		return nil
	}
	names := make([]string, len(seq.Out))
	for k, c := range seq.Out {
		names[k] = seq.Columns[c]
	}
	return names
}

// Baseline is a trivial predictor's score on the same split.
type Baseline struct {
	Name     string   `json:"name"`
	Loss     float64  `json:"loss,omitempty"`     // classification: in the run's loss (cross-entropy in nats)
	Accuracy *float64 `json:"accuracy,omitempty"` // classification: always the most frequent class
	MSE      *float64 `json:"mse,omitempty"`      // regression, in the targets' units (several: their mean)
	MAE      *float64 `json:"mae,omitempty"`
	// Columns are the errors per target column, when there are several
	// (EvalResult.Columns gives each with the model's).
	Columns []ColumnBaseline `json:"-"`
}

func seqOptions(cfg *model.Config) data.SeqOptions {
	sq := cfg.Data.Sequence
	o := data.DefaultSeqOptions(data.SeqKind(sq.Kind), sq.Window)
	o.Stride, o.Horizon, o.Target = sq.Stride, sq.Horizon, data.SeqTarget(sq.Target)
	o.Validation = cfg.Data.ValidationSplit
	o.MaxBytes, o.LimitName = DataMemoryLimit(cfg)
	o.Inputs, o.Targets = sq.Inputs, sq.Targets
	o.Difference = sq.Difference
	o.Float64 = cfg.DType == "float64" // values stay float64 from the file to the loss
	if o.Kind == data.SeqSeries {
		o.Normalize = data.Method(cfg.Data.Normalize)
		if o.Normalize == data.Unit {
			o.Normalize = data.None // unit scales bytes; a series' floats stay as they are
		}
	}
	return o
}

// loadSequence is LoadData for data.sequence configs.
func loadSequence[T backprop.Float](cfg *model.Config) (*Data[T], error) {
	seq, tr, val, err := data.LoadSequence(cfg.Path(cfg.Data.Train), seqOptions(cfg))
	var scale *data.ScaleError
	if errors.As(err, &scale) {
		// A column too narrow to scale: data.normalize's error, as the
		// tabular data's is.
		return nil, cfg.KeyCause("data.normalize", err.Error(), err)
	}
	if err != nil {
		return nil, dataErr(cfg, "data.train", err)
	}
	text := seq.Kind == data.SeqText
	info := model.DataInfo{Input: seq.InputShape(), Classes: seq.NumClasses(), Vocab: seq.NumClasses(), Tokens: text}
	g, err := model.Build(cfg, &info)
	if err != nil {
		return nil, err
	}
	if err := checkSeqFit(cfg, g, seq); err != nil {
		return nil, err
	}
	d := &Data[T]{Seq: seq, cfg: cfg, graph: g,
		Fingerprints: []checkpoint.DataFingerprint{fingerprintSequence(cfg.Data.Train, cfg.Path(cfg.Data.Train), seq)}}
	if text {
		d.Classes = seq.NumClasses()
		d.ClassNames = seq.Vocab
	}
	mk := func(w data.Windows) Split[T] {
		return &Windows[T]{W: w, inLen: seq.InputLen(), tgt: max(1, seq.TargetLen())}
	}
	d.Train = mk(tr)
	if val.Len() > 0 {
		d.Val = mk(val)
	}
	return d, nil
}

// checkSeqFit reports a model whose input or output does not fit the
// windows.
func checkSeqFit(cfg *model.Config, g *model.Graph, seq *data.Sequence) error {
	if in := backprop.Prod(g.Input); in != seq.InputLen() {
		return fmt.Errorf("%s: the windows have shape %v (%d values), but model.input is %v (%d values); omit model.input to take it from the data",
			cfg.File, seq.InputShape(), seq.InputLen(), g.Input, in)
	}
	if backprop.DiscreteInput(g.Specs) != (seq.Kind == data.SeqText) {
		if seq.Kind == data.SeqText {
			return cfg.KeyError("model.layers.0", "a text's windows are token ids: start the model with an embedding or onehot layer")
		}
		return cfg.KeyError("model.layers.0", "layer 0 (%s) takes token ids, but a series holds numbers", g.Specs[0].Kind())
	}
	out := g.Specs[len(g.Specs)-1].OutShape()
	last := fmt.Sprintf("layer %d (%s)", len(g.Specs)-1, g.Specs[len(g.Specs)-1].Kind())
	width := out[len(out)-1]
	if seq.Kind == data.SeqText {
		if cfg.Loss != backprop.CrossEntropy {
			return cfg.KeyError("loss", "a text model predicts characters: use loss cross_entropy")
		}
		want := 1
		if seq.Target == data.TargetSequence {
			want = seq.Window
		}
		if got := backprop.Prod(out) / width; got != want {
			return fmt.Errorf("%s: with data.sequence.target %s each window has %d target character(s), but %s outputs %v: %d prediction(s); use lstm return_sequences: %v",
				cfg.File, seq.Target, want, last, out, got, want > 1)
		}
		if width < seq.NumClasses() {
			return cfg.KeyError(lastKey(cfg), "the text has %d distinct characters (with <unk>), but %s outputs %d values; use dense units: classes", seq.NumClasses(), last, width)
		}
		return nil
	}
	if cfg.Loss == backprop.CrossEntropy {
		return cfg.KeyError("loss", "a series is a regression: use loss mse or half_sse")
	}
	if backprop.Prod(out) != seq.TargetLen() {
		hint := ""
		if seq.Target == data.TargetSequence && len(out) == 1 {
			hint = fmt.Sprintf("; with data.sequence.target %s every step has a target: an lstm or gru passes every step on with return_sequences: true", seq.Target)
		}
		return cfg.KeyError(lastKey(cfg), "each window has targets of shape %v (%d values), but %s outputs %v%s", seq.TargetShape(), seq.TargetLen(), last, out, hint)
	}
	return nil
}
