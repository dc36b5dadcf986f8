package data

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/nettrain/nettrain/internal/safeio"
)

// MaxCSVRow bounds the text of one CSV row whatever the memory limit (a
// smaller limit bounds it more): reading a row holds about 4.5 times its
// text (the reader's buffers and the record's fields), and 16 MiB of text
// holds over a million numbers.
const MaxCSVRow = 16 << 20

// csvReader reads the records of a CSV file for ParseCSV, ParseSeriesCSV
// and CSVStream: a UTF-8 byte order mark skipped, rows of any number of
// fields (callers check them with better messages), leading spaces
// trimmed. The text of one row may not exceed the limit, nor MaxCSVRow
// without one, so that a quote left open cannot make the reader hold a
// whole file as one field, nor one long line several copies of it. Its errors
// name the file and the line (and column) where the failing row or
// quoted field starts, not where the reader gave up.
type csvReader struct {
	*csv.Reader
	name string
	br   *bufio.Reader // the csv.Reader reads from it (and only it)
	in   *rowLimitReader
	bom  int64 // bytes of byte order mark skipped
	lim  limit
	// endLine is the last line of the previous row (0 before the first).
	endLine int
	// Of the row being read: the line it starts on, and the 1-based
	// column of the quoted field still open at the end of that line (0:
	// none, or unknown).
	rowLine, openCol int
	// ahead is the row peek read ahead, which next returns next; cur is
	// the row next returned last when FieldPos can no longer ask the
	// csv.Reader about it (a row was read ahead since, or it came from
	// ahead); nil: the csv.Reader's last row is the current one.
	ahead, cur *readRow
	curFields  int // fields of the row next returned last
}

// readRow is a row kept with its fields' positions, or the error reading
// it gave.
type readRow struct {
	rec       []string
	line, col []int
	err       error
}

// keep records the fields' positions of rec, the csv.Reader's last row.
func (c *csvReader) keep(rec []string, err error) *readRow {
	r := &readRow{rec: rec, err: err}
	for j := range rec {
		l, col := c.Reader.FieldPos(j)
		r.line, r.col = append(r.line, l), append(r.col, col)
	}
	return r
}

// FieldPos is csv.Reader's FieldPos for the row next returned last, also
// after peek read another.
func (c *csvReader) FieldPos(field int) (line, column int) {
	if c.cur != nil {
		return c.cur.line[field], c.cur.col[field]
	}
	return c.Reader.FieldPos(field)
}

// peek reads the next row ahead, without consuming it: next returns it
// (or its error) next. The row next returned last stays as it was, and
// FieldPos still gives its fields' positions.
func (c *csvReader) peek() ([]string, error) {
	if c.ahead != nil {
		return c.ahead.rec, c.ahead.err
	}
	if c.cur == nil {
		c.cur = &readRow{}
		for j := range c.curFields {
			l, col := c.Reader.FieldPos(j)
			c.cur.line, c.cur.col = append(c.cur.line, l), append(c.cur.col, col)
		}
	}
	c.ReuseRecord = false // the last row's fields stay as they are
	rec, err := c.read()
	c.ReuseRecord = true
	c.ahead = c.keep(rec, err)
	return rec, err
}

// next reads the next row. It returns io.EOF at the end, and otherwise an
// error that names the file and the line.
func (c *csvReader) next() ([]string, error) {
	if r := c.ahead; r != nil {
		c.ahead, c.cur, c.curFields = nil, r, len(r.rec)
		return r.rec, r.err
	}
	c.cur = nil
	rec, err := c.read()
	c.curFields = len(rec)
	return rec, err
}

// rowLimitReader passes reads through until stop bytes (0: no stop),
// then fails: the row being read is longer than the limit. It stops a row
// in progress within a buffer's size of the limit; a row read whole is
// checked exactly.
type rowLimitReader struct {
	r       io.Reader
	n, stop int64
	err     error
}

var errRowTooLong = errors.New("row too long")

func (l *rowLimitReader) Read(p []byte) (int, error) {
	if l.stop > 0 {
		if l.n >= l.stop {
			l.err = errRowTooLong
			return 0, l.err
		}
		p = p[:min(int64(len(p)), l.stop-l.n)]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	return n, err
}

// newCSVReader returns a reader of CSV records from r whose rows' text
// may not exceed lim, nor MaxCSVRow.
func newCSVReader(name string, r io.Reader, lim limit) *csvReader {
	if lim.max <= 0 || lim.max > MaxCSVRow {
		lim = limit{max: MaxCSVRow, name: "nettrain's limit on one row of a CSV"}
	}
	c := &csvReader{name: name, in: &rowLimitReader{r: r}, lim: lim}
	c.br = bufio.NewReader(c.in)
	if bom, _ := c.br.Peek(3); string(bom) == "\ufeff" {
		c.br.Discard(3)
		c.bom = 3
	}
	c.Reader = csv.NewReader(c.br)
	c.FieldsPerRecord = -1
	c.ReuseRecord = true
	c.TrimLeadingSpace = true
	return c
}

// read reads the next row from the csv.Reader.
func (c *csvReader) read() ([]string, error) {
	start := c.InputOffset()
	// The csv.Reader's buffer reads ahead by at most its size.
	c.in.stop = c.bom + start + c.lim.max + int64(c.br.Size())
	blank, col := c.peekRow()
	c.rowLine, c.openCol = c.endLine+1+blank, col
	rec, err := c.Read()
	switch {
	case c.in.err != nil, c.InputOffset()-start > c.lim.max:
		return nil, c.tooLong()
	case errors.Is(err, io.EOF):
		return nil, io.EOF
	case err != nil:
		return nil, c.fail(err)
	}
	// Quoted fields may span lines; each line end in one is a '\n' in it.
	last := len(rec) - 1
	l, _ := c.FieldPos(last)
	c.endLine = l + strings.Count(rec[last], "\n")
	return rec, nil
}

// tooLong reports a row longer than the limit.
func (c *csvReader) tooLong() error {
	what := c.lim.name
	if what == "" {
		what = "the limit"
	}
	if c.openCol > 0 {
		return fmt.Errorf("%s:%d:%d: the quoted field that starts here runs on for more than %s (%s) allows; is its closing quote missing?",
			c.name, c.rowLine, c.openCol, what, safeio.Bytes(c.lim.max))
	}
	return fmt.Errorf("%s:%d: the row that starts on this line is longer than %s (%s) allows", c.name, c.rowLine, what, safeio.Bytes(c.lim.max))
}

// fail words an error of the csv.Reader: the position where the row, or
// the quoted field, that fails starts, and where the reader gave up.
func (c *csvReader) fail(err error) error {
	var pe *csv.ParseError
	var grew *safeio.GrewError
	switch {
	case errors.As(err, &grew):
		return grew
	case !errors.As(err, &pe):
		return fmt.Errorf("%s: %v", c.name, err)
	case pe.Err == csv.ErrQuote && c.openCol > 0 && pe.Line == pe.StartLine:
		// The field's line was the last: the file ended in the field.
		return fmt.Errorf("%s:%d:%d: malformed CSV: %v: the quoted field that starts here is still open at the end of the file", c.name, pe.StartLine, c.openCol, pe.Err)
	case pe.Err == csv.ErrQuote && c.openCol > 0:
		return fmt.Errorf("%s:%d:%d: malformed CSV: %v: the quoted field that starts here runs to line %d, column %d", c.name, pe.StartLine, c.openCol, pe.Err, pe.Line, pe.Column)
	case pe.StartLine != pe.Line:
		return fmt.Errorf("%s:%d: malformed CSV: %v in the row that starts on this line, at line %d, column %d", c.name, pe.StartLine, pe.Err, pe.Line, pe.Column)
	}
	return fmt.Errorf("%s:%d:%d: malformed CSV: %v", c.name, pe.Line, pe.Column, pe.Err)
}

// peekRow looks at the start of the next row without consuming it: blank
// is the number of empty lines before it, which the csv.Reader skips, and
// openCol the column of the quoted field still open at the end of its
// first line (0: none, or the line is longer than the buffer). It reads
// ahead only when the buffer holds no whole line, so a file is not
// copied more than once more.
func (c *csvReader) peekRow() (blank, openCol int) {
	b, _ := c.br.Peek(c.br.Buffered())
	for filled := false; ; filled = true {
		rest := b
		blank = 0
		for {
			i := bytes.IndexByte(rest, '\n')
			if i < 0 {
				break
			}
			line := bytes.TrimSuffix(rest[:i], []byte("\r"))
			if len(line) == 0 {
				blank++
				rest = rest[i+1:]
				continue
			}
			return blank, openQuoteColumn(line)
		}
		if filled {
			if len(rest) > 0 && len(b) < c.br.Size() { // the last line, without a line end
				return blank, openQuoteColumn(rest)
			}
			return blank, 0
		}
		b, _ = c.br.Peek(c.br.Size())
	}
}

// openQuoteColumn returns the 1-based byte column of the quoted field
// still open at the end of line, a CSV line without its line end read
// with leading spaces trimmed, or 0 when every field on it ends.
func openQuoteColumn(line []byte) int {
	i := 0
fields:
	for {
		// A field starts at i, after its leading white space.
		j := bytes.IndexFunc(line[i:], func(r rune) bool { return !unicode.IsSpace(r) })
		if j < 0 {
			return 0
		}
		i += j
		if line[i] != '"' {
			k := bytes.IndexByte(line[i:], ',')
			if k < 0 {
				return 0
			}
			i += k + 1
			continue
		}
		start := i
		i++
		for {
			k := bytes.IndexByte(line[i:], '"')
			if k < 0 {
				return start + 1
			}
			i += k + 1
			switch {
			case i < len(line) && line[i] == '"': // "" is a quote
				i++
			case i < len(line) && line[i] == ',':
				i++
				continue fields
			default: // the field ends the line, or a stray quote that the csv.Reader places itself
				return 0
			}
		}
	}
}
