package main

import (
	"testing"

	"github.com/spf13/cobra"
)

// TestPredictSequenceFlags: flags of a sequence model's predict that would
// be ignored, or fail only after a file was written, are usage errors
// before anything runs.
func TestPredictSequenceFlags(t *testing.T) {
	checkFlagCases(t, func(ran *bool) *cobra.Command {
		s, _, _ := streams()
		return NewCmdPredict(s, func(*PredictOptions) error { *ran = true; return nil })
	}, []flagCase{
		{[]string{"c.yaml", "--checkpoint", "k", "--prompt", ""}, "--prompt is empty"},
		{[]string{"c.yaml", "--checkpoint", "k", "--prompt", "abc", "--steps", "3"}, "do not go together"},
		{[]string{"c.yaml", "--checkpoint", "k", "--steps", "3", "--out", "f.jsonl"}, "name a .csv file"},
		{[]string{"c.yaml", "--checkpoint", "k", "--out", "f.txt"}, "name a .csv file"},
		{[]string{"c.yaml", "--checkpoint", "k", "--steps", "2", "--plot", "p.txt"}, "name a .png or .svg file"},
		{[]string{"c.yaml", "--checkpoint", "k", "--steps", "2", "--out", "f.CSV", "--plot", "p.svg"}, ""},
		{[]string{"c.yaml", "--checkpoint", "k", "--prompt", "abc", "--out", "p.csv"}, "--out and --plot are for a series model's forecasts"},
		{[]string{"c.yaml", "--checkpoint", "k", "--prompt", "abc", "--json"}, ""},
		{[]string{"c.yaml", "--checkpoint", "k", "in.csv", "--out", "p.jsonl"}, ""},
	})
}
