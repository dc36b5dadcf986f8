package main

import (
	"strings"
	"testing"
)

// TestPredictSequenceFlags: flags of a sequence model's predict that would
// be ignored, or fail only after a file was written, are usage errors
// before anything runs.
func TestPredictSequenceFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string // "" accepted
	}{
		{[]string{"c.yaml", "--checkpoint", "k", "--prompt", ""}, "--prompt is empty"},
		{[]string{"c.yaml", "--checkpoint", "k", "--prompt", "abc", "--steps", "3"}, "do not go together"},
		{[]string{"c.yaml", "--checkpoint", "k", "--steps", "3", "--out", "f.jsonl"}, "name a .csv file"},
		{[]string{"c.yaml", "--checkpoint", "k", "--out", "f.txt"}, "name a .csv file"},
		{[]string{"c.yaml", "--checkpoint", "k", "--steps", "2", "--plot", "p.txt"}, "name a .png or .svg file"},
		{[]string{"c.yaml", "--checkpoint", "k", "--steps", "2", "--out", "f.CSV", "--plot", "p.svg"}, ""},
		{[]string{"c.yaml", "--checkpoint", "k", "--prompt", "abc", "--out", "ignored.jsonl"}, ""},
		{[]string{"c.yaml", "--checkpoint", "k", "in.csv", "--out", "p.jsonl"}, ""},
	} {
		s, _, _ := streams()
		ran := false
		cmd := NewCmdPredict(s, func(*PredictOptions) error { ran = true; return nil })
		cmd.SetArgs(c.args)
		cmd.SilenceErrors, cmd.SilenceUsage = true, true
		err := cmd.Execute()
		switch {
		case c.want == "" && (err != nil || !ran):
			t.Errorf("%v: %v", c.args, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want) || ran):
			t.Errorf("%v: error %v (ran %v), want %q", c.args, err, ran, c.want)
		}
	}
}
