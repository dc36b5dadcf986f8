package compare

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/nettrain/nettrain/internal/safeio"
)

// Record is one finished trial in trials.jsonl.
type Record struct {
	Key
	Sweep string `json:"sweep"` // hash of everything else that shapes the trial
	// Plan is what the sweep that ran the trial expects, so that a report
	// of merged shards can tell which trials are missing. Records written
	// before it existed have none.
	Plan *Plan `json:"plan,omitempty"`
	TrialResult
}

// RecordsFile is the file of a comparison's or sweep's trial records in its
// output directory.
const RecordsFile = "trials.jsonl"

// appendRecord appends a finished trial to dir/trials.jsonl: one JSON
// line, written and synced. A write that fails (a full disk) is cut off
// again, so that the file keeps whole lines only and a later record does
// not land on the same line as a partial one.
func appendRecord(dir string, rec Record) error {
	b, err := json.Marshal(recordJSON(rec))
	if err != nil {
		return err
	}
	path := filepath.Join(dir, RecordsFile)
	f, err := safeio.OpenAppend(path)
	if err != nil {
		return fmt.Errorf("cannot record a trial: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("cannot record a trial: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		if terr := f.Truncate(st.Size()); terr != nil {
			return fmt.Errorf("cannot record a trial: %w; nor cut the partial line off again (%v): the next run drops it", err, terr)
		}
		return fmt.Errorf("cannot record a trial: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("cannot record a trial: %w", err)
	}
	return nil
}

// touchRecords creates dir/trials.jsonl, empty, if it does not exist: a
// shard whose part of the plan is empty (more shards than trials) leaves
// a records file all the same, which the report reads as "this shard ran
// and had nothing to do" (a directory without one is refused).
func touchRecords(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := safeio.OpenAppend(filepath.Join(dir, RecordsFile))
	if err != nil {
		return fmt.Errorf("cannot write the trial records: %w", err)
	}
	return f.Close()
}

// readShardRecords is readRecords for a directory given to a report: it
// must hold a records file, which may be empty (a shard with nothing to
// do).
func readShardRecords(dir string) ([]Record, error) {
	if _, err := os.Stat(filepath.Join(dir, RecordsFile)); err != nil {
		return nil, fmt.Errorf("%s holds no trial records (%s): is it an output directory of compare-optimizers or sweep?", dir, RecordsFile)
	}
	return readRecords(dir)
}

// recordJSON replaces non-finite numbers (diverged runs), which JSON
// cannot hold, by -1 markers.
func recordJSON(r Record) Record {
	fin := func(v float64) float64 {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return -1
		}
		return v
	}
	r.FinalVal, r.BestVal = fin(r.FinalVal), fin(r.BestVal)
	curve := make([]CurvePoint, len(r.Curve))
	for i, p := range r.Curve {
		p.TrainLoss, p.ValLoss = fin(p.TrainLoss), fin(p.ValLoss)
		curve[i] = p
	}
	r.Curve = curve
	return r
}

// repairRecords drops a last line that a killed process left incomplete,
// so that records appended later start on a line of their own.
func repairRecords(dir string) error {
	path := filepath.Join(dir, RecordsFile)
	b, err := safeio.ReadFile(path, maxRecordsBytes, recordsLimit)
	if errors.Is(err, fs.ErrNotExist) || err == nil && len(b) == 0 {
		return nil
	}
	if err != nil {
		return err
	}
	end := len(b)
	if b[end-1] == '\n' {
		end--
	}
	start := strings.LastIndexByte(string(b[:end]), '\n') + 1
	var r Record
	if json.Unmarshal(b[start:end], &r) == nil {
		return nil
	}
	if err := os.Truncate(path, int64(start)); err != nil {
		return fmt.Errorf("cannot repair %s: %w", path, err)
	}
	return nil
}

// maxRecordsBytes bounds trials.jsonl, and maxRecordLine one record in it
// (its learning curve, mostly: some 60 bytes a point), so that a file
// that is not a comparison's (/dev/zero behind a symlink, a huge line)
// cannot exhaust memory; real ones are far smaller (a 7-rate, 3-seed
// comparison of 9 optimizers with 10 points an epoch over 20 epochs: a
// few megabytes).
const (
	maxRecordsBytes = 256 << 20
	maxRecordLine   = 16 << 20
	recordsLimit    = "the bound of a comparison's records"
)

// readRecords reads dir/trials.jsonl (missing: none), a regular file of at
// most maxRecordsBytes. A truncated last line (a process killed while
// writing) is ignored.
func readRecords(dir string) ([]Record, error) {
	path := filepath.Join(dir, RecordsFile)
	f, size, err := safeio.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if size > maxRecordsBytes {
		return nil, &safeio.TooLargeError{Path: path, Size: size, Limit: maxRecordsBytes, What: recordsLimit}
	}
	// Up to the size at open: a running comparison appends as a report
	// or the board reads, and a last line cut short is ignored below.
	sc := bufio.NewScanner(io.LimitReader(f, size))
	sc.Buffer(make([]byte, 64<<10), maxRecordLine)
	var recs []Record
	var bad error // a line that is no record: an error unless it is the last
	line := 0
	for sc.Scan() {
		line++
		if bad != nil {
			return nil, bad
		}
		text := sc.Bytes()
		if len(bytes.TrimSpace(text)) == 0 {
			continue
		}
		var r Record
		if err := json.Unmarshal(text, &r); err != nil {
			// Cut short by a killed process, if last: that trial reruns.
			bad = fmt.Errorf("%s:%d: not a trial record: %v", path, line, err)
			continue
		}
		if r.BestVal < 0 { // written as -1: no finite value (diverged)
			r.BestVal = math.NaN()
		}
		if r.FinalVal < 0 {
			r.FinalVal = math.NaN()
		}
		recs = append(recs, r)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("%s:%d: line longer than %s, which no trial record is", path, line+1, safeio.Bytes(maxRecordLine))
		}
		return nil, err
	}
	return recs, nil
}

// merge combines records, keeping one per key and sweep, and sorts them in
// the fixed trial order (phase, optimizer order, rate, seed).
func merge(order []string, sets ...[]Record) []Record {
	seen := map[Key]bool{}
	var out []Record
	for _, recs := range sets {
		for _, r := range recs {
			if !seen[r.Key] {
				seen[r.Key] = true
				out = append(out, r)
			}
		}
	}
	rank := func(name string) int {
		if i := slices.Index(order, name); i >= 0 {
			return i
		}
		return len(order)
	}
	slices.SortStableFunc(out, func(a, b Record) int {
		switch {
		case a.Phase != b.Phase:
			return strings.Compare(string(b.Phase), string(a.Phase)) // tune before final
		case a.Optimizer != b.Optimizer:
			if d := rank(a.Optimizer) - rank(b.Optimizer); d != 0 {
				return d
			}
			return strings.Compare(a.Optimizer, b.Optimizer)
		case a.LR != b.LR:
			if a.LR < b.LR {
				return -1
			}
			return 1
		}
		return int(a.Seed) - int(b.Seed)
	})
	return out
}
