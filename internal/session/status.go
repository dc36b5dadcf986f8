package session

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nettrain/nettrain/internal/safeio"
)

// StatusFile is the file a run writes into its directory when it ends:
// how it ended and its best evaluation (see Status). While a run trains,
// it holds the directory's lock (LockHeld) instead.
const StatusFile = "status.json"

// How a run ended (Status.Status).
const (
	StatusFinished     = "finished"      // every epoch, or training.steps
	StatusStoppedEarly = "stopped_early" // training.early_stopping
	StatusInterrupted  = "interrupted"   // a signal (SIGINT, SIGTERM, or SIGPIPE from a closed output); resumable
	StatusDiverged     = "diverged"      // a non-finite loss (training.on_nan)
	StatusFailed       = "failed"        // any other error
)

// Status is status.json.
type Status struct {
	Status string `json:"status"`
	// Reason is the early stop's reason, "stopped by training.steps", or
	// the error's message.
	Reason string `json:"reason,omitempty"`
	// Best is the metrics row of the best evaluation (the weights in
	// best.safetensors); nil before any.
	Best  *Row   `json:"best,omitempty"`
	Steps int64  `json:"steps"`
	Ended string `json:"ended"` // RFC 3339
}

// bestRow is the row whose score best.safetensors holds: the lowest
// validation loss (the training loss of an epoch without validation data).
func bestRow(rows []Row, best float64) *Row {
	for i := range rows {
		r := &rows[i]
		if r.ValLoss != nil && *r.ValLoss == best || r.ValLoss == nil && r.TrainLoss == best {
			return r
		}
	}
	return nil
}

// writeStatus records how the run ended in status.json.
func (s *session[T]) writeStatus(runErr error) {
	st := Status{Status: StatusFinished, Reason: s.res.Stop, Steps: s.loop.Pos.Step, Ended: time.Now().UTC().Format(time.RFC3339)}
	if s.res.Stop != "" {
		st.Status = StatusStoppedEarly
	} else if s.loop.Stopped {
		st.Reason = s.ending()
	}
	var ie *InterruptedError
	var de *DivergedError
	switch {
	case errors.As(runErr, &ie):
		st.Status, st.Reason = StatusInterrupted, runErr.Error()
	case errors.As(runErr, &de):
		st.Status, st.Reason = StatusDiverged, runErr.Error()
	case runErr != nil:
		st.Status, st.Reason = StatusFailed, runErr.Error()
	}
	if s.metrics != nil {
		st.Best = bestRow(s.metrics.all, s.st.BestValLoss)
	}
	b, _ := json.MarshalIndent(statusJSON(st), "", "  ")
	if err := safeio.WriteFile(filepath.Join(s.dir, StatusFile), append(b, '\n')); err != nil {
		fmt.Fprintf(s.log, "note: %v\n", err)
	}
}

// statusJSON is st with its best row sanitised (no NaN in JSON).
func statusJSON(st Status) any {
	m := map[string]any{"status": st.Status, "steps": st.Steps, "ended": st.Ended}
	if st.Reason != "" {
		m["reason"] = st.Reason
	}
	if st.Best != nil {
		m["best"] = sanitize(*st.Best)
	}
	return m
}

// printSummary prints the end of a finished run: the best evaluation,
// where the checkpoints and curves are, and the command to run next.
func (s *session[T]) printSummary(w io.Writer) {
	pos := s.loop.Pos
	fmt.Fprintf(w, "\ndone: %s at step %d (epoch %d) in %.1fs\n", s.ending(), pos.Step, pos.Epoch+min(pos.BatchInEpoch, 1), time.Since(s.start).Seconds())
	if b := bestRow(s.metrics.all, s.st.BestValLoss); b != nil {
		var m []string
		if b.ValLoss != nil {
			m = append(m, "val_loss "+lossText(*b.ValLoss))
		} else {
			m = append(m, "train_loss "+lossText(b.TrainLoss)+" (no validation data)")
		}
		if b.ValAccuracy != nil {
			m = append(m, fmt.Sprintf("val_accuracy %.4f", *b.ValAccuracy))
		}
		if b.ValMAE != nil {
			m = append(m, fmt.Sprintf("val_mae %.4g", *b.ValMAE))
		}
		fmt.Fprintf(w, "best: epoch %d, step %d: %s\n", b.Epoch, b.Step, strings.Join(m, ", "))
	} else if n := len(s.metrics.all); n > 0 && s.loop.Stopped && s.loop.Pos.Epoch == 0 {
		fmt.Fprintf(w, "best: none yet: training.steps stopped the first epoch, and best.safetensors holds the weights at step %d\n", s.metrics.all[n-1].Step)
	}
	if n := len(s.metrics.all); n > 0 && s.loop.Stopped {
		// A stop inside a later epoch is no candidate for best (EpochEnd):
		// a resumed run then picks best as an uninterrupted one does.
		if r := s.metrics.all[n-1]; r.ValLoss != nil && *r.ValLoss < s.st.BestValLoss && !math.IsInf(s.st.BestValLoss, 1) {
			fmt.Fprintf(w, "note: the evaluation at step %d, where training.steps stopped the run inside an epoch, had a lower val_loss (%s)\n"+
				"but is not a candidate for best, so that a resumed run picks the same best as an uninterrupted one: its weights are in last.safetensors\n",
				r.Step, lossText(*r.ValLoss))
		}
	}
	d := s.dir
	best := filepath.Join(d, "best.safetensors")
	if _, err := os.Stat(best); err == nil {
		fmt.Fprintf(w, "checkpoints: %s (best), %s (last)\n", best, filepath.Join(d, "last.safetensors"))
	} else {
		best = filepath.Join(d, "last.safetensors")
		why := "no evaluation gave a finite loss"
		if s.o.Resume != "" {
			// Resumed into another directory, and no evaluation since
			// beat the best it resumed with (which stays where it was).
			why = "no evaluation of this run beat the best it resumed with, whose best.safetensors is in the directory it resumed from"
		}
		fmt.Fprintf(w, "checkpoints: %s (last; %s)\n", best, why)
	}
	curves, metrics := filepath.Join(d, "curves.png"), filepath.Join(d, "metrics.csv")
	fi, err := os.Stat(curves)
	noCurves := err != nil || !fi.Mode().IsRegular()
	switch {
	case s.curvesErr != nil && !noCurves:
		fmt.Fprintf(w, "curves: %s (and .svg) not up to date: the last redraw failed: %v; metrics: %s\n", curves, s.curvesErr, metrics)
	case s.curvesErr != nil:
		fmt.Fprintf(w, "curves: none (%v); metrics: %s\n", s.curvesErr, metrics)
	case noCurves:
		fmt.Fprintf(w, "curves: none; metrics: %s\n", metrics)
	default:
		fmt.Fprintf(w, "curves: %s (and .svg); metrics: %s\n", curves, metrics)
	}
	if s.tb != nil {
		fmt.Fprintf(w, "tensorboard: tensorboard --logdir %s\n", shellQuote(filepath.Dir(s.tb.Path())))
	}
	split := "" // eval's default, the test data
	switch {
	case s.cfg.Data.Test != "":
	case s.cfg.Data.Validation != "" || s.cfg.Data.ValidationSplit > 0:
		split = " --split validation"
	default: // neither held out: only the training data is left
		split = " --split train"
	}
	fmt.Fprintf(w, "next: nettrain eval %s --checkpoint %s%s\n", shellQuote(filepath.Join(d, "config.yaml")), shellQuote(best), split)
}

// ending says how the run ended, for the summary.
func (s *session[T]) ending() string {
	switch {
	case s.res.Stop != "":
		return "stopped early"
	case s.loop.Stopped:
		return "stopped by training.steps"
	}
	return "finished"
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`*?[]{}()<>|&;!#~") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
