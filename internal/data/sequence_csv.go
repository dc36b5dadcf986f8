package data

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// ParseSeriesCSV reads a numeric series from the CSV r, one time step per
// row; name labels messages and becomes the Source. The header row is
// required: columns are picked by name (opts.Inputs, opts.Targets). Only
// the columns picked are parsed and stored, as float32, so other columns
// (a date, say) may hold anything. Errors give the 1-based line and the
// column. The normalisation (opts.Normalize) is fitted per column on the
// training region only. A series whose stored values would need more than
// opts.MaxBytes is refused as soon as the rows read add up to more.
func ParseSeriesCSV(name string, r io.Reader, opts SeqOptions) (seq *Sequence, train, val Windows, err error) {
	fail := func(err error) (*Sequence, Windows, Windows, error) { return nil, Windows{}, Windows{}, err }
	if err := opts.check(name, SeqSeries); err != nil {
		return fail(err)
	}
	lim := opts.limit()
	cr := newCSVReader(name, r, lim)

	rec, err := cr.next()
	if errors.Is(err, io.EOF) {
		return fail(fmt.Errorf("%s: file is empty", name))
	}
	if err != nil {
		return fail(err)
	}
	headerLine, _ := cr.FieldPos(0)
	if sep := otherSeparator(rec[0]); len(rec) == 1 && sep != "" {
		return fail(fmt.Errorf("%s:%d: the first row is a single field, %q, which looks separated by %s; nettrain reads comma-separated files", name, headerLine, truncate(rec[0]), sep))
	}
	if slices.ContainsFunc(rec, func(f string) bool { return strings.Contains(f, "\r") }) {
		return fail(fmt.Errorf("%s:%d: the first row holds carriage returns but no line feed: lines end in CR alone (old Mac style); nettrain reads LF or CRLF line ends", name, headerLine))
	}
	header := slices.Clone(rec)
	allNumeric := true
	for i := range header {
		header[i] = strings.TrimSpace(header[i])
		if _, err := parseFloat(header[i], 64); err != nil {
			allNumeric = false
		}
	}
	if allNumeric {
		return fail(fmt.Errorf("%s:%d: the first row (%s) holds numbers, but a series CSV needs a header row naming its columns",
			name, headerLine, truncate(strings.Join(header, ", "))))
	}
	ncols := len(header)
	colName := func(j int) string { return fmt.Sprintf("column %q (index %d)", header[j], j) }

	// Resolve the columns: file indexes of the inputs and targets.
	resolve := func(refs []string, role string) ([]int, error) {
		if len(refs) == 0 {
			return nil, nil
		}
		cols := make([]int, len(refs))
		for k, ref := range refs {
			ref = strings.TrimSpace(ref)
			j, err := seriesColumn(ref, header)
			if err != nil {
				return nil, fmt.Errorf("%s: %s column %s", name, role, err)
			}
			if slices.Contains(cols[:k], j) {
				return nil, fmt.Errorf("%s: %s column %q is named twice", name, role, ref)
			}
			cols[k] = j
		}
		return cols, nil
	}
	inFile, err := resolve(opts.Inputs, "input")
	if err != nil {
		return fail(err)
	}
	outFile, err := resolve(opts.Targets, "target")
	if err != nil {
		return fail(err)
	}
	if inFile == nil {
		inFile = make([]int, ncols)
		for j := range inFile {
			inFile[j] = j
		}
	}
	if outFile == nil {
		outFile = inFile
	}
	// Stored columns: the union, in file order.
	stored := slices.Concat(inFile, outFile)
	slices.Sort(stored)
	stored = slices.Compact(stored)
	seq = &Sequence{Source: name, Kind: SeqSeries}
	for _, j := range stored {
		seq.Columns = append(seq.Columns, header[j])
	}
	toStored := func(file []int) []int {
		idx := make([]int, len(file))
		for k, j := range file {
			idx[k], _ = slices.BinarySearch(stored, j)
		}
		return idx
	}
	seq.In, seq.Out = toStored(inFile), toStored(outFile)
	// byDefault reports whether column j was picked only because Inputs
	// was left empty, for a hint when it is not numeric.
	byDefault := func(j int) bool {
		return len(opts.Inputs) == 0 && !(len(opts.Targets) > 0 && slices.Contains(outFile, j))
	}

	size := int64(4) // a float32 per stored column, or a float64
	if opts.Float64 {
		size = 8
	}
	rowBytes := size * int64(len(stored))
	for {
		rec, err = cr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fail(err)
		}
		line, _ := cr.FieldPos(0)
		if err := lim.check(fmt.Sprintf("%s:%d", name, line), "the series read up to this line", mulBytes(int64(seq.N+1), rowBytes)); err != nil {
			return fail(err)
		}
		switch {
		case len(rec) < ncols:
			return fail(fmt.Errorf("%s:%d: row has %d fields, but the header on line %d has %d (%s is missing)",
				name, line, len(rec), headerLine, ncols, colName(len(rec))))
		case len(rec) > ncols:
			return fail(fmt.Errorf("%s:%d: row has %d fields, but the header on line %d has %d (field %d has no column)",
				name, line, len(rec), headerLine, ncols, ncols+1))
		}
		for _, j := range stored {
			v, problem := parseCell(rec[j], opts.Float64)
			if problem != "" {
				l, _ := cr.FieldPos(j)
				msg := fmt.Sprintf("%s:%d: %s: %q %s", name, l, colName(j), truncate(rec[j]), problem)
				if byDefault(j) && problem != notDecimal { // a number, written otherwise
					msg += " (inputs default to every column; name the numeric ones)"
				}
				return fail(errors.New(msg))
			}
			if opts.Float64 {
				seq.values64 = append(seq.values64, v)
			} else {
				seq.values = append(seq.values, float32(v))
			}
		}
		if opts.Difference && seq.N > 0 {
			if err := checkChange(seq, len(stored), func(k int) string {
				l, _ := cr.FieldPos(stored[k])
				return fmt.Sprintf("%s:%d: %s", name, l, colName(stored[k]))
			}); err != nil {
				return fail(err)
			}
		}
		seq.N++
	}
	if least := map[bool]int{false: 2, true: 1}[opts.RowsOnly]; seq.N < least {
		return fail(fmt.Errorf("%s: has %d data rows after the header; a series needs at least %d", name, seq.N, least))
	}
	seq.values, seq.values64 = slices.Clip(seq.values), slices.Clip(seq.values64)
	if opts.Difference {
		c := len(stored)
		// The levels stay, and the changes take as much again.
		if err := lim.check(name, "the differenced series, with its levels,", mulBytes(int64(2*(len(seq.values)+len(seq.values64))), size)); err != nil {
			return fail(err)
		}
		seq.levels, seq.values = seq.values, difference(seq.values, c)
		seq.levels64, seq.values64 = seq.values64, difference(seq.values64, c)
		seq.N--
		seq.Differenced = true
	}
	if opts.RowsOnly {
		return seq, Windows{}, Windows{}, nil
	}
	trainEnd, valStart, err := splitRegions(name, seq.N, opts)
	if err != nil {
		return fail(err)
	}
	seq.setSpec(opts, trainEnd, valStart)
	if opts.Float64 {
		seq.Norm, err = fitColumns(name, seq.Columns, seq.values64[:trainEnd*len(stored)], opts.Normalize)
	} else {
		seq.Norm, err = fitColumns(name, seq.Columns, seq.values[:trainEnd*len(stored)], opts.Normalize)
	}
	if err != nil {
		return fail(err)
	}
	train, val = seq.split()
	return seq, train, val, nil
}

// seriesColumn finds a column by its header name.
func seriesColumn(ref string, header []string) (int, error) {
	found := -1
	for j, h := range header {
		if h == ref {
			if found >= 0 {
				return 0, fmt.Errorf("%q is ambiguous: columns %d and %d both have that name", ref, found, j)
			}
			found = j
		}
	}
	if found < 0 {
		return 0, fmt.Errorf("%q not found (columns: %s)", ref, listColumns(header))
	}
	return found, nil
}

// difference returns the changes from one row of c values to the next of
// rows (position-major): one row fewer; nil for nil.
func difference[E float32 | float64](rows []E, c int) []E {
	if rows == nil {
		return nil
	}
	d := make([]E, len(rows)-c)
	for i := range d {
		d[i] = rows[i+c] - rows[i]
	}
	return d
}

// checkChange checks that the change from the previous row to the row
// just appended to seq (c values each) is finite in the stored precision:
// two finite values far apart, such as 3e38 and -3e38 as float32, have a
// difference that is not. where(k) names the row's line and stored
// column k for the message.
func checkChange(seq *Sequence, c int, where func(k int) string) error {
	for k := range c {
		var prev, cur, d float64
		bits, kind := 64, "float64"
		if seq.values64 != nil {
			i := len(seq.values64) - c + k
			prev, cur = seq.values64[i-c], seq.values64[i]
			d = cur - prev
		} else {
			bits, kind = 32, "float32"
			i := len(seq.values) - c + k
			prev, cur = float64(seq.values[i-c]), float64(seq.values[i])
			d = float64(seq.values[i] - seq.values[i-c]) // rounded to float32, as difference takes it
		}
		if math.IsInf(d, 0) || math.IsNaN(d) {
			return fmt.Errorf("%s: the change from the previous row, %s - (%s), is not a finite %s (difference: true takes the changes from one row to the next; scale the column down)",
				where(k), strconv.FormatFloat(cur, 'g', -1, bits), strconv.FormatFloat(prev, 'g', -1, bits), kind)
		}
	}
	return nil
}

// parseCell parses a numeric cell as float32, or as float64 when f64;
// problem says what is wrong with it, or is empty.
func parseCell(cell string, f64 bool) (v float64, problem string) {
	s := strings.TrimSpace(cell)
	bits, kind := 32, "float32"
	if f64 {
		bits, kind = 64, "float64"
	}
	f, err := parseFloat(s, bits)
	switch {
	case s == "":
		return 0, "is empty; want a number"
	case err != nil && errors.Is(err, strconv.ErrRange):
		return 0, "is out of " + kind + " range"
	case errors.Is(err, errNotDecimal):
		return 0, notDecimal
	case err != nil:
		return 0, "is not a number"
	case math.IsNaN(f) || math.IsInf(f, 0):
		return 0, "is not a finite number"
	}
	return f, ""
}

// fitColumns fits a per-column normalisation on rows of len(columns)
// values (position-major), which must be the training region only. The
// methods are those of Fit: Unit leaves float data unchanged, and a
// column whose spread is too small to scale within MaxScale is an error
// naming source and the column.
func fitColumns[E float32 | float64](source string, columns []string, rows []E, method Method) (*Normalizer, error) {
	c := len(columns)
	var e E
	f64 := any(e) != any(float32(0))
	maxScale := MaxScale(f64)
	tooSmall := func(j int, spread float64) error {
		return scaleError(source, fmt.Sprintf("column %q", columns[j]), method, spread, f64)
	}
	n := &Normalizer{Method: method, Offset: make([]float64, c), Scale: make([]float64, c)}
	for j := range n.Scale {
		n.Scale[j] = 1
	}
	m := len(rows) / c // at least 2: the training region holds a window
	switch method {
	case MinMax:
		lo, hi := n.Offset, make([]float64, c)
		for j := range lo {
			lo[j], hi[j] = math.Inf(1), math.Inf(-1)
		}
		for i, v := range rows {
			j := i % c
			lo[j] = min(lo[j], float64(v))
			hi[j] = max(hi[j], float64(v))
		}
		for j := range lo {
			if hi[j] > lo[j] {
				if n.Scale[j] = 1 / (hi[j] - lo[j]); !(n.Scale[j] <= maxScale) {
					return nil, tooSmall(j, hi[j]-lo[j])
				}
			}
		}
	case Standardize: // two passes, for accuracy
		mean := n.Offset
		for i, v := range rows {
			mean[i%c] += float64(v)
		}
		for j := range mean {
			mean[j] /= float64(m)
		}
		ss := make([]float64, c)
		for i, v := range rows {
			d := float64(v) - mean[i%c]
			ss[i%c] += d * d
		}
		for j := range ss {
			if std := math.Sqrt(ss[j] / float64(m)); std > 0 {
				if n.Scale[j] = 1 / std; !(n.Scale[j] <= maxScale) {
					return nil, tooSmall(j, std)
				}
			}
		}
	}
	return n, nil
}
