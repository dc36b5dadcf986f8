package main

import (
	"strings"
	"testing"
)

// TestTraceFlags: --digits outside 1 to 17 (0 given explicitly too) and
// --samples below 1 are usage errors; an omitted --digits is the config's.
func TestTraceFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string // "" accepted
	}{
		{[]string{"c.yaml"}, ""},
		{[]string{"c.yaml", "--digits", "17"}, ""},
		{[]string{"c.yaml", "--digits", "0"}, "--digits must be from 1 to 17, got 0"},
		{[]string{"c.yaml", "--digits", "-3"}, "--digits must be from 1 to 17, got -3"},
		{[]string{"c.yaml", "--digits", "18"}, "--digits must be from 1 to 17, got 18"},
		{[]string{"c.yaml", "--samples", "0"}, "--samples must be at least 1, got 0"},
	} {
		s, _, _ := streams()
		ran := false
		cmd := NewCmdTrace(s, func(*TraceOptions) error { ran = true; return nil })
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
