package testutil

import (
	"fmt"
	"math"
	"regexp"
	"strings"
)

// CSVLine is a config's data.csv line ("  csv: {...}"), which settings
// of older nettrains' configs lack.
var CSVLine = regexp.MustCompile(`(?m)^ *csv: .*\n`)

// OlderCSVData are two data files older nettrains read otherwise than
// today's defaults: ids, numeric labels 1 to 3 (class ids then, with a
// class 0 no row has; now data.csv.classes must say so), and headerless,
// a file whose line 1 ends in a class name above numbers (data then; a
// word above a number now makes it a header).
func OlderCSVData() (ids, headerless string) {
	var a, b strings.Builder
	a.WriteString("a,b,y\n")
	for i := range 60 {
		fmt.Fprintf(&a, "%d,%d,%d\n", i%5, i%7, 1+i%3)
	}
	b.WriteString("0.5,0.25,y\n")
	for i := range 40 {
		fmt.Fprintf(&b, "%d,%d,%d\n", i%5, i%7, i%2)
	}
	return a.String(), b.String()
}

// ThreeScaleSeries is a series CSV of 60 rows in three columns of very
// different scales (big about 1000 +- 300, small about +-0.01, mid about
// 5 +- 1): per-column scores must keep them apart.
func ThreeScaleSeries() string {
	var b strings.Builder
	b.WriteString("big,small,mid\n")
	for i := range 60 {
		x := float64(i)
		fmt.Fprintf(&b, "%g,%g,%g\n", 1000+300*math.Sin(x/3), 0.01*math.Cos(x/4), 5+math.Sin(x/5))
	}
	return b.String()
}
