package optim

import (
	"fmt"
	"math"
	"sort"
	"strconv"
)

// A learning-rate schedule sets the learning rate at the start of every
// interval (epoch, or optimizer step with interval: step), from the base
// learning rate lr0 and the interval index i = 0, 1, ... After an optional
// linear warmup of W intervals (lr = lr0 (i+1)/W for i < W), the schedule
// runs on j = i - W:
//
//	constant:    lr0
//	step:        lr0 gamma^floor(j / step_size)                 (torch StepLR)
//	exponential: lr0 gamma^j                                    (torch ExponentialLR)
//	cosine:      eta_min + (lr0 - eta_min) (1 + cos(pi j / T)) / 2, T = t_max
//	             (default: the rest of the run)                  (torch CosineAnnealingLR)
//	plateau:     multiply by factor when the validation loss has not improved
//	             by more than threshold (relative) for patience epochs, then
//	             wait cooldown epochs; never below min_lr       (torch ReduceLROnPlateau)
//
// Schedules are pure functions of the interval except plateau, whose state
// (current rate, best loss, bad epochs, cooldown) is saved in checkpoints.
type ScheduleConfig interface {
	Kind() string
	Validate() error
	// base holds the keys every schedule has.
	base() *ScheduleBase
	// rate is the learning rate j intervals after warmup, for a base rate
	// lr0 and a run whose schedule part has rest intervals.
	rate(lr0 float64, j, rest int, s *Scheduler) float64
}

// ScheduleBase holds the keys every schedule has.
type ScheduleBase struct {
	// Interval is epoch (default) or step: how often the rate changes.
	Interval string `yaml:"interval"`
	// Warmup is the number of intervals of linear warmup. Default 0.
	Warmup int `yaml:"warmup"`
}

func (b *ScheduleBase) base() *ScheduleBase { return b }

func (b *ScheduleBase) validate() error {
	if b.Interval != "epoch" && b.Interval != "step" {
		return errKey("interval", "must be epoch or step, got %q", b.Interval)
	}
	if b.Warmup < 0 {
		return errKey("warmup", "must be >= 0, got %d", b.Warmup)
	}
	return nil
}

// ConstantSchedule keeps the learning rate (after any warmup).
type ConstantSchedule struct {
	ScheduleBase `yaml:",inline"`
}

// StepSchedule multiplies the rate by Gamma every StepSize intervals.
type StepSchedule struct {
	ScheduleBase `yaml:",inline"`
	StepSize     int     `yaml:"step_size"` // required
	Gamma        float64 `yaml:"gamma"`     // default 0.1
}

// ExponentialSchedule multiplies the rate by Gamma every interval.
type ExponentialSchedule struct {
	ScheduleBase `yaml:",inline"`
	Gamma        float64 `yaml:"gamma"` // required
}

// CosineSchedule anneals the rate to EtaMin along half a cosine.
type CosineSchedule struct {
	ScheduleBase `yaml:",inline"`
	TMax         *int    `yaml:"t_max"`   // default: the intervals after warmup
	EtaMin       float64 `yaml:"eta_min"` // default 0
}

// PlateauSchedule reduces the rate when the validation loss stalls
// (checked once per epoch).
type PlateauSchedule struct {
	ScheduleBase `yaml:",inline"`
	Factor       float64 `yaml:"factor"`    // default 0.1
	Patience     int     `yaml:"patience"`  // default 10
	Threshold    float64 `yaml:"threshold"` // default 1e-4, relative
	Cooldown     int     `yaml:"cooldown"`  // default 0
	MinLR        float64 `yaml:"min_lr"`    // default 0
}

func (*ConstantSchedule) Kind() string    { return "constant" }
func (*StepSchedule) Kind() string        { return "step" }
func (*ExponentialSchedule) Kind() string { return "exponential" }
func (*CosineSchedule) Kind() string      { return "cosine" }
func (*PlateauSchedule) Kind() string     { return "plateau" }

func (s *ConstantSchedule) Validate() error { return s.validate() }

func (*ConstantSchedule) rate(lr0 float64, _, _ int, _ *Scheduler) float64 { return lr0 }

func (c *StepSchedule) rate(lr0 float64, j, _ int, _ *Scheduler) float64 {
	return lr0 * math.Pow(c.Gamma, float64(j/c.StepSize))
}

func (c *ExponentialSchedule) rate(lr0 float64, j, _ int, _ *Scheduler) float64 {
	return lr0 * math.Pow(c.Gamma, float64(j))
}

func (c *CosineSchedule) rate(lr0 float64, j, rest int, _ *Scheduler) float64 {
	tmax := rest
	if c.TMax != nil {
		tmax = *c.TMax
	}
	tmax = max(tmax, 1)
	return c.EtaMin + (lr0-c.EtaMin)*(1+math.Cos(math.Pi*float64(j)/float64(tmax)))/2
}

func (*PlateauSchedule) rate(_ float64, _, _ int, s *Scheduler) float64 { return s.lr }

func (s *StepSchedule) Validate() error {
	if s.StepSize == 0 {
		return errKey("step_size", "required: the number of intervals between reductions, e.g. 10")
	}
	if s.StepSize < 1 {
		return errKey("step_size", "must be at least 1, got %d", s.StepSize)
	}
	if !(s.Gamma > 0) {
		return errKey("gamma", "must be > 0, got %g", s.Gamma)
	}
	return s.validate()
}

func (s *ExponentialSchedule) Validate() error {
	if s.Gamma == 0 {
		return errKey("gamma", "required: the factor per interval, e.g. 0.95")
	}
	if !(s.Gamma > 0) {
		return errKey("gamma", "must be > 0, got %g", s.Gamma)
	}
	return s.validate()
}

func (s *CosineSchedule) Validate() error {
	if s.TMax != nil && *s.TMax < 1 {
		return errKey("t_max", "must be at least 1, got %d", *s.TMax)
	}
	if !(s.EtaMin >= 0) {
		return errKey("eta_min", "must be >= 0, got %g", s.EtaMin)
	}
	return s.validate()
}

func (s *PlateauSchedule) Validate() error {
	if !(s.Factor > 0 && s.Factor < 1) {
		return errKey("factor", "must be in (0, 1), got %g", s.Factor)
	}
	if s.Patience < 0 || s.Cooldown < 0 {
		return errKey("patience", "patience and cooldown must be >= 0")
	}
	if !(s.Threshold >= 0) || !(s.MinLR >= 0) {
		return errKey("threshold", "threshold and min_lr must be >= 0")
	}
	if s.Interval == "step" {
		return errKey("interval", "plateau watches the validation loss once per epoch; use interval: epoch")
	}
	return s.validate()
}

var schedules = map[string]func() ScheduleConfig{
	"constant":    func() ScheduleConfig { return &ConstantSchedule{ScheduleBase{Interval: "epoch"}} },
	"step":        func() ScheduleConfig { return &StepSchedule{ScheduleBase: ScheduleBase{Interval: "epoch"}, Gamma: 0.1} },
	"exponential": func() ScheduleConfig { return &ExponentialSchedule{ScheduleBase: ScheduleBase{Interval: "epoch"}} },
	"cosine":      func() ScheduleConfig { return &CosineSchedule{ScheduleBase: ScheduleBase{Interval: "epoch"}} },
	"plateau": func() ScheduleConfig {
		return &PlateauSchedule{ScheduleBase: ScheduleBase{Interval: "epoch"}, Factor: 0.1, Patience: 10, Threshold: 1e-4}
	},
}

// ScheduleDefaults returns the named schedule with its defaults.
func ScheduleDefaults(name string) (ScheduleConfig, bool) {
	f, ok := schedules[name]
	if !ok {
		return nil, false
	}
	return f(), true
}

// ScheduleNames lists the schedules, sorted.
func ScheduleNames() []string {
	var n []string
	for k := range schedules {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// Scheduler applies a schedule during a run of Total intervals.
type Scheduler struct {
	Cfg   ScheduleConfig
	Base  float64 // the optimizer's configured learning rate
	Total int     // intervals in the whole run (epochs or steps)

	// plateau state
	lr       float64
	best     float64
	bad      int
	cooldown int
}

// NewScheduler starts a schedule for a run of total intervals.
func NewScheduler(c ScheduleConfig, base float64, total int) *Scheduler {
	return &Scheduler{Cfg: c, Base: base, Total: total, lr: base, best: math.Inf(1)}
}

// PerStep reports whether the rate changes every step (else every epoch).
func (s *Scheduler) PerStep() bool { return PerStep(s.Cfg) }

// PerStep reports whether c changes the rate every step (else every epoch).
func PerStep(c ScheduleConfig) bool { return c.base().Interval == "step" }

// LR is the learning rate for interval i.
func (s *Scheduler) LR(i int) float64 {
	w := s.Cfg.base().Warmup
	if i < w {
		return s.Base * float64(i+1) / float64(w)
	}
	return s.Cfg.rate(s.Base, i-w, s.Total-w, s)
}

// Observe tells a plateau schedule the epoch's validation loss (torch's
// ReduceLROnPlateau.step, mode min, relative threshold); other schedules
// ignore it.
func (s *Scheduler) Observe(loss float64) {
	c, ok := s.Cfg.(*PlateauSchedule)
	if !ok {
		return
	}
	if loss < s.best*(1-c.Threshold) {
		s.best, s.bad = loss, 0
	} else {
		s.bad++
	}
	if s.cooldown > 0 {
		s.cooldown--
		s.bad = 0
	}
	if s.bad > c.Patience {
		next := math.Max(s.lr*c.Factor, c.MinLR)
		if s.lr-next > 1e-8 {
			s.lr = next
		}
		s.cooldown, s.bad = c.Cooldown, 0
	}
}

// State is the scheduler's state for checkpoints.
func (s *Scheduler) State() map[string]string {
	return map[string]string{
		"sched_lr": strconv.FormatFloat(s.lr, 'g', -1, 64), "sched_best": strconv.FormatFloat(s.best, 'g', -1, 64),
		"sched_bad": strconv.Itoa(s.bad), "sched_cooldown": strconv.Itoa(s.cooldown),
	}
}

// Restore sets the state saved by State (missing keys leave it as it is).
func (s *Scheduler) Restore(m map[string]string) error {
	if m["sched_lr"] == "" {
		return nil
	}
	var err error
	f := func(k string) float64 {
		v, e := strconv.ParseFloat(m[k], 64)
		if e != nil && err == nil {
			err = fmt.Errorf("bad scheduler state %s=%q", k, m[k])
		}
		return v
	}
	i := func(k string) int {
		v, e := strconv.Atoi(m[k])
		if e != nil && err == nil {
			err = fmt.Errorf("bad scheduler state %s=%q", k, m[k])
		}
		return v
	}
	s.lr, s.best, s.bad, s.cooldown = f("sched_lr"), f("sched_best"), i("sched_bad"), i("sched_cooldown")
	return err
}
