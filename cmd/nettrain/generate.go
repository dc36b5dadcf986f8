package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/nettrain/nettrain/internal/infer"
	"github.com/nettrain/nettrain/internal/model"
)

// GenerateOptions are the parsed arguments of `nettrain generate`.
type GenerateOptions struct {
	IO     *IOStreams
	Config string
	Sets   []string
	infer.GenerateOptions
}

// NewCmdGenerate builds `nettrain generate`.
func NewCmdGenerate(s *IOStreams, runF func(*GenerateOptions) error) *cobra.Command {
	opts := &GenerateOptions{IO: s}
	cmd := &cobra.Command{
		Use:   "generate CONFIG --checkpoint FILE [--prime TEXT] [--length N]",
		Short: "Sample text from a character model",
		Long: `Sample text from a character-level model: feed the last window of characters
(the prime, left-padded with spaces when shorter than a window), draw the next
character from softmax(logits / temperature), append it and slide on.
Temperature 0 always takes the most likely character.`,
		Args: configArg,
		RunE: func(c *cobra.Command, args []string) error {
			opts.Config = args[0]
			if err := checkGenerate(opts); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runGenerate(opts)
		},
	}
	addSetFlag(cmd, &opts.Sets)
	cmd.Flags().StringVar(&opts.Checkpoint, "checkpoint", "", "checkpoint of the model (required)")
	cmd.Flags().StringVar(&opts.Prime, "prime", "", "text to start from")
	cmd.Flags().IntVar(&opts.Length, "length", 200, fmt.Sprintf("characters to generate (at most %d)", infer.MaxGenerateLength))
	cmd.Flags().Float64Var(&opts.Temperature, "temperature", 1, "sampling temperature, a finite number >= 0 (0: most likely character)")
	cmd.Flags().Uint64Var(&opts.Seed, "seed", 1, "seed of the sampling")
	cmd.MarkFlagRequired("checkpoint")
	return cmd
}

func runGenerate(o *GenerateOptions) error {
	cfg, err := model.Load(o.Config, o.Sets)
	if err != nil {
		return err
	}
	g := o.GenerateOptions
	g.Warn = func(msg string) { fmt.Fprintln(o.IO.ErrOut, "note: "+msg) }
	g.Out = o.IO.Out // each character as it is drawn
	if _, err := infer.Generate(cfg, g); err != nil {
		return err
	}
	fmt.Fprintln(o.IO.Out)
	return nil
}
