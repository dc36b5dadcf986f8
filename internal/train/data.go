package train

import (
	"errors"
	"fmt"
	"math"
	"os"
	"slices"

	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/checkpoint"
	"github.com/nettrain/nettrain/internal/data"
	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/safeio"
)

// Data is a config's data, split and normalised, ready for batches.
type Data[T backprop.Float] struct {
	Train Split[T]
	Val   Split[T] // nil without validation data
	// Classes > 0 when the targets are class labels.
	Classes int
	// ClassNames names the classes when the data does (CSV labels).
	ClassNames []string
	// Norm is fitted on the training part only.
	Norm *data.Normalizer
	// Seq is the sequence of data.sequence configs (nil otherwise).
	Seq *data.Sequence
	// Image, when data.train is an image folder, is how its images were
	// read (channels and size settled): data.ReadImage with it reads an
	// image for prediction exactly as training did. Nil otherwise.
	Image *data.ImageOptions
	// Skipped lists the files data.image.skip_bad skipped in data.train
	// and data.validation, each as "key: the error it would have been".
	Skipped []string
	// Fingerprints identify the data files read (data.train, and
	// data.validation when set), computed once at load: checkpoints record
	// them, and a resume or an evaluation compares them.
	Fingerprints []checkpoint.DataFingerprint
	// decoding is how the image folders read were decoded, by key
	// (data.train, data.validation): ImageDecodingChanged.
	decoding map[string]*data.ImageDecoding
	// targetMean is the training targets' mean (regression); classFreq
	// counts the training labels per class (classification).
	targetMean []float64
	classFreq  []float64
	// What Preprocess records of the training data: byte features, the
	// range of float ones (nil: bytes, or not recorded), the CSV columns,
	// the target count, the sample shape; pre is the checkpoint
	// preprocessing a Data made by FromPreprocess came from.
	bytes                  bool
	floatRange             []float64
	featureCols, labelCols []string
	targetDim              int
	sample                 []int // the data's sample shape
	pre                    *checkpoint.Preprocess

	// held is what the data sets read (data.train, data.validation) hold
	// in memory: CheckMemory counts it with the network, since each was
	// checked against the limit on its own when it was read.
	held int64

	cfg   *model.Config
	graph *model.Graph // built against this data
}

// tabular is a Split of a data.Subset: one sample per row, one label (or a
// target vector) per sample.
type tabular[T backprop.Float] struct {
	sub  data.Subset
	norm *data.Normalizer
	feat int // values per sample
	tdim int // regression targets per sample
	// mean is the training targets' mean (regression), the baseline.
	mean []float64
	// cols names the regression targets (the training CSV's target
	// columns; nil for other data).
	cols []string
	// freq counts the training labels per class (classification), for the
	// baseline of predicting the training class frequencies.
	freq []float64
	// aug, for the training split only, transforms its samples (nil: no
	// augmentation), drawn from seed and the epoch SetEpoch gave.
	aug   *data.Augment
	seed  uint64
	epoch int
}

// SetEpoch tells the split which epoch its samples are drawn for: the
// random augmentation of a sample is a function of (seed, epoch, sample),
// so a resumed run fills the same batches. Loop calls it at the start of
// every epoch, before any Fill of the epoch; without augmentation it does
// nothing.
func (s *tabular[T]) SetEpoch(epoch int) { s.epoch = epoch }

func (s *tabular[T]) forTrainer() Split[T] {
	c := *s
	return &c
}

// baseline is, for regression, the MSE and MAE of always predicting the
// training targets' mean; for classification, the loss (of kind loss) of
// always predicting the training class frequencies.
func (s *tabular[T]) baseline(loss string, width int) *Baseline {
	if s.sub.Len() == 0 {
		return nil
	}
	if s.freq != nil && s.sub.DS.Labels != nil {
		// Predict the training class frequencies (add-one smoothed): the
		// loss of knowing nothing but the class balance, and the accuracy
		// of always answering the most frequent class.
		total, most := 0.0, 0
		for c, n := range s.freq {
			total += n + 1
			if n > s.freq[most] {
				most = c
			}
		}
		// Against a one-hot target, the squared error of the frequencies p
		// is sum_k p_k^2 - 2 p_c + 1: mse averages it over the C outputs,
		// half_sse halves it.
		var sumSq float64
		for _, n := range s.freq {
			sumSq += (n + 1) / total * (n + 1) / total
		}
		var sum float64
		hits := 0
		for _, i := range s.sub.Idx {
			c := int(s.sub.DS.Labels[i])
			pc := 0.0
			if c < len(s.freq) {
				pc = (s.freq[c] + 1) / total
			}
			switch loss {
			case backprop.MSE: // averaged over the model's outputs, which may be more than the classes seen
				sum += (sumSq - 2*pc + 1) / float64(max(width, len(s.freq)))
			case backprop.HalfSSE:
				sum += (sumSq - 2*pc + 1) / 2
			default:
				if pc > 0 {
					sum -= math.Log(pc)
				}
			}
			if c == most {
				hits++
			}
		}
		acc := float64(hits) / float64(s.sub.Len())
		return &Baseline{Name: "training class frequencies", Loss: sum / float64(s.sub.Len()), Accuracy: &acc}
	}
	if s.mean == nil {
		return nil
	}
	var sq, ab float64
	cols := make([]ColumnBaseline, s.tdim)
	for _, i := range s.sub.Idx {
		for k := 0; k < s.tdim; k++ {
			d := s.sub.DS.Target(i*s.tdim+k) - s.mean[k]
			sq += d * d
			ab += math.Abs(d)
			cols[k].MSE += d * d
			cols[k].MAE += math.Abs(d)
		}
	}
	n := float64(s.sub.Len() * s.tdim)
	mse, mae := sq/n, ab/n
	b := &Baseline{Name: "training mean", MSE: &mse, MAE: &mae}
	if s.tdim > 1 {
		for k := range cols {
			cols[k].MSE /= float64(s.sub.Len())
			cols[k].MAE /= float64(s.sub.Len())
		}
		b.Columns = cols
	}
	return b
}

// targetColumns names the regression targets: the CSV target columns,
// else y0, y1, ...
func (s *tabular[T]) targetColumns() []string {
	if s.tdim == 0 {
		return nil
	}
	if len(s.cols) == s.tdim {
		return s.cols
	}
	names := make([]string, s.tdim)
	for k := range names {
		names[k] = fmt.Sprintf("y%d", k)
	}
	return names
}

func (s *tabular[T]) Len() int { return s.sub.Len() }

func (s *tabular[T]) Fill(pos []int, x []T, labels []int32, values []T) {
	n := len(pos)
	if labels != nil {
		labels = labels[:n]
	}
	if values != nil {
		values = values[:n*s.tdim]
	}
	if s.aug != nil {
		data.FillAugmented(s.sub, pos, s.norm, s.aug, s.seed, s.epoch, x[:n*s.feat], labels, values)
		return
	}
	data.FillBatch(s.sub, pos, s.norm, x[:n*s.feat], labels, values)
}

func (c *Data[T]) split(sub data.Subset) Split[T] {
	return &tabular[T]{sub: sub, norm: c.Norm, feat: sub.DS.FeatureLen(), tdim: sub.DS.TargetDim, mean: c.targetMean, freq: c.classFreq, cols: c.labelCols}
}

func loadOptions(cfg *model.Config) data.LoadOptions {
	// Under dtype float64 numbers stay float64 from the file to the loss.
	o := data.LoadOptions{BaseDir: cfg.Dir, Float64: cfg.DType == "float64"}
	o.MaxBytes, o.LimitName = DataMemoryLimit(cfg)
	c := cfg.Data.CSV
	if c.Header != nil {
		o.CSV.Header = data.HeaderAbsent
		if *c.Header {
			o.CSV.Header = data.HeaderPresent
		}
	}
	o.Image = folderOptions(cfg)
	o.CSV.Features = c.Features
	if c.Classes != nil {
		o.CSV.LabelKind = labelKinds[*c.Classes]
	}
	o.CSV.Task = data.Classification
	if cfg.Loss != backprop.CrossEntropy {
		o.CSV.Task = data.Regression
	}
	switch {
	case len(c.Targets) > 0:
		o.CSV.Labels = c.Targets
	case c.Label != "":
		o.CSV.Labels = []string{c.Label}
	}
	return o
}

// folderOptions are data.image's settings, with model.input's [C, H, W]
// as the defaults of channels and size when it has that form.
func folderOptions(cfg *model.Config) data.FolderOptions {
	o := data.FolderOptions{Resize: "bilinear"}
	if in := cfg.Model.Input; len(in) == 3 && (in[0] == 1 || in[0] == 3) && in[1] > 0 && in[2] > 0 {
		o.Channels, o.Size = in[0], [2]int{in[1], in[2]}
	}
	if im := cfg.Data.Image; im != nil {
		if im.Channels != nil {
			o.Channels = *im.Channels
		}
		if len(im.Size) == 2 {
			o.Size = [2]int{im.Size[0], im.Size[1]}
		}
		o.Resize, o.SkipBad = im.Resize, im.SkipBad
	}
	return o
}

// augment is data.augment as the data package applies it, checked
// against the training data (nil without augmentation).
func augment(cfg *model.Config, ds *data.Dataset) (*data.Augment, error) {
	a := cfg.Data.Augment
	if a == nil {
		return nil, nil
	}
	aug := &data.Augment{FlipHorizontal: a.FlipHorizontal, Rotate: a.Rotate, Translate: a.Translate, Stream: StreamAugment}
	if a.RandomCrop != nil {
		aug.CropPadding = a.RandomCrop.Padding
	}
	if err := aug.Check(ds); err != nil {
		return nil, cfg.KeyError("data.augment", "%v", err)
	}
	if !aug.Active() {
		return nil, nil
	}
	return aug, nil
}

// checkImageKeys refuses data.image for data that is not an image folder.
func checkImageKeys(cfg *model.Config, key, spec string, ds *data.Dataset) error {
	if cfg.Data.Image != nil && ds.Image == nil {
		return cfg.KeyError("data.image", "applies to image folders (a folder with one subfolder of images per class), but %s is %s", key, spec)
	}
	return nil
}

// skipped prefixes the files skip_bad skipped in ds with the key.
func skipped(key string, ds *data.Dataset) []string {
	var s []string
	for _, m := range ds.Skipped {
		s = append(s, key+": "+m)
	}
	return s
}

// loadData loads the config's training data, builds the model against it,
// holds out the validation part (or loads data.validation), fits the
// normaliser on the training part, and checks that the data fits the model
// and the loss. data.train is read as as says where the config leaves the
// reading to the data (a checkpoint's Reading; the zero Reading: as the
// data says).
func loadData[T backprop.Float](cfg *model.Config, as Reading) (*Data[T], error) {
	if cfg.Data.Sequence != nil {
		return loadSequence[T](cfg)
	}
	o := loadOptions(cfg)
	as.apply(cfg, &o)
	ds, err := data.Load(cfg.Data.Train, o)
	if err != nil {
		return nil, dataErr(cfg, "data.train", err)
	}
	g, err := model.Build(cfg, &model.DataInfo{Input: ds.Shape, Classes: ds.NumClasses})
	if err != nil {
		return nil, err
	}
	d := &Data[T]{Classes: ds.NumClasses, ClassNames: ds.ClassNames, cfg: cfg, graph: g, Image: ds.Image, Skipped: skipped("data.train", ds),
		Fingerprints: []checkpoint.DataFingerprint{fingerprintDataset("data.train", cfg.Data.Train, cfg.Path(cfg.Data.Train), ds)},
		bytes:        ds.U8 != nil, sample: ds.Shape, featureCols: ds.FeatureColumns, labelCols: ds.LabelColumns, targetDim: ds.TargetDim,
		held: ds.MemBytes(), decoding: map[string]*data.ImageDecoding{"data.train": ds.Decoding}}
	if err := checkImageKeys(cfg, "data.train", cfg.Data.Train, ds); err != nil {
		return nil, err
	}
	aug, err := augment(cfg, ds)
	if err != nil {
		return nil, err
	}
	if err := d.checkFit(ds); err != nil {
		return nil, err
	}
	if err := d.checkArrays(ds); err != nil {
		return nil, err
	}
	var trainSub, valSub data.Subset
	if cfg.Data.Validation != "" {
		trainSub = data.All(ds)
		vo := d.otherOptions()
		vo.Classes = ds.ClassMap() // the training classes
		vds, err := data.Load(cfg.Data.Validation, vo)
		if err != nil {
			return nil, dataErr(cfg, "data.validation", err)
		}
		if err := d.checkFit(vds); err != nil {
			return nil, err
		}
		d.Skipped = append(d.Skipped, skipped("data.validation", vds)...)
		d.held += vds.MemBytes()
		valSub = data.All(vds)
		d.Fingerprints = append(d.Fingerprints, fingerprintDataset("data.validation", cfg.Data.Validation, cfg.Path(cfg.Data.Validation), vds))
		d.decoding["data.validation"] = vds.Decoding
	} else {
		trainSub, valSub, err = data.Split(ds, cfg.Data.ValidationSplit, cfg.Seed)
		if err != nil {
			return nil, cfg.KeyCause("data.validation_split", err.Error(), err)
		}
	}
	if trainSub.Len() == 0 {
		return nil, cfg.KeyError("data.validation_split", "no training samples left after holding out %g of %d", cfg.Data.ValidationSplit, ds.N)
	}
	d.Norm, err = data.Fit(trainSub, data.Method(cfg.Data.Normalize))
	if err != nil {
		return nil, cfg.KeyCause("data.normalize", err.Error(), err)
	}
	if !d.bytes {
		lo, hi := trainSub.Range()
		d.floatRange = []float64{lo, hi}
	}
	if ds.Labels != nil {
		d.classFreq = make([]float64, max(ds.NumClasses, 1))
		for _, i := range trainSub.Idx {
			if c := int(ds.Labels[i]); c < len(d.classFreq) {
				d.classFreq[c]++
			}
		}
	}
	if td := ds.TargetDim; ds.HasTargets() && td > 0 {
		d.targetMean = make([]float64, td)
		for _, i := range trainSub.Idx {
			for k := 0; k < td; k++ {
				d.targetMean[k] += ds.Target(i*td + k)
			}
		}
		for k := range d.targetMean {
			d.targetMean[k] /= float64(trainSub.Len())
		}
	}
	d.Train = d.split(trainSub)
	if aug != nil {
		t := d.Train.(*tabular[T])
		t.aug, t.seed = aug, cfg.Seed
	}
	if valSub.Len() > 0 {
		d.Val = d.split(valSub)
	}
	return d, nil
}

// LoadTest loads data.test, normalised like the training data.
func (d *Data[T]) LoadTest() (Split[T], error) {
	if d.Seq != nil {
		return nil, fmt.Errorf("%s: sequence data has no test split (the validation part is the last data.validation_split of the sequence); evaluate with --split validation", d.cfg.File)
	}
	if d.cfg.Data.Test == "" {
		other := "--split validation"
		if d.cfg.Data.Validation == "" && !(d.cfg.Data.ValidationSplit > 0) {
			other = "--split train (there is no validation data either)"
		}
		return nil, fmt.Errorf("%s: data.test is not set; add it to the config or evaluate with %s", d.cfg.File, other)
	}
	o := d.otherOptions()
	o.Classes = d.classMap()
	ds, err := data.Load(d.cfg.Data.Test, o)
	if err != nil {
		return nil, dataErr(d.cfg, "data.test", err)
	}
	if err := d.checkFit(ds); err != nil {
		return nil, err
	}
	return d.split(data.All(ds)), nil
}

// checkArrays refuses training data whose per-feature and per-class
// arrays (dataBytes: the normaliser, the class counts, Evaluate's
// per-class counts and scores) would need more than the memory limit on
// their own, before Load allocates them: when the classes alone do and a
// class id in the file makes them (Dataset.ClassesFrom), naming that id;
// else with CheckMemory's estimate for batches of one sample.
func (d *Data[T]) checkArrays(ds *data.Dataset) error {
	cfg := d.cfg
	limit, what := MemoryLimit(cfg)
	if limit <= 0 {
		return nil
	}
	classes := 0
	if ds.Labels != nil {
		out := d.graph.OutShape()
		classes = max(ds.NumClasses, out[len(out)-1]) // as Evaluate counts them
	}
	if need := classBytes(ds.NumClasses); ds.Labels != nil && ds.ClassesFrom != "" && need > limit {
		return cfg.KeyError("data.train", "%s makes %d classes, whose per-class counts and scores alone need about %s, more than %s (%s); class ids run from 0 to the number of classes minus 1",
			ds.ClassesFrom, ds.NumClasses, safeio.Bytes(need), what, safeio.Bytes(limit))
	}
	features := ds.FeatureLen()
	if dataBytes(features, classes) <= limit {
		return nil
	}
	return memoryError(cfg, 1, needBytes[T](cfg, d.graph, 1, features, classes, true), limit, what, true, 0)
}

// checkFit reports data that does not fit the model or the loss, naming
// both shapes.
func (d *Data[T]) checkFit(ds *data.Dataset) error {
	cfg, g := d.cfg, d.graph
	in := backprop.Prod(g.Input)
	if ds.FeatureLen() != in {
		return cfg.KeyError("model.input", "the samples of %s have shape %v (%d values), but model.input is %v (%d values)",
			ds.Source, ds.Shape, ds.FeatureLen(), g.Input, in)
	}
	out := g.Input
	if len(g.Specs) > 0 {
		out = g.Specs[len(g.Specs)-1].OutShape()
	}
	width := out[len(out)-1]
	last := fmt.Sprintf("layer %d (%s)", len(g.Specs)-1, cfg.Model.Layers[len(g.Specs)-1].Kind)
	if ds.Labels == nil && !ds.HasTargets() {
		return nil // inputs without labels (predict)
	}
	if ds.Labels == nil {
		if cfg.Loss == backprop.CrossEntropy {
			return cfg.KeyError("loss", "cross_entropy needs class labels, but %s holds regression targets; use loss mse for regression", ds.Source)
		}
		if ds.TargetDim != backprop.Prod(out) {
			return cfg.KeyError(lastKey(cfg), "%s has %d regression targets per sample, but the model's output %s is %v (%d values)",
				ds.Source, ds.TargetDim, last, out, backprop.Prod(out))
		}
		return nil
	}
	if positions := backprop.Prod(out) / width; positions != 1 {
		return cfg.KeyError(lastKey(cfg), "the model's output is %v: one prediction of %d classes for each of %d positions, but %s has one label per sample; is a flatten layer missing before the dense layers?",
			out, width, positions, ds.Source)
	}
	if width != ds.NumClasses {
		from := ""
		switch {
		case ds.ClassNames != nil:
			from = " (" + data.ListNames(ds.ClassNames) + ")"
		case ds.ClassesFrom != "":
			from = " (" + ds.ClassesFrom + ")"
		}
		more := ""
		if width > ds.NumClasses {
			// Outputs for classes no sample has: never trained towards, yet
			// predict would answer them.
			more = " (units: classes): the other outputs would be classes no sample has"
		}
		return cfg.KeyError(lastKey(cfg), "%s has %d classes%s, but %s outputs %d values; it needs one per class%s",
			ds.Source, ds.NumClasses, from, last, width, more)
	}
	if cfg.Loss != backprop.CrossEntropy && !slices.Equal(out, []int{width}) {
		return cfg.KeyError("loss", "with class labels, %s compares %s's output %v with one-hot labels; it must be a vector", cfg.Loss, last, out)
	}
	return nil
}

// lastKey is the config key of the model's last layer (model.layers.N),
// where errors about the model's output point.
func lastKey(cfg *model.Config) string {
	return fmt.Sprintf("model.layers.%d", len(cfg.Model.Layers)-1)
}

// dataErr puts the config and the key that named the data in front of a
// data error (which names the data file and the place in it itself).
func dataErr(cfg *model.Config, key string, err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return cfg.KeyCause(key, fmt.Sprintf("cannot read %s: %v", pe.Path, pe.Err), err)
	}
	return cfg.KeyCause(key, err.Error(), err)
}

// LoadFile reads a data file (any format data.Load reads) with the
// training data's classes and normalisation, checked against the model:
// the samples `trace --input` follows.
func (d *Data[T]) LoadFile(path string) (Split[T], error) {
	if d.Seq != nil {
		return nil, fmt.Errorf("%s: a sequence model reads windows of data.train; other input files do not apply", d.cfg.File)
	}
	lo := d.otherOptions()
	ds, err := data.Load(path, data.LoadOptions{CSV: lo.CSV, Image: lo.Image, Classes: d.classMap(), Float64: lo.Float64})
	if err != nil {
		return nil, err
	}
	if err := d.checkFit(ds); err != nil {
		return nil, err
	}
	return d.split(data.All(ds)), nil
}

// TrainForEval is the training split without augmentation: what
// evaluating on the training data reads (eval --split train, trace).
// Without data.augment it is Train itself.
func (d *Data[T]) TrainForEval() Split[T] {
	if t, ok := d.Train.(*tabular[T]); ok && t.aug != nil {
		plain := *t
		plain.aug = nil
		return &plain
	}
	return d.Train
}

// otherOptions are the load options of data read after the training
// data (validation, test, trace's input): an image folder is read with
// the channels and size the training folder settled, so that its samples
// have the training shape even when the config leaves them to the images.
func (d *Data[T]) otherOptions() data.LoadOptions {
	o := loadOptions(d.cfg)
	if d.Image != nil {
		o.Image.Channels, o.Image.Size = d.Image.Channels, d.Image.Size
	}
	// A CSV file's columns are found by the names the model was trained
	// on, not by position (unless two training columns share a name).
	names := slices.Concat(d.featureCols, d.labelCols)
	slices.Sort(names)
	if d.featureCols != nil && len(slices.Compact(names)) == len(d.featureCols)+len(d.labelCols) {
		o.CSV.Trained = &data.TrainedColumns{Features: d.featureCols, Labels: d.labelCols, AllFeatures: len(d.cfg.Data.CSV.Features) == 0}
	}
	return o
}

// classMap is the training classes, for reading validation and test files
// with them (nil for regression).
func (d *Data[T]) classMap() *data.ClassMap {
	if d.Classes == 0 || d.Seq != nil {
		return nil
	}
	return &data.ClassMap{NumClasses: d.Classes, Names: d.ClassNames}
}
