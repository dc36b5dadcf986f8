package main

import (
	"fmt"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"

	"github.com/nettrain/nettrain/internal/infer"
	"github.com/nettrain/nettrain/internal/model"
)

// ExportOptions are the parsed arguments of `nettrain export`.
type ExportOptions struct {
	IO         *IOStreams
	Config     string
	Sets       []string
	Checkpoint string
	Format     infer.ExportFormat
	Out        string
}

// NewCmdExport builds `nettrain export`.
func NewCmdExport(s *IOStreams, runF func(*ExportOptions) error) *cobra.Command {
	opts := &ExportOptions{IO: s}
	var format string
	cmd := &cobra.Command{
		Use:   "export CONFIG --checkpoint FILE [--format onnx|safetensors] [--out FILE]",
		Short: "Export a checkpoint as an ONNX model or as plain PyTorch weights",
		Long: `Export a checkpoint: --format onnx (the default) writes an ONNX model
(opset 17) that takes the raw values the data files hold, the input
normalisation included, and gives the network's output (a classifier's
logits and probabilities); --format safetensors writes the weights alone,
with PyTorch state_dict names, for load_state_dict(..., strict=True).
The file goes beside the checkpoint (model.onnx, weights.safetensors)
unless --out says where.`,
		Args: configArg,
		RunE: func(c *cobra.Command, args []string) error {
			opts.Config = args[0]
			opts.Format = infer.ExportFormat(format)
			if !slices.Contains(infer.ExportFormats, opts.Format) {
				return usageError{fmt.Errorf("--format must be onnx or safetensors, got %q", format)}
			}
			if opts.Out == "" {
				opts.Out = filepath.Join(filepath.Dir(opts.Checkpoint), infer.DefaultExportName(opts.Format))
			}
			if runF != nil {
				return runF(opts)
			}
			return runExport(opts)
		},
	}
	addSetFlag(cmd, &opts.Sets)
	cmd.Flags().StringVar(&opts.Checkpoint, "checkpoint", "", "checkpoint to export (required)")
	cmd.Flags().StringVar(&format, "format", string(infer.ONNX), "onnx or safetensors")
	cmd.Flags().StringVar(&opts.Out, "out", "", "file to write (default: model.onnx or weights.safetensors beside the checkpoint)")
	cmd.MarkFlagRequired("checkpoint")
	return cmd
}

func runExport(o *ExportOptions) error {
	cfg, err := model.Load(o.Config, o.Sets)
	if err != nil {
		return err
	}
	if err := refuseOverwritingInputs([]namedFile{{"--out", o.Out}},
		readFiles(cfg, o.Config, namedFile{"the checkpoint", o.Checkpoint})); err != nil {
		return err
	}
	if o.Format == infer.Weights {
		n, err := infer.ExportWeights(cfg, o.Checkpoint, o.Out)
		if err != nil {
			return err
		}
		fmt.Fprintf(o.IO.Out, "wrote %s: %d weight tensors (PyTorch state_dict names, no optimizer state)\n", o.Out, n)
		return nil
	}
	desc, err := infer.ExportONNX(cfg, o.Checkpoint, o.Out)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.IO.Out, "wrote %s: ONNX %s\n", o.Out, desc)
	return nil
}
