package data

import (
	"slices"
	"strings"
	"testing"
)

// TestDecimalCells: numeric cells of CSV files and series are numbers as
// Python, pandas and NumPy read them: decimal with an optional exponent
// (and inf, nan, as before). Go's own syntax, which strconv.ParseFloat
// also reads, was taken: 1_000 as 1000, 0x1p3 as 8, a label 1_0 as class
// 10.
func TestDecimalCells(t *testing.T) {
	const notDecimal = "is not a decimal number: write it as 1000 or 1e3, without _ between digits or hexadecimal (as pandas and NumPy read numbers)"
	for _, tc := range []struct {
		name string
		read func() error
		want string // the error; "" when the file is read
	}{
		{name: "decimal forms", read: func() error {
			ds, err := ParseCSV("d.csv", strings.NewReader("a,b,c,d,e,t\n1e5,.5,5.,+1.5, 1E+05 ,2\n"), CSVOptions{Task: Regression})
			if err == nil && !slices.Equal(ds.F32, []float32{1e5, 0.5, 5, 1.5, 1e5}) {
				t.Errorf("features %v", ds.F32)
			}
			return err
		}},
		{name: "underscore in a feature", read: func() error {
			_, err := ParseCSV("d.csv", strings.NewReader("a,y\n1_000,0\n"), CSVOptions{})
			return err
		}, want: `d.csv:2: column "a" (index 0): "1_000" ` + notDecimal},
		{name: "hexadecimal feature", read: func() error {
			_, err := ParseCSV("d.csv", strings.NewReader("a,y\n0x1p3,0\n"), CSVOptions{})
			return err
		}, want: `d.csv:2: column "a" (index 0): "0x1p3" ` + notDecimal},
		{name: "hexadecimal feature, float64", read: func() error {
			_, err := ParseCSV("d.csv", strings.NewReader("a,y\n1,0\n0X1P-2,0\n"), CSVOptions{Float64: true})
			return err
		}, want: `d.csv:3: column "a" (index 0): "0X1P-2" ` + notDecimal},
		{name: "underscore in a target", read: func() error {
			_, err := ParseCSV("d.csv", strings.NewReader("a,t\n1,2_5\n"), CSVOptions{Task: Regression})
			return err
		}, want: `d.csv:2: column "t" (index 1): "2_5" ` + notDecimal},
		// A label that is not a decimal number is a name, as pandas
		// reads such a column as strings: 1_0 is no class 10.
		{name: "underscore in a label", read: func() error {
			ds, err := ParseCSV("d.csv", strings.NewReader("a,y\n1,0\n2,1\n3,1_0\n"), CSVOptions{})
			if err == nil && (ds.NumClasses != 3 || !slices.Equal(ds.ClassNames, []string{"0", "1", "1_0"})) {
				t.Errorf("%d classes %q, want the names 0, 1 and 1_0", ds.NumClasses, ds.ClassNames)
			}
			return err
		}},
		{name: "hexadecimal label as an id", read: func() error {
			_, err := ParseCSV("d.csv", strings.NewReader("a,y\n1,0\n2,0x1p0\n"), CSVOptions{LabelKind: LabelsAreIDs})
			return err
		}, want: `d.csv:3: column "y" (index 1): label "0x1p0" is not a class id (data.csv.classes is ids)`},
		{name: "series cell", read: func() error {
			_, _, _, err := ParseSeriesCSV("s.csv", strings.NewReader("a,b\n1,2\n3,1_000\n4,5\n"), seqOpts(SeqSeries, 1, nil))
			return err
		}, want: `s.csv:3: column "b" (index 1): "1_000" ` + notDecimal},
		{name: "series cell, float64", read: func() error {
			_, _, _, err := ParseSeriesCSV("s.csv", strings.NewReader("a,b\n1,0x1p3\n3,4\n4,5\n"), seqOpts(SeqSeries, 1, func(o *SeqOptions) { o.Float64 = true }))
			return err
		}, want: `s.csv:2: column "b" (index 1): "0x1p3" ` + notDecimal},
		{name: "series decimal forms", read: func() error {
			_, _, _, err := ParseSeriesCSV("s.csv", strings.NewReader("a,b\n1e2,.5\n-3.,+4E-1\n5,6\n"), seqOpts(SeqSeries, 1, nil))
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.read()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || err.Error() != tc.want):
				t.Fatalf("error\n  %v\nwant\n  %s", err, tc.want)
			}
		})
	}
}

// TestParseFloat: parseFloat reads what strconv.ParseFloat reads, less
// Go's own syntax.
func TestParseFloat(t *testing.T) {
	for _, s := range []string{"0", "-1", "+1.5", ".5", "5.", "1e5", "1E+05", "2.5e-3", "inf", "-Infinity", "NaN", "1e999"} {
		if _, err := parseFloat(s, 64); err != nil && !strings.Contains(err.Error(), "out of range") {
			t.Errorf("parseFloat(%q): %v", s, err)
		}
	}
	for _, s := range []string{"1_000", "0x1p3", "0X1P-2", "0x_1p0", "0x1.8p1", "1p3", "0x10", "", "1,5", "abc"} {
		if v, err := parseFloat(s, 64); err == nil {
			t.Errorf("parseFloat(%q) = %v, want an error", s, v)
		}
	}
}
