package train

import (
	"errors"
	"math"
	"sync/atomic"
	"time"

	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/optim"
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
}

// RunTrial trains the config's network (its seed, optimizer and learning
// rate as set in cfg) on d for the given budget, in memory, and records its
// validation learning curve. Two trials with the same seed start from the
// same weights and see the same batches in the same order, whatever their
// optimizer: initialisation and shuffling have their own seeded streams.
func RunTrial[T backprop.Float](cfg *model.Config, d *Data[T], pool *Pool, o TrialOptions) (TrialResult, error) {
	start := time.Now()
	bs := cfg.Training.BatchSize
	net, err := InitNetwork[T](cfg, bs)
	if err != nil {
		return TrialResult{}, err
	}
	opt := optim.New[T](cfg.Optimizer.Optim, net.NumParams())
	tr := NewTrainer(cfg, net, opt, pool.Ctx(), d.Train, d.Classes)
	n := d.Train.Len()
	nb := (n + bs - 1) / bs
	sched := NewScheduler(cfg, nb)
	every := max(1, nb/max(1, o.EvalsPerEpoch))
	res := TrialResult{BestVal: math.Inf(1)}
	var first float64
	var sumLoss float64
	var sumN int
	measure := func(epoch float64) {
		p := CurvePoint{Step: res.Steps, Epoch: epoch, TrainLoss: sumLoss / math.Max(1, float64(sumN))}
		sumLoss, sumN = 0, 0
		if d.Val != nil && d.Val.Len() > 0 {
			ev := Evaluate(tr.Ctx, net, d.Val, d.Classes)
			p.ValLoss, p.ValAcc = ev.Loss, ev.Accuracy
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
train:
	for epoch := 0; epoch < o.Epochs; epoch++ {
		perm := Permutation(n, cfg.Seed, epoch, cfg.Training.Shuffle)
		if !sched.PerStep() {
			opt.SetLR(sched.LR(epoch))
		}
		for b := 0; b < nb; b++ {
			if sched.PerStep() {
				opt.SetLR(sched.LR(int(res.Steps)))
			}
			pos := perm[b*bs : min((b+1)*bs, n)]
			loss, _, ok := tr.Step(pos)
			res.Steps++
			if res.Steps == 1 {
				first = loss
			}
			if o.Abort != nil && o.Abort.Load() {
				return TrialResult{}, ErrAborted
			}
			if !ok || (o.DivergeFactor > 0 && loss > o.DivergeFactor*first) {
				res.Diverged, res.DivergedAt = true, res.Steps
				break train
			}
			sumLoss += loss * float64(len(pos))
			sumN += len(pos)
			last := b == nb-1
			if last || (b+1)%every == 0 && nb-(b+1) >= every/2 {
				measure(float64(epoch) + float64(b+1)/float64(nb))
				if last {
					sched.Observe(res.FinalVal)
				}
			}
			if o.Steps != nil && res.Steps >= int64(*o.Steps) {
				if !last {
					measure(float64(epoch) + float64(b+1)/float64(nb))
				}
				break train
			}
		}
	}
	if res.Diverged {
		res.FinalVal = math.NaN()
	}
	res.WallS = time.Since(start).Seconds()
	return res, nil
}
