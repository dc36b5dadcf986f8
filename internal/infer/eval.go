package infer

import (
	"fmt"
	"io"

	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/checkpoint"
	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/train"
)

// Split names the data a checkpoint is evaluated on.
type Split string

const (
	Test       Split = "test"
	Validation Split = "validation"
	Training   Split = "train"
)

// Splits lists the splits in the order `eval --split` documents them.
var Splits = []Split{Test, Validation, Training}

// EvalCheckpoint loads a checkpoint into the config's network and evaluates
// it on the named split.
func EvalCheckpoint(cfg *model.Config, path string, split Split, threads int) (train.EvalResult, error) {
	return EvalCheckpointWith(cfg, path, split, EvalOptions{Threads: threads})
}

// EvalOptions are EvalCheckpointWith's options.
type EvalOptions struct {
	// Threads overrides training.threads when > 0.
	Threads int
	// AcceptImageDecoding evaluates the validation or training split of
	// a checkpoint trained before nettrain's image decoding changed
	// (train.Data.ImageDecodingChanged) on the images as they decode now,
	// with a note on Log, instead of refusing it.
	AcceptImageDecoding bool
	// Log receives notes; nil discards them.
	Log io.Writer
}

// EvalCheckpointWith is EvalCheckpoint with options.
func EvalCheckpointWith(cfg *model.Config, path string, split Split, o EvalOptions) (train.EvalResult, error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	if cfg.DType == "float64" {
		return evalCheckpoint[float64](cfg, path, split, o)
	}
	return evalCheckpoint[float32](cfg, path, split, o)
}

func evalCheckpoint[T backprop.Float](cfg *model.Config, path string, split Split, o EvalOptions) (train.EvalResult, error) {
	if cfg.Data.Train == "" && (split != Test || cfg.Data.Test == "") {
		if err := cfg.RequireData("to evaluate"); err != nil {
			return train.EvalResult{}, err
		}
	}
	limit, what := train.MemoryLimit(cfg)
	f, st, err := checkpoint.ReadLimit(path, limit, what)
	if err != nil {
		return train.EvalResult{}, err
	}
	if split != Test {
		// The validation split depends on the seed and the data: with
		// others, "validation" would hold samples the model trained on.
		cur := train.ResumeSections(cfg, st)
		for _, k := range []string{"seed", "data"} {
			if v, ok := st.Sections[k]; ok && v != cur[k] {
				return train.EvalResult{}, fmt.Errorf("%s was trained with other settings of %s than %s gives now%s, so the %s split would not be the one held out in training; evaluate with the config and --set options the run used (its resolved copy is config.yaml in the run directory)",
					path, k, cfg.File, cfg.ResumeOverrides([]string{k}), split)
			}
		}
	}
	m, err := modelFor[T](cfg, path, st, split != Test, "to evaluate")
	if err != nil {
		return train.EvalResult{}, err
	}
	ds := m.Data
	if split != Test {
		// The same goes for the data's contents: the split of other data
		// is not the one the run held out (or trained on).
		if d := ds.ImageDecodingChanged(st.Data); d != "" {
			if !o.AcceptImageDecoding {
				return train.EvalResult{}, train.ImageDecodingError(path, d, fmt.Sprintf("so the %s split does not hold the pixels the run used", split),
					"evaluate with --split test, or on the images as decoded now with --accept-image-decoding")
			}
			fmt.Fprintf(o.Log, "note: evaluating the %s split on the images as nettrain decodes them now (--accept-image-decoding), not on the pixels %s was trained on: %s\n", split, path, d)
		} else if d := checkpoint.DataDiffers(st.Data, ds.Fingerprints); d != "" {
			return train.EvalResult{}, fmt.Errorf("%s was trained on other data than %s reads now: %s; the %s split would not be the one the run used; evaluate with the data the run was trained on",
				path, cfg.File, d, split)
		}
	}
	var s train.Split[T]
	switch split {
	case Training:
		s = ds.TrainForEval() // never augmented

	case Validation:
		if ds.Val == nil || ds.Val.Len() == 0 {
			return train.EvalResult{}, fmt.Errorf("%s: there is no validation data (data.validation_split is 0 and data.validation is not set); evaluate with --split train, or --split test with data.test", cfg.File)
		}
		s = ds.Val
	case Test:
		if s, err = ds.LoadTest(); err != nil {
			return train.EvalResult{}, err
		}
	default:
		return train.EvalResult{}, fmt.Errorf("unknown split %q (want test, validation or train)", split)
	}
	net, err := m.NewPredictNetwork(cfg.Training.BatchSize)
	if err != nil {
		return train.EvalResult{}, err
	}
	if err := checkpoint.LoadWeights(f, net, m.LayerName); err != nil {
		return train.EvalResult{}, train.OtherModel(cfg, path, st, err)
	}
	if err := train.CheckTrainedModel(cfg, m.Graph, path, st); err != nil {
		return train.EvalResult{}, err
	}
	pool := train.NewPool(train.Threads(cfg, o.Threads))
	defer pool.Close()
	r := train.Evaluate(pool.Ctx(), net, s, ds.Classes)
	r.ClassNames = ds.ClassNames
	return r, nil
}

// modelFor makes the config's model ready for a checkpoint: from the
// preprocessing the checkpoint stores, without reading the training data,
// unless needTrain (the validation and training splits are parts of the
// training data) or the checkpoint predates stored preprocessing; then the
// training data is read as the checkpoint's training read it
// (train.ReadingOf) and the normalisation fitted again, as training did.
// An error of a checkpoint of another model says so (train.OtherModel).
func modelFor[T backprop.Float](cfg *model.Config, ckpt string, st checkpoint.State, needTrain bool, what string) (*train.Model[T], error) {
	var m *train.Model[T]
	var err error
	if p := st.Preprocess; p != nil && !needTrain && p.Sequence == nil {
		m, err = train.FromPreprocess[T](cfg, p, ckpt)
	} else if err = cfg.RequireData(what); err == nil {
		m, err = train.LoadAs[T](cfg, train.ReadingOf(st))
	}
	return m, train.OtherModel(cfg, ckpt, st, err)
}
