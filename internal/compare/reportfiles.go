package compare

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot/vg"

	"github.com/nettrain/nettrain/internal/plots"
	"github.com/nettrain/nettrain/internal/safeio"
)

// reportFiles writes a report's files into its directory so that the new
// report replaces the one before it whole: every file goes through one
// safeio.Batch (written as temporaries, renamed into place only once all
// of them were written), and once they are in place the files of the old
// report that the new one does not have (a plot with no data now, another
// sweep's by-KEY plot) are removed. The trial records are never touched.
type reportFiles struct {
	out   string
	batch safeio.Batch
	names []string // the files written, in order
}

// write stages the report file name with data.
func (r *reportFiles) write(name string, data []byte) error {
	if err := r.batch.WriteFile(filepath.Join(r.out, name), data); err != nil {
		return err
	}
	r.names = append(r.names, name)
	return nil
}

// plot stages the chart as the report file name (its extension picks PNG
// or SVG).
func (r *reportFiles) plot(c plots.Chart, name string) error {
	if err := c.SaveWith(filepath.Join(r.out, name), 10*vg.Inch, 5*vg.Inch, r.batch.WriteWith); err != nil {
		return err
	}
	r.names = append(r.names, name)
	return nil
}

// isReportFile tells whether name is a file of a report (an output file
// other than the trial records).
func isReportFile(name string) bool {
	return name != RecordsFile && isOutputFile(name)
}

// reportFilesIn lists the report files in dir.
func reportFilesIn(dir string) []string {
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		if !e.IsDir() && isReportFile(e.Name()) {
			names = append(names, e.Name())
		}
	}
	return names
}

// writeReport writes a report into out (created if need be) through
// write, which stages its files in r: when write fails nothing in out
// changes (the error says so, and out is removed again if this created
// it); when it succeeds the files are put in place together and the old
// report's files the new one lacks are removed (a note in log names
// them). Either way out never holds files of two reports, barring a
// rename failing midway (a broken file system), after which the files of
// the old report still in out are removed and the error says the report
// is incomplete.
func writeReport(out string, log io.Writer, write func(r *reportFiles) error) error {
	_, statErr := os.Stat(out)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("cannot create the report's directory %s: %w", out, err)
	}
	r := &reportFiles{out: out}
	old := reportFilesIn(out)
	if err := write(r); err != nil {
		r.batch.Discard()
		switch {
		case len(old) > 0:
			return fmt.Errorf("%w; the report already in %s is left as it was", err, out)
		case os.IsNotExist(statErr) && os.Remove(out) == nil:
			return fmt.Errorf("%w; no report was written, and %s, which this report created, was removed", err, out)
		}
		return fmt.Errorf("%w; no report was written in %s", err, out)
	}
	if err := r.batch.Commit(); err != nil {
		if r.batch.Placed() == 0 {
			return fmt.Errorf("%w; the report already in %s is left as it was", err, out)
		}
		if _, rerr := r.removeStale(); rerr != nil {
			return fmt.Errorf("%w; %v", err, rerr)
		}
		return fmt.Errorf("%w; the report in %s is incomplete (no file of the old one is left): write it again", err, out)
	}
	removed, err := r.removeStale()
	if len(removed) > 0 {
		fmt.Fprintf(log, "note: removed %s of the report before this one from %s: this report has no such file\n", strings.Join(removed, ", "), out)
	}
	return err
}

// removeStale removes the report files in r.out that r did not write.
func (r *reportFiles) removeStale() (removed []string, err error) {
	for _, name := range reportFilesIn(r.out) {
		if slices.Contains(r.names, name) {
			continue
		}
		if rerr := os.Remove(filepath.Join(r.out, name)); rerr != nil && !os.IsNotExist(rerr) {
			return removed, fmt.Errorf("cannot remove %s, a file of the report before this one that this report does not have: %v; remove it by hand", filepath.Join(r.out, name), rerr)
		}
		removed = append(removed, name)
	}
	return removed, nil
}
