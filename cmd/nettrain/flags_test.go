package main

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// flagCase is a command line and the usage error it must give ("": it is
// accepted and reaches the command's run function).
type flagCase struct {
	args []string
	want string
}

// checkFlagCases runs each case through the command mk builds with a run
// function that only records that it ran.
func checkFlagCases(t *testing.T, mk func(ran *bool) *cobra.Command, cases []flagCase) {
	t.Helper()
	for _, c := range cases {
		ran := false
		cmd := mk(&ran)
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
