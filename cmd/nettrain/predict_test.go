package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/nettrain/nettrain/internal/checkpoint/cktest"
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

// TestOverflowingModelWritesJSON: a checkpoint whose finite weights make
// the outputs overflow gives NaN losses and probabilities; eval --json and
// predict's JSON lines write them as null instead of failing with
// encoding/json's "unsupported value: NaN".
func TestOverflowingModelWritesJSON(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "d.csv"), []byte(ckData(30)), 0o644)
	os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(ckConfig), 0o644)
	runNettrain(t, dir, "train", "config.yaml", "--set", "training.steps=2", "--out", "run")
	err := cktest.Edit(filepath.Join(dir, "run", "last.safetensors"), filepath.Join(dir, "big.safetensors"),
		func(meta map[string]string, ts map[string]any) {
			for name, v := range ts {
				if w, ok := v.([]float32); ok && !strings.HasPrefix(name, "optimizer.") {
					for i := range w {
						w[i] = 3e38 // the sums overflow to Inf, and Inf-Inf is NaN
					}
				}
			}
		})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		file string // the JSON lines to read; "" for stdout
	}{
		{[]string{"eval", "config.yaml", "--checkpoint", "big.safetensors", "--split", "validation", "--json"}, ""},
		{[]string{"predict", "config.yaml", "--checkpoint", "big.safetensors", "d.csv", "--out", "p.jsonl"}, "p.jsonl"},
	} {
		out := runNettrain(t, dir, tc.args...)
		text := out
		if tc.file != "" {
			b, err := os.ReadFile(filepath.Join(dir, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			text = string(b)
		}
		if !strings.Contains(text, "null") {
			t.Errorf("%v: no null in the output, so nothing overflowed and the test checks nothing:\n%s", tc.args, text)
		}
		dec := json.NewDecoder(strings.NewReader(text))
		for n := 0; ; n++ {
			var v any
			if err := dec.Decode(&v); err == io.EOF {
				if n == 0 {
					t.Errorf("%v: no JSON value written:\n%s", tc.args, text)
				}
				break
			} else if err != nil {
				t.Errorf("%v: not JSON (%v):\n%s", tc.args, err, text)
				break
			}
		}
	}
}
