package main

import (
	"os"
	"slices"
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

// TestFlagErrorsExitUsage: a flag that does not apply to the command line
// it is on, that contradicts another flag, or whose value is of the wrong
// kind, is a command-line error: exit 2 and one line naming the flag.
func TestFlagErrorsExitUsage(t *testing.T) {
	for _, c := range []struct {
		args string // split at spaces
		want string
	}{
		{"bench c.yaml --batch 8 --steps 5", "--batch 8: --batch applies with --inference only"},
		{"bench c.yaml --gemm --batch 8", "--batch applies with --inference only"},
		{"export c.yaml --checkpoint k.safetensors --format onnx --out x.safetensors", "--format onnx contradicts --out x.safetensors"},
		{"predict c.yaml --checkpoint k.safetensors d.csv --out preds.txt", "--out preds.txt: predictions are written as CSV or JSON lines"},
		{"predict c.yaml --checkpoint k.safetensors digits --prompt ab", "--prompt is for text models, which take no INPUT files"},
		{"trace ../../configs/learn/mlp-relu.yaml --target 1,2 --output-grad 1,2", "--target and --output-grad both say where backprop starts"},
		{"trace ../../configs/learn/mlp-relu.yaml --input NaN,1", `--input "NaN,1": at column 1: expected a number, got "NaN"`},
		{"guide --problems mnist --out x", `--problems: unknown problem "mnist"`},
		{"train c.yaml --accept-image-decoding", "--accept-image-decoding applies to a resume (--resume CKPT)"},
		{"eval c.yaml --checkpoint k.safetensors --accept-image-decoding", "--accept-image-decoding applies to --split validation or train"},
		// A flag without its value would take the next flag as it.
		{"train c.yaml --out --overwrite", `--out needs a value, but its value is the flag --overwrite (to name a file "--overwrite", write ./--overwrite)`},
		{"eval c.yaml --checkpoint --json", "--checkpoint needs a value, but its value is the flag --json"},
		{"export c.yaml --checkpoint k.safetensors --out --format=onnx", "--out needs a value, but its value is the flag --format=onnx"},
		{"predict c.yaml --checkpoint k.safetensors x.csv --out -h", "--out needs a value, but its value is the flag -h"},
		{"compare-optimizers c.yaml --optimizers --out x", "--optimizers needs a value, but its value is the flag --out\n"}, // no file hint
		// The swallowed flag's value left as an extra argument: the
		// cause is named, not the count of arguments.
		{"train c.yaml --out --set training.epochs=1", "--out needs a value, but its value is the flag --set"},
		{"eval c.yaml --checkpoint --split validation", "--checkpoint needs a value, but its value is the flag --split"},
		{"train c.yaml --tensorboard=", "--tensorboard needs a file or directory, but its value is empty (a shell variable that is not set?)"},
		{"predict c.yaml --checkpoint k.safetensors x.csv --out=", "--out needs a file or directory, but its value is empty"},
	} {
		s, out, errOut := streams()
		code := Main(strings.Fields(c.args), s)
		if msg := errOut.String(); code != exitUsage || !strings.Contains(msg, c.want) || strings.Count(msg, "\n") != 1 || out.Len() > 0 {
			t.Errorf("%s: exit %d, %q; want exit %d and one line with %q", c.args, code, msg, exitUsage, c.want)
		}
	}
}

// TestFlagValueLikeAFlag: a value that starts with a dash but names no
// flag of the command (a negative number, ./--name) is a value.
func TestFlagValueLikeAFlag(t *testing.T) {
	for _, args := range []string{
		"eval c.yaml --checkpoint ./--json",
		"trace c.yaml --input -1,2",
		"eval c.yaml --checkpoint --no-such-flag",
	} {
		s, _, errOut := streams()
		Main(strings.Fields(args), s)
		if msg := errOut.String(); strings.Contains(msg, "needs a value") || !strings.Contains(msg, "c.yaml") {
			t.Errorf("%s: %q; want the value taken and the missing config named", args, msg)
		}
	}
}

// TestREADMENamesTheSetCommands: the README's list of the commands that
// accept --set is exactly the commands that have the flag.
func TestREADMENamesTheSetCommands(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const lead = "Every command that takes a CONFIG ("
	text := string(b)
	i := strings.Index(text, lead)
	if i < 0 {
		t.Fatalf("the README does not list the commands that accept --set (no %q)", lead)
	}
	list, _, _ := strings.Cut(text[i+len(lead):], ")")
	var documented []string
	for j, s := range strings.Split(list, "`") {
		if j%2 == 1 {
			documented = append(documented, s)
		}
	}
	var have []string
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Flags().Lookup("set") != nil {
			have = append(have, strings.TrimPrefix(c.CommandPath(), "nettrain "))
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	s, _, _ := streams()
	walk(NewRootCmd(s))
	slices.Sort(documented)
	slices.Sort(have)
	if !slices.Equal(documented, have) {
		t.Errorf("the README lists %v as accepting --set; the commands with the flag are %v", documented, have)
	}
}
