package model

import (
	"github.com/nettrain/nettrain/internal/backprop"
)

// LSTMParams are the parameters of an lstm layer.
type LSTMParams struct {
	Units           int  `yaml:"units"`
	Layers          int  `yaml:"layers"`           // stacked layers, default 1
	ReturnSequences bool `yaml:"return_sequences"` // default false: the last step only
	// ForgetBias sets the forget-gate bias at initialisation (1 is the
	// common choice); null (default) keeps PyTorch's uniform initialisation.
	ForgetBias *float64 `yaml:"forget_bias"`
}

// EmbeddingParams are the parameters of an embedding layer.
type EmbeddingParams struct {
	Dim int `yaml:"dim"`
	// Vocab is the number of token ids; null (default) takes the data's
	// vocabulary size.
	Vocab *int `yaml:"vocab"`
}

// OneHotParams are the parameters of a onehot layer.
type OneHotParams struct {
	Vocab *int `yaml:"vocab"` // null (default): the data's vocabulary size
}

func vocabOf(v *int, info *DataInfo) (int, error) {
	if v != nil {
		if *v < 1 {
			return 0, keyErr("vocab", "must be at least 1, got %d", *v)
		}
		if info != nil && info.Vocab > *v {
			return 0, keyErr("vocab", "is %d, but the data has %d distinct tokens", *v, info.Vocab)
		}
		return *v, nil
	}
	if info == nil {
		return 0, errNeedsData
	}
	if !info.Tokens {
		return 0, errorf("takes token ids (text data with data.sequence.kind: text), but the data holds numbers")
	}
	return info.Vocab, nil
}

func need1D(in []int) error {
	if len(in) != 1 {
		return errorf("takes a sequence of token ids (T), got the input shape %v", in)
	}
	return nil
}

func init() {
	registerLayer("lstm", layerKind{
		params: func() any { return &LSTMParams{Layers: 1} },
		build: func(p any, in []int, _ *DataInfo) (backprop.Spec, error) {
			lp := p.(*LSTMParams)
			if len(in) != 2 {
				return nil, errorf("needs a sequence input (time steps, features), got %v; text needs an embedding or onehot layer first", in)
			}
			if lp.Units < 1 {
				return nil, keyErr("units", "must be at least 1, got %d", lp.Units)
			}
			if lp.Layers < 1 {
				return nil, keyErr("layers", "must be at least 1, got %d", lp.Layers)
			}
			if lp.Layers > MaxLSTMLayers {
				return nil, keyErr("layers", "must be at most %d, got %d", MaxLSTMLayers, lp.Layers)
			}
			return backprop.LSTMSpec{In: in, Units: lp.Units, Layers: lp.Layers,
				ReturnSequences: lp.ReturnSequences, ForgetBias: lp.ForgetBias}, nil
		},
		// Right after a onehot layer the input rows are one-hot: the input
		// projection becomes a gather of columns of W_ih (LSTMSpec.OneHot).
		link: func(spec, prev backprop.Spec) backprop.Spec {
			s := spec.(backprop.LSTMSpec)
			_, s.OneHot = prev.(backprop.OneHotSpec)
			return s
		},
		doc: "LSTM with backprop through time, PyTorch nn.LSTM layout (gates i, f, g, o)",
	})
	registerLayer("embedding", layerKind{
		params: func() any { return &EmbeddingParams{} },
		build: func(p any, in []int, info *DataInfo) (backprop.Spec, error) {
			ep := p.(*EmbeddingParams)
			if err := need1D(in); err != nil {
				return nil, err
			}
			if ep.Dim < 1 {
				return nil, keyErr("dim", "must be at least 1, got %d", ep.Dim)
			}
			v, err := vocabOf(ep.Vocab, info)
			if err != nil {
				return nil, err
			}
			return backprop.EmbeddingSpec{In: in, Vocab: v, Dim: ep.Dim}, nil
		},
		doc: "token ids -> learned vectors (T) -> (T, dim), PyTorch nn.Embedding",
	})
	registerLayer("onehot", layerKind{
		params: func() any { return &OneHotParams{} },
		build: func(p any, in []int, info *DataInfo) (backprop.Spec, error) {
			op := p.(*OneHotParams)
			if err := need1D(in); err != nil {
				return nil, err
			}
			v, err := vocabOf(op.Vocab, info)
			if err != nil {
				return nil, err
			}
			return backprop.OneHotSpec{In: in, Vocab: v}, nil
		},
		doc: "token ids -> one-hot vectors (T) -> (T, vocab)",
	})
}
