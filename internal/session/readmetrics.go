package session

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
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

// BoardMetrics is ReadMetrics within MaxMetricsBytes, for the board.
func BoardMetrics(path string) ([]Row, error) { return readMetrics(path, MaxMetricsBytes) }

// jsonRow is a metrics.jsonl line as written: null for a missing value or
// a non-finite one (sanitize).
type jsonRow struct {
	Epoch       int      `json:"epoch"`
	Step        int64    `json:"step"`
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
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		b = b[:i+1]
	} else {
		b = nil
	}
	var rows []Row
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		var j jsonRow
		if err := json.Unmarshal(sc.Bytes(), &j); err != nil {
			return rows, fmt.Errorf("%s:%d: not a metrics row: %v", path, line, err)
		}
		nan := func(v *float64) float64 {
			if v == nil {
				return math.NaN()
			}
			return *v
		}
		rows = append(rows, Row{Epoch: j.Epoch, Step: j.Step, TrainLoss: nan(j.TrainLoss), ValLoss: j.ValLoss,
			ValAccuracy: j.ValAccuracy, ValMAE: j.ValMAE, LR: nan(j.LR), GradNorm: nan(j.GradNorm),
			SamplesPerS: j.SamplesPerS, ElapsedS: j.ElapsedS, Stop: j.Stop})
	}
	if err := sc.Err(); err != nil {
		return rows, fmt.Errorf("cannot read %s: %w", path, err)
	}
	return rows, nil
}
