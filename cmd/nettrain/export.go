package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

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
		Long: `Export a checkpoint: --format onnx writes an ONNX model (opset 17) that
takes the raw values the data files hold, the input normalisation
included, and gives the network's output (a classifier's logits and
probabilities); --format safetensors writes the weights alone, with
PyTorch state_dict names, for load_state_dict(..., strict=True). Without
--format, --out's extension says which (.onnx or .safetensors; another
name, or no --out: onnx); a --format that contradicts --out's extension
is refused. The file goes beside the checkpoint (model.onnx,
weights.safetensors) unless --out says where.`,
		Args: configArg,
		RunE: func(c *cobra.Command, args []string) error {
			opts.Config = args[0]
			var err error
			if opts.Format, err = exportFormat(format, c.Flags().Changed("format"), opts.Out); err != nil {
				return err
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
	cmd.Flags().StringVar(&format, "format", "", "onnx or safetensors (default: --out's extension, .onnx or .safetensors, else onnx)")
	cmd.Flags().StringVar(&opts.Out, "out", "", "file to write (default: model.onnx or weights.safetensors beside the checkpoint)")
	cmd.MarkFlagRequired("checkpoint")
	return cmd
}

// exportFormat is the format export writes: --format when given (and
// then --out must not name a file of the other format), else the one
// --out's extension names (.onnx, .safetensors), else ONNX.
func exportFormat(flag string, given bool, out string) (infer.ExportFormat, error) {
	f := infer.ExportFormat(flag)
	if given && !slices.Contains(infer.ExportFormats, f) {
		return "", usageError{fmt.Errorf("--format must be onnx or safetensors, got %q", flag)}
	}
	ext := strings.ToLower(filepath.Ext(out))
	var byExt infer.ExportFormat
	for _, e := range infer.ExportFormats {
		if ext == "."+string(e) {
			byExt = e
		}
	}
	switch {
	case !given && byExt != "":
		return byExt, nil
	case !given:
		return infer.ONNX, nil
	case byExt != "" && byExt != f:
		return "", usageError{fmt.Errorf("--format %s contradicts --out %s (a .%s file): drop --format, or name a .%s file", f, out, byExt, f)}
	}
	return f, nil
}

func runExport(o *ExportOptions) error {
	defer exitOnSignal(o.IO)()
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
