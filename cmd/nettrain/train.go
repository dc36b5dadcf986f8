package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/session"
)

// TrainOptions are the parsed arguments of `nettrain train`.
type TrainOptions struct {
	IO        *IOStreams
	Config    string
	Sets      []string
	OutDir    string
	Resume    string
	Overwrite bool
	Threads   int
	// TensorBoard is --tensorboard: a directory for TensorBoard event
	// files.
	TensorBoard string
	// AcceptImageDecoding is --accept-image-decoding: resume a run trained
	// before nettrain's image decoding changed on the images as they
	// decode now.
	AcceptImageDecoding bool
}

// NewCmdTrain builds `nettrain train`; runF replaces runTrain in tests.
func NewCmdTrain(s *IOStreams, runF func(*TrainOptions) error) *cobra.Command {
	opts := &TrainOptions{IO: s}
	cmd := &cobra.Command{
		Use:   "train CONFIG",
		Short: "Train the network a config describes",
		Long: `Train the network a config describes, writing into the run directory
(default runs/<name>/): config.yaml (the resolved config), metrics.csv and
metrics.jsonl (one row per evaluation), curves.png and curves.svg,
last.safetensors and best.safetensors (best by validation loss), and
status.json when it ends.`,
		Args: configArg,
		RunE: func(c *cobra.Command, args []string) error {
			opts.Config = args[0]
			if err := checkThreads(opts.Threads); err != nil {
				return err
			}
			if opts.AcceptImageDecoding && opts.Resume == "" {
				return usageError{fmt.Errorf("--accept-image-decoding applies to a resume (--resume CKPT)")}
			}
			if runF != nil {
				return runF(opts)
			}
			return runTrain(opts)
		},
	}
	addSetFlag(cmd, &opts.Sets)
	cmd.Flags().StringVar(&opts.OutDir, "out", "", "run directory (default runs/<config name>): new, empty or a run's; one holding other files is refused")
	cmd.Flags().StringVar(&opts.Resume, "resume", "", "continue training from this checkpoint")
	cmd.Flags().BoolVar(&opts.Overwrite, "overwrite", false, "start afresh in an existing run directory")
	cmd.Flags().StringVar(&opts.TensorBoard, "tensorboard", "", "also write TensorBoard event files into this directory (training.tensorboard: true writes them into the run directory)")
	cmd.Flags().IntVar(&opts.Threads, "threads", 0, fmt.Sprintf("threads to use, at most %d (default: training.threads, else every core the process may use)", maxThreads))
	cmd.Flags().BoolVar(&opts.AcceptImageDecoding, "accept-image-decoding", false, "resume a run trained before nettrain's image decoding changed on the images as decoded now (not bit-identical)")
	return cmd
}

// resumeHint is the command line that continues this run (without
// --resume): the same config and overrides, the same --out.
func resumeHint(o *TrainOptions) string {
	parts := []string{"nettrain", "train", shellQuote(o.Config)}
	for _, s := range o.Sets {
		parts = append(parts, "--set", shellQuote(s))
	}
	if o.OutDir != "" {
		parts = append(parts, "--out", shellQuote(o.OutDir))
	}
	return strings.Join(parts, " ")
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`*?[]{}()<>|&;!#~") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func addSetFlag(cmd *cobra.Command, sets *[]string) {
	cmd.Flags().Var(&setFlag{sets}, "set", "override a config key, e.g. --set training.epochs=1 (repeatable)")
}

// setFlag is --set: repeatable key=value overrides, like a StringArray
// flag, each checked as it is parsed, so that a malformed one (no '=', no
// key, an empty part in the key) is a usage error (exit 2). A key the
// config does not have, or a wrong value, is a config error (exit 1),
// found when the config is loaded, as it would be in the file.
type setFlag struct{ sets *[]string }

func (f *setFlag) Set(s string) error {
	if _, _, err := model.SplitSet(s); err != nil {
		return err
	}
	*f.sets = append(*f.sets, s)
	return nil
}

// Type names the value in --help, as for a StringArray flag.
func (f *setFlag) Type() string { return "stringArray" }

func (f *setFlag) String() string { return strings.Join(*f.sets, " ") }

// trainNotes are train's signal notes: with --overwrite, an exit at once
// before the new run's first checkpoint leaves the old run set aside, and
// the note says where and what puts it back.
func trainNotes(o *TrainOptions, cfg *model.Config) signalNotes {
	notes := trainSignals
	if o.Overwrite {
		aside := filepath.Join(session.Options{OutDir: o.OutDir}.RunDir(cfg), session.OverwriteAside)
		notes.again += fmt.Sprintf("; if the new run had no checkpoint yet, the run --overwrite was replacing is in %s and the next nettrain train there puts it back", aside)
	}
	return notes
}

func runTrain(o *TrainOptions) error {
	cfg, err := model.Load(o.Config, o.Sets)
	if err != nil {
		return err
	}
	gate := &signalGate{}
	interrupt, stop := watchSignalsGated(o.IO, trainNotes(o, cfg), gate)
	defer stop()
	to := session.Options{OutDir: o.OutDir, Resume: o.Resume, Overwrite: o.Overwrite, Log: o.IO.Out, Threads: o.Threads, Interrupt: interrupt,
		BeginTraining: gate.begin, ResumeHint: resumeHint(o), TensorBoard: o.TensorBoard, AcceptImageDecoding: o.AcceptImageDecoding}
	if o.IO.Terminal {
		to.Progress = o.IO.ErrOut
	}
	_, err = session.Run(cfg, to)
	return err
}
