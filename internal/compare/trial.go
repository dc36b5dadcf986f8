package compare

import (
	"errors"
	"math"
	"slices"
	"sync/atomic"
	"time"

	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/optim"
	"github.com/nettrain/nettrain/internal/train"
)

// TrialOptions set the budget and bookkeeping of one comparison trial.
type TrialOptions struct {
	Epochs int  // epochs to train
	Steps  *int // optional cap on optimizer steps
	// EvalsPerEpoch is how many times per epoch the validation loss is
	// measured for the learning curve (at least once, at the epoch's end).
	EvalsPerEpoch int
	// DivergeFactor stops the trial when a batch loss is non-finite or
	// exceeds DivergeFactor times the first batch's loss.
	DivergeFactor float64
	// Abort, when set during the trial, stops it after the current step
	// with ErrAborted (an interrupted comparison).
	Abort *atomic.Bool
}

// ErrAborted is returned by a trial stopped through TrialOptions.Abort.
var ErrAborted = errors.New("trial aborted")

// CurvePoint is one measurement of a trial's learning curve.
type CurvePoint struct {
	Step      int64    `json:"step"`
	Epoch     float64  `json:"epoch"`      // fractional epochs done
	TrainLoss float64  `json:"train_loss"` // mean batch loss since the previous point
	ValLoss   float64  `json:"val_loss"`
	ValAcc    *float64 `json:"val_accuracy,omitempty"`
}

// TrialResult is what a trial reports.
type TrialResult struct {
	Curve      []CurvePoint `json:"curve"`
	Steps      int64        `json:"steps"`
	Diverged   bool         `json:"diverged"`
	DivergedAt int64        `json:"diverged_at,omitempty"` // step
	FinalVal   float64      `json:"final_val_loss"`
	BestVal    float64      `json:"best_val_loss"`
	FinalAcc   *float64     `json:"final_val_accuracy,omitempty"`
	BestAcc    *float64     `json:"best_val_accuracy,omitempty"`
	WallS      float64      `json:"wall_s"`
	// Scale of the problem at the start, for the findings on divergence:
	// the first batch's loss and gradient norm, the largest finite
	// gradient norm of the trial, and the norm of the initial weights.
	FirstLoss float64 `json:"first_loss"`
	// InitVal is the validation loss at the initial weights, before the
	// first step (without validation data, the first batch's training
	// loss, which the curve's training losses compare with): a target
	// loss at or above it says nothing about speed. Nil: a record of an
	// older nettrain, or not finite.
	InitVal       *float64 `json:"init_val_loss,omitempty"`
	FirstGradNorm float64  `json:"first_grad_norm"`
	MaxGradNorm   float64  `json:"max_grad_norm"`
	WeightNorm    float64  `json:"init_weight_norm"`
	// Grad holds the gradient diagnostics (nil: too short a trial, or a
	// record of an older nettrain).
	Grad *Diagnostics `json:"gradients,omitempty"`
	// Displacement is how far the trial moved the weights in all,
	// |w_end - w_0| / |w_0| over every parameter, measured when it ends
	// (nil: a record of an older nettrain, initial weights of norm 0, or
	// weights no longer finite).
	Displacement *float64 `json:"displacement,omitempty"`
}

// RunTrial trains the config's network (its seed, optimizer and learning
// rate as set in m's config) on m's data for the given budget, in memory,
// through the same train.Loop as `nettrain train`, and records its
// validation learning curve. Two trials with the same seed start from the
// same weights and see the same batches in the same order, whatever their
// optimizer: initialisation and shuffling have their own seeded streams.
func RunTrial[T backprop.Float](m *train.Model[T], pool *train.Pool, o TrialOptions) (TrialResult, error) {
	res, _, err := trainTrial(m, pool, o)
	return res, err
}

// trainTrial is RunTrial, also returning the trained network.
func trainTrial[T backprop.Float](m *train.Model[T], pool *train.Pool, o TrialOptions) (TrialResult, *backprop.Network[T], error) {
	start := time.Now()
	// The trial's budget is the run's: the schedule spans it, as it spans
	// training.epochs in `nettrain train --set training.epochs=...`.
	budget := *m.Config
	budget.Training.Epochs, budget.Training.Steps = o.Epochs, o.Steps
	cfg, d := &budget, m.Data
	net, err := m.InitNetwork(cfg.Training.BatchSize)
	if err != nil {
		return TrialResult{}, nil, err
	}
	opt := optim.New[T](cfg.Optimizer.Optim, net.NumParams())
	tr := train.NewTrainer(cfg, net, opt, pool.Ctx(), d.Train, d.Classes)
	w0 := slices.Clone(net.W) // for the distance moved, once the trial ends
	h := &trialHooks[T]{o: o, res: TrialResult{BestVal: math.Inf(1), WeightNorm: norm(net.W)}, probe: newGradProbe(net)}
	if d.Val != nil && d.Val.Len() > 0 {
		// The start the target is measured against; evaluation changes
		// nothing training uses (TestTrialEqualsTrain).
		if ev := train.Evaluate(pool.Ctx(), net, d.Val, d.Classes); finite(ev.Loss) {
			h.res.InitVal = &ev.Loss
		}
	} else {
		h.initFromBatch = true
	}
	loop := train.NewLoop(tr, d.Val, h) // epochs and steps from the budget
	loop.EvalsPerEpoch = o.EvalsPerEpoch
	if e := cfg.Training.EvalEverySteps; e != nil {
		// Also every training.eval_every_steps steps, as `train` does.
		loop.EvalEvery = int64(*e)
	} else if o.Steps != nil && *o.Steps < loop.Batches() && o.EvalsPerEpoch > 1 {
		// A budget shorter than an epoch gets its EvalsPerEpoch
		// measurements over the budget, not one at its end (a curve of
		// one point, and no steps to a target): those alone, not the
		// epoch's grid as well (every batches/N steps, which put a point
		// off this grid, at step 84 of a 100-step budget).
		loop.EvalEvery = int64(max(1, *o.Steps/o.EvalsPerEpoch))
		loop.EvalsPerEpoch = 1
	}
	if err := loop.Run(); err != nil {
		return TrialResult{}, nil, err
	}
	res := h.res
	res.Grad = h.probe.result()
	res.Displacement = displacement(w0, net.W)
	if res.Diverged {
		res.FinalVal = math.NaN()
	}
	res.WallS = time.Since(start).Seconds()
	return res, net, nil
}

// trialHooks record a trial's learning curve and stop it when it diverges
// or is aborted.
type trialHooks[T backprop.Float] struct {
	train.NoHooks[T]
	o   TrialOptions
	res TrialResult
	// first is the first step's loss (the divergence reference); sumLoss
	// and sumN the training loss since the last curve point.
	first   float64
	sumLoss float64
	sumN    int
	probe   *gradProbe[T] // gradient diagnostics
	// initFromBatch: no validation data, so InitVal is the first batch's
	// loss.
	initFromBatch bool
}

func (h *trialHooks[T]) AfterStep(l *train.Loop[T], s train.StepInfo) (train.Action, error) {
	h.res.Steps++
	if h.res.Steps == 1 {
		h.first = s.Loss
		h.res.FirstLoss, h.res.FirstGradNorm = finiteOr(s.Loss, -1), finiteOr(s.GradNorm, -1)
		if h.initFromBatch && finite(s.Loss) {
			l := s.Loss
			h.res.InitVal = &l
		}
	}
	if s.OK && s.GradNorm > h.res.MaxGradNorm {
		h.res.MaxGradNorm = s.GradNorm
	}
	if h.o.Abort != nil && h.o.Abort.Load() {
		return train.Stop, ErrAborted
	}
	if !s.OK || (h.o.DivergeFactor > 0 && s.Loss > h.o.DivergeFactor*h.first) {
		h.res.Diverged, h.res.DivergedAt = true, h.res.Steps
		return train.Stop, nil
	}
	h.sumLoss += s.Loss * float64(s.Samples)
	h.sumN += s.Samples
	net := l.Trainer.Net
	h.probe.observe(h.res.Steps, net.G, net.W, s.Samples)
	return train.Continue, nil
}

// Measure records a point inside an epoch.
func (h *trialHooks[T]) Measure(l *train.Loop[T], val *train.EvalResult) error {
	h.point(l, val)
	return nil
}

// EpochEnd records the point at the end of an epoch (or where the step
// budget ended it).
func (h *trialHooks[T]) EpochEnd(l *train.Loop[T], e train.EpochEnd) error {
	if e.AtMeasure {
		return nil // Measure recorded this point
	}
	h.point(l, e.Val)
	return nil
}

// point appends a curve point at the loop's position: the validation loss
// (the training loss since the previous point without validation data).
func (h *trialHooks[T]) point(l *train.Loop[T], val *train.EvalResult) {
	pos, res := l.Pos, &h.res
	epoch := float64(pos.Epoch) + float64(pos.BatchInEpoch)/float64(l.Batches())
	p := CurvePoint{Step: res.Steps, Epoch: epoch, TrainLoss: h.sumLoss / math.Max(1, float64(h.sumN))}
	h.sumLoss, h.sumN = 0, 0
	if val != nil {
		p.ValLoss, p.ValAcc = val.Loss, val.Accuracy
	} else {
		p.ValLoss = p.TrainLoss
	}
	res.Curve = append(res.Curve, p)
	res.FinalVal, res.FinalAcc = p.ValLoss, p.ValAcc
	if p.ValLoss < res.BestVal {
		res.BestVal = p.ValLoss
	}
	if p.ValAcc != nil && (res.BestAcc == nil || *p.ValAcc > *res.BestAcc) {
		a := *p.ValAcc
		res.BestAcc = &a
	}
}

// displacement is |w - w0| / |w0|, nil when |w0| is 0 or the result is
// not finite.
func displacement[T backprop.Float](w0, w []T) *float64 {
	var d2, n2 float64
	for i, x := range w0 {
		d := float64(w[i]) - float64(x)
		d2 += d * d
		n2 += float64(x) * float64(x)
	}
	r := math.Sqrt(d2 / n2)
	if n2 == 0 || !finite(r) {
		return nil
	}
	return &r
}

// norm is the Euclidean norm of v.
func norm[T backprop.Float](v []T) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

// finiteOr is v, or alt when v is NaN or infinite (JSON holds neither).
func finiteOr(v, alt float64) float64 {
	if finite(v) {
		return v
	}
	return alt
}
