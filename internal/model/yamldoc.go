package model

import (
	"bytes"
	"io"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// unmarshalOne decodes the one YAML document of src into doc. A second
// document (after ---), which yaml.Unmarshal would silently drop, is an
// *Error at the line where it starts; syntax errors, in either document,
// are returned as yaml reports them.
func unmarshalOne(file string, src []byte, doc *yaml.Node) error {
	return decodeOne(file, bytes.NewReader(src), doc)
}

func decodeOne(file string, r io.Reader, doc *yaml.Node) error {
	dec := yaml.NewDecoder(r)
	if err := dec.Decode(doc); err != nil {
		if err == io.EOF {
			return nil // no document at all: doc stays empty
		}
		return err
	}
	var next yaml.Node
	if err := dec.Decode(&next); err != nil {
		if err == io.EOF {
			return nil
		}
		return err
	}
	return &Error{File: file, Line: next.Line, Col: next.Column,
		Msg: "a second YAML document starts here; a config is a single document: merge its keys into the first one or remove it"}
}

// syntaxErrorLine is the line where the parser meets the syntax error err
// that unmarshalOne gave for src. yaml.v3 reports the line of the enclosing
// construct (its "context"), often well above the problem: a mis-indented
// list item is reported where its mapping starts. The parser meets the
// problem on the last line of the shortest prefix of src's lines that
// already fails with the same error; a prefix that fails otherwise (cut in
// the middle of a multi-line flow list, say) does not count.
//
// The search runs only on this error path and stays cheap on big configs
// (Load caps them at MaxConfigSize): one parse fed a line at a time shows
// how far the parser had read when it failed, a line or two past the
// problem (its lookahead); parses of shorter prefixes, a line, two, four,
// ... shorter, then bisecting, towards reported (yaml's line, at or above
// the problem) find the shortest, usually in one or two.
//
// A file that ends inside a quoted string gives "found unexpected end of
// stream" at the line that opened the string, except when that is the
// first line: then yaml names the last, and one more parse tells.
func syntaxErrorLine(src []byte, err error, reported int) int {
	ends := yamlLines(src)
	n := len(ends)
	if n == 0 {
		return reported
	}
	if endOfStream(err) {
		// The file ended inside a quoted string: yaml reports the line
		// that opened it, but for one opened on the first line, the last
		// line. A string opened on the first line still open a line
		// before the end fails the shorter file the same way.
		if reported < n || n == 1 {
			return reported
		}
		if e := unmarshalOne("", src[:ends[n-2]], &yaml.Node{}); e != nil && endOfStream(e) {
			return 1
		}
		return n
	}
	want := err.Error()
	lo := min(max(reported, 1), n) - 1 // the first lo lines are taken to pass
	same := func(e error) bool { return e.Error() == want }
	fails := func(k int) bool { // the first k lines fail as src does
		e := unmarshalOne("", src[:ends[k-1]], &yaml.Node{})
		return e != nil && same(e)
	}
	hi := n // the first hi lines fail (all of src do)
	// The parser stops where it fails: the lines it had read by then fail
	// as src does, since it never saw the rest.
	lr := &lineReader{src: src, ends: ends}
	if e := decodeOne("", lr, &yaml.Node{}); e != nil && same(e) && lr.read > lo {
		hi = min(hi, lr.read)
	}
	for top, d := hi, 1; top-d > lo; d *= 2 {
		if !fails(top - d) {
			lo = top - d
			break
		}
		hi = top - d
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if fails(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

// endOfStream tells whether a syntax error is yaml's "found unexpected end
// of stream": the file ended inside a construct that was never closed.
func endOfStream(err error) bool {
	return strings.HasSuffix(err.Error(), "found unexpected end of stream")
}

// lineReader gives src to the YAML parser at most a line per Read, so read,
// the number of lines it has handed out (in whole or in part), tells how
// far the parser has looked.
type lineReader struct {
	src  []byte
	ends []int // yamlLines(src)
	off  int   // bytes handed out
	read int   // lines handed out
}

func (r *lineReader) Read(p []byte) (int, error) {
	if r.off >= len(r.src) {
		return 0, io.EOF
	}
	if r.off == 0 || r.off == r.ends[r.read-1] {
		r.read++ // starting a new line
	}
	k := copy(p, r.src[r.off:r.ends[r.read-1]])
	r.off += k
	return k, nil
}

// yamlLines returns the end offset (after its line break) of each line of
// src, counting lines as the YAML scanner does: \r\n, \r, \n, NEL (U+0085),
// LS (U+2028) and PS (U+2029) each end one. A last line without a break
// ends at len(src).
func yamlLines(src []byte) []int {
	var ends []int
	for i := 0; i < len(src); {
		switch {
		case src[i] == '\r' && i+1 < len(src) && src[i+1] == '\n':
			i += 2
		case src[i] == '\r' || src[i] == '\n':
			i++
		case bytes.HasPrefix(src[i:], []byte("\u0085")), bytes.HasPrefix(src[i:], []byte("\u2028")), bytes.HasPrefix(src[i:], []byte("\u2029")):
			_, size := utf8.DecodeRune(src[i:])
			i += size
		default:
			i++
			continue
		}
		ends = append(ends, i)
	}
	if len(ends) == 0 || ends[len(ends)-1] < len(src) {
		ends = append(ends, len(src))
	}
	return ends
}
