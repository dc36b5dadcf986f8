package data

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Header says whether a CSV file starts with a header row.
type Header int

const (
	// HeaderAuto (the zero value) takes the first row as a header when
	// none of its cells is a number.
	HeaderAuto Header = iota
	// HeaderPresent: the first row names the columns.
	HeaderPresent
	// HeaderAbsent: the first row is data.
	HeaderAbsent
)

// Task is what the label columns hold.
type Task string

const (
	// Classification: one label column of class ids (non-negative
	// integers) or class names (any other text; ids are given in sorted
	// name order). The empty Task means Classification.
	Classification Task = "classification"
	// Regression: one or more columns of numeric targets.
	Regression Task = "regression"
)

// CSVOptions says how to read a CSV file. Columns are named by their
// header text or by their 0-based index written in decimal ("4"); a
// header name wins over an index.
type CSVOptions struct {
	Header Header
	// Labels names the label column (classification: exactly one) or the
	// target columns (regression: one or more). Empty means the last
	// column.
	Labels []string
	// Features names the feature columns, in the order wanted. Empty means
	// every column that is not a label column, in file order.
	Features []string
	// Task is Classification (also when empty) or Regression.
	Task Task
}

// ReadCSV reads a CSV data set from path.
func ReadCSV(path string, opts CSVOptions) (*Dataset, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseCSV(path, f, opts)
}

// ParseCSV reads a CSV data set from r; name labels messages and becomes
// the Dataset's Source. Errors give the 1-based line and the column.
func ParseCSV(name string, r io.Reader, opts CSVOptions) (*Dataset, error) {
	task := opts.Task
	if task == "" {
		task = Classification
	}
	if task != Classification && task != Regression {
		return nil, fmt.Errorf("%s: unknown task %q (want %q or %q)", name, opts.Task, Classification, Regression)
	}
	cr, csvErr := newCSVReader(name, r)

	rec, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: file is empty", name)
	}
	if err != nil {
		return nil, csvErr(err)
	}
	ncols := len(rec)
	firstLine, _ := cr.FieldPos(0)

	var header []string
	switch opts.Header {
	case HeaderPresent:
		header = slices.Clone(rec)
	case HeaderAbsent:
	case HeaderAuto:
		numeric := false
		for _, c := range rec {
			if _, err := strconv.ParseFloat(strings.TrimSpace(c), 64); err == nil {
				numeric = true
				break
			}
		}
		if !numeric {
			header = slices.Clone(rec)
		}
	default:
		return nil, fmt.Errorf("%s: bad Header option %d", name, opts.Header)
	}
	for i := range header {
		header[i] = strings.TrimSpace(header[i])
	}
	colName := func(j int) string {
		if header != nil {
			return fmt.Sprintf("column %q (index %d)", header[j], j)
		}
		return fmt.Sprintf("column index %d", j)
	}

	// Resolve the label and feature columns.
	labelRefs := opts.Labels
	if len(labelRefs) == 0 {
		labelRefs = []string{strconv.Itoa(ncols - 1)}
		if header != nil {
			labelRefs = []string{header[ncols-1]}
		}
	}
	if task == Classification && len(labelRefs) != 1 {
		return nil, fmt.Errorf("%s: classification needs exactly one label column, got %d (%s)", name, len(labelRefs), strings.Join(labelRefs, ", "))
	}
	used := map[int]string{}
	resolveAll := func(refs []string, role string) ([]int, error) {
		cols := make([]int, len(refs))
		for k, ref := range refs {
			j, err := resolveColumn(ref, header, ncols)
			if err != nil {
				return nil, fmt.Errorf("%s: %s column %s", name, role, err)
			}
			if prev, dup := used[j]; dup {
				return nil, fmt.Errorf("%s: %s is named twice (as %s and as %s)", name, colName(j), prev, role)
			}
			used[j] = role
			cols[k] = j
		}
		return cols, nil
	}
	labelCols, err := resolveAll(labelRefs, "label")
	if err != nil {
		return nil, err
	}
	var featCols []int
	if len(opts.Features) > 0 {
		if featCols, err = resolveAll(opts.Features, "feature"); err != nil {
			return nil, err
		}
	} else {
		for j := range ncols {
			if _, isLabel := used[j]; !isLabel {
				featCols = append(featCols, j)
			}
		}
	}
	if len(featCols) == 0 {
		return nil, fmt.Errorf("%s: no feature columns: the file has %d columns and all are labels", name, ncols)
	}

	ds := &Dataset{Source: name, Shape: []int{len(featCols)}}
	var (
		rawLabels []int32  // per row: index into names
		names     []string // distinct label texts, in order of appearance
		nameLine  []int    // line where each name first appears
		nameIdx   = map[string]int32{}
	)
	parseNum := func(cell string, line, j int) (float32, error) {
		s := strings.TrimSpace(cell)
		v, err := strconv.ParseFloat(s, 32)
		var problem string
		switch {
		case s == "":
			problem = "is empty; want a number"
		case err != nil && errors.Is(err, strconv.ErrRange):
			problem = "is out of float32 range"
		case err != nil:
			problem = "is not a number"
		case math.IsNaN(v) || math.IsInf(v, 0):
			problem = "is not a finite number"
		default:
			return float32(v), nil
		}
		msg := fmt.Sprintf("%s:%d: %s: %q %s", name, line, colName(j), truncate(cell), problem)
		if line == firstLine && opts.Header == HeaderAuto {
			msg += " (if line 1 is a header row, set the header option to true)"
		}
		return 0, errors.New(msg)
	}

	if header == nil {
		// The first record is data: process it below with the rest.
	} else if rec, err = cr.Read(); errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: has a header row but no data rows", name)
	}
	for ; ; rec, err = cr.Read() {
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvErr(err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != ncols {
			return nil, fmt.Errorf("%s:%d: row has %d fields, but line %d has %d", name, line, len(rec), firstLine, ncols)
		}
		for _, j := range featCols {
			l, _ := cr.FieldPos(j)
			v, err := parseNum(rec[j], l, j)
			if err != nil {
				return nil, err
			}
			ds.F32 = append(ds.F32, v)
		}
		if task == Regression {
			for _, j := range labelCols {
				l, _ := cr.FieldPos(j)
				v, err := parseNum(rec[j], l, j)
				if err != nil {
					return nil, err
				}
				ds.Targets = append(ds.Targets, v)
			}
		} else {
			text := strings.TrimSpace(rec[labelCols[0]])
			id, ok := nameIdx[text]
			if !ok {
				if text == "" {
					l, _ := cr.FieldPos(labelCols[0])
					return nil, fmt.Errorf("%s:%d: %s: the label is empty", name, l, colName(labelCols[0]))
				}
				id = int32(len(names))
				nameIdx[text] = id
				names = append(names, text)
				l, _ := cr.FieldPos(labelCols[0])
				nameLine = append(nameLine, l)
			}
			rawLabels = append(rawLabels, id)
		}
		ds.N++
	}

	if task == Regression {
		ds.TargetDim = len(labelCols)
	} else if err := setLabels(ds, rawLabels, names, nameLine, colName(labelCols[0])); err != nil {
		return nil, err
	}
	if err := ds.Check(); err != nil {
		return nil, err
	}
	return ds, nil
}

// setLabels turns label texts into class ids: integers when every text is
// one, else names numbered in sorted order.
func setLabels(ds *Dataset, raw []int32, names []string, lines []int, col string) error {
	ids := make([]int32, len(names))
	allInt := true
	for k, s := range names {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			allInt = false
			break
		}
		if v < 0 {
			return fmt.Errorf("%s:%d: %s: class id %d is negative; class ids run from 0", ds.Source, lines[k], col, v)
		}
		if v >= math.MaxInt32 {
			return fmt.Errorf("%s:%d: %s: class id %d is too large", ds.Source, lines[k], col, v)
		}
		ids[k] = int32(v)
		ds.NumClasses = max(ds.NumClasses, int(v)+1)
	}
	if !allInt {
		ds.NumClasses = len(names)
		ds.ClassNames = slices.Clone(names)
		slices.Sort(ds.ClassNames)
		for k, s := range names {
			i, _ := slices.BinarySearch(ds.ClassNames, s)
			ids[k] = int32(i)
		}
	}
	ds.Labels = make([]int32, len(raw))
	for i, r := range raw {
		ds.Labels[i] = ids[r]
	}
	return nil
}

// resolveColumn finds a column by header name or 0-based index.
func resolveColumn(ref string, header []string, ncols int) (int, error) {
	ref = strings.TrimSpace(ref)
	if header != nil {
		found := -1
		for j, h := range header {
			if h == ref {
				if found >= 0 {
					return 0, fmt.Errorf("%q is ambiguous: columns %d and %d both have that name", ref, found, j)
				}
				found = j
			}
		}
		if found >= 0 {
			return found, nil
		}
	}
	j, err := strconv.Atoi(ref)
	switch {
	case err != nil && header == nil:
		return 0, fmt.Errorf("%q: the file has no header row, so columns are named by 0-based index", ref)
	case err != nil:
		return 0, fmt.Errorf("%q not found (columns: %s)", ref, strings.Join(header, ", "))
	case j < 0 || j >= ncols:
		return 0, fmt.Errorf("index %d is out of range: the file has %d columns (0 to %d)", j, ncols, ncols-1)
	}
	return j, nil
}

// truncate shortens a cell for a message.
func truncate(s string) string {
	if len(s) <= 40 {
		return s
	}
	return s[:40] + "..."
}

// newCSVReader returns a reader of CSV records from r (a UTF-8 byte order
// mark skipped, rows of any length: callers check them with better
// messages) and the function that words its errors with the file name and
// line.
func newCSVReader(name string, r io.Reader) (*csv.Reader, func(error) error) {
	br := bufio.NewReader(r)
	if bom, _ := br.Peek(3); string(bom) == "\ufeff" {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	cr.TrimLeadingSpace = true
	return cr, func(err error) error {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return fmt.Errorf("%s:%d: malformed CSV: %v", name, pe.Line, pe.Err)
		}
		return fmt.Errorf("%s: %v", name, err)
	}
}
