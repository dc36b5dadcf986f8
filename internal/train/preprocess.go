package train

import (
	"fmt"
	"slices"

	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/checkpoint"
	"github.com/nettrain/nettrain/internal/data"
	"github.com/nettrain/nettrain/internal/model"
)

// Preprocess returns the preprocessing fitted on the training data, which
// every checkpoint stores so that eval, predict and export apply exactly
// training's to new inputs.
func (d *Data[T]) Preprocess() *checkpoint.Preprocess {
	p := &checkpoint.Preprocess{
		Input:      slices.Clone(d.graph.Input),
		Classes:    d.Classes,
		ClassNames: slices.Clone(d.ClassNames),
	}
	if seq := d.Seq; seq != nil {
		p.Kind = checkpoint.KindSeries
		sp := &checkpoint.SequenceSpec{Window: seq.Window, Horizon: seq.Horizon, Target: string(seq.Target)}
		if seq.Kind == data.SeqText {
			p.Kind = checkpoint.KindText
			sp.Vocab = slices.Clone(seq.Vocab)
			p.ClassNames = nil // the vocabulary names them
			p.Normalize = string(data.None)
		} else {
			p.Classes = 0
			p.TargetDim = seq.TargetLen()
			sp.Columns, sp.In, sp.Out = slices.Clone(seq.Columns), slices.Clone(seq.In), slices.Clone(seq.Out)
			sp.Differenced = seq.Differenced
			p.Normalize = string(seq.Norm.Method)
			p.Offset, p.Scale = checkpoint.CompactNorm(slices.Clone(seq.Norm.Offset), slices.Clone(seq.Norm.Scale))
		}
		p.Sequence = sp
		return p
	}
	p.Kind = checkpoint.KindTabular
	if !slices.Equal(d.sample, p.Input) {
		p.Sample = slices.Clone(d.sample)
	}
	if d.bytes && len(p.ImageShape()) == 3 {
		p.Kind = checkpoint.KindImages
	}
	p.Bytes = d.bytes
	p.Range = slices.Clone(d.floatRange)
	if im := d.Image; im != nil {
		p.Image = &checkpoint.ImageSpec{Channels: im.Channels, Size: im.Size, Resize: im.Resize}
		if p.Image.Resize == "" {
			p.Image.Resize = "bilinear"
		}
	}
	p.Normalize = string(d.Norm.Method)
	p.Offset, p.Scale = checkpoint.CompactNorm(slices.Clone(d.Norm.Offset), slices.Clone(d.Norm.Scale))
	p.Features, p.Targets = slices.Clone(d.featureCols), slices.Clone(d.labelCols)
	p.TargetDim = d.targetDim
	p.TargetMean, p.ClassFreq = slices.Clone(d.targetMean), slices.Clone(d.classFreq)
	return p
}

// FromPreprocess makes the config's model ready for new inputs from a
// checkpoint's preprocessing, without reading the training data: the graph
// is built against the stored input shape and classes, and the Data holds
// the stored normalisation and classes but no samples (Train and Val are
// nil). LoadTest and LoadFile read files with it exactly as training did.
// ckpt names the checkpoint in errors.
func FromPreprocess[T backprop.Float](cfg *model.Config, p *checkpoint.Preprocess, ckpt string) (*Model[T], error) {
	info := PreprocessInfo(p)
	g, err := model.Build(cfg, info)
	if err != nil {
		return nil, err
	}
	if !slices.Equal(g.Input, p.Input) {
		return nil, fmt.Errorf("%s: model.input is %v, but %s was trained on inputs of shape %v: is it this config's checkpoint?", cfg.File, g.Input, ckpt, p.Input)
	}
	d := &Data[T]{Classes: info.Classes, ClassNames: p.ClassNames, cfg: cfg, graph: g,
		bytes: p.Bytes, floatRange: p.Range, sample: p.ImageShape(), featureCols: p.Features, labelCols: p.Targets, targetDim: p.TargetDim,
		targetMean: p.TargetMean, classFreq: p.ClassFreq, pre: p}
	if p.Kind == checkpoint.KindText {
		d.ClassNames = p.Sequence.Vocab
	}
	if im := p.Image; im != nil {
		d.Image = &data.ImageOptions{Channels: im.Channels, Size: im.Size, Resize: im.Resize}
	}
	if p.Kind == checkpoint.KindSeries {
		if d.Seq, err = SeriesSpec(p); err != nil {
			return nil, fmt.Errorf("%s: the checkpoint's series: %v", ckpt, err)
		}
	}
	if p.Sequence == nil {
		n := backprop.Prod(p.Input)
		if limit, what := MemoryLimit(cfg); limit > 0 && dataBytes(n, info.Classes) > limit {
			return nil, memoryError(cfg, 1, needBytes[T](cfg, g, 1, n, info.Classes, false), limit, what, false, 0)
		}
		off, sc := p.Offset, p.Scale
		if len(off) == 0 {
			off, sc = []float64{0}, []float64{1}
		}
		if d.Norm, err = data.NewNormalizer(data.Method(p.Normalize), off, sc, n); err != nil {
			return nil, fmt.Errorf("the checkpoint's normalisation: %v", err)
		}
	}
	return &Model[T]{Config: cfg, Graph: g, Data: d}, nil
}

// SeriesSpec is the series a checkpoint's preprocessing describes, without
// its rows: the columns, the inputs and targets, the window and horizon,
// whether it holds changes, and the normalisation fitted in training, as
// forecasts from new rows need them (N is 0).
func SeriesSpec(p *checkpoint.Preprocess) (*data.Sequence, error) {
	sp := p.Sequence
	if p.Kind != checkpoint.KindSeries || sp == nil {
		return nil, fmt.Errorf("not a series (kind %q)", p.Kind)
	}
	off, sc := p.Offset, p.Scale
	if len(off) == 0 {
		off, sc = []float64{0}, []float64{1}
	}
	norm, err := data.NewNormalizer(data.Method(p.Normalize), off, sc, len(sp.Columns))
	if err != nil {
		return nil, err
	}
	return &data.Sequence{Kind: data.SeqSeries, Source: "the checkpoint", Window: sp.Window, Horizon: sp.Horizon, Target: data.SeqTarget(sp.Target),
		Columns: slices.Clone(sp.Columns), In: slices.Clone(sp.In), Out: slices.Clone(sp.Out), Norm: norm, Differenced: sp.Differenced}, nil
}

// PreprocessInfo is what a checkpoint's preprocessing says about its data,
// as model.Build takes it: the input shape, the classes, a text's
// vocabulary.
func PreprocessInfo(p *checkpoint.Preprocess) *model.DataInfo {
	info := &model.DataInfo{Input: slices.Clone(p.Input), Classes: p.Classes}
	if p.Kind == checkpoint.KindText {
		info.Classes = len(p.Sequence.Vocab)
		info.Vocab, info.Tokens = info.Classes, true
	}
	return info
}

// Stored returns the checkpoint preprocessing the Data was made from
// (FromPreprocess), nil when it was fitted on the training data.
func (d *Data[T]) Stored() *checkpoint.Preprocess { return d.pre }

// FeatureColumns names the CSV columns the model's features come from
// (nil when the training data was not a CSV file).
func (d *Data[T]) FeatureColumns() []string { return d.featureCols }

// LabelColumns names the CSV columns of the labels or regression targets.
func (d *Data[T]) LabelColumns() []string { return d.labelCols }

// ByteFeatures reports whether the training features were bytes (0..255).
func (d *Data[T]) ByteFeatures() bool { return d.bytes }

// FloatRange returns the smallest and the largest feature value of the
// training part when the features were floats and the range is known
// (ok false: bytes, or a checkpoint written before nettrain recorded it).
func (d *Data[T]) FloatRange() (lo, hi float64, ok bool) {
	if len(d.floatRange) != 2 {
		return 0, 0, false
	}
	return d.floatRange[0], d.floatRange[1], true
}

// SampleShape is the shape of one sample as the training data held it
// (MNIST's [1, 28, 28] also for an MLP whose input is [784]).
func (d *Data[T]) SampleShape() []int { return d.sample }

// TargetDim is the number of regression targets per sample.
func (d *Data[T]) TargetDim() int { return d.targetDim }

// SplitOf makes a Split of samples of ds (read by the caller in the
// training data's format and classes), normalised as the training data.
func (d *Data[T]) SplitOf(ds *data.Dataset) (Split[T], error) {
	if err := d.checkFit(ds); err != nil {
		return nil, err
	}
	return d.split(data.All(ds)), nil
}
