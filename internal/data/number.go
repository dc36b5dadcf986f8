package data

import (
	"errors"
	"strconv"
	"strings"
)

// errNotDecimal is parseFloat's error for a number written in Go's own
// syntax.
var errNotDecimal = errors.New("not a decimal number")

// notDecimal says what is wrong with a cell that parseFloat refuses with
// errNotDecimal.
const notDecimal = "is not a decimal number: write it as 1000 or 1e3, without _ between digits or hexadecimal (as pandas and NumPy read numbers)"

// parseFloat reads a number of a data file as Python, pandas and NumPy
// read it: what strconv.ParseFloat(s, bits) reads (decimal with an
// optional exponent, inf, infinity and nan in any case), less the syntax
// of Go's literals that strconv also takes: digits separated by _ (1_000,
// read as 1000) and hexadecimal mantissas with a binary exponent (0x1p3,
// read as 8). For those the error is a *strconv.NumError wrapping
// errNotDecimal. Every other form strconv reads contains none of _, x or
// p, so a number read with one of those is in exactly Go's syntax.
func parseFloat(s string, bits int) (float64, error) {
	v, err := strconv.ParseFloat(s, bits)
	if (err == nil || errors.Is(err, strconv.ErrRange)) && strings.ContainsAny(s, "_xXpP") {
		return 0, &strconv.NumError{Func: "ParseFloat", Num: s, Err: errNotDecimal}
	}
	return v, err
}
