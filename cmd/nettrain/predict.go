package main

import (
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/schollz/progressbar/v3"
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
	Inputs     []string
	Top        int
	Out        string
	Show       int
	JSON       bool
	Threads    int
	// Sequence models, without inputs.
	Steps  int
	Prompt string
	Plot   string
	NoPlot bool
	// Given holds the flags given on the command line (by name), which
	// must apply to the model's kind.
	Given map[string]bool
}

// NewCmdPredict builds `nettrain predict`.
func NewCmdPredict(s *IOStreams, runF func(*PredictOptions) error) *cobra.Command {
	opts := &PredictOptions{IO: s}
	cmd := &cobra.Command{
		Use:   "predict CONFIG --checkpoint FILE [INPUT...]",
		Short: "Predict with a trained model: new images, CSV rows or tensors; a series' future; a text's next character",
		Long: `Run a trained model on new inputs, preprocessed exactly as its training data
(the normalisation, classes, CSV columns and image size stored in the
checkpoint). INPUT is an image (PNG, JPEG, GIF, BMP, WebP), a folder of
images (searched recursively; when its subfolders are named after the
training classes they are the labels), a CSV file (the feature columns the
model was trained on, found by name; the label column, when present, gives
the accuracy or MSE), or a safetensors file with x (and y). Prints a table:
the input, the predicted class and the top --top probabilities (scores,
the raw outputs, for a classifier trained with mse or half_sse, which has
no softmax), or the regression outputs in the targets' units; --out writes
every prediction as .csv or .jsonl.

Without INPUT, a series model forecasts its validation part (CSV and a
plot, with the naive last-value forecast) or, with --steps N, instead N
rows beyond the end of its data, feeding each forecast back; a text model gives
the distribution of the character after --prompt. Given one CSV file (the
latest rows of the series, say, with the model's columns by name), a
series model forecasts the row after the file's end (--steps N: N rows)
from the file's last window of rows; --out writes that forecast as CSV
and --plot its plot.

A flag for another kind of model is a usage error: --top is for
classifiers on INPUT files and text models; --show (with --out) and
--threads for INPUT files; --out for INPUT files and series; --steps,
--plot and --no-plot for series; --prompt for text models.`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) < 1 {
				return usageError{fmt.Errorf("%s needs a CONFIG file argument (usage: %s)", c.CommandPath(), c.UseLine())}
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			opts.Config, opts.Inputs = args[0], args[1:]
			opts.Given = map[string]bool{}
			for _, f := range predictKindFlags {
				opts.Given[f.flag] = c.Flags().Changed(f.flag)
			}
			if err := checkThreads(opts.Threads); err != nil {
				return err
			}
			if opts.Top < 1 {
				return usageError{fmt.Errorf("--top must be at least 1, got %d", opts.Top)}
			}
			if err := checkIntFlag("steps", opts.Steps, 0, infer.MaxForecastSteps); err != nil {
				return err
			}
			if err := checkIntFlag("show", opts.Show, 0, math.MaxInt); err != nil {
				return err
			}
			if opts.Given["plot"] && opts.Given["no-plot"] {
				return usageError{fmt.Errorf("--plot names the plot's file and --no-plot draws none: give one")}
			}
			if err := checkInputFlags(opts); err != nil {
				return err
			}
			if err := checkSequenceFlags(opts, c.Flags().Changed("prompt")); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runPredict(opts)
		},
	}
	addSetFlag(cmd, &opts.Sets)
	cmd.Flags().StringVar(&opts.Checkpoint, "checkpoint", "", "checkpoint of the model (required)")
	cmd.Flags().IntVar(&opts.Top, "top", 3, "classifiers and text models: classes shown per input, most likely first")
	cmd.Flags().StringVar(&opts.Out, "out", "", "file to write: every prediction as .csv or .jsonl (series: the forecast CSV, default beside the checkpoint; after a file, none by default)")
	cmd.Flags().IntVar(&opts.Show, "show", 20, "INPUT files, with --out: rows of the table printed (0: none; without --out every row is)")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the summary as JSON (the predictions go to --out)")
	cmd.Flags().IntVar(&opts.Threads, "threads", 0, fmt.Sprintf("INPUT files: threads to use, at most %d (default: training.threads, else every core the process may use)", maxThreads))
	cmd.Flags().IntVar(&opts.Steps, "steps", 0, "series: forecast this many rows beyond the end of the data, or of the CSV file given (1 by default with a file)")
	cmd.Flags().StringVar(&opts.Prompt, "prompt", "", "text model: give the distribution of the character after this text")
	cmd.Flags().StringVar(&opts.Plot, "plot", "", "series: the plot's file, .png or .svg (default: a .png beside the CSV; after a file, only with --plot)")
	cmd.Flags().BoolVar(&opts.NoPlot, "no-plot", false, "series: do not draw the plot")
	cmd.MarkFlagRequired("checkpoint")
	return cmd
}

// checkInputFlags refuses flags of predict on INPUT files that would be
// ignored or fail only once the model is loaded: a sequence model's flag,
// an --out other than .csv or .jsonl.
func checkInputFlags(o *PredictOptions) error {
	if len(o.Inputs) == 0 {
		return nil
	}
	for _, f := range predictKindFlags {
		// A series model takes a CSV file too: its flags are checked once
		// the config says the kind (checkPredictKind).
		if o.Given[f.flag] && !slices.Contains(f.kinds, kindInputs) && !slices.Contains(f.kinds, kindSeries) {
			return usageError{fmt.Errorf("--%s is for %s, which take no INPUT files", f.flag, f.what)}
		}
	}
	if o.Out != "" && !slices.Contains([]string{".csv", ".jsonl"}, strings.ToLower(filepath.Ext(o.Out))) {
		return usageError{fmt.Errorf("--out %s: predictions are written as CSV or JSON lines: name a .csv or .jsonl file", o.Out)}
	}
	return nil
}

// predictKind is what a model's predict does.
type predictKind int

const (
	kindInputs predictKind = iota // predicts on INPUT files
	kindSeries                    // forecasts its series
	kindText                      // gives the character after --prompt
)

// kindOf is the kind of cfg's model.
func kindOf(cfg *model.Config) predictKind {
	switch sq := cfg.Data.Sequence; {
	case sq == nil:
		return kindInputs
	case sq.Kind == "text":
		return kindText
	}
	return kindSeries
}

// kindName says what cfg's model is, for an error.
func kindName(cfg *model.Config) string {
	switch kindOf(cfg) {
	case kindSeries:
		return cfg.File + " is a series model (data.sequence.kind: series)"
	case kindText:
		return cfg.File + " is a text model (data.sequence.kind: text)"
	}
	return cfg.File + " predicts on INPUT files (it has no data.sequence)"
}

// predictKindFlags are the flags of predict that apply to some kinds of
// model only: the kinds, and what they are for.
var predictKindFlags = []struct {
	flag  string
	kinds []predictKind
	what  string
}{
	{"top", []predictKind{kindInputs, kindText}, "classifiers on INPUT files and text models (--prompt)"},
	{"show", []predictKind{kindInputs}, "predictions on INPUT files with --out"},
	{"threads", []predictKind{kindInputs}, "predictions on INPUT files"},
	{"out", []predictKind{kindInputs, kindSeries}, "predictions on INPUT files and series forecasts"},
	{"steps", []predictKind{kindSeries}, "series models"},
	{"plot", []predictKind{kindSeries}, "series models"},
	{"no-plot", []predictKind{kindSeries}, "series models"},
	{"prompt", []predictKind{kindText}, "text models"},
}

// checkPredictKind refuses, once the config says the model's kind, INPUT
// files a sequence model would not read, a text model without --prompt,
// and each flag given that does not apply to the kind.
func checkPredictKind(o *PredictOptions, cfg *model.Config) error {
	kind := kindOf(cfg)
	switch {
	case kind == kindText && len(o.Inputs) > 0:
		return usageError{fmt.Errorf("%s, which takes its input with --prompt: give no INPUT files", kindName(cfg))}
	case kind == kindSeries && len(o.Inputs) > 1:
		return usageError{fmt.Errorf("%s: give one CSV file of its columns (the rows the forecast continues), not %d", kindName(cfg), len(o.Inputs))}
	}
	for _, f := range predictKindFlags {
		if o.Given[f.flag] && !slices.Contains(f.kinds, kind) {
			return usageError{fmt.Errorf("--%s is for %s, but %s", f.flag, f.what, kindName(cfg))}
		}
	}
	if kind == kindSeries && len(o.Inputs) == 1 {
		switch {
		case o.Out != "" && !strings.EqualFold(filepath.Ext(o.Out), ".csv"):
			return usageError{fmt.Errorf("--out %s: a series model's forecasts are written as CSV: name a .csv file", o.Out)}
		case o.NoPlot:
			return usageError{fmt.Errorf("--no-plot: the forecast from a file is plotted only with --plot FILE")}
		case o.Given["steps"] && o.Steps < 1:
			return usageError{fmt.Errorf("--steps %d: the forecast after a file has at least one row", o.Steps)}
		case o.Plot != "" && !slices.Contains([]string{".png", ".svg"}, strings.ToLower(filepath.Ext(o.Plot))):
			return usageError{fmt.Errorf("--plot %s: the plot is written as PNG or SVG: name a .png or .svg file", o.Plot)}
		}
	}
	switch {
	case kind == kindInputs && len(o.Inputs) == 0:
		return usageError{fmt.Errorf("predict: give INPUT files (images, folders of images, CSV or safetensors files) to predict on")}
	case kind == kindText && !o.Given["prompt"]:
		return usageError{fmt.Errorf("%s: give --prompt TEXT for the distribution of the next character (or use generate to write text)", kindName(cfg))}
	case o.Given["show"] && o.Out == "":
		return usageError{fmt.Errorf("--show sets the rows of the table printed with --out; without --out every row is printed")}
	case o.Given["show"] && o.JSON:
		return usageError{fmt.Errorf("--show sets the rows of the table, and --json prints no table")}
	}
	return nil
}

// checkSequenceFlags refuses flags of a sequence model's predict that
// would be ignored or fail only after a file was written: an empty
// --prompt, --prompt with --steps (a text model's and a series model's),
// a forecast --out other than .csv, a --plot other than .png or .svg.
func checkSequenceFlags(o *PredictOptions, promptGiven bool) error {
	if len(o.Inputs) > 0 {
		return nil
	}
	switch {
	case promptGiven && o.Prompt == "":
		return usageError{fmt.Errorf("--prompt is empty: give the text whose next character to predict")}
	case promptGiven && o.Steps > 0:
		return usageError{fmt.Errorf("--prompt (a text model's next character) and --steps (a series model's forecast) do not go together")}
	case promptGiven && (o.Out != "" || o.Plot != ""):
		return usageError{fmt.Errorf("--prompt prints the next character's distribution (--json for JSON); --out and --plot are for a series model's forecasts")}
	case o.Out != "" && !promptGiven && !strings.EqualFold(filepath.Ext(o.Out), ".csv"):
		return usageError{fmt.Errorf("--out %s: a series model's forecasts are written as CSV: name a .csv file", o.Out)}
	case o.Plot != "" && !slices.Contains([]string{".png", ".svg"}, strings.ToLower(filepath.Ext(o.Plot))):
		return usageError{fmt.Errorf("--plot %s: the plot is written as PNG or SVG: name a .png or .svg file", o.Plot)}
	}
	return nil
}

func runPredict(o *PredictOptions) error {
	defer exitOnSignal(o.IO)()
	cfg, err := model.Load(o.Config, o.Sets)
	if err != nil {
		return err
	}
	if err := checkPredictKind(o, cfg); err != nil {
		return err
	}
	ins := readFiles(cfg, o.Config, namedFile{"the checkpoint", o.Checkpoint})
	for _, in := range o.Inputs {
		ins = append(ins, namedFile{"an input", in})
	}
	if err := refuseOverwritingInputs([]namedFile{{"--out", o.Out}, {"--plot", o.Plot}}, ins); err != nil {
		return err
	}
	switch {
	case len(o.Inputs) > 0 && kindOf(cfg) == kindSeries:
		steps := max(o.Steps, 1)
		r, err := infer.ForecastFrom(cfg, o.Checkpoint, o.Inputs[0], steps, o.Out, o.Plot)
		if err != nil {
			return err
		}
		if o.JSON {
			return writeJSON(o.IO.Out, r)
		}
		printForecast(o.IO.Out, fmt.Sprintf("forecast of %s after row %d of %s (%s):", countOf(len(r.Rows), "row"), r.LastRow, o.Inputs[0], strings.Join(r.Columns, ", ")), r)
		return nil
	case len(o.Inputs) > 0:
		return predictInputs(o, cfg)
	case o.Prompt != "":
		probs, unknown, err := infer.NextChars(cfg, o.Checkpoint, o.Prompt, o.Top)
		if err != nil {
			return err
		}
		if o.JSON {
			return writeJSON(o.IO.Out, map[string]any{"prompt": o.Prompt, "next": probs, "unknown": unknown})
		}
		if len(unknown) > 0 {
			fmt.Fprintln(o.IO.ErrOut, "note: "+infer.UnknownNote(unknown))
		}
		shown := o.Prompt
		if r := []rune(shown); len(r) > 60 {
			shown = "…" + string(r[len(r)-60:]) // the model reads the last window of it
		}
		fmt.Fprintf(o.IO.Out, "next character after %q:\n", shown)
		tw := tabwriter.NewWriter(o.IO.Out, 0, 0, 2, ' ', 0)
		for _, p := range probs {
			fmt.Fprintf(tw, "  %s\t%.4f\n", quoteChar(p.Name), p.Probability)
		}
		return tw.Flush()
	}
	out := o.Out
	if out == "" {
		out = filepath.Join(filepath.Dir(o.Checkpoint), "predictions.csv")
	}
	plotFor := func(csv, name string) string {
		if o.NoPlot {
			return ""
		}
		if o.Plot != "" {
			return o.Plot
		}
		return strings.TrimSuffix(csv, filepath.Ext(csv)) + ".png"
	}
	if o.Steps > 0 {
		if o.Out == "" {
			out = filepath.Join(filepath.Dir(o.Checkpoint), "forecast.csv")
		}
		r, err := infer.ForecastAhead(cfg, o.Checkpoint, o.Steps, out, plotFor(out, "forecast"))
		if err != nil {
			return err
		}
		if o.JSON {
			return writeJSON(o.IO.Out, r)
		}
		printForecast(o.IO.Out, fmt.Sprintf("forecast of %s beyond row %d of the data (%s):", countOf(len(r.Rows), "row"), r.LastRow, strings.Join(r.Columns, ", ")), r)
		return nil
	}
	r, err := infer.ForecastValidation(cfg, o.Checkpoint, out, plotFor(out, "predictions"))
	if err != nil {
		return err
	}
	if o.JSON {
		return writeJSON(o.IO.Out, r)
	}
	printForecastErrors(o.IO.Out, r)
	for _, f := range append(r.CSV, r.Plots...) {
		fmt.Fprintf(o.IO.Out, "wrote %s\n", f)
	}
	return nil
}

// printForecastErrors prints the errors of a series' validation
// forecasts: the model's and the naive forecast's MSE and MAE, for
// several columns one row per column, each in its own units (an average
// over columns of different units would mean nothing).
func printForecastErrors(w io.Writer, r *infer.ForecastResult) {
	if len(r.PerColumn) == 1 {
		fmt.Fprintf(w, "%d validation forecasts of %s\n", len(r.Predictions), r.Columns[0])
		fmt.Fprintf(w, "model:              MSE %.6g  MAE %.6g\n", r.MSE, r.MAE)
		fmt.Fprintf(w, "naive (last value): MSE %.6g  MAE %.6g\n", r.NaiveMSE, r.NaiveMAE)
		return
	}
	fmt.Fprintf(w, "%d validation forecasts of %d columns, each scored in its own units (naive: the last value)\n", len(r.Predictions), len(r.PerColumn))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "column\tmodel MSE\tmodel MAE\tnaive MSE\tnaive MAE")
	for _, c := range r.PerColumn {
		fmt.Fprintf(tw, "%s\t%.6g\t%.6g\t%.6g\t%.6g\n", c.Column, c.MSE, c.MAE, c.NaiveMSE, c.NaiveMAE)
	}
	tw.Flush()
}

// quoteChar shows a character readably: "\n" for a newline, "' '" for a
// space.
func quoteChar(s string) string {
	switch s {
	case " ":
		return "' '"
	case "\n":
		return `\n`
	case "\t":
		return `\t`
	}
	return s
}

// predictInputs runs the model on INPUT files and prints the table and the
// summary.
func predictInputs(o *PredictOptions, cfg *model.Config) error {
	warnThreads(o.IO.ErrOut, cfg, o.Threads)
	po := infer.InputOptions{Checkpoint: o.Checkpoint, Inputs: o.Inputs, Top: o.Top, Out: o.Out, Threads: o.Threads}
	po.Warn = func(msg string) { fmt.Fprintln(o.IO.ErrOut, "warning:", msg) }
	if o.Given["top"] {
		po.Check = func(classes int) error {
			if classes == 0 {
				return usageError{fmt.Errorf("--top is for classifiers on INPUT files and text models (--prompt), but %s is a regression model (its outputs are values, not classes)", cfg.File)}
			}
			return nil
		}
	}
	table := newPredictionTable(o.IO.Out, o.Top)
	po.Targets = func(names []string) { table.targets = names }
	shown := 0
	if !o.JSON {
		po.Each = func(p infer.Prediction) {
			if o.Out == "" || shown < o.Show {
				table.row(p)
				shown++
				if shown%64 == 0 {
					table.flush() // the table of many inputs is not held in memory
				}
			}
		}
	}
	var bar *progressbar.ProgressBar
	if o.IO.Terminal {
		po.Progress = func(done, total int) {
			if bar == nil {
				bar = progressbar.NewOptions64(int64(total), progressbar.OptionSetWriter(o.IO.ErrOut),
					progressbar.OptionSetDescription("predicting"), progressbar.OptionShowCount(), progressbar.OptionShowIts(),
					progressbar.OptionSetItsString("inputs"), progressbar.OptionSetWidth(30), progressbar.OptionClearOnFinish())
			}
			bar.Set(done)
		}
	}
	r, err := infer.PredictInputs(cfg, po)
	if bar != nil {
		bar.Finish()
	}
	if err != nil {
		return err
	}
	if o.JSON {
		if o.Out == "" {
			fmt.Fprintln(o.IO.ErrOut, "note: --json prints the summary; the predictions themselves go to --out FILE.jsonl or FILE.csv, not given")
		}
		return writeJSON(o.IO.Out, r)
	}
	table.flush()
	if r.Count > shown {
		fmt.Fprintf(o.IO.Out, "... %d more in %s\n", r.Count-shown, r.Out)
	}
	fmt.Fprint(o.IO.Out, countOf(r.Count, "prediction"))
	switch {
	case r.Accuracy != nil:
		fmt.Fprintf(o.IO.Out, "; %d labelled: accuracy %.4f", r.Labelled, *r.Accuracy)
		if r.Loss != nil {
			fmt.Fprintf(o.IO.Out, ", loss %.6g", *r.Loss)
		}
	case r.Columns != nil:
		fmt.Fprintf(o.IO.Out, "; %d with targets, each scored in its own units:", r.Labelled)
	case r.MSE != nil:
		fmt.Fprintf(o.IO.Out, "; %d with targets: MSE %.6g, MAE %.6g", r.Labelled, *r.MSE, *r.MAE)
	}
	fmt.Fprintln(o.IO.Out)
	if r.Columns != nil {
		tw := tabwriter.NewWriter(o.IO.Out, 0, 0, 2, ' ', 0)
		for _, c := range r.Columns {
			fmt.Fprintf(tw, "%s\tMSE %.6g\tMAE %.6g\n", c.Column, c.MSE, c.MAE)
		}
		tw.Flush()
	}
	switch {
	case r.Skipped == 1:
		fmt.Fprintln(o.IO.Out, "skipped 1 file in the input folders that is not an image")
	case r.Skipped > 1:
		fmt.Fprintf(o.IO.Out, "skipped %d files in the input folders that are not images\n", r.Skipped)
	}
	if r.Out != "" {
		fmt.Fprintf(o.IO.Out, "wrote %s\n", r.Out)
	}
	return nil
}

// predictionTable prints predictions as aligned columns.
type predictionTable struct {
	tw  *tabwriter.Writer
	top int
	// targets names a regression model's outputs: a column each, and one
	// for each target's actual value.
	targets []string
	header  bool
}

func newPredictionTable(w io.Writer, top int) *predictionTable {
	return &predictionTable{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0), top: top}
}

func (t *predictionTable) row(p infer.Prediction) {
	if !t.header {
		t.header = true
		if p.Top != nil {
			value := "probability"
			if p.Top[0].Score {
				value = "score" // a model trained with mse or half_sse: its raw outputs
			}
			fmt.Fprintf(t.tw, "input\tpredicted\t%s\ttop %d\tlabel\n", value, len(p.Top))
		} else {
			head := append([]string{"input"}, t.targets...)
			for _, c := range t.targets {
				head = append(head, "actual "+c)
			}
			fmt.Fprintln(t.tw, strings.Join(head, "\t"))
		}
	}
	if p.Top != nil {
		var top []string
		for _, c := range p.Top {
			top = append(top, fmt.Sprintf("%s %.3f", tableName(c.Name), c.Probability))
		}
		label := ""
		if p.Label != nil {
			label = tableName(p.LabelName)
			if *p.Label != p.Top[0].Class {
				label += " (wrong)"
			}
		}
		fmt.Fprintf(t.tw, "%s\t%s\t%.4f\t%s\t%s\n", p.Input, tableName(p.Top[0].Name), p.Top[0].Probability, strings.Join(top, ", "), label)
		return
	}
	row := []string{p.Input}
	for _, v := range p.Values {
		row = append(row, fmt.Sprintf("%.6g", v))
	}
	for k := range t.targets {
		s := "" // an input without targets: the cells stay, so that the columns line up
		if k < len(p.Targets) {
			s = fmt.Sprintf("%.6g", p.Targets[k])
		}
		row = append(row, s)
	}
	fmt.Fprintln(t.tw, strings.Join(row, "\t"))
}

func (t *predictionTable) flush() { t.tw.Flush() }

// printForecast prints a forecast under its title: a row per forecast
// row (the first ten and the last two of a long one), then the files
// written.
func printForecast(w io.Writer, title string, r *infer.AheadResult) {
	fmt.Fprintln(w, title)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "row\t%s\t\n", strings.Join(r.Columns, "\t"))
	for i, row := range r.Rows {
		if i == 10 && len(r.Rows) > 12 {
			fmt.Fprintf(tw, "...%s\t\n", strings.Repeat("\t...", len(r.Columns)))
		}
		if i >= 10 && i < len(r.Rows)-2 && len(r.Rows) > 12 {
			continue
		}
		fmt.Fprintf(tw, "%d", row)
		for _, v := range r.Values[i] {
			fmt.Fprintf(tw, "\t%.6g", v)
		}
		fmt.Fprintf(tw, "\t\n")
	}
	tw.Flush()
	for _, f := range append(r.CSV, r.Plots...) {
		fmt.Fprintf(w, "wrote %s\n", f)
	}
}

// countOf is "1 row", "2 rows".
func countOf(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
