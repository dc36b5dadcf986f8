package data

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/nettrain/nettrain/internal/safeio"
)

// Header says whether a CSV file starts with a header row.
type Header int

const (
	// HeaderAuto (the zero value) takes the first row as a header when
	// one of its cells is a word and none is a number, or when a word
	// sits above a number on the second row: a column of numbers does not
	// start with a word, so "2019,2020,y" over "1,2,0" is a header. An
	// empty cell or a missing-value marker (NA, N/A, NULL, ?, ...) is no
	// word: "1.5,,0.7" is data, whose empty cell is an error. When
	// only a classification label column says so and that column holds
	// words further down too, ReadCSV refuses the file as ambiguous
	// (data.csv.header decides); CSVStream, whose label column is optional,
	// takes the header.
	HeaderAuto Header = iota
	// HeaderPresent: the first row names the columns.
	HeaderPresent
	// HeaderAbsent: the first row is data.
	HeaderAbsent
)

// LabelKind says what a classification label column holds.
type LabelKind int

const (
	// LabelsAuto (the zero value): class ids when every label is a number
	// (see Classification), which must then leave no id from 0 to the
	// largest without a row (labels 1 to 3, or codes 100, 200, 300, are an
	// error asking for LabelsAreIDs or LabelsAreNames); class names when a
	// label is not a number.
	LabelsAuto LabelKind = iota
	// LabelsAreIDs: class ids, every id from 0 to the largest a class,
	// with rows or not; a label that is not a whole number is an error.
	LabelsAreIDs
	// LabelsAreNames: class names, numbers too ("1" and "1.0" are two
	// names).
	LabelsAreNames
)

// Task is what the label columns hold.
type Task string

const (
	// Classification: one label column of class ids or class names. The
	// column holds class ids when every label in it is a number; each must
	// then be a whole number from 0, written as an integer or not ("3",
	// "3.0", "3e0" are class 3; "1.5" is an error), and every id up to the
	// largest must have a row (see LabelKind). When any label is not a
	// number, the column holds class names and every label is a name,
	// "1" and "1.0" included (two different names); ids are given in
	// sorted name order. NaN and Inf count as numbers (and are not class
	// ids). CSVOptions.LabelKind may say ids or names instead; with
	// CSVOptions.Classes, the training mapping decides. The empty Task
	// means Classification.
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
	// LabelKind says what a classification label column holds; with
	// Classes, the mapping decides instead.
	LabelKind LabelKind
	// Classes, when not nil, is the training data's class mapping
	// (Dataset.ClassMap of the training set): validation and test files
	// are read with it. With Names, every label is a class name looked up
	// in Names; with integer ids, every label must be a class id below
	// NumClasses. An unknown name or an id out of range is an error. The
	// Dataset gets NumClasses and ClassNames from the mapping. Ignored
	// for Regression.
	Classes *ClassMap
	// Trained, when not nil, names the columns a model was trained on,
	// for reading validation and test files: it replaces Features and
	// Labels, and a column missing from the file, or one the model was
	// not trained on, is an error naming it (see TrainedColumns).
	Trained *TrainedColumns
	// Float64 keeps features and regression targets as float64 (F64,
	// Targets64), each value as strconv.ParseFloat(.., 64) reads it, for
	// float64 training; false stores them as float32 (F32, Targets).
	Float64 bool
}

// TrainedColumns are the columns of a training CSV file, as its Dataset
// names them (FeatureColumns, LabelColumns), for reading validation and
// test files with them: each is found by name, in any order (by index when
// the names are indexes, from a training file without a header row), so
// that a file whose columns are reordered is read as training read its
// own, and a file without one of them (x1..x4 for a..d) is an error naming
// the file and the column, not read by position. A file with a header row
// is an error when the names are all indexes that the header does not
// hold: its columns would be read by position, whatever their names.
type TrainedColumns struct {
	// Features and Labels name the training features and the label or
	// target columns, distinct, in the model's order.
	Features, Labels []string
	// AllFeatures says that the training features were every column that
	// is not a label (CSVOptions.Features empty): a column of the file
	// that is neither is then an error, since the training file would
	// have fed it to the model. Without it (the features were picked by
	// name) other columns are ignored, as training ignored them.
	AllFeatures bool
}

// ReadCSV reads a CSV data set from path, a regular file (a FIFO or a
// device such as /dev/zero is refused at once), reading at most the size
// it had when it was opened.
func ReadCSV(path string, opts CSVOptions) (*Dataset, error) {
	return readCSV(path, opts, limit{})
}

// readCSV is ReadCSV with a limit on the memory of the data set.
func readCSV(path string, opts CSVOptions, lim limit) (*Dataset, error) {
	f, size, err := safeio.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseCSV(path, safeio.LimitSize(f, path, size), opts, lim)
}

// ParseCSV reads a CSV data set from r; name labels messages and becomes
// the Dataset's Source. Errors give the 1-based line and the column; a
// malformed row is reported where it starts (a quote left open: where its
// field starts).
func ParseCSV(name string, r io.Reader, opts CSVOptions) (*Dataset, error) {
	return parseCSV(name, r, opts, limit{})
}

// parseCSV is ParseCSV with a limit on the memory of the data set, which
// also bounds the text of one row.
func parseCSV(name string, r io.Reader, opts CSVOptions, lim limit) (*Dataset, error) {
	task := opts.Task
	if task == "" {
		task = Classification
	}
	if task != Classification && task != Regression {
		return nil, fmt.Errorf("%s: unknown task %q (want %q or %q)", name, opts.Task, Classification, Regression)
	}
	classes := opts.Classes
	if task == Regression {
		classes = nil
	}
	if classes != nil {
		if err := classes.check(name); err != nil {
			return nil, err
		}
	}
	cr := newCSVReader(name, r, lim)

	rec, err := cr.next()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: file is empty", name)
	}
	if err != nil {
		return nil, err
	}
	ncols := len(rec)
	firstLine, _ := cr.FieldPos(0)
	if sep := otherSeparator(rec[0]); ncols == 1 && sep != "" {
		return nil, fmt.Errorf("%s:%d: the first row is a single field, %q, which looks separated by %s; nettrain reads comma-separated files", name, firstLine, truncate(rec[0]), sep)
	}

	var header []string
	var decided []int // the columns that made HeaderAuto take line 1 as a header, when words elsewhere on it did not
	switch opts.Header {
	case HeaderPresent:
		header = slices.Clone(rec)
	case HeaderAbsent:
	case HeaderAuto:
		var isHeader bool
		if isHeader, decided = autoHeader(rec, cr); isHeader {
			header = slices.Clone(rec)
		}
	default:
		return nil, fmt.Errorf("%s: bad Header option %d", name, opts.Header)
	}
	var first []string // line 1 as data, for the hint of a column name not found
	if header == nil {
		first = slices.Clone(rec)
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
	labelCols, featCols, err := resolveCSVColumns(name, opts, task, header, first, ncols, colName)
	if err != nil {
		return nil, err
	}
	// A header that only a classification label column told apart is
	// uncertain: that column may hold class names, one of them on line 1.
	// It is checked once the labels are read.
	var unsure []int
	if task == Classification && !slices.ContainsFunc(decided, func(j int) bool { return j != labelCols[0] }) {
		unsure = decided
	}

	ds := &Dataset{Source: name, Shape: []int{len(featCols)}}
	ref := func(j int) string {
		if header != nil {
			return header[j]
		}
		return strconv.Itoa(j)
	}
	for _, j := range featCols {
		ds.FeatureColumns = append(ds.FeatureColumns, ref(j))
	}
	for _, j := range labelCols {
		ds.LabelColumns = append(ds.LabelColumns, ref(j))
	}
	var (
		rawLabels []int32  // per row: index into names
		names     []string // distinct label texts, in order of appearance
		nameLine  []int    // line where each name first appears
		nameIdx   = map[string]int32{}
	)
	parseNum := func(cell string, line, j int, wordHint string) (float64, error) {
		return parseNumCell(name, cell, line, colName(j), line == firstLine && opts.Header == HeaderAuto, opts.Float64, wordHint)
	}
	// A word in a feature column of a training file whose features are
	// every other column: one the user may not mean as a feature.
	featureHint := ""
	if len(opts.Features) == 0 && opts.Trained == nil {
		featureHint = "; leave the column out by listing the feature columns in data.csv.features, or encode it as numbers"
	}

	// The memory the data set needs, counted as rows are read: a float32
	// (float64 with opts.Float64) per feature and target, an int32 per
	// label read and another per label converted, and the text of each
	// class name.
	size := int64(4)
	if opts.Float64 {
		size = 8
	}
	rowBytes := size * int64(len(featCols))
	if task == Regression {
		rowBytes += size * int64(len(labelCols))
	} else {
		rowBytes += 8
	}
	var memBytes int64

	if header == nil {
		// The first record is data: process it below with the rest.
	} else if rec, err = cr.next(); errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: has a header row but no data rows", name)
	}
	for ; ; rec, err = cr.next() {
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		line, _ := cr.FieldPos(0)
		memBytes += rowBytes
		if err := lim.check(fmt.Sprintf("%s:%d", name, line), "the data read up to this line", memBytes); err != nil {
			return nil, err
		}
		if len(rec) != ncols {
			return nil, fmt.Errorf("%s:%d: row has %d fields, but line %d has %d", name, line, len(rec), firstLine, ncols)
		}
		for _, j := range featCols {
			l, _ := cr.FieldPos(j)
			v, err := parseNum(rec[j], l, j, featureHint)
			if err != nil {
				return nil, err
			}
			ds.appendFeature(v, opts.Float64)
		}
		if task == Regression {
			for _, j := range labelCols {
				l, _ := cr.FieldPos(j)
				v, err := parseNum(rec[j], l, j, "")
				if err != nil {
					return nil, err
				}
				ds.appendTarget(v, opts.Float64)
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
				memBytes += int64(len(text))
				l, _ := cr.FieldPos(labelCols[0])
				nameLine = append(nameLine, l)
			}
			rawLabels = append(rawLabels, id)
		}
		ds.N++
	}

	if len(unsure) > 0 {
		if k := slices.IndexFunc(names, func(s string) bool { return !isNumber(s) }); k >= 0 {
			j := unsure[0]
			return nil, fmt.Errorf("%s:%d: cannot tell whether line %d is a header row: column index %d holds %q there, above the number %s on line %d, but also words such as %q (line %d); set data.csv.header: true or false",
				name, firstLine, firstLine, j, truncate(header[j]), truncate(names[0]), nameLine[0], truncate(names[k]), nameLine[k])
		}
	}
	// Line 1 read as data whose label is a word no other line has (a
	// header "1,2,label" over "0.4,0.5,cat": numeric column names) would
	// make a class of one sample, the column's name.
	if opts.Header == HeaderAuto && header == nil && task == Classification && ds.N > 2 && len(rawLabels) > 0 &&
		!isNumber(names[rawLabels[0]]) && !missingValue(names[rawLabels[0]]) &&
		slices.Index(rawLabels[1:], rawLabels[0]) < 0 {
		return nil, fmt.Errorf("%s:%d: cannot tell whether line %d is a header row: it was read as data, but its label, %q in %s, is on no other line; set data.csv.header: true (line %d names the columns) or false (it is data)",
			name, firstLine, firstLine, truncate(names[rawLabels[0]]), colName(labelCols[0]), firstLine)
	}
	if task == Regression {
		ds.TargetDim = len(labelCols)
	} else if err := setLabels(ds, rawLabels, names, nameLine, colName(labelCols[0]), classes, opts.LabelKind); err != nil {
		return nil, err
	}
	if err := ds.Check(); err != nil {
		return nil, err
	}
	return ds, nil
}

// setLabels turns label texts into class ids. texts are the distinct
// labels, lines where each first appears; raw gives each row's index into
// texts. Without a mapping cm, the column holds class ids when every text
// is a number, else class names numbered in sorted order; with one, cm
// decides (see CSVOptions.Classes), and else kind.
func setLabels(ds *Dataset, raw []int32, texts []string, lines []int, col string, cm *ClassMap, kind LabelKind) error {
	errf := func(k int, format string, args ...any) error {
		return fmt.Errorf("%s:%d: %s: %s", ds.Source, lines[k], col, fmt.Sprintf(format, args...))
	}
	ids := make([]int32, len(texts))
	named := cm != nil && cm.Names != nil
	if cm == nil {
		switch kind {
		case LabelsAreNames:
			named = true
		case LabelsAreIDs:
			if k := slices.IndexFunc(texts, func(s string) bool { return !isNumber(s) }); k >= 0 {
				return errf(k, "label %q is not a class id (data.csv.classes is ids)", truncate(texts[k]))
			}
		default:
			named = slices.ContainsFunc(texts, func(s string) bool { return !isNumber(s) })
		}
	}
	switch {
	case named && cm != nil:
		index := make(map[string]int32, len(cm.Names))
		for i, n := range cm.Names {
			index[n] = int32(i)
		}
		for k, s := range texts {
			id, ok := index[s]
			if !ok {
				return errf(k, "unknown class %q; the training classes are %s", truncate(s), listNames(cm.Names))
			}
			ids[k] = id
		}
		ds.NumClasses, ds.ClassNames = cm.NumClasses, slices.Clone(cm.Names)
	case named:
		ds.NumClasses = len(texts)
		ds.ClassNames = slices.Clone(texts)
		slices.Sort(ds.ClassNames)
		for k, s := range texts {
			i, _ := slices.BinarySearch(ds.ClassNames, s)
			ids[k] = int32(i)
		}
	default:
		for k, s := range texts {
			if !isNumber(s) { // only with a mapping of integer ids
				return errf(k, "label %q is not a class id (%s)", truncate(s), cm.describe())
			}
			v, _ := parseFloat(s, 64) // ±Inf when out of range
			switch {
			case math.IsNaN(v) || !math.IsInf(v, 0) && v != math.Trunc(v):
				if cm != nil {
					return errf(k, "label %s is not a class id (%s)", truncate(s), cm.describe())
				}
				hint := regressionHint
				if math.IsNaN(v) {
					hint = "" // no target either
				}
				return errf(k, "label %s is not a class id (class ids are whole numbers from 0)%s", truncate(s), hint)
			case v < 0:
				return errf(k, "class id %s is negative; class ids run from 0", truncate(s))
			case cm != nil && v >= float64(cm.NumClasses):
				return errf(k, "class id %s is not a training class (%s)", truncate(s), cm.describe())
			case v >= math.MaxInt32:
				return errf(k, "class id %s is too large", truncate(s))
			}
			ids[k] = int32(v)
			if int(v)+1 > ds.NumClasses {
				ds.NumClasses = int(v) + 1
				ds.ClassesFrom = fmt.Sprintf("%s:%d: %s: class id %s", ds.Source, lines[k], col, truncate(s))
			}
		}
		if cm != nil {
			ds.NumClasses, ds.ClassesFrom = cm.NumClasses, ""
		} else if kind == LabelsAuto {
			if err := everyID(ds, ids, texts, lines, errf); err != nil {
				return err
			}
		}
	}
	ds.Labels = make([]int32, len(raw))
	for i, r := range raw {
		ds.Labels[i] = ids[r]
	}
	return nil
}

// autoHeader decides whether first, the first row, is a header row
// (HeaderAuto): when a cell is a word and none is a number, or when a
// word sits above a number on the next row, which it peeks at; decided
// lists the columns of the second case. An empty cell or a missing-value
// marker (missingValue) is neither a word nor a number: it says nothing
// about a header, so a first row whose other cells are numbers is data
// (and its missing value an error at its line).
func autoHeader(first []string, cr *csvReader) (header bool, decided []int) {
	num := func(c string) bool {
		_, err := parseFloat(strings.TrimSpace(c), 64)
		return err == nil
	}
	word := func(c string) bool { return !num(c) && !missingValue(c) }
	if !slices.ContainsFunc(first, word) {
		return false, nil // numbers and missing values only
	}
	if !slices.ContainsFunc(first, num) {
		return true, nil
	}
	second, err := cr.peek()
	if err != nil || len(second) != len(first) {
		return false, nil // the error, or the ragged row, is reported as a data row's
	}
	for j := range first {
		if word(first[j]) && num(second[j]) {
			decided = append(decided, j)
		}
	}
	return decided != nil, decided
}

// missingValues are the cells that mark a missing value in CSV files:
// pandas.read_csv's default na_values that strconv.ParseFloat does not
// read as a number (it reads NaN and nan), and "?" (the UCI
// repository's). They are no column names for HeaderAuto.
var missingValues = map[string]bool{
	"": true, "#N/A": true, "#N/A N/A": true, "#NA": true, "-1.#IND": true, "-1.#QNAN": true,
	"1.#IND": true, "1.#QNAN": true, "<NA>": true, "N/A": true, "NA": true, "NULL": true,
	"None": true, "n/a": true, "null": true, "-NaN": true, "-nan": true, "?": true,
}

// missingValue reports whether a cell is empty (spaces aside) or a
// missing-value marker (missingValues).
func missingValue(c string) bool { return missingValues[strings.TrimSpace(c)] }

// headerHint is the hint of an error that would not be one if line 1
// were a header row.
const headerHint = "if line 1 names the columns, set data.csv.header: true"

// everyID refuses class ids read without data.csv.classes that leave an
// id from 0 to the largest without a row: labels 1 to 3 would make a
// class 0 no sample has, codes 100, 200, 300 a model of 301 classes.
// ids are the ids of the distinct label texts.
func everyID(ds *Dataset, ids []int32, texts []string, lines []int, errf func(int, string, ...any) error) error {
	seen := slices.Clone(ids)
	slices.Sort(seen)
	seen = slices.Compact(seen)
	if len(seen) == ds.NumClasses {
		return nil
	}
	// The missing ids, as ranges: at most 5, then "...".
	var gaps []string
	next := int32(0)
	for _, id := range append(seen, int32(ds.NumClasses)) {
		if id > next && len(gaps) == 5 {
			gaps = append(gaps, "...")
			break
		}
		switch {
		case id == next+1:
			gaps = append(gaps, strconv.Itoa(int(next)))
		case id > next:
			gaps = append(gaps, fmt.Sprintf("%d to %d", next, id-1))
		}
		next = id + 1
	}
	what := "class " + gaps[0]
	if len(gaps) > 1 || strings.Contains(gaps[0], " to ") {
		what = "classes " + strings.Join(gaps, ", ")
	}
	top := slices.Index(ids, seen[len(seen)-1]) // the label text of the largest id
	return errf(top, "the labels are numbers, read as class ids 0 to %d, but no row has %s; set data.csv.classes: names to read them as the names of %d classes, or ids to keep every id from 0 to %d as a class",
		ds.NumClasses-1, what, len(seen), ds.NumClasses-1)
}

// regressionHint ends the error of a training file's label of a number
// with a fraction (108.4), never a class id: the column is read as class
// labels because the loss is cross_entropy, the default, and most likely
// holds a regression's targets.
const regressionHint = "; for a regression on this column, set loss: mse"

// isNumber reports whether a label is a number: anything parseFloat
// reads, out of range or not ("1", "1.0", "3e0", "-2", "1e999", "NaN").
func isNumber(s string) bool {
	_, err := parseFloat(s, 64)
	return err == nil || errors.Is(err, strconv.ErrRange)
}

// ListNames lists class names for a message: quoted, at most 20.
func ListNames(names []string) string { return listNames(names) }

// listNames lists class names for a message: quoted, at most 20.
func listNames(names []string) string {
	const most = 20
	q := make([]string, 0, min(len(names), most))
	for _, n := range names[:min(len(names), most)] {
		q = append(q, strconv.Quote(truncate(n)))
	}
	s := strings.Join(q, ", ")
	if len(names) > most {
		s += fmt.Sprintf(", ... (%d in all)", len(names))
	}
	return s
}

// listColumns lists header names for a message, on one line: a plain
// name as it is, any other (empty, or holding a comma, a quote or a
// character that is not printable, such as a line end) quoted; long
// names shortened; at most 20.
func listColumns(header []string) string {
	const most = 20
	q := make([]string, 0, min(len(header), most))
	for _, h := range header[:min(len(header), most)] {
		h = truncate(h)
		if h == "" || strings.ContainsAny(h, `,"`) || strconv.Quote(h) != `"`+h+`"` {
			h = strconv.Quote(h)
		}
		q = append(q, h)
	}
	s := strings.Join(q, ", ")
	if len(header) > most {
		s += fmt.Sprintf(", ... (%d in all)", len(header))
	}
	return s
}

// otherSeparator says how a CSV field looks separated when it holds
// semicolons or tabs ("';'", "tabs"), else "".
func otherSeparator(s string) string {
	semi, tabs := strings.Count(s, ";"), strings.Count(s, "\t")
	switch {
	case tabs > 0 && tabs >= semi:
		return "tabs"
	case semi > 0:
		return "';'"
	}
	return ""
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
		return 0, fmt.Errorf("%q not found (columns: %s)", ref, listColumns(header))
	case j < 0 || j >= ncols:
		return 0, fmt.Errorf("index %d is out of range: the file has %d columns (0 to %d)", j, ncols, ncols-1)
	}
	return j, nil
}

// isInt reports whether a column reference is a 0-based index.
func isInt(ref string) bool {
	_, err := strconv.Atoi(strings.TrimSpace(ref))
	return err == nil
}

// trimmed is a row's cells with their spaces trimmed.
func trimmed(rec []string) []string {
	out := make([]string, len(rec))
	for i, c := range rec {
		out[i] = strings.TrimSpace(c)
	}
	return out
}

// resolveCSVColumns finds the label and feature columns of a CSV file
// by opts.Labels and opts.Features, or by opts.Trained.
func resolveCSVColumns(name string, opts CSVOptions, task Task, header, first []string, ncols int, colName func(int) string) (labelCols, featCols []int, err error) {
	if t := opts.Trained; t != nil {
		return trainedColumns(name, t, task, header, ncols, colName)
	}
	labelRefs := opts.Labels
	if len(labelRefs) == 0 {
		labelRefs = []string{strconv.Itoa(ncols - 1)}
		if header != nil {
			labelRefs = []string{header[ncols-1]}
		}
	}
	if task == Classification && len(labelRefs) != 1 {
		return nil, nil, fmt.Errorf("%s: classification needs exactly one label column, got %d (%s)", name, len(labelRefs), strings.Join(labelRefs, ", "))
	}
	used := map[int]string{}
	resolveAll := func(refs []string, role string) ([]int, error) {
		cols := make([]int, len(refs))
		for k, ref := range refs {
			j, err := resolveColumn(ref, header, ncols)
			if err != nil && header == nil && (!isInt(ref) || slices.Contains(trimmed(first), strings.TrimSpace(ref))) {
				// A name, or a number that line 1 holds: line 1 may be a header.
				return nil, fmt.Errorf("%s: %s column %s (%s)", name, role, err, headerHint)
			}
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
	if labelCols, err = resolveAll(labelRefs, "label"); err != nil {
		return nil, nil, err
	}
	if len(opts.Features) > 0 {
		if featCols, err = resolveAll(opts.Features, "feature"); err != nil {
			return nil, nil, err
		}
	} else {
		for j := range ncols {
			if _, isLabel := used[j]; !isLabel {
				featCols = append(featCols, j)
			}
		}
	}
	if len(featCols) == 0 {
		return nil, nil, fmt.Errorf("%s: no feature columns: the file has %d columns and all are labels", name, ncols)
	}
	// Validation, test and predict files are read by the names of the
	// columns used here (trainedColumns): each needs a name of its own.
	if header != nil {
		first, twice := make(map[string]int, len(header)), map[string]int{}
		for k, h := range header {
			if _, seen := first[h]; seen {
				if _, ok := twice[h]; !ok {
					twice[h] = k
				}
			} else {
				first[h] = k
			}
		}
		for _, j := range slices.Concat(featCols, labelCols) {
			if k, dup := twice[header[j]]; dup {
				return nil, nil, fmt.Errorf("%s: %s and %s have the same name; the model finds the columns it uses by name in validation, test and predict files, so each needs a name of its own: rename one",
					name, colName(first[header[j]]), colName(k))
			}
		}
	}
	return labelCols, featCols, nil
}

// trainedColumns finds the columns a model was trained on (t) in a
// validation or test file by name: a missing one, or with t.AllFeatures a
// column that is neither a feature nor a label, is an error naming it.
func trainedColumns(name string, t *TrainedColumns, task Task, header []string, ncols int, colName func(int) string) (labelCols, featCols []int, err error) {
	if task == Classification && len(t.Labels) != 1 {
		return nil, nil, fmt.Errorf("%s: classification needs exactly one label column, got %d (%s)", name, len(t.Labels), strings.Join(t.Labels, ", "))
	}
	if positional(t.Features, t.Labels, header) {
		return nil, nil, fmt.Errorf("%s: has a header row (%s), but the model was trained on a CSV file without one, so it knows its columns by position only and none by name: remove the header row to read the columns by position, as training did",
			name, listColumns(header))
	}
	has := "the columns " + listColumns(header)
	if header == nil {
		has = fmt.Sprintf("%d columns and no header row", ncols)
	}
	used := map[int]bool{}
	find := func(refs []string, what string) ([]int, error) {
		cols := make([]int, len(refs))
		for k, ref := range refs {
			j, err := resolveColumn(ref, header, ncols)
			if err != nil && strings.Contains(err.Error(), "is ambiguous") {
				return nil, fmt.Errorf("%s: column %v; the model was trained on one column of that name", name, err)
			}
			if err != nil || used[j] {
				return nil, fmt.Errorf("%s: has no column %q, %s the model was trained on (the file has %s)", name, ref, what, has)
			}
			used[j], cols[k] = true, j
		}
		return cols, nil
	}
	what, labels := "the label column", "its label column is "
	if task == Regression {
		what, labels = "a target column", "its target columns are "
	}
	if featCols, err = find(t.Features, "a feature"); err != nil {
		return nil, nil, err
	}
	if labelCols, err = find(t.Labels, what); err != nil {
		return nil, nil, err
	}
	if t.AllFeatures && len(used) < ncols {
		for j := range ncols {
			if !used[j] {
				return nil, nil, fmt.Errorf("%s: %s is not a column the model was trained on (its features are %s; %s%s)",
					name, colName(j), listColumns(t.Features), labels, listColumns(t.Labels))
			}
		}
	}
	return labelCols, featCols, nil
}

// positional reports whether a file with header is read by position
// although it names its columns: the columns of the model, features and
// labels (as Dataset.FeatureColumns and LabelColumns name them), are all
// indexes (its training file had no header row), and the header names
// none of them.
func positional(features, labels, header []string) bool {
	if header == nil {
		return false
	}
	for _, ref := range append(slices.Clone(features), labels...) {
		if !isInt(ref) || slices.Contains(header, strings.TrimSpace(ref)) {
			return false
		}
	}
	return len(features) > 0
}

// truncate shortens text a message quotes (safeio.Clip).
func truncate(s string) string { return safeio.Clip(s, 40) }

// appendFeature appends a feature value to F64 (f64) or F32.
func (ds *Dataset) appendFeature(v float64, f64 bool) {
	if f64 {
		ds.F64 = append(ds.F64, v)
	} else {
		ds.F32 = append(ds.F32, float32(v))
	}
}

// appendTarget appends a regression target to Targets64 (f64) or Targets.
func (ds *Dataset) appendTarget(v float64, f64 bool) {
	if f64 {
		ds.Targets64 = append(ds.Targets64, v)
	} else {
		ds.Targets = append(ds.Targets, float32(v))
	}
}

// parseNumCell reads a feature or target value: a finite float32, or a
// finite float64 when f64 (the value returned is then exactly
// strconv.ParseFloat(.., 64)'s). Its error names the file, line and
// column; firstRow adds the hint that line 1 may be a header, and
// wordHint (when no other hint applies) ends the error of a cell that is
// not a number.
func parseNumCell(name, cell string, line int, col string, firstRow, f64 bool, wordHint string) (float64, error) {
	s := strings.TrimSpace(cell)
	bits, kind := 32, "float32"
	if f64 {
		bits, kind = 64, "float64"
	}
	v, err := parseFloat(s, bits)
	var problem string
	switch {
	case s == "":
		problem = "is empty; want a number"
	case err != nil && errors.Is(err, strconv.ErrRange):
		problem = "is out of " + kind + " range"
	case errors.Is(err, errNotDecimal):
		problem = notDecimal
	case err != nil:
		problem = "is not a number"
	case math.IsNaN(v) || math.IsInf(v, 0):
		problem = "is not a finite number"
	default:
		return v, nil
	}
	msg := fmt.Sprintf("%s:%d: %s: %q %s", name, line, col, truncate(cell), problem)
	if sep := otherSeparator(s); sep != "" {
		msg += fmt.Sprintf(" (the file looks separated by %s; nettrain reads comma-separated files)", sep)
	} else if firstRow && !missingValue(cell) {
		// (A missing value is no column name: no hint.)
		msg += " (if line 1 is a header row, set data.csv.header: true)"
	} else if problem == "is not a number" && !missingValue(cell) {
		msg += wordHint
	}
	return 0, errors.New(msg)
}
