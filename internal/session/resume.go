package session

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nettrain/nettrain/internal/checkpoint"
	"github.com/nettrain/nettrain/internal/safeio"
	"github.com/nettrain/nettrain/internal/train"
)

// checkState refuses a checkpoint the session cannot continue from: one
// without nettrain's training state, one trained with another config
// (checkpoint.SectionsDiffer) or on other data (checkpoint.DataDiffers),
// or one whose position does not fit this config and its data. Package
// checkpoint has range-checked each field already; these are the checks
// that need the config and the data. The run directory's metrics are
// checked by checkMetrics.
func (s *session[T]) checkState(path string, rs checkpoint.State) error {
	if rs.Plain {
		if rs.Format == "" {
			return fmt.Errorf("%s holds no nettrain training state (its metadata has no \"format\": a plain weights file, or a checkpoint whose metadata was stripped), so there is no position to resume from; start a new run from its weights with model.init_from", path)
		}
		return fmt.Errorf("%s: metadata \"format\" is %q, not a checkpoint format this nettrain can resume (it reads nettrain-checkpoint/1 and /2); start a new run from its weights with model.init_from", path, rs.Format)
	}
	if d := checkpoint.SectionsDiffer(rs, train.ResumeSections(s.cfg, rs)); len(d) > 0 {
		return fmt.Errorf("%s was trained with other settings of %s than %s gives now%s, so resuming would not continue the same run; resume with the same config and --set options (the seed, dtype, data, model, loss, optimizer, schedule and training.batch_size, shuffle, clip_norm and clip_value must stay; the rest, such as training.epochs, training.steps or training.early_stopping, may change), or start a new run from these weights with model.init_from",
			path, strings.Join(d, ", "), s.cfg.File, s.cfg.ResumeOverrides(d))
	}
	if d := s.m.Data.ImageDecodingChanged(rs.Data); d != "" {
		if !s.o.AcceptImageDecoding {
			return train.ImageDecodingError(path, d, "so a resume cannot continue the run as it was",
				"resume on the images as decoded now with --accept-image-decoding (no longer bit-identical to a run without a break), or train a new run")
		}
		fmt.Fprintf(s.log, "note: resuming on the images as nettrain decodes them now (--accept-image-decoding), not on the pixels %s was trained on: %s\n", path, d)
	} else if d := checkpoint.DataDiffers(rs.Data, s.m.Data.Fingerprints); d != "" {
		return fmt.Errorf("%s was trained on other data than %s reads now: %s; resume with the data the run was trained on, or start a new run from these weights with model.init_from",
			path, s.cfg.File, d)
	}
	nb, bs, epochs := s.loop.Batches(), s.cfg.Training.BatchSize, s.loop.Epochs
	if rs.BatchInEpoch >= nb {
		return fmt.Errorf("%s: metadata \"batch_in_epoch\" is %d, but an epoch has %d batches (%d training samples in batches of %d): the checkpoint does not fit this config's data",
			path, rs.BatchInEpoch, nb, s.m.Data.Train.Len(), bs)
	}
	if rs.Epoch > epochs || rs.Epoch == epochs && rs.BatchInEpoch > 0 {
		return fmt.Errorf("%s: metadata \"epoch\" is %d, but training.epochs is %d: the run went further than this config trains; set training.epochs to at least %d to continue it",
			path, rs.Epoch, epochs, rs.Epoch+1)
	}
	// Every batch, skipped or not, is a step; epoch <= epochs bounds the
	// product.
	if want := int64(rs.Epoch)*int64(nb) + int64(rs.BatchInEpoch); rs.Step != want {
		return fmt.Errorf("%s: metadata \"step\" is %d, but epoch %d and batch %d of %d batches per epoch make %d steps: the checkpoint does not fit this config's data",
			path, rs.Step, rs.Epoch, rs.BatchInEpoch, nb, want)
	}
	if most := int64(rs.BatchInEpoch) * int64(bs); int64(rs.EpochSamples) > most {
		return fmt.Errorf("%s: metadata \"epoch_samples\" is %d, more than the %d samples of the %d batches done in the epoch",
			path, rs.EpochSamples, most, rs.BatchInEpoch)
	}
	return nil
}

// checkMetrics refuses to resume from a checkpoint whose metrics_rows does
// not fit the run directory's metrics.csv: a resume keeps that many rows
// and drops the rest, so they must be exactly the rows up to the
// checkpoint's step (rows of later steps are redone). A row at the
// checkpoint's own step inside an epoch may be kept (an evaluation,
// training.eval_every_steps, before the checkpoint) or not (the row of an
// epoch that training.steps cut short, which a resume redoes); one at an
// epoch's end is kept. A directory without metrics.csv (a resume into a
// new --out) has nothing to check.
func checkMetrics(dir, path string, rs checkpoint.State) error {
	csvPath := filepath.Join(dir, "metrics.csv")
	steps, err := metricsSteps(csvPath)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	before, upTo := 0, 0 // rows before the checkpoint's step, and up to it
	for upTo < len(steps) && steps[upTo] <= rs.Step {
		if steps[upTo] < rs.Step || rs.BatchInEpoch == 0 {
			before++
		}
		upTo++
	}
	switch {
	case rs.MetricsRows > len(steps):
		return fmt.Errorf("%s: metadata \"metrics_rows\" is %d, but %s holds %s: the metrics do not belong to this checkpoint; restore them, or resume into a new directory with --out",
			path, rs.MetricsRows, csvPath, plural(len(steps), "row"))
	case rs.MetricsRows < before:
		return fmt.Errorf("%s: metadata \"metrics_rows\" is %d, but %s holds %s before step %d (the checkpoint's): resuming would drop them; restore the metrics, or resume into a new directory with --out",
			path, rs.MetricsRows, csvPath, plural(before, "row"), rs.Step)
	case rs.MetricsRows > upTo:
		return fmt.Errorf("%s: metadata \"metrics_rows\" is %d, but %s holds %s up to step %d (the checkpoint's): resuming would keep rows of later steps; restore the metrics, or resume into a new directory with --out",
			path, rs.MetricsRows, csvPath, plural(upTo, "row"), rs.Step)
	}
	return nil
}

// metricsSteps reads the step column of a metrics.csv: one entry per
// complete row (a last line without its newline, cut short by a crash, is
// not a row). Steps never decrease from one row to the next.
func metricsSteps(path string) ([]int64, error) {
	f, size, err := safeio.Open(path) // a regular file: a FIFO would block
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// A row is ten numbers: a line longer than maxMetricsLine is none, and
	// is not read whole (a file appended to without a newline would be).
	r := bufio.NewReaderSize(safeio.LimitSize(f, path, size), maxMetricsLine)
	var steps []int64
	for line := 0; ; line++ {
		b, err := r.ReadSlice('\n')
		if err == io.EOF {
			return steps, nil
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, fmt.Errorf("%s:%d: a line of more than %s, which no metrics row is; was the file edited?", path, line+1, safeio.Bytes(maxMetricsLine))
		}
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", path, err)
		}
		if line == 0 {
			continue // the header
		}
		s := string(b)
		rec, err := csv.NewReader(strings.NewReader(s)).Read()
		if err != nil || len(rec) < 2 {
			return nil, fmt.Errorf("%s:%d: not a metrics row (%q); was the file edited?", path, line+1, clip(strings.TrimSpace(s)))
		}
		if e, err := strconv.Atoi(rec[0]); err != nil || e < 1 {
			return nil, fmt.Errorf("%s:%d: the epoch is %q, not a number from 1 up; was the file edited?", path, line+1, clip(rec[0]))
		}
		st, err := strconv.ParseInt(rec[1], 10, 64)
		if err != nil || st < 0 || len(steps) > 0 && st < steps[len(steps)-1] {
			return nil, fmt.Errorf("%s:%d: the step is %q, not a count at least the previous row's; was the file edited?", path, line+1, clip(rec[1]))
		}
		steps = append(steps, st)
	}
}

// maxMetricsLine bounds a line of metrics.csv (a row is some 150 bytes).
const maxMetricsLine = 64 << 10

// clip shortens text a message quotes (safeio.Clip).
func clip(s string) string { return safeio.Clip(s, 60) }
