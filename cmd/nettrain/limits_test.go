package main

import (
	"strings"
	"testing"
)

// TestCountFlagsAreCapped: counts that size allocations are capped with a
// usage message (exit 2) before anything is loaded: --threads on train,
// eval and bench, generate's --length, and a generate --temperature that
// is not a finite number >= 0. Before, --threads 1e8 allocated gigabytes,
// --length 1e12 grew memory without bound and --temperature NaN ran.
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
	var length int
	gen := NewCmdGenerate(s, func(o *GenerateOptions) error { length = o.Length; return nil })
	gen.SetArgs([]string{"c.yaml", "--checkpoint", "c.safetensors", "--length", "1000000", "--temperature", "0"})
	if err := gen.Execute(); err != nil || length != 1000000 {
		t.Errorf("--length 1000000: %v, %d", err, length)
	}
}
