package data

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseCSV(t *testing.T) {
	tests := []struct {
		name string
		in   string
		opts CSVOptions
		want Dataset // Source and Shape filled in by the test
	}{
		{
			name: "auto header, label last, class names sorted",
			in:   "sepal,petal,species\n1,2,virginica\n3,4.5,setosa\n-5,6e1,virginica\n",
			want: Dataset{N: 3, F32: []float32{1, 2, 3, 4.5, -5, 60}, Labels: []int32{1, 0, 1}, NumClasses: 2, ClassNames: []string{"setosa", "virginica"}},
		},
		{
			name: "auto: no header, integer ids",
			in:   "1,2,0\n3,4,2\n",
			want: Dataset{N: 2, F32: []float32{1, 2, 3, 4}, Labels: []int32{0, 2}, NumClasses: 3},
		},
		{
			name: "auto: no header, named classes",
			in:   "0.5, 1, cat\n2, 3, dog\n",
			want: Dataset{N: 2, F32: []float32{0.5, 1, 2, 3}, Labels: []int32{0, 1}, NumClasses: 2, ClassNames: []string{"cat", "dog"}},
		},
		{
			name: "header forced absent keeps the first row",
			in:   "1,2,3\n4,5,6\n",
			opts: CSVOptions{Header: HeaderAbsent},
			want: Dataset{N: 2, F32: []float32{1, 2, 4, 5}, Labels: []int32{3, 6}, NumClasses: 7},
		},
		{
			name: "header forced present with numeric names",
			in:   "1,2,3\n4,5,6\n",
			opts: CSVOptions{Header: HeaderPresent, Labels: []string{"1"}},
			// "1" names column 0 (a header name wins over an index).
			want: Dataset{N: 1, F32: []float32{5, 6}, Labels: []int32{4}, NumClasses: 5},
		},
		{
			name: "label by name first, features by name and index",
			in:   "y,a,b,c\n1,10,20,30\n0,11,21,31\n",
			opts: CSVOptions{Labels: []string{"y"}, Features: []string{"c", "1"}},
			want: Dataset{N: 2, F32: []float32{30, 10, 31, 11}, Labels: []int32{1, 0}, NumClasses: 2},
		},
		{
			name: "label by index without header",
			in:   "1,10,20\n0,11,21\n",
			opts: CSVOptions{Labels: []string{"0"}},
			want: Dataset{N: 2, F32: []float32{10, 20, 11, 21}, Labels: []int32{1, 0}, NumClasses: 2},
		},
		{
			name: "regression with two targets",
			in:   "x1,x2,t1,t2\n1,2,0.5,-1\n3,4,1.5,-2\n",
			opts: CSVOptions{Task: Regression, Labels: []string{"t1", "t2"}},
			want: Dataset{N: 2, F32: []float32{1, 2, 3, 4}, Targets: []float32{0.5, -1, 1.5, -2}, TargetDim: 2},
		},
		{
			name: "regression default target is the last column",
			in:   "1,2,3\n",
			opts: CSVOptions{Task: Regression},
			want: Dataset{N: 1, F32: []float32{1, 2}, Targets: []float32{3}, TargetDim: 1},
		},
		{
			name: "byte order mark, CRLF, blank lines, quotes",
			in:   "\ufeff\"a\",b,label\r\n\r\n\"1\",2,x\r\n3,4,y\r\n",
			want: Dataset{N: 2, F32: []float32{1, 2, 3, 4}, Labels: []int32{0, 1}, NumClasses: 2, ClassNames: []string{"x", "y"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCSV("d.csv", strings.NewReader(tt.in), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			want.Source = "d.csv"
			want.Shape = []int{len(want.F32) / want.N}
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("got\n  %+v\nwant\n  %+v", *got, want)
			}
		})
	}
}

func TestParseCSVErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		opts CSVOptions
		want string // the whole message
	}{
		{"empty", "", CSVOptions{}, "d.csv: file is empty"},
		{"only blank lines", "\n\n", CSVOptions{}, "d.csv: file is empty"},
		{"header only", "a,b,c\n", CSVOptions{}, "d.csv: has a header row but no data rows"},
		{"ragged", "a,b,c\n1,2,3\n4,5\n", CSVOptions{}, "d.csv:3: row has 2 fields, but line 1 has 3"},
		{"ragged long", "1,2,3\n4,5,6,7\n", CSVOptions{}, "d.csv:2: row has 4 fields, but line 1 has 3"},
		{"non-numeric with header", "a,b,label\n1,2,x\n1,oops,y\n", CSVOptions{}, `d.csv:3: column "b" (index 1): "oops" is not a number`},
		{"non-numeric without header", "1,2,0\n1,oops,1\n", CSVOptions{}, `d.csv:2: column index 1: "oops" is not a number`},
		{"non-numeric on line 1 hints at the header", "1,b,label\n1,2,x\n", CSVOptions{}, `d.csv:1: column index 1: "b" is not a number (if line 1 is a header row, set the header option to true)`},
		{"empty cell", "a,b,label\n1,,x\n", CSVOptions{}, `d.csv:2: column "b" (index 1): "" is empty; want a number`},
		{"NaN", "a,b,label\n1,NaN,x\n", CSVOptions{}, `d.csv:2: column "b" (index 1): "NaN" is not a finite number`},
		{"out of range", "a,b,label\n1,1e39,x\n", CSVOptions{}, `d.csv:2: column "b" (index 1): "1e39" is out of float32 range`},
		{"bad target", "a,t\n1,x\n", CSVOptions{Task: Regression}, `d.csv:2: column "t" (index 1): "x" is not a number`},
		{"empty label", "a,label\n1,\n", CSVOptions{}, `d.csv:2: column "label" (index 1): the label is empty`},
		{"negative class id", "a,label\n1,0\n2,3\n3,-1\n", CSVOptions{}, `d.csv:4: column "label" (index 1): class id -1 is negative; class ids run from 0`},
		{"huge class id", "1,0\n2,99999999999\n", CSVOptions{}, `d.csv:2: column index 1: class id 99999999999 is too large`},
		{"missing column name", "a,b,c\n1,2,3\n", CSVOptions{Labels: []string{"z"}}, `d.csv: label column "z" not found (columns: a, b, c)`},
		{"missing feature name", "a,b,c\n1,2,3\n", CSVOptions{Features: []string{"a", "q"}}, `d.csv: feature column "q" not found (columns: a, b, c)`},
		{"name without header", "1,2,3\n", CSVOptions{Labels: []string{"y"}}, `d.csv: label column "y": the file has no header row, so columns are named by 0-based index`},
		{"index out of range", "1,2,3\n", CSVOptions{Labels: []string{"3"}}, `d.csv: label column index 3 is out of range: the file has 3 columns (0 to 2)`},
		{"ambiguous name", "a,a,y\n1,2,3\n", CSVOptions{Features: []string{"a"}}, `d.csv: feature column "a" is ambiguous: columns 0 and 1 both have that name`},
		{"label is a feature", "a,b,y\n1,2,3\n", CSVOptions{Features: []string{"a", "y"}}, `d.csv: column "y" (index 2) is named twice (as label and as feature)`},
		{"two class labels", "a,b,y\n1,2,3\n", CSVOptions{Labels: []string{"b", "y"}}, "d.csv: classification needs exactly one label column, got 2 (b, y)"},
		{"no features", "y\n1\n", CSVOptions{}, "d.csv: no feature columns: the file has 1 columns and all are labels"},
		{"unknown task", "1,2\n", CSVOptions{Task: "clustering"}, `d.csv: unknown task "clustering" (want "classification" or "regression")`},
		{"bad quote", "a,b\n1,\"2\n", CSVOptions{}, `d.csv:2: malformed CSV: extraneous or missing " in quoted-field`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCSV("d.csv", strings.NewReader(tt.in), tt.opts)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error:\n  %v\nwant\n  %s", err, tt.want)
			}
		})
	}
}

// TestParseCSVMultilineLines checks that line numbers stay right after a
// quoted cell spanning lines.
func TestParseCSVMultilineLines(t *testing.T) {
	in := "a,note,y\n1,\"two\nlines\",0\nbad,x,1\n"
	_, err := ParseCSV("d.csv", strings.NewReader(in), CSVOptions{Features: []string{"a"}})
	want := `d.csv:4: column "a" (index 0): "bad" is not a number`
	if err == nil || err.Error() != want {
		t.Errorf("error:\n  %v\nwant\n  %s", err, want)
	}
}
