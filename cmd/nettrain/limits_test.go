package main

import (
	"strings"
	"testing"
)

// TestCountFlagsAreCapped: counts that size allocations are capped with a
// usage message (exit 2) before anything is loaded: --threads on train,
// eval and bench, generate's --length, and a generate --temperature that
// is not a finite number >= 0; bench --steps above 10^6, a negative predict
// --show, and a gradcheck --jitter or --tol that is not a finite number
// from 0 to 1. Before, --threads 1e8 allocated gigabytes, --length 1e12
// grew memory without bound, --temperature NaN and --jitter NaN ran, bench
// --steps 1e12 ran for ever and --jitter 1e308 or --tol +Inf passed.
func TestCountFlagsAreCapped(t *testing.T) {
	tests := []struct {
		args string
		want string
	}{
		{"train none.yaml --threads 1025", "--threads must be at most 1024 (the cap of training.threads), got 1025"},
		{"train none.yaml --threads 1000000", "--threads must be at most 1024 (the cap of training.threads), got 1000000"},
		{"eval none.yaml --checkpoint c.safetensors --threads 100000000", "--threads must be at most 1024 (the cap of training.threads), got 100000000"},
		{"bench none.yaml --threads 1000000", "--threads must be at most 1024 (the cap of training.threads), got 1000000"},
		{"train none.yaml --threads -1", "--threads must be at least 1 (or 0 for the config's setting), got -1"},
		{"generate none.yaml --checkpoint c.safetensors --length 1000000000000", "--length must be at most 1000000 characters, got 1000000000000"},
		{"generate none.yaml --checkpoint c.safetensors --length 1000001", "--length must be at most 1000000 characters, got 1000001"},
		{"generate none.yaml --checkpoint c.safetensors --temperature NaN", "--temperature must be a finite number >= 0, got NaN"},
		{"generate none.yaml --checkpoint c.safetensors --temperature +Inf", "--temperature must be a finite number >= 0, got +Inf"},
		{"generate none.yaml --checkpoint c.safetensors --temperature -1", "--temperature must be a finite number >= 0, got -1"},
		{"bench none.yaml --steps 1000000000000", "--steps must be 1 to 1000000, got 1000000000000"},
		{"bench none.yaml --inference --steps 1000001", "--steps must be 1 to 1000000, got 1000001"},
		{"bench none.yaml --steps 0", "--steps must be 1 to 1000000, got 0"},
		{"predict none.yaml --checkpoint c.safetensors d.csv --out p.csv --show -1", "--show must be at least 0, got -1"},
		{"gradcheck none.yaml --jitter NaN", "--jitter must be a number from 0 to 1 (the largest noise added to each input value, after normalisation), got NaN"},
		{"gradcheck none.yaml --jitter 1e308", "--jitter must be a number from 0 to 1 (the largest noise added to each input value, after normalisation), got 1e+308"},
		{"gradcheck none.yaml --jitter -0.1", "--jitter must be a number from 0 to 1 (the largest noise added to each input value, after normalisation), got -0.1"},
		{"gradcheck none.yaml --tol NaN", "--tol must be a number > 0 and at most 1 (the largest relative error that passes), got NaN"},
		{"gradcheck none.yaml --tol +Inf", "--tol must be a number > 0 and at most 1 (the largest relative error that passes), got +Inf"},
		{"gradcheck none.yaml --tol 2", "--tol must be a number > 0 and at most 1 (the largest relative error that passes), got 2"},
		{"gradcheck none.yaml --max-entries -1", "--max-entries must be at least 0, got -1"},
	}
	for _, tc := range tests {
		t.Run(tc.args, func(t *testing.T) {
			s, _, errOut := streams()
			code := Main(strings.Fields(tc.args), s)
			if got := strings.TrimSpace(errOut.String()); code != exitUsage || got != "nettrain: "+tc.want {
				t.Errorf("exit %d, %q\nwant exit %d, %q", code, got, exitUsage, "nettrain: "+tc.want)
			}
		})
	}
	// The caps themselves are accepted.
	s, _, _ := streams()
	var threads int
	train := NewCmdTrain(s, func(o *TrainOptions) error { threads = o.Threads; return nil })
	train.SetArgs([]string{"c.yaml", "--threads", "1024"})
	if err := train.Execute(); err != nil || threads != 1024 {
		t.Errorf("--threads 1024: %v, %d", err, threads)
	}
	var steps int
	bench := NewCmdBench(s, func(o *BenchOptions) error { steps = o.Steps; return nil })
	bench.SetArgs([]string{"c.yaml", "--steps", "1000000"})
	if err := bench.Execute(); err != nil || steps != 1000000 {
		t.Errorf("bench --steps 1000000: %v, %d", err, steps)
	}
	var jitter, tol float64
	gc := NewCmdGradCheck(s, func(o *GradCheckOptions) error { jitter, tol = o.Jitter, o.Tol; return nil })
	gc.SetArgs([]string{"c.yaml", "--jitter", "1", "--tol", "1", "--max-entries", "0"})
	if err := gc.Execute(); err != nil || jitter != 1 || tol != 1 {
		t.Errorf("gradcheck --jitter 1 --tol 1: %v, %g %g", err, jitter, tol)
	}
	var length int
	gen := NewCmdGenerate(s, func(o *GenerateOptions) error { length = o.Length; return nil })
	gen.SetArgs([]string{"c.yaml", "--checkpoint", "c.safetensors", "--length", "1000000", "--temperature", "0"})
	if err := gen.Execute(); err != nil || length != 1000000 {
		t.Errorf("--length 1000000: %v, %d", err, length)
	}
}
