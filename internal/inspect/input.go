package inspect

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"

	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/train"
)

// input is the batch trace and gradcheck follow.
type input struct {
	split   train.Split[float64]
	n       int    // samples
	classes int    // > 0: class labels
	source  string // where the samples come from, for the report
}

// inputOf chooses the first n samples (at least 1) that trace and
// gradcheck follow: of the file path when given, else of the training data
// (normalised as in training), else, for a model-only config, random
// samples drawn from the seed.
func inputOf(m *train.Model[float64], path string, n int) (input, error) {
	n = max(n, 1)
	switch {
	case m.Data == nil && path != "":
		return input{}, fmt.Errorf("%s: --input needs the config's data.train, whose classes and normalisation it is read with", m.Config.File)
	case m.Data == nil:
		s := newRandomSplit(m, n)
		return input{split: s, n: n, classes: s.classes,
			source: fmt.Sprintf("%d random sample(s) drawn from seed %d (the config has no data.train)", n, m.Config.Seed)}, nil
	case path != "":
		s, err := m.Data.LoadFile(path)
		var pe *os.PathError
		switch {
		case errors.As(err, &pe) && pe.Path == path:
			return input{}, fmt.Errorf("--input %s: %v", path, pe.Err)
		case err != nil:
			return input{}, fmt.Errorf("--input: %w", err)
		}
		n = min(n, s.Len())
		return input{split: s, n: n, classes: m.Data.Classes, source: fmt.Sprintf("the first %d sample(s) of %s", n, path)}, nil
	}
	s := m.Data.TrainForEval()
	n = min(n, s.Len())
	return input{split: s, n: n, classes: m.Data.Classes, source: fmt.Sprintf("the first %d training sample(s) of %s", n, m.Config.Data.Train)}, nil
}

// randomSplit is a Split of random samples for a model without data: the
// inputs uniform in [-1, 1) (token ids uniform over the vocabulary), the
// targets random classes or standard normal values. Sample i depends only
// on the seed and i.
type randomSplit struct {
	seed      uint64
	n         int
	in        int // input values per sample
	vocab     int // > 0: the input is token ids below it
	classes   int // > 0: one label per position
	positions int // labels per sample
	out       int // target values per sample (regression)
}

func newRandomSplit(m *train.Model[float64], n int) *randomSplit {
	g := m.Graph
	s := &randomSplit{seed: m.Config.Seed, n: n, in: backprop.Prod(g.Input), classes: m.Classes(), out: backprop.Prod(g.OutShape())}
	switch first := g.Specs[0].(type) {
	case backprop.EmbeddingSpec:
		s.vocab = first.Vocab
	case backprop.OneHotSpec:
		s.vocab = first.Vocab
	}
	if s.classes > 0 {
		s.positions = s.out / s.classes
	}
	return s
}

func (s *randomSplit) Len() int { return s.n }

func (s *randomSplit) Fill(pos []int, x []float64, labels []int32, values []float64) {
	for r, p := range pos {
		rng := rand.New(rand.NewPCG(s.seed, uint64(train.StreamInput)<<32|uint64(p)))
		for i := range x[r*s.in : (r+1)*s.in] {
			if s.vocab > 0 {
				x[r*s.in+i] = float64(rng.IntN(s.vocab))
			} else {
				x[r*s.in+i] = 2*rng.Float64() - 1
			}
		}
		if labels != nil {
			for i := 0; i < s.positions; i++ {
				labels[r*s.positions+i] = int32(rng.IntN(s.classes))
			}
		}
		if values != nil {
			for i := 0; i < s.out; i++ {
				values[r*s.out+i] = rng.NormFloat64()
			}
		}
	}
}
