package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/nettrain/nettrain/internal/infer"
	"github.com/nettrain/nettrain/internal/model"
)

// PredictOptions are the parsed arguments of `nettrain predict`.
type PredictOptions struct {
	IO         *IOStreams
	Config     string
	Sets       []string
	Checkpoint string
	Out        string
	Plot       string
	NoPlot     bool
}

// NewCmdPredict builds `nettrain predict`.
func NewCmdPredict(s *IOStreams, runF func(*PredictOptions) error) *cobra.Command {
	opts := &PredictOptions{IO: s}
	cmd := &cobra.Command{
		Use:   "predict CONFIG --checkpoint FILE",
		Short: "Forecast a series' validation part, as CSV and a plot",
		Long: `Forecast every validation window of a series model and write, per window,
the data row, the actual value, the model's forecast and the naive
last-value forecast as CSV (default: predictions.csv beside the checkpoint),
and a plot of them (predictions.png), with the MSE of both.`,
		Args: configArg,
		RunE: func(c *cobra.Command, args []string) error {
			opts.Config = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runPredict(opts)
		},
	}
	addSetFlag(cmd, &opts.Sets)
	cmd.Flags().StringVar(&opts.Checkpoint, "checkpoint", "", "checkpoint of the model (required)")
	cmd.Flags().StringVar(&opts.Out, "out", "", "CSV file to write (default predictions.csv beside the checkpoint)")
	cmd.Flags().StringVar(&opts.Plot, "plot", "", "PNG file to write (default predictions.png beside the CSV)")
	cmd.Flags().BoolVar(&opts.NoPlot, "no-plot", false, "do not draw the plot")
	cmd.MarkFlagRequired("checkpoint")
	return cmd
}

func runPredict(o *PredictOptions) error {
	cfg, err := model.Load(o.Config, o.Sets)
	if err != nil {
		return err
	}
	out := o.Out
	if out == "" {
		out = filepath.Join(filepath.Dir(o.Checkpoint), "predictions.csv")
	}
	plot := o.Plot
	if plot == "" && !o.NoPlot {
		plot = filepath.Join(filepath.Dir(out), "predictions.png")
	}
	r, err := infer.Predict(cfg, o.Checkpoint, out, plot)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.IO.Out, "%d validation forecasts of %v\n", len(r.Predictions), r.Columns)
	fmt.Fprintf(o.IO.Out, "model:              MSE %.6g  MAE %.6g\n", r.MSE, r.MAE)
	fmt.Fprintf(o.IO.Out, "naive (last value): MSE %.6g  MAE %.6g\n", r.NaiveMSE, r.NaiveMAE)
	for _, f := range append(r.CSV, r.Plots...) {
		fmt.Fprintf(o.IO.Out, "wrote %s\n", f)
	}
	return nil
}
