package session

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nettrain/nettrain/internal/checkpoint"
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
	if d := checkpoint.SectionsDiffer(rs, s.cfg.ResumeSections()); len(d) > 0 {
		return fmt.Errorf("%s was trained with a different %s than %s sets now, so resuming would not continue the same run; resume with the same config and --set options (only training.epochs, training.steps, training.threads, training.on_nan, training.memory_limit and checkpoint settings may change), or start a new run from these weights with model.init_from",
			path, strings.Join(d, ", "), s.cfg.File)
	}
	if d := checkpoint.DataDiffers(rs.Data, s.m.Data.Fingerprints); d != "" {
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
// and drops the rest, so they must be exactly the rows of the epochs up to
// the checkpoint's (rows of later epochs are redone). A directory without
// metrics.csv (a resume into a new --out) has nothing to check.
func checkMetrics(dir, path string, rs checkpoint.State) error {
	csvPath := filepath.Join(dir, "metrics.csv")
	epochs, err := metricsEpochs(csvPath)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	upTo := 0 // rows of the epochs up to the checkpoint's, before any later one
	for upTo < len(epochs) && epochs[upTo] <= rs.Epoch {
		upTo++
	}
	switch {
	case rs.MetricsRows > len(epochs):
		return fmt.Errorf("%s: metadata \"metrics_rows\" is %d, but %s holds %s: the metrics do not belong to this checkpoint; restore them, or resume into a new directory with --out",
			path, rs.MetricsRows, csvPath, plural(len(epochs), "row"))
	case rs.MetricsRows != upTo:
		return fmt.Errorf("%s: metadata \"metrics_rows\" is %d, but %s holds %s of the epochs up to %d (the checkpoint's): resuming would keep the wrong rows; restore the metrics, or resume into a new directory with --out",
			path, rs.MetricsRows, csvPath, plural(upTo, "row"), rs.Epoch)
	}
	return nil
}

// metricsEpochs reads the epoch column of a metrics.csv: one entry per
// complete row (a last line without its newline, cut short by a crash, is
// not a row).
func metricsEpochs(path string) ([]int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := bufio.NewReader(f)
	var epochs []int
	for line := 0; ; line++ {
		s, err := r.ReadString('\n')
		if err == io.EOF {
			return epochs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", path, err)
		}
		if line == 0 {
			continue // the header
		}
		rec, err := csv.NewReader(strings.NewReader(s)).Read()
		if err != nil || len(rec) == 0 {
			return nil, fmt.Errorf("%s:%d: not a metrics row (%q); was the file edited?", path, line+1, strings.TrimSpace(s))
		}
		e, err := strconv.Atoi(rec[0])
		if err != nil || e < 1 {
			return nil, fmt.Errorf("%s:%d: the epoch is %q, not a number from 1 up; was the file edited?", path, line+1, rec[0])
		}
		epochs = append(epochs, e)
	}
}
