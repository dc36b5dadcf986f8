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

	"github.com/nettrain/nettrain/internal/safeio"
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
	// csvNew and jsonNew: openMetrics created the file (discard removes
	// it again); csvOff and jsonOff are where commit cuts the files.
	csvNew, jsonNew bool
	csvOff, jsonOff int64
}

// openMetricsFile opens a metrics file for reading and appending, creating
// it when it is missing (a variable, so that tests can make it fail as a
// full or read-only disk would).
var openMetricsFile = func(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
}

// openMetrics opens the metrics files of dir without changing what they
// hold (a missing file is created empty, and discard removes it again):
// everything that can refuse them is tried before commit changes them.
// keep is the number of rows to keep from an earlier run (resume); commit
// drops the rows beyond it (written after the checkpoint being resumed),
// so none is duplicated. The log counts the rows the directory holds:
// fewer than keep when a run is resumed into a new directory, which starts
// its metrics afresh.
func openMetrics(dir string, keep int) (*metricsLog, error) {
	csvPath, jsonPath := dir+"/metrics.csv", dir+"/metrics.jsonl"
	m := &metricsLog{}
	var err error
	if m.csvF, m.csvNew, err = openMetricsPath(csvPath); err != nil {
		return nil, err
	}
	if m.jsonF, m.jsonNew, err = openMetricsPath(jsonPath); err != nil {
		m.discard()
		return nil, err
	}
	lines, csvOff, err := lineOffset(m.csvF, keep+1)
	if err != nil {
		m.discard()
		return nil, err
	}
	_, jsonOff, err := lineOffset(m.jsonF, keep)
	if err != nil {
		m.discard()
		return nil, err
	}
	m.rows, m.csvOff, m.jsonOff = max(lines-1, 0), csvOff, jsonOff
	if m.rows > 0 {
		if jsonOff > maxResumeMetricsBytes {
			m.discard()
			return nil, &safeio.TooLargeError{Path: jsonPath, Size: jsonOff, Limit: maxResumeMetricsBytes, What: "metrics"}
		}
		b := make([]byte, jsonOff)
		if _, err := m.jsonF.ReadAt(b, 0); err != nil {
			m.discard()
			return nil, fmt.Errorf("cannot read %s: %w", jsonPath, err)
		}
		if m.all, _, err = parseMetrics(nil, b, jsonPath, 1, 0); err != nil {
			m.discard()
			return nil, err
		}
		if len(m.all) != m.rows {
			m.discard()
			return nil, fmt.Errorf("%s holds %d rows, %s %d: restore the metrics, or resume into a new directory with --out", csvPath, m.rows, jsonPath, len(m.all))
		}
	}
	return m, nil
}

// openMetricsPath opens one metrics file (openMetricsFile) and tells
// whether it created it.
func openMetricsPath(path string) (*os.File, bool, error) {
	_, statErr := os.Lstat(path)
	f, err := openMetricsFile(path)
	if err != nil {
		return nil, false, fmt.Errorf("cannot open metrics: %w", err)
	}
	created := os.IsNotExist(statErr)
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		if created {
			os.Remove(path)
		}
		return nil, false, fmt.Errorf("%s is not a regular file; a run's metrics must be one", path)
	}
	return f, created, nil
}

// commit drops the rows beyond the ones kept (openMetrics) and starts a new
// metrics.csv with its header.
func (m *metricsLog) commit() error {
	for _, f := range []struct {
		file *os.File
		off  int64
	}{{m.csvF, m.csvOff}, {m.jsonF, m.jsonOff}} {
		if err := f.file.Truncate(f.off); err != nil {
			return fmt.Errorf("cannot truncate %s: %w", f.file.Name(), err)
		}
	}
	if m.csvOff == 0 {
		if _, err := m.csvF.WriteString(strings.Join(metricsHeader, ",") + "\n"); err != nil {
			return fmt.Errorf("cannot write %s: %w", m.csvF.Name(), err)
		}
	}
	return nil
}

// discard closes the files and removes those openMetrics created.
func (m *metricsLog) discard() {
	for _, f := range []struct {
		file    *os.File
		created bool
	}{{m.csvF, m.csvNew}, {m.jsonF, m.jsonNew}} {
		if f.file == nil {
			continue
		}
		f.file.Close()
		if f.created {
			os.Remove(f.file.Name())
		}
	}
	m.csvF, m.jsonF = nil, nil
}

// lineOffset reads up to n lines of f from its start and returns how many
// complete ones (ending in a newline) it holds and the offset after them:
// a last line without its newline (a row a crash cut short) is not one.
func lineOffset(f *os.File, n int) (int, int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, 0, fmt.Errorf("cannot read %s: %w", f.Name(), err)
	}
	r := bufio.NewReader(io.NewSectionReader(f, 0, st.Size()))
	var off int64
	kept := 0
	for ; kept < n; kept++ {
		line, err := r.ReadString('\n')
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, 0, fmt.Errorf("cannot read %s: %w", f.Name(), err)
		}
		off += int64(len(line))
	}
	return kept, off, nil
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
	kept, off, err := lineOffset(f, n)
	if err != nil {
		return 0, err
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
	if m.csvF != nil {
		m.csvF.Close()
	}
	if m.jsonF != nil {
		m.jsonF.Close()
	}
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
