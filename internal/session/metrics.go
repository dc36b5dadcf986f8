package session

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
)

// Row is one line of metrics.csv / metrics.jsonl: the state at the end of
// an epoch (or at the step training stopped).
type Row struct {
	Epoch       int      `json:"epoch"`
	Step        int64    `json:"step"`
	TrainLoss   float64  `json:"train_loss"`
	ValLoss     *float64 `json:"val_loss"`     // null without a validation set
	ValAccuracy *float64 `json:"val_accuracy"` // classification only
	ValMAE      *float64 `json:"val_mae"`      // regression only
	LR          float64  `json:"lr"`
	GradNorm    float64  `json:"grad_norm"` // mean over the epoch's steps, before clipping
	SamplesPerS float64  `json:"samples_per_s"`
	ElapsedS    float64  `json:"elapsed_s"`
	// Stop, on the last row of a run that stopped early, says why
	// (metrics.jsonl only).
	Stop string `json:"stop,omitempty"`
}

var metricsHeader = []string{"epoch", "step", "train_loss", "val_loss", "val_accuracy", "val_mae", "lr", "grad_norm", "samples_per_s", "elapsed_s"}

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func fmtOpt(v *float64) string {
	if v == nil {
		return ""
	}
	return fmtFloat(*v)
}

func (r Row) csv() []string {
	return []string{strconv.Itoa(r.Epoch), strconv.FormatInt(r.Step, 10), fmtFloat(r.TrainLoss),
		fmtOpt(r.ValLoss), fmtOpt(r.ValAccuracy), fmtOpt(r.ValMAE), fmtFloat(r.LR), fmtFloat(r.GradNorm),
		strconv.FormatFloat(r.SamplesPerS, 'f', 1, 64), strconv.FormatFloat(r.ElapsedS, 'f', 3, 64)}
}

// metricsLog appends rows to metrics.csv and metrics.jsonl, one line at a
// time, flushed and synced, so a killed run's metrics are complete up to its
// last finished row.
type metricsLog struct {
	csvF, jsonF *os.File
	rows        int
	// all are the rows the directory holds (for the curves).
	all []Row
}

// openMetrics opens the metrics files of dir. keep is the number of rows to
// keep from an earlier run (resume); rows beyond it (written after the
// checkpoint being resumed) are dropped, so none is duplicated. The log
// counts the rows the directory holds: fewer than keep when a run is
// resumed into a new directory, which starts its metrics afresh.
func openMetrics(dir string, keep int) (*metricsLog, error) {
	csvPath, jsonPath := dir+"/metrics.csv", dir+"/metrics.jsonl"
	lines, err := truncateLines(csvPath, keep+1)
	if err != nil {
		return nil, err
	}
	if _, err := truncateLines(jsonPath, keep); err != nil {
		return nil, err
	}
	m := &metricsLog{rows: max(lines-1, 0)}
	if m.rows > 0 {
		if m.all, err = ReadMetrics(jsonPath); err != nil {
			return nil, err
		}
		if len(m.all) != m.rows {
			return nil, fmt.Errorf("%s holds %d rows, %s %d: restore the metrics, or resume into a new directory with --out", csvPath, m.rows, jsonPath, len(m.all))
		}
	}
	if m.csvF, err = os.OpenFile(csvPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644); err != nil {
		return nil, fmt.Errorf("cannot open metrics: %w", err)
	}
	if m.jsonF, err = os.OpenFile(jsonPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644); err != nil {
		m.csvF.Close()
		return nil, fmt.Errorf("cannot open metrics: %w", err)
	}
	if st, _ := m.csvF.Stat(); st != nil && st.Size() == 0 {
		if _, err := m.csvF.WriteString(strings.Join(metricsHeader, ",") + "\n"); err != nil {
			m.close()
			return nil, fmt.Errorf("cannot write %s: %w", csvPath, err)
		}
	}
	return m, nil
}

// truncateLines keeps the first n lines of path (if it exists), drops a
// last line without its newline (a row a crash cut short), and returns
// the number of lines kept.
func truncateLines(path string, n int) (int, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if os.IsNotExist(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("cannot open metrics: %w", err)
	}
	defer f.Close()
	r := bufio.NewReader(f)
	var off int64
	kept := 0
	for ; kept < n; kept++ {
		line, err := r.ReadString('\n')
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("cannot read %s: %w", path, err)
		}
		off += int64(len(line))
	}
	return kept, f.Truncate(off)
}

func (m *metricsLog) write(r Row) error {
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write(r.csv())
	w.Flush()
	if _, err := m.csvF.WriteString(b.String()); err != nil {
		return fmt.Errorf("cannot append to metrics.csv: %w", err)
	}
	j, _ := json.Marshal(sanitize(r))
	if _, err := m.jsonF.Write(append(j, '\n')); err != nil {
		return fmt.Errorf("cannot append to metrics.jsonl: %w", err)
	}
	m.csvF.Sync()
	m.jsonF.Sync()
	m.rows++
	m.all = append(m.all, r)
	return nil
}

// JSON is the row as metrics.jsonl holds it: null for a missing or
// non-finite value.
func (r Row) JSON() map[string]any { return sanitize(r) }

// sanitize replaces non-finite numbers (a diverged loss) by null in JSON.
func sanitize(r Row) map[string]any {
	m := map[string]any{}
	fin := func(v float64) any {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil
		}
		return v
	}
	m["epoch"], m["step"] = r.Epoch, r.Step
	m["train_loss"], m["lr"], m["grad_norm"] = fin(r.TrainLoss), fin(r.LR), fin(r.GradNorm)
	for k, v := range map[string]*float64{"val_loss": r.ValLoss, "val_accuracy": r.ValAccuracy, "val_mae": r.ValMAE} {
		if v == nil {
			m[k] = nil
		} else {
			m[k] = fin(*v)
		}
	}
	m["samples_per_s"], m["elapsed_s"] = fin(math.Round(r.SamplesPerS*10)/10), fin(math.Round(r.ElapsedS*1000)/1000)
	if r.Stop != "" {
		m["stop"] = r.Stop
	}
	return m
}

// truncate drops rows beyond the first keep (a rollback).
func (m *metricsLog) truncate(keep int) error {
	if keep >= m.rows {
		return nil
	}
	for _, f := range []struct {
		file  *os.File
		lines int
	}{{m.csvF, keep + 1}, {m.jsonF, keep}} {
		if _, err := truncateLines(f.file.Name(), f.lines); err != nil {
			return err
		}
	}
	m.rows = keep
	m.all = m.all[:min(keep, len(m.all))]
	return nil
}

func (m *metricsLog) close() {
	m.csvF.Close()
	m.jsonF.Close()
}

// Line formats a metrics row for the log.
func (r Row) Line() string {
	s := fmt.Sprintf("epoch %d  step %d  train_loss %s", r.Epoch, r.Step, lossText(r.TrainLoss))
	if r.ValLoss != nil {
		s += "  val_loss " + lossText(*r.ValLoss)
	}
	if r.ValAccuracy != nil {
		s += fmt.Sprintf("  val_acc %.4f", *r.ValAccuracy)
	}
	if r.ValMAE != nil {
		s += fmt.Sprintf("  val_mae %.4g", *r.ValMAE)
	}
	return s + fmt.Sprintf("  lr %.3g  grad_norm %.3g  %.0f samples/s  %.1fs", r.LR, r.GradNorm, r.SamplesPerS, r.ElapsedS)
}

func newBar(w io.Writer, total int64, desc string) *progressbar.ProgressBar {
	return progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("samples"),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetWidth(30),
		progressbar.OptionSetPredictTime(true),
	)
}

// lossText prints a loss with 4 decimals, or in 4 significant digits when
// it is too large for that to be readable (a diverging run).
func lossText(v float64) string {
	if math.Abs(v) >= 1e6 {
		return fmt.Sprintf("%.4g", v)
	}
	return fmt.Sprintf("%.4f", v)
}
