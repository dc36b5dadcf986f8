package model

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Error is a problem with a config, located as precisely as possible: the
// file with line:column of the offending node, or the override (--set or
// environment variable) it came from. With both an Origin and a Line, the
// override (or several, separated by ", ") changed what is at Line:Col.
type Error struct {
	File      string // config file
	Line, Col int    // 1-based; 0 when the value came from an override (Col alone: not known)
	Origin    string // "--set key=value" or "NETTRAIN_X=value" for overrides
	Path      string // config path, e.g. "training.epochs" or "layer 3 (maxpool2d)"
	Msg       string

	cause error // what errors.Is sees (ErrNeedsData), or nil
}

// Unwrap returns the error's cause, if any (ErrNeedsData).
func (e *Error) Unwrap() error { return e.cause }

func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.Origin != "" && e.Line > 0:
		fmt.Fprintf(&b, "%s (%s)", e.Origin, e.position())
	case e.Origin != "":
		b.WriteString(e.Origin)
	case e.Line > 0:
		b.WriteString(e.position())
	default:
		b.WriteString(e.File)
	}
	if e.Path != "" {
		b.WriteString(": ")
		b.WriteString(e.Path)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return printable(b.String())
}

// position is file:line:column, or file:line when the column is not known
// (a YAML syntax error).
func (e *Error) position() string {
	if e.Col > 0 {
		return fmt.Sprintf("%s:%d:%d", e.File, e.Line, e.Col)
	}
	return fmt.Sprintf("%s:%d", e.File, e.Line)
}

// printable escapes what a terminal would act on or hide (newlines, escape
// sequences, NUL, bidirectional overrides: every rune that %q escapes, and
// bytes that are not UTF-8), so a message is one line that shows what the
// config holds.
func printable(s string) string {
	if utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return !strconv.IsPrint(r) }) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case strconv.IsPrint(r):
			b.WriteString(s[i : i+size])
		default:
			q := strconv.QuoteRune(r) // '\x1b'
			b.WriteString(q[1 : len(q)-1])
		}
		i += size
	}
	return b.String()
}

// DidYouMean returns ` (did you mean "x"?)` for the candidate closest to
// word, or "" when none is close.
func DidYouMean(word string, candidates []string) string { return didYouMean(word, candidates) }

func didYouMean(word string, candidates []string) string {
	// A word that begins exactly one candidate is a shortening of it
	// ("val_acc" of val_accuracy), however far apart they are in edits.
	var prefixed []string
	for _, c := range candidates {
		if len(word) >= 3 && len(word) < len(c) && strings.HasPrefix(strings.ToLower(c), strings.ToLower(word)) {
			prefixed = append(prefixed, c)
		}
	}
	if len(prefixed) == 1 {
		return fmt.Sprintf(" (did you mean %q?)", prefixed[0])
	}
	best, bestD := "", 1<<30
	for _, c := range candidates {
		d := editDistance(strings.ToLower(word), strings.ToLower(c))
		if d < bestD {
			best, bestD = c, d
		}
	}
	limit := 2
	if len(word) <= 3 {
		limit = 1
	}
	if best == "" || bestD > limit && !strings.HasPrefix(best, word) {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// oneOf formats the allowed values of an enumeration.
func oneOf(vals []string) string {
	v := append([]string(nil), vals...)
	sort.Strings(v)
	return strings.Join(v, ", ")
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// FlagError is an error in a value a command-line flag gives (a typed-in
// tensor of the wrong shape, a count out of range), found past the flag's
// parsing: the command reports it as a usage error (exit 2).
type FlagError struct{ Err error }

func (e FlagError) Error() string { return e.Err.Error() }
func (e FlagError) Unwrap() error { return e.Err }
