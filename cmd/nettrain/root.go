package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/nettrain/nettrain/internal/gemm"
	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/train"
)

// IOStreams are the command's input and outputs, injected so tests can
// capture them.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// Terminal is true when ErrOut is a terminal (progress bars).
	Terminal bool
	// Exit ends the process at once with a code: the second SIGINT or
	// SIGTERM during a long command. The only os.Exit is here and in main.
	Exit func(code int)
}

// DefaultStreams are the process's standard streams.
func DefaultStreams() *IOStreams {
	return &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr, Exit: os.Exit,
		Terminal: isatty.IsTerminal(os.Stderr.Fd()) || isatty.IsCygwinTerminal(os.Stderr.Fd())}
}

// Exit codes.
const (
	exitOK       = 0
	exitError    = 1
	exitUsage    = 2
	exitInternal = 70
)

// usageError marks errors in the command line itself.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }

// ExitError carries a specific exit code (e.g. 130 after SIGINT).
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }

// NewRootCmd builds the nettrain command tree.
func NewRootCmd(s *IOStreams) *cobra.Command {
	root := &cobra.Command{
		Use:   "nettrain",
		Short: "Train neural networks described in YAML files",
		Long: `nettrain trains neural networks (MLPs, CNNs with pooling, sliding-window LSTMs)
described in YAML config files, with PyTorch-exact layers and optimizers.

  nettrain train configs/mnist-mlp.yaml
  nettrain eval configs/mnist-mlp.yaml --checkpoint runs/mnist-mlp/best.safetensors
  nettrain summary configs/mnist-mlp.yaml`,
		SilenceUsage:  true,
		SilenceErrors: true,
		// --version (and -v) prints it: the module version and commit.
		Version: version(),
		// A NETTRAIN_GEMM_KERNELS that names no kernel set this
		// machine runs is an error, not a silent fallback, for every
		// command but help and shell completion, which multiply nothing.
		// (A subcommand's own persistent hook would replace this one.)
		PersistentPreRunE: func(c *cobra.Command, _ []string) error {
			for p := c; p != nil; p = p.Parent() {
				switch p.Name() {
				case "help", "completion", cobra.ShellCompRequestCmd, cobra.ShellCompNoDescRequestCmd:
					return nil
				}
			}
			if err := flagValueIsFlag(c); err != nil {
				return err
			}
			return gemm.KernelsEnvError()
		},
	}
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.ErrOut)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w (see '%s --help')", err, c.CommandPath())}
	})
	root.AddCommand(
		NewCmdTrain(s, nil),
		NewCmdEval(s, nil),
		NewCmdSummary(s, nil),
		NewCmdTrace(s, nil),
		NewCmdGradCheck(s, nil),
		NewCmdGenerate(s, nil),
		NewCmdPredict(s, nil),
		NewCmdCompare(s, nil),
		NewCmdSweep(s, nil),
		NewCmdGuide(s, nil),
		NewCmdBench(s, nil),
		NewCmdExport(s, nil),
		NewCmdBoard(s, nil),
	)
	checkFlagValuesFirst(root)
	return root
}

// checkFlagValuesFirst makes every command refuse a flag that took
// another flag as its value (flagValueIsFlag) before it counts its
// arguments: in `train c.yaml --out --set k=v`, the swallowed --set
// leaves k=v as a second argument, and the count's error would hide the
// cause. (The root's PersistentPreRunE checks it again, for commands
// without an argument rule.)
func checkFlagValuesFirst(c *cobra.Command) {
	for _, sub := range c.Commands() {
		checkFlagValuesFirst(sub)
	}
	args := c.Args
	if args == nil { // cobra's own rules (unknown subcommands): left as they are
		return
	}
	c.Args = func(cmd *cobra.Command, a []string) error {
		if err := flagValueIsFlag(cmd); err != nil {
			return err
		}
		return args(cmd, a)
	}
}

// Main runs nettrain with args and returns the process exit code. Errors
// are printed as one line; panics are caught and reported without a stack
// trace.
func Main(args []string, s *IOStreams) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(s.ErrOut, "nettrain: internal error: %v\nThis is a bug in nettrain; please report it with the command and config that caused it.\n", r)
			code = exitInternal
		}
	}()
	train.FitRuntimeToLimits()
	root := NewRootCmd(s)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	msg := strings.TrimSpace(err.Error())
	// Cobra's suggestions come on extra lines: keep the message on one.
	msg = strings.ReplaceAll(msg, "\n\nDid you mean this?\n\t", "; did you mean ")
	msg = strings.Join(strings.Fields(strings.ReplaceAll(msg, "\n", " ")), " ")
	fmt.Fprintln(s.ErrOut, "nettrain: "+msg)
	var ue usageError
	var fe model.FlagError
	var ee *ExitError
	if code, ok := interruptCode(err); ok {
		return code
	}
	switch {
	case errors.As(err, &ee):
		return ee.Code
	case errors.As(err, &ue), errors.As(err, &fe), isCobraUsage(err):
		return exitUsage
	}
	return exitError
}

// isCobraUsage recognises cobra's own argument errors.
func isCobraUsage(err error) bool {
	m := err.Error()
	return strings.HasPrefix(m, "unknown command") || strings.HasPrefix(m, "accepts ") ||
		strings.HasPrefix(m, "requires at least") || strings.Contains(m, "unknown flag") ||
		strings.HasPrefix(m, "required flag")
}

// exactArgs is cobra.ExactArgs with a message that says what is missing.
func configArg(c *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usageError{fmt.Errorf("%s needs exactly one CONFIG file argument, got %d (usage: %s)", c.CommandPath(), len(args), c.UseLine())}
	}
	return nil
}

// flagValueIsFlag is a usage error when a flag that takes a value got
// another of the command's flags as it: pflag gives a flag without its
// value the next argument, so `--out --overwrite` would name a file
// "--overwrite" and lose the flag. argparse refuses this ("expected one
// argument"); so does nettrain. A file whose name starts with a dash is
// still named as ./--name.
func flagValueIsFlag(c *cobra.Command) error {
	var err error
	c.Flags().Visit(func(f *pflag.Flag) {
		if err != nil || f.NoOptDefVal != "" { // a bool flag takes no value
			return
		}
		vals := []string{f.Value.String()}
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			vals = sv.GetSlice()
		} else if fileFlags[f.Name] && vals[0] == "" {
			// --tensorboard "" wrote nothing and said nothing: an empty
			// file name is most often a shell variable that was not set.
			err = usageError{fmt.Errorf("--%s needs a file or directory, but its value is empty (a shell variable that is not set?)", f.Name)}
			return
		}
		for _, v := range vals {
			if other := flagNamed(c, v); other != nil {
				hint := ""
				if fileFlags[f.Name] {
					hint = fmt.Sprintf(" (to name a file %q, write ./%s)", v, v)
				}
				err = usageError{fmt.Errorf("--%s needs a value, but its value is the flag %s%s", f.Name, v, hint)}
				return
			}
		}
	})
	return err
}

// fileFlags are the flags whose value names a file or directory.
var fileFlags = map[string]bool{"checkpoint": true, "configs": true, "html": true, "input": true, "out": true,
	"plot": true, "png": true, "resume": true, "tensorboard": true, "weights": true, "write-licences": true}

// flagNamed returns the flag of c that arg names ("--name", "--name=x",
// "-n"), or nil.
func flagNamed(c *cobra.Command, arg string) *pflag.Flag {
	if name, ok := strings.CutPrefix(arg, "--"); ok {
		name, _, _ = strings.Cut(name, "=")
		return c.Flag(name)
	}
	if name, ok := strings.CutPrefix(arg, "-"); ok && name != "" {
		if f := c.Flags().ShorthandLookup(name[:1]); f != nil {
			return f
		}
		return c.InheritedFlags().ShorthandLookup(name[:1])
	}
	return nil
}
