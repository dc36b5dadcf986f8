package optim

import (
	"math"
	"testing"
)

func TestSchedules(t *testing.T) {
	tmax := 4
	tests := []struct {
		cfg  ScheduleConfig
		want []float64 // lr for intervals 0..len-1, base 1, total 6
	}{
		{&ConstantSchedule{ScheduleBase{Interval: "epoch"}}, []float64{1, 1, 1}},
		{&ConstantSchedule{ScheduleBase{Interval: "epoch", Warmup: 2}}, []float64{0.5, 1, 1, 1}},
		{&StepSchedule{ScheduleBase{Interval: "epoch"}, 2, 0.1}, []float64{1, 1, 0.1, 0.1, 0.01}},
		{&ExponentialSchedule{ScheduleBase{Interval: "epoch"}, 0.5}, []float64{1, 0.5, 0.25, 0.125}},
		{&CosineSchedule{ScheduleBase{Interval: "epoch"}, nil, 0}, []float64{1, 0.9330127018922194, 0.75, 0.5, 0.25, 0.0669872981077807}},
		{&CosineSchedule{ScheduleBase{Interval: "epoch", Warmup: 2}, &tmax, 0.1}, []float64{0.5, 1, 1, 0.8681980515339464, 0.55, 0.2318019484660536}},
	}
	for _, tc := range tests {
		s := NewScheduler(tc.cfg, 1, 6)
		for i, want := range tc.want {
			if got := s.LR(i); math.Abs(got-want) > 1e-12 {
				t.Errorf("%s %+v: lr(%d) = %v, want %v", tc.cfg.Kind(), tc.cfg, i, got, want)
			}
		}
	}
}

// TestPlateau replays torch.optim.lr_scheduler.ReduceLROnPlateau(factor=0.5,
// patience=1, cooldown=1, threshold=0.1) on a fixed loss sequence.
func TestPlateau(t *testing.T) {
	c := &PlateauSchedule{ScheduleBase: ScheduleBase{Interval: "epoch"}, Factor: 0.5, Patience: 1, Threshold: 0.1, Cooldown: 1, MinLR: 0.2}
	s := NewScheduler(c, 1, 10)
	losses := []float64{1, 0.95, 0.95, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5}
	// The rates torch 1.13 prints for this sequence:
	//   s = ReduceLROnPlateau(SGD([p], lr=1), factor=0.5, patience=1,
	//                         threshold=0.1, cooldown=1, min_lr=0.2)
	//   for l in losses: s.step(l); print(opt.param_groups[0]['lr'])
	want := []float64{1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.2}
	for i, l := range losses {
		s.Observe(l)
		if got := s.LR(i + 1); got != want[i] {
			t.Errorf("after epoch %d (loss %v): lr %v, want %v", i, l, got, want[i])
		}
	}
	r := NewScheduler(c, 1, 10)
	if err := r.Restore(s.State()); err != nil || r.LR(0) != s.LR(0) || r.best != s.best || r.bad != s.bad {
		t.Errorf("restore: %v %+v vs %+v", err, r, s)
	}
}
