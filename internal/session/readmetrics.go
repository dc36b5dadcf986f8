package session

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/nettrain/nettrain/internal/safeio"
)

// MaxMetricsBytes bounds what the board reads of a run's metrics.jsonl
// (BoardMetrics): more than a run writes (a row is about 250 bytes: a
// quarter of a million evaluations, each over the whole validation set),
// and little enough that the board, which reads every run's rows on each
// poll, stays within a few hundred MB whatever a run directory holds.
const MaxMetricsBytes = 64 << 20

// maxResumeMetricsBytes bounds what a resumed run reads of its own
// metrics.jsonl: a run may go on past the board's bound (four million
// evaluations).
const maxResumeMetricsBytes = 1 << 30

// MaxBoardRows bounds the rows the board reads of a run: MaxMetricsBytes
// alone does not, as a row may be 20 bytes (a forged file of 10 MB of
// such rows, 3.5 million of them, took the board to 6 GB). A run that
// evaluates more often is shown with an error naming the bound.
const MaxBoardRows = 1 << 18

// BoardMetrics is ReadMetrics within MaxMetricsBytes and MaxBoardRows,
// for the board.
func BoardMetrics(path string) ([]Row, error) {
	b, err := safeio.ReadFile(path, MaxMetricsBytes, "metrics")
	if err != nil {
		return nil, err
	}
	rows, _, err := parseMetrics(nil, b, path, 1, MaxBoardRows)
	return rows, err
}

// jsonRow is a metrics.jsonl line as written: null for a missing value or
// a non-finite one (sanitize).
type jsonRow struct {
	Epoch       *int     `json:"epoch"`
	Step        *int64   `json:"step"`
	TrainLoss   *float64 `json:"train_loss"`
	ValLoss     *float64 `json:"val_loss"`
	ValAccuracy *float64 `json:"val_accuracy"`
	ValMAE      *float64 `json:"val_mae"`
	LR          *float64 `json:"lr"`
	GradNorm    *float64 `json:"grad_norm"`
	SamplesPerS float64  `json:"samples_per_s"`
	ElapsedS    float64  `json:"elapsed_s"`
	Stop        string   `json:"stop"`
}

// ReadMetrics reads the rows of a run's metrics.jsonl (at most 1 GiB; a
// last line without its newline, a row a crash or a running writer cut
// short, is left out). A null train_loss, lr or grad_norm reads as NaN.
func ReadMetrics(path string) ([]Row, error) { return readMetrics(path, maxResumeMetricsBytes) }

func readMetrics(path string, limit int64) ([]Row, error) {
	b, err := safeio.ReadFile(path, limit, "metrics")
	if err != nil {
		return nil, err
	}
	rows, _, err := parseMetrics(nil, b, path, 1, 0)
	return rows, err
}

// parseMetrics appends to rows the rows of b's complete lines (a last line
// without its newline is left out), the first being line first of path;
// it returns them and the bytes of b it parsed (up to the end of the last
// good line: a line that is not a row stops it, with an error naming it).
func parseMetrics(rows []Row, b []byte, path string, first, maxRows int) ([]Row, int, error) {
	done, line := 0, first
	for {
		i := bytes.IndexByte(b[done:], '\n')
		if i < 0 {
			return rows, done, nil
		}
		if maxRows > 0 && len(rows) >= maxRows {
			return rows, done, fmt.Errorf("%s:%d: more than %d rows, more than the board shows of a run", path, line, maxRows)
		}
		var j jsonRow
		if err := json.Unmarshal(b[done:done+i], &j); err != nil {
			return rows, done, fmt.Errorf("%s:%d: not a metrics row: %v", path, line, err)
		}
		if j.Epoch == nil || j.Step == nil { // every row train writes has both
			return rows, done, fmt.Errorf("%s:%d: not a metrics row: no epoch or step", path, line)
		}
		nan := func(v *float64) float64 {
			if v == nil {
				return math.NaN()
			}
			return *v
		}
		rows = append(rows, Row{Epoch: *j.Epoch, Step: *j.Step, TrainLoss: nan(j.TrainLoss), ValLoss: j.ValLoss,
			ValAccuracy: j.ValAccuracy, ValMAE: j.ValMAE, LR: nan(j.LR), GradNorm: nan(j.GradNorm),
			SamplesPerS: j.SamplesPerS, ElapsedS: j.ElapsedS, Stop: j.Stop})
		done += i + 1
		line++
	}
}

// MetricsFollower reads a metrics.jsonl that a running run appends to, as
// the board polls it: each Read parses only the complete lines added since
// the last, and starts over from the beginning when the part already read
// has changed (a run started again with --overwrite) or the file shrank.
// The file is bounded by MaxMetricsBytes, as BoardMetrics reads it. Not
// safe for concurrent use; the rows it returns are shared and never
// changed afterwards (later rows are appended past them).
type MetricsFollower struct {
	Path string

	rows  []Row
	off   int64  // bytes of whole lines parsed
	last  []byte // the last line parsed, with its newline
	lines int    // lines parsed
}

// Read returns the file's rows as they are now.
func (m *MetricsFollower) Read() ([]Row, error) {
	f, size, err := safeio.Open(m.Path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if size > MaxMetricsBytes {
		*m = MetricsFollower{Path: m.Path} // let the rows go
		return nil, &safeio.TooLargeError{Path: m.Path, Size: size, Limit: MaxMetricsBytes, What: "metrics"}
	}
	if m.off > 0 {
		keep := size >= m.off
		if keep {
			// The last line read must still be where it was.
			at := m.off - int64(len(m.last))
			b := make([]byte, len(m.last))
			_, err := f.ReadAt(b, at)
			keep = err == nil && bytes.Equal(b, m.last)
		}
		if !keep {
			*m = MetricsFollower{Path: m.Path}
		}
	}
	b := make([]byte, size-m.off)
	n, err := f.ReadAt(b, m.off)
	if err != nil && !errors.Is(err, io.EOF) {
		return m.rows, fmt.Errorf("cannot read %s: %w", m.Path, err)
	}
	b = b[:n]
	rows, done, perr := parseMetrics(m.rows, b, m.Path, m.lines+1, MaxBoardRows)
	if done > 0 {
		start := bytes.LastIndexByte(b[:done-1], '\n') + 1
		m.last = append(m.last[:0], b[start:done]...)
		m.lines += len(rows) - len(m.rows)
		m.off += int64(done)
	}
	m.rows = rows
	return m.rows, perr
}
