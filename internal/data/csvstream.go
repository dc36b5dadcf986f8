package data

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/nettrain/nettrain/internal/safeio"
)

// CSVStream reads a CSV file of new inputs in chunks of rows, in constant
// memory whatever the file's size: the feature columns a model was
// trained on, found by name (or by index in a file without a header), and
// the label columns too when the file has every one of them. Predictions
// on new data read files this way (ReadCSV reads a whole training set).
type CSVStream struct {
	name      string
	f         *os.File
	cr        *csvReader
	header    []string
	ncols     int
	firstLine int
	feat, lab []int
	opts      CSVOptions
	pending   []string // the first row, when it is data
	pendLine  int
	// note says that the file's columns are read by position although
	// it has a header row (Note).
	note string
}

// OpenCSVStream opens path and reads its header. opts.Features names the
// feature columns (required) and opts.Labels the label or target columns
// (optional in the file); opts.Task and opts.Classes say how labels read,
// as for ReadCSV. rowLimit bounds the text of one row (0: none), and
// MaxCSVRow does in any case.
func OpenCSVStream(path string, opts CSVOptions, rowLimit int64, limitName string) (*CSVStream, error) {
	if len(opts.Features) == 0 {
		return nil, fmt.Errorf("%s: no feature columns to read", path)
	}
	f, size, err := safeio.Open(path)
	if err != nil {
		return nil, err
	}
	s := &CSVStream{name: path, f: f, opts: opts}
	s.cr = newCSVReader(path, safeio.LimitSize(f, path, size), limit{max: rowLimit, name: limitName})
	if err := s.start(); err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the file.
func (s *CSVStream) Close() error { return s.f.Close() }

// Note is a note for the user when the file has a header row but its
// columns are read by position, because the model's are indexes (its
// training file had no header row): "" otherwise.
func (s *CSVStream) Note() string { return s.note }

// HasLabels reports whether the file has the label columns.
func (s *CSVStream) HasLabels() bool { return s.lab != nil }

func (s *CSVStream) start() error {
	rec, err := s.cr.next()
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: file is empty", s.name)
	}
	if err != nil {
		return err
	}
	s.ncols = len(rec)
	s.firstLine, _ = s.cr.FieldPos(0)
	if sep := otherSeparator(rec[0]); s.ncols == 1 && sep != "" {
		return fmt.Errorf("%s:%d: the first row is a single field, %q, which looks separated by %s; nettrain reads comma-separated files", s.name, s.firstLine, truncate(rec[0]), sep)
	}
	header := false
	switch s.opts.Header {
	case HeaderPresent:
		header = true
	case HeaderAuto:
		header, _ = autoHeader(rec, s.cr)
	}
	if header {
		for _, c := range rec {
			s.header = append(s.header, strings.TrimSpace(c))
		}
	} else {
		s.pending, s.pendLine = rec, s.firstLine
	}
	if positional(s.opts.Features, s.opts.Labels, s.header) {
		s.note = fmt.Sprintf("%s: the model was trained on a CSV file without a header row, so this file's columns are read by position (0 to %d), not by the names on its line %d (%s)",
			s.name, s.ncols-1, s.firstLine, listColumns(s.header))
	}
	for _, ref := range s.opts.Features {
		j, err := resolveColumn(ref, s.header, s.ncols)
		if err != nil {
			return fmt.Errorf("%s: has no column %q, a feature the model was trained on (the file has %s)", s.name, ref, s.describeColumns())
		}
		s.feat = append(s.feat, j)
	}
	var lab []int
	for _, ref := range s.opts.Labels {
		j, err := resolveColumn(ref, s.header, s.ncols)
		if err != nil || slices.Contains(s.feat, j) {
			return nil // no labels: predictions only
		}
		lab = append(lab, j)
	}
	s.lab = lab
	if s.opts.Task == Classification && len(lab) > 1 {
		return fmt.Errorf("%s: classification needs exactly one label column, got %d", s.name, len(lab))
	}
	return nil
}

// describeColumns lists the file's columns for a message.
func (s *CSVStream) describeColumns() string {
	if s.header == nil {
		return fmt.Sprintf("%d columns and no header row", s.ncols)
	}
	return "the columns " + listColumns(s.header)
}

func (s *CSVStream) colName(j int) string {
	if s.header != nil {
		return fmt.Sprintf("column %q (index %d)", s.header[j], j)
	}
	return fmt.Sprintf("column index %d", j)
}

// Next reads up to max rows into a Dataset of Shape [features] (F32, and
// Labels or Targets when the file has labels; F64 and Targets64 with
// CSVOptions.Float64) and returns the 1-based
// line of each row; io.EOF when no row is left.
func (s *CSVStream) Next(max int) (*Dataset, []int, error) {
	ds := &Dataset{Source: s.name, Shape: []int{len(s.feat)}}
	var lines []int
	var texts []string
	var nameLine []int
	var raw []int32
	index := map[string]int32{}
	for ds.N < max {
		rec, line := s.pending, s.pendLine
		if rec != nil {
			s.pending = nil
		} else {
			var err error
			if rec, err = s.cr.next(); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				return nil, nil, err
			}
			line, _ = s.cr.FieldPos(0)
		}
		if len(rec) != s.ncols {
			return nil, nil, fmt.Errorf("%s:%d: row has %d fields, but line %d has %d", s.name, line, len(rec), s.firstLine, s.ncols)
		}
		for _, j := range s.feat {
			l, _ := s.cr.FieldPos(j) // of the last row read, also the pending one
			v, err := parseNumCell(s.name, rec[j], l, s.colName(j), false, s.opts.Float64, "")
			if err != nil {
				return nil, nil, err
			}
			ds.appendFeature(v, s.opts.Float64)
		}
		switch {
		case s.lab == nil:
		case s.opts.Task == Regression:
			for _, j := range s.lab {
				v, err := parseNumCell(s.name, rec[j], line, s.colName(j), false, s.opts.Float64, "")
				if err != nil {
					return nil, nil, err
				}
				ds.appendTarget(v, s.opts.Float64)
			}
		default:
			text := strings.TrimSpace(rec[s.lab[0]])
			if text == "" {
				return nil, nil, fmt.Errorf("%s:%d: %s: the label is empty", s.name, line, s.colName(s.lab[0]))
			}
			id, ok := index[text]
			if !ok {
				id = int32(len(texts))
				index[text] = id
				texts = append(texts, text)
				nameLine = append(nameLine, line)
			}
			raw = append(raw, id)
		}
		lines = append(lines, line)
		ds.N++
	}
	if ds.N == 0 {
		return nil, nil, io.EOF
	}
	switch {
	case s.lab == nil:
	case s.opts.Task == Regression:
		ds.TargetDim = len(s.lab)
	default:
		if err := setLabels(ds, raw, texts, nameLine, s.colName(s.lab[0]), s.opts.Classes, s.opts.LabelKind); err != nil {
			return nil, nil, err
		}
	}
	return ds, lines, nil
}
