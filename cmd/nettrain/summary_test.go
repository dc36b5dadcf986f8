package main

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestPrintTableAlignsCharacters: printTable pads by characters, so that
// a column name of non-ASCII letters lines up with the others.
func TestPrintTableAlignsCharacters(t *testing.T) {
	for _, rows := range [][][]string{
		{{"column", "MSE"}, {"ä/x", "1.5"}, {"plain", "22.25"}},
		{{"colonne", "MAE"}, {"température °C", "0.1"}, {"x", "3"}},
	} {
		var b strings.Builder
		printTable(&b, rows, []bool{false, true})
		lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
		width := utf8.RuneCountInString(lines[0])
		for _, l := range lines {
			if n := utf8.RuneCountInString(l); n != width {
				t.Errorf("line %q is %d characters, the header %d:\n%s", l, n, width, b.String())
			}
		}
	}
}
