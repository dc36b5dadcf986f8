package optim_test

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/nettrain/nettrain/internal/optim"
)

// Learning-rate schedules against torch.optim.lr_scheduler:
// testdata/schedules.json, written by scripts/golden/gen.py (see
// scripts/golden/README.md). Each case is a nettrain schedule with its
// options, a base learning rate and the learning rate torch's StepLR,
// ExponentialLR, CosineAnnealingLR or ReduceLROnPlateau sets for every
// interval; a plateau case also has the validation losses and torch's
// scheduler state after each of them.

// scheduleTol bounds the relative error of every learning rate (each held
// to its own size; torch's chained products and nettrain's closed forms
// differ by a few ulps).
const scheduleTol = 1e-12

type scheduleFile struct {
	Generator          string         `json:"generator"`
	Torch              string         `json:"torch"`
	ATenCPUCapability  string         `json:"aten_cpu_capability"`
	CPUCapabilityUsage string         `json:"cpu_capability_usage"`
	DType              string         `json:"dtype"`
	Cases              []scheduleCase `json:"cases"`
}

type scheduleCase struct {
	Name     string          `json:"name"`
	Schedule string          `json:"schedule"` // nettrain schedule name
	Options  json.RawMessage `json:"options"`  // nettrain YAML keys
	BaseLR   float64         `json:"base_lr"`
	Total    int             `json:"total"` // intervals of the run
	Torch    string          `json:"torch"` // the lr_scheduler class
	// LR[i] is the learning rate of interval i (for a plateau: after the
	// first i losses).
	LR     []float64 `json:"lr"`
	Losses []float64 `json:"losses"` // plateau: the loss of every epoch
	// State is ReduceLROnPlateau's state after every loss.
	State []struct {
		Best            float64 `json:"best"`
		NumBadEpochs    int     `json:"num_bad_epochs"`
		CooldownCounter int     `json:"cooldown_counter"`
	} `json:"state"`
}

func loadSchedules(t *testing.T) *scheduleFile {
	t.Helper()
	path := filepath.Join("testdata", "schedules.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var f scheduleFile
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if f.DType != "float64" || len(f.Cases) == 0 {
		t.Fatalf("%s: dtype %s, %d cases", path, f.DType, len(f.Cases))
	}
	return &f
}

// scheduleConfig is optim.ScheduleDefaults(name) with the options decoded
// strictly, as the config file's schedule mapping is, plus a warmup.
func scheduleConfig(t *testing.T, c *scheduleCase, warmup int) optim.ScheduleConfig {
	t.Helper()
	cfg, ok := optim.ScheduleDefaults(c.Schedule)
	if !ok {
		t.Fatalf("unknown schedule %q", c.Schedule)
	}
	dec := yaml.NewDecoder(bytes.NewReader(c.Options))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil {
		t.Fatalf("options %s: %v", c.Options, err)
	}
	if warmup > 0 {
		if err := yaml.Unmarshal([]byte("warmup: "+strconv.Itoa(warmup)), cfg); err != nil {
			t.Fatal(err)
		}
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// lrErr is the relative error of one learning rate (exact agreement for a
// zero reference).
func lrErr(got, want float64) float64 {
	if got == want {
		return 0
	}
	return math.Abs(got-want) / math.Abs(want)
}

func TestGoldenSchedules(t *testing.T) {
	f := loadSchedules(t)
	for _, c := range f.Cases {
		t.Run(c.Name, func(t *testing.T) {
			if c.Total != len(c.LR) {
				t.Fatalf("total %d for %d rates", c.Total, len(c.LR))
			}
			if c.Losses != nil {
				worst := checkPlateau(t, &c)
				t.Logf("%s: max relative error %.3g (tolerance %g)", c.Torch, worst, scheduleTol)
				return
			}
			s := optim.NewScheduler(scheduleConfig(t, &c, 0), c.BaseLR, c.Total)
			worst := 0.0
			for i, want := range c.LR {
				got := s.LR(i)
				// Observe is for plateau only: it must change nothing here.
				s.Observe(1)
				e := lrErr(got, want)
				worst = max(worst, e)
				if !(e <= scheduleTol) {
					t.Errorf("interval %d: lr %.17g, torch %s %.17g (relative error %.3g)", i, got, c.Torch, want, e)
				}
			}
			t.Logf("%s: max relative error %.3g (tolerance %g)", c.Torch, worst, scheduleTol)
		})
	}
}

// checkPlateau replays the losses through Observe and compares the rate of
// every epoch and the state (best loss, bad epochs, cooldown) with torch's
// ReduceLROnPlateau.
func checkPlateau(t *testing.T, c *scheduleCase) float64 {
	t.Helper()
	if len(c.LR) != len(c.Losses)+1 || len(c.State) != len(c.Losses) {
		t.Fatalf("%d rates and %d states for %d losses", len(c.LR), len(c.State), len(c.Losses))
	}
	s := optim.NewScheduler(scheduleConfig(t, c, 0), c.BaseLR, c.Total)
	worst := lrErr(s.LR(0), c.LR[0])
	if worst != 0 {
		t.Errorf("before any loss: lr %.17g, torch %.17g", s.LR(0), c.LR[0])
	}
	for i, loss := range c.Losses {
		s.Observe(loss)
		got, want := s.LR(i+1), c.LR[i+1]
		e := lrErr(got, want)
		worst = max(worst, e)
		if !(e <= scheduleTol) {
			t.Errorf("after loss %d (%v): lr %.17g, torch %.17g (relative error %.3g)", i, loss, got, want, e)
		}
		st, ts := s.State(), c.State[i]
		best, err1 := strconv.ParseFloat(st["sched_best"], 64)
		bad, err2 := strconv.Atoi(st["sched_bad"])
		cool, err3 := strconv.Atoi(st["sched_cooldown"])
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatalf("state %v", st)
		}
		if best != ts.Best || bad != ts.NumBadEpochs || cool != ts.CooldownCounter {
			t.Errorf("after loss %d (%v): best %v, bad epochs %d, cooldown %d; torch %v, %d, %d",
				i, loss, best, bad, cool, ts.Best, ts.NumBadEpochs, ts.CooldownCounter)
		}
	}
	return worst
}

// TestGoldenScheduleWarmup checks nettrain's linear warmup, which torch has no
// scheduler for, by hand: lr0 (i+1)/W for the first W intervals, then the
// schedule starts over from interval 0, so every torch case shifted by W
// (with W more intervals in the run, so that a default t_max is unchanged).
func TestGoldenScheduleWarmup(t *testing.T) {
	// The rule by hand: base 0.1, warmup 4.
	s := optim.NewScheduler(&optim.ConstantSchedule{ScheduleBase: optim.ScheduleBase{Interval: "epoch", Warmup: 4}}, 0.1, 10)
	for i, want := range []float64{0.025, 0.05, 0.075, 0.1, 0.1, 0.1} {
		if got := s.LR(i); lrErr(got, want) > scheduleTol {
			t.Errorf("constant, warmup 4: lr(%d) = %.17g, want %v", i, got, want)
		}
	}
	f := loadSchedules(t)
	for _, c := range f.Cases {
		if c.Losses != nil {
			// A plateau schedule's rate after warmup depends on the losses
			// observed during it; torch has nothing to compare with.
			continue
		}
		for _, w := range []int{1, 3} {
			s := optim.NewScheduler(scheduleConfig(t, &c, w), c.BaseLR, c.Total+w)
			for i := range w {
				want := c.BaseLR * float64(i+1) / float64(w)
				if got := s.LR(i); got != want {
					t.Errorf("%s, warmup %d: lr(%d) = %.17g, want %.17g", c.Name, w, i, got, want)
				}
			}
			for i, want := range c.LR {
				if got := s.LR(w + i); lrErr(got, want) > scheduleTol {
					t.Errorf("%s, warmup %d: lr(%d) = %.17g, torch %s %.17g without warmup at %d", c.Name, w, w+i, got, c.Torch, want, i)
				}
			}
		}
	}
}
