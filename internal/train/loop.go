package train

import (
	"fmt"
	"math"
	"time"

	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/optim"
)

// Position is where a run stands: what a checkpoint records and a resume
// restores. The zero Position is the start of a run.
type Position struct {
	Epoch        int   // completed epochs
	BatchInEpoch int   // batches done in the current (unfinished) epoch
	Step         int64 // optimizer steps so far (a skipped batch counts)
	// LRScale multiplies the scheduled learning rate (rollbacks halve
	// it); 0 means 1.
	LRScale float64
	// Stats are the current epoch's running sums, so that a resumed epoch
	// reports what an uninterrupted one would.
	Stats EpochStats
}

// EpochStats accumulates what an epoch's metrics report.
type EpochStats struct {
	LossSum float64 // sum of finite batch losses weighted by batch size
	Samples int     // samples of the steps whose loss was finite
	NormSum float64 // sum of their gradient norms (before clipping)
	Steps   int     // steps whose loss was finite
}

func (e *EpochStats) add(loss, norm float64, n int) {
	e.LossSum += loss * float64(n)
	e.Samples += n
	e.NormSum += norm
	e.Steps++
}

// Loss is the mean training loss over the epoch's samples (NaN before any).
func (e EpochStats) Loss() float64 {
	if e.Samples == 0 {
		return math.NaN()
	}
	return e.LossSum / float64(e.Samples)
}

// GradNorm is the mean gradient norm over the epoch's steps.
func (e EpochStats) GradNorm() float64 { return e.NormSum / math.Max(1, float64(e.Steps)) }

// Action is what a hook tells the loop to do after a step.
type Action int

const (
	// Continue goes on with the next batch.
	Continue Action = iota
	// Restart continues from Loop.Pos, which the hook has moved (a
	// rollback to a checkpoint).
	Restart
	// Stop ends the run at once, without an epoch-end evaluation (a
	// diverged comparison trial).
	Stop
)

// StepInfo is what the loop reports of one step.
type StepInfo struct {
	Loss     float64 // the batch loss
	GradNorm float64 // before clipping
	// OK is false when the loss or the gradient was not finite: no update
	// was applied, and the network holds the step's values for Diagnose.
	OK      bool
	Samples int // in the batch
	Batch   int // index of the batch in its epoch
}

// EpochEnd is what the loop reports after an epoch's batches: all of them
// (Complete), or those up to training.steps.
type EpochEnd struct {
	Epoch    int  // 0-based index of the epoch the batches belong to
	Complete bool // every batch of the epoch ran
	Stats    EpochStats
	// Val is the evaluation on the validation data, nil without any.
	Val *EvalResult
	// Score is what "best" and the plateau schedule go by: the validation
	// loss, else the epoch's mean training loss.
	Score float64
	// SamplesBefore is Stats.Samples when this run (re)started the epoch:
	// the samples of a resumed epoch done by an earlier process.
	SamplesBefore int
	// TrainTime is the time spent in the epoch's batches in this run.
	TrainTime time.Duration
	// AtMeasure is set when the run ends at a measurement inside the
	// epoch (a hook halted it there, or MaxSteps falls on it): Val is that
	// measurement's, already reported to Measure.
	AtMeasure bool
}

// Hooks are where a command plugs into the loop: the training session
// (metrics, checkpoints, on_nan policies, interruption), a comparison
// trial (learning curve, divergence), bench (timing). An error from any
// hook ends the run with it. Embed NoHooks to implement only some.
type Hooks[T backprop.Float] interface {
	// EpochStart is called before an epoch's first batch of this run
	// (also when a resumed or restarted run enters it mid-way).
	EpochStart(l *Loop[T], epoch int) error
	// AfterStep is called after every step, before the position moves
	// past it, and decides what the loop does next. The epoch's stats
	// count the step only when it was OK.
	AfterStep(l *Loop[T], s StepInfo) (Action, error)
	// Stepped is called once the position has moved past a step (step
	// checkpoints, progress, interruption).
	Stepped(l *Loop[T], s StepInfo) error
	// Measure is called at each measurement point inside an epoch
	// (Loop.EvalsPerEpoch, Loop.EvalEvery), after the position moved past
	// the step and before Stepped, with the validation data's evaluation
	// (nil without validation data).
	Measure(l *Loop[T], val *EvalResult) error
	// EpochEnd is called after the epoch's evaluation and, for a complete
	// epoch, after the schedule observed its score.
	EpochEnd(l *Loop[T], e EpochEnd) error
}

// NoHooks is a Hooks that does nothing.
type NoHooks[T backprop.Float] struct{}

func (NoHooks[T]) EpochStart(*Loop[T], int) error               { return nil }
func (NoHooks[T]) AfterStep(*Loop[T], StepInfo) (Action, error) { return Continue, nil }
func (NoHooks[T]) Stepped(*Loop[T], StepInfo) error             { return nil }
func (NoHooks[T]) Measure(*Loop[T], *EvalResult) error          { return nil }
func (NoHooks[T]) EpochEnd(*Loop[T], EpochEnd) error            { return nil }

var _ Hooks[float32] = NoHooks[float32]{}

// epochSplit is a training Split whose samples depend on the epoch
// (random augmentation): Loop tells it the epoch before the epoch's first
// batch, also when a run resumes mid-epoch.
type epochSplit[T backprop.Float] interface {
	Split[T]
	SetEpoch(epoch int)
	// forTrainer returns a copy with an epoch of its own, for one
	// Trainer: trainers sharing one Data (comparison trials running in
	// parallel) must not share it.
	forTrainer() Split[T]
}

// Loop is the one epoch driver of nettrain: `train`, every comparison
// trial and `bench` run their steps through it, so they measure the same
// thing. Each epoch visits the training samples in the order Permutation
// gives (a pure function of seed and epoch), sets the learning rate from
// the schedule (per epoch or per step, times Pos.LRScale), steps through
// the batches, evaluates the validation data at the epoch's end (and
// inside it: EvalsPerEpoch times, and every EvalEvery steps, when set),
// and lets the schedule observe
// the epoch's score. Nothing in the loop allocates per step.
type Loop[T backprop.Float] struct {
	Trainer *Trainer[T]
	Sched   *optim.Scheduler
	// Val is the validation data (nil: none) with the number of classes
	// of its targets.
	Val Split[T]
	// Epochs is the number of epochs of the run; MaxSteps, when > 0,
	// stops it after that many steps (training.steps).
	Epochs   int
	MaxSteps int64
	// EvalsPerEpoch > 1 also measures the validation loss about that
	// many times per epoch: after every nb/EvalsPerEpoch batches, when at
	// least half that many remain before the epoch's end.
	EvalsPerEpoch int
	// EvalEvery > 0 also measures after every step whose count is a
	// multiple of it (training.eval_every_steps), inside epochs: a step
	// that ends an epoch is measured by the epoch's end.
	EvalEvery int64
	Hooks     Hooks[T]
	// Pos is where the run stands; set it before Run to resume.
	Pos Position
	// Stopped is set when MaxSteps ended the run.
	Stopped bool
	// Halted is set by a hook (Measure or EpochEnd) to end the run after
	// this measurement (early stopping). After a Measure, the epoch's end
	// is reported (EpochEnd.AtMeasure) without another evaluation.
	Halted bool

	batches int   // per epoch
	perm    []int // the epoch's order of the training samples (Permutation)
}

// NewLoop prepares the loop of a config's training run over tr's training
// split with batches of training.batch_size: its schedule spans
// training.epochs epochs of those batches (training.steps, an early stop,
// does not change the schedule).
func NewLoop[T backprop.Float](tr *Trainer[T], val Split[T], hooks Hooks[T]) *Loop[T] {
	cfg := tr.Cfg
	bs := cfg.Training.BatchSize
	n := tr.Train.Len()
	nb := (n + bs - 1) / bs
	l := &Loop[T]{Trainer: tr, Val: val, Epochs: cfg.Training.Epochs, Hooks: hooks, batches: nb, perm: make([]int, n)}
	if s := cfg.Training.Steps; s != nil {
		l.MaxSteps = int64(*s)
	}
	if l.Hooks == nil {
		l.Hooks = NoHooks[T]{}
	}
	total := cfg.Training.Epochs
	if optim.PerStep(cfg.Schedule.Sched) {
		total *= nb
	}
	l.Sched = optim.NewScheduler(cfg.Schedule.Sched, cfg.Optimizer.Optim.LearningRate(), total)
	return l
}

// measureAt tells whether the loop measures after batch b (1-based count
// of the batches done in the epoch, before its end) at the current step:
// every batches (EvalsPerEpoch; 0: never) when at least half that many
// remain, or at a multiple of EvalEvery steps.
func (l *Loop[T]) measureAt(b, every int) bool {
	if every > 0 && b%every == 0 && l.batches-b >= every/2 {
		return true
	}
	return l.EvalEvery > 0 && l.Pos.Step%l.EvalEvery == 0
}

// Batches is the number of batches per epoch.
func (l *Loop[T]) Batches() int { return l.batches }

// setLR applies the schedule (times the rollback scale) for interval i.
func (l *Loop[T]) setLR(i int) {
	scale := l.Pos.LRScale
	if scale == 0 {
		scale = 1
	}
	l.Trainer.Opt.SetLR(l.Sched.LR(i) * scale)
}

// Run trains from Pos until Epochs epochs are done, MaxSteps steps are
// made, or a hook stops it. A Pos no run can be at (a batch outside the
// epoch, a negative count) is an error: resumes validate their checkpoint
// before they set Pos, so this is the last guard against a loop that
// would never finish an epoch.
func (l *Loop[T]) Run() error {
	pos := &l.Pos
	if pos.Epoch < 0 || pos.BatchInEpoch < 0 || pos.BatchInEpoch >= l.batches || pos.Step < int64(pos.BatchInEpoch) {
		return fmt.Errorf("train: cannot start at epoch %d, batch %d, step %d: an epoch has %d batches (0 to %d)",
			pos.Epoch, pos.BatchInEpoch, pos.Step, l.batches, l.batches-1)
	}
	if l.MaxSteps > 0 && pos.Step >= l.MaxSteps {
		l.Stopped = true
		return nil
	}
	cfg, tr := l.Trainer.Cfg, l.Trainer
	n, bs := tr.Train.Len(), cfg.Training.BatchSize
	perStep := l.Sched.PerStep()
	every := 0
	if l.EvalsPerEpoch > 1 {
		every = max(1, l.batches/l.EvalsPerEpoch)
	}
epochs:
	for pos.Epoch < l.Epochs && !l.Stopped && !l.Halted {
		epoch := pos.Epoch
		perm := Permutation(l.perm, cfg.Seed, epoch, cfg.Training.Shuffle)
		if pos.BatchInEpoch == 0 {
			pos.Stats = EpochStats{}
		}
		before := pos.Stats.Samples
		start := time.Now()
		if !perStep {
			l.setLR(epoch)
		}
		if e, ok := tr.Train.(epochSplit[T]); ok {
			e.SetEpoch(epoch)
		}
		if err := l.Hooks.EpochStart(l, epoch); err != nil {
			return err
		}
		for b := pos.BatchInEpoch; b < l.batches; b++ {
			batch := perm[b*bs : min((b+1)*bs, n)]
			if perStep {
				l.setLR(int(pos.Step))
			}
			loss, norm, ok := tr.Step(batch)
			s := StepInfo{Loss: loss, GradNorm: norm, OK: ok, Samples: len(batch), Batch: b}
			act, err := l.Hooks.AfterStep(l, s)
			if err != nil {
				return err
			}
			switch act {
			case Restart:
				continue epochs
			case Stop:
				return nil
			}
			if ok {
				pos.Stats.add(loss, norm, len(batch))
			}
			pos.Step++
			pos.BatchInEpoch = b + 1
			last := l.MaxSteps > 0 && pos.Step >= l.MaxSteps
			// A measurement comes before Stepped, so that a checkpoint
			// written there (or at a signal) follows it.
			var measured *EvalResult
			atMeasure := b+1 < l.batches && l.measureAt(b+1, every)
			if atMeasure {
				if l.Val != nil && l.Val.Len() > 0 {
					ev := Evaluate(tr.Ctx, tr.Net, l.Val, tr.Classes)
					measured = &ev
				}
				if err := l.Hooks.Measure(l, measured); err != nil {
					return err
				}
			}
			if err := l.Hooks.Stepped(l, s); err != nil {
				return err
			}
			l.Stopped = last
			if atMeasure && (last || l.Halted) {
				// The run ends at this measurement: the epoch's end is
				// reported without another evaluation.
				e := EpochEnd{Epoch: epoch, Stats: pos.Stats, SamplesBefore: before, TrainTime: time.Since(start),
					Score: pos.Stats.Loss(), Val: measured, AtMeasure: true}
				if measured != nil {
					e.Score = measured.Loss
				}
				return l.Hooks.EpochEnd(l, e)
			}
			if last {
				break
			}
		}
		e := EpochEnd{Epoch: epoch, Complete: pos.BatchInEpoch == l.batches, Stats: pos.Stats,
			SamplesBefore: before, TrainTime: time.Since(start), Score: pos.Stats.Loss()}
		if e.Complete {
			pos.Epoch++
			pos.BatchInEpoch = 0
		}
		if l.Val != nil && l.Val.Len() > 0 {
			ev := Evaluate(tr.Ctx, tr.Net, l.Val, tr.Classes)
			e.Val, e.Score = &ev, ev.Loss
		}
		if e.Complete {
			l.Sched.Observe(e.Score)
		}
		if err := l.Hooks.EpochEnd(l, e); err != nil {
			return err
		}
	}
	return nil
}
