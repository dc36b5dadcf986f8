package train

import (
	"fmt"

	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/model"
)

// EvalCheckpoint loads a checkpoint into the config's network and evaluates
// it on the named split: "test", "validation" or "train".
func EvalCheckpoint(cfg *model.Config, path, split string, threads int) (EvalResult, error) {
	if cfg.DType == "float64" {
		return evalCheckpoint[float64](cfg, path, split, threads)
	}
	return evalCheckpoint[float32](cfg, path, split, threads)
}

func evalCheckpoint[T backprop.Float](cfg *model.Config, path, split string, threads int) (EvalResult, error) {
	f, st, err := ReadCheckpoint(path)
	if err != nil {
		return EvalResult{}, err
	}
	if split != "test" {
		// The validation split depends on the seed and the data: with
		// others, "validation" would hold samples the model trained on.
		cur := cfg.ResumeSections()
		for _, k := range []string{"seed", "data"} {
			if v, ok := st.Sections[k]; ok && v != cur[k] {
				return EvalResult{}, fmt.Errorf("%s was trained with a different %s than %s sets now, so the %s split would not be the one held out in training; evaluate with the config and --set options the run used (its resolved copy is config.yaml in the run directory)",
					path, k, cfg.File, split)
			}
		}
	}
	ds, err := LoadData[T](cfg)
	if err != nil {
		return EvalResult{}, err
	}
	var s Split[T]
	switch split {
	case "train":
		s = ds.Train
	case "validation":
		if ds.Val == nil || ds.Val.Len() == 0 {
			return EvalResult{}, fmt.Errorf("%s: there is no validation data (data.validation_split is 0 and data.validation is not set)", cfg.File)
		}
		s = ds.Val
	case "test":
		if s, err = ds.LoadTest(); err != nil {
			return EvalResult{}, err
		}
	}
	net, err := newNetwork[T](cfg, cfg.Training.BatchSize)
	if err != nil {
		return EvalResult{}, err
	}
	if err := LoadWeights(f, net, layerNamer(cfg)); err != nil {
		return EvalResult{}, err
	}
	pool := NewPool(Threads(cfg, threads))
	defer pool.Close()
	r := Evaluate(pool.Ctx(), net, s, ds.Classes)
	r.ClassNames = ds.ClassNames
	return r, nil
}
