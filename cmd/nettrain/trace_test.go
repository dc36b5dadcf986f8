package main

import (
	"testing"

	"github.com/spf13/cobra"
)

// TestTraceFlags: --digits outside 1 to 17 (0 given explicitly too) and
// --samples below 1 are usage errors; an omitted --digits is the config's.
func TestTraceFlags(t *testing.T) {
	checkFlagCases(t, func(ran *bool) *cobra.Command {
		s, _, _ := streams()
		return NewCmdTrace(s, func(*TraceOptions) error { *ran = true; return nil })
	}, []flagCase{
		{[]string{"c.yaml"}, ""},
		{[]string{"c.yaml", "--digits", "17"}, ""},
		{[]string{"c.yaml", "--digits", "0"}, "--digits must be from 1 to 17, got 0"},
		{[]string{"c.yaml", "--digits", "-3"}, "--digits must be from 1 to 17, got -3"},
		{[]string{"c.yaml", "--digits", "18"}, "--digits must be from 1 to 17, got 18"},
		{[]string{"c.yaml", "--samples", "0"}, "--samples must be at least 1, got 0"},
	})
}
