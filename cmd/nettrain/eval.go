package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/infer"
	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/train"
)

// EvalOptions are the parsed arguments of `nettrain eval`.
type EvalOptions struct {
	IO         *IOStreams
	Config     string
	Sets       []string
	Checkpoint string
	Split      string
	JSON       bool
	Threads    int
	// AcceptImageDecoding is --accept-image-decoding: evaluate the
	// validation or training split of a run trained before nettrain's
	// image decoding changed on the images as they decode now.
	AcceptImageDecoding bool
}

// NewCmdEval builds `nettrain eval`.
func NewCmdEval(s *IOStreams, runF func(*EvalOptions) error) *cobra.Command {
	opts := &EvalOptions{IO: s}
	cmd := &cobra.Command{
		Use:   "eval CONFIG --checkpoint FILE",
		Short: "Evaluate a checkpoint on the test, validation or training data",
		Long: `Evaluate a checkpoint: the loss, and for classification the accuracy,
per-class precision, recall and F1 and the confusion matrix (up to 1000
classes; above, the scores alone, the table listing the classes with
samples); for regression the MSE and MAE (per
target column, each in its own units, when there are several). A CSV
test or validation file is read by the training file's column names, in
any order.`,
		Args: configArg,
		RunE: func(c *cobra.Command, args []string) error {
			opts.Config = args[0]
			if err := checkThreads(opts.Threads); err != nil {
				return err
			}
			switch opts.Split {
			case "test", "validation", "train":
			default:
				return usageError{fmt.Errorf("--split must be test, validation or train, got %q", opts.Split)}
			}
			if opts.AcceptImageDecoding && opts.Split == "test" {
				return usageError{fmt.Errorf("--accept-image-decoding applies to --split validation or train (the test split is not compared with the data the run was trained on)")}
			}
			if runF != nil {
				return runF(opts)
			}
			return runEval(opts)
		},
	}
	addSetFlag(cmd, &opts.Sets)
	cmd.Flags().StringVar(&opts.Checkpoint, "checkpoint", "", "checkpoint to evaluate (required)")
	cmd.Flags().StringVar(&opts.Split, "split", "test", "data to evaluate on: test, validation or train")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON")
	cmd.Flags().IntVar(&opts.Threads, "threads", 0, fmt.Sprintf("threads to use, at most %d (default: training.threads, else every core the process may use)", maxThreads))
	cmd.Flags().BoolVar(&opts.AcceptImageDecoding, "accept-image-decoding", false, "evaluate the validation or training split of a run trained before nettrain's image decoding changed on the images as decoded now")
	cmd.MarkFlagRequired("checkpoint")
	return cmd
}

func runEval(o *EvalOptions) error {
	cfg, err := model.Load(o.Config, o.Sets)
	if err != nil {
		return err
	}
	warnThreads(o.IO.ErrOut, cfg, o.Threads)
	r, err := infer.EvalCheckpointWith(cfg, o.Checkpoint, infer.Split(o.Split), infer.EvalOptions{Threads: o.Threads, AcceptImageDecoding: o.AcceptImageDecoding, Log: o.IO.ErrOut})
	if err != nil {
		return err
	}
	if o.JSON {
		return writeJSON(o.IO.Out, r)
	}
	printEval(o.IO.Out, o, r)
	return nil
}

func printEval(w io.Writer, o *EvalOptions, r train.EvalResult) {
	fmt.Fprintf(w, "%s on the %s split (%d samples)\n", o.Checkpoint, o.Split, r.Count)
	fmt.Fprintf(w, "loss      %.6f\n", r.Loss)
	if r.Columns != nil {
		printColumns(w, r)
		return
	}
	if b := r.Baseline; b != nil {
		if b.MSE != nil {
			fmt.Fprintf(w, "baseline  %s: mse %.6g, mae %.6g\n", b.Name, *b.MSE, *b.MAE)
		} else {
			unit := " nats" // cross-entropy's
			if r.LossKind != backprop.CrossEntropy {
				unit = ""
			}
			d, how := b.Loss-r.Loss, "lower"
			if d < 0 {
				d, how = -d, "higher: the model does worse than the baseline"
			}
			fmt.Fprintf(w, "baseline  %s: loss %.6f (the model's is %.3f%s %s)\n", b.Name, b.Loss, d, unit, how)
		}
	}
	if r.Accuracy != nil {
		printClassification(w, r)
	}
	if r.MSE != nil {
		fmt.Fprintf(w, "mse       %.6g\nmae       %.6g\n", *r.MSE, *r.MAE)
	}
}

// printColumns prints the MSE and MAE of each regression target column,
// and its baseline's, each in the column's own units: their mean over
// columns of different units (EvalResult.MSE) would mean nothing.
func printColumns(w io.Writer, r train.EvalResult) {
	rows := [][]string{{"column", "mse", "mae"}}
	if r.Baseline != nil {
		rows[0] = append(rows[0], "baseline mse", "baseline mae")
	}
	for _, c := range r.Columns {
		row := []string{c.Column, fmt.Sprintf("%.6g", c.MSE), fmt.Sprintf("%.6g", c.MAE)}
		if b := c.Baseline; b != nil {
			row = append(row, fmt.Sprintf("%.6g", b.MSE), fmt.Sprintf("%.6g", b.MAE))
		}
		rows = append(rows, row)
	}
	fmt.Fprintln(w)
	printTable(w, rows, []bool{false, true, true, true, true})
	if b := r.Baseline; b != nil {
		fmt.Fprintf(w, "\n(each column in its own units; baseline: %s)\n", b.Name)
	}
}

// printClassification prints the accuracy, the per-class scores and, for
// up to 20 classes, the confusion matrix (which Evaluate keeps for up to
// train.MaxConfusionClasses).
func printClassification(w io.Writer, r train.EvalResult) {
	fmt.Fprintf(w, "accuracy  %.4f\n\n", *r.Accuracy)
	rows := [][]string{{"class", "precision", "recall", "f1", "support"}}
	hidden := 0
	for c := 0; c < r.Classes; c++ {
		// Beyond the classes a confusion matrix is kept for (ids up to a
		// large label, say), classes without samples would be most rows.
		if r.Classes > train.MaxConfusionClasses && r.Support[c] == 0 {
			hidden++
			continue
		}
		rows = append(rows, []string{className(r, c), fmt.Sprintf("%.4f", r.Precision[c]),
			fmt.Sprintf("%.4f", r.Recall[c]), fmt.Sprintf("%.4f", r.F1[c]), fmt.Sprint(r.Support[c])})
	}
	printTable(w, rows, []bool{true, true, true, true, true})
	if hidden > 0 {
		fmt.Fprintf(w, "(%d of the %d classes have no samples here and are not shown; --json has every class)\n", hidden, r.Classes)
	}
	if r.Confusion == nil {
		fmt.Fprintf(w, "\n(no confusion matrix: %s)\n", r.ConfusionOmitted)
		return
	}
	if r.Classes > 20 {
		fmt.Fprintf(w, "\n(the %dx%d confusion matrix is in the --json output)\n", r.Classes, r.Classes)
		return
	}
	fmt.Fprintln(w, "\nconfusion matrix (rows: true class, columns: predicted)")
	cm := [][]string{{"true\\pred"}}
	for c := 0; c < r.Classes; c++ {
		cm[0] = append(cm[0], className(r, c))
	}
	right := []bool{true}
	for c := 0; c < r.Classes; c++ {
		row := []string{className(r, c)}
		for _, v := range r.Confusion[c] {
			row = append(row, fmt.Sprint(v))
		}
		cm = append(cm, row)
		right = append(right, true)
	}
	printTable(w, cm, right)
}

// className labels class c: its name when the data names classes
// (tableName), else its id.
func className(r train.EvalResult, c int) string {
	if c < len(r.ClassNames) {
		return tableName(r.ClassNames[c])
	}
	return fmt.Sprint(c)
}

// tableName shows a class name in a table of eval or predict: as it is
// (setosa), or quoted in Go syntax ("Iris setosa") when it is empty or
// holds a space, a comma, a quote or a character that does not print,
// which would blur the table's columns.
func tableName(name string) string {
	if name == "" || strings.ContainsFunc(name, func(r rune) bool { return unicode.IsSpace(r) || r == ',' || r == '"' || !unicode.IsPrint(r) }) {
		return strconv.Quote(name)
	}
	return name
}
