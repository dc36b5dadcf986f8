package data

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
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
			name: "no header, integer ids, one without a row",
			in:   "1,2,0\n3,4,2\n",
			opts: CSVOptions{LabelKind: LabelsAreIDs},
			want: Dataset{N: 2, F32: []float32{1, 2, 3, 4}, Labels: []int32{0, 2}, NumClasses: 3, ClassesFrom: "d.csv:2: column index 2: class id 2"},
		},
		{
			name: "auto: no header, named classes",
			in:   "0.5, 1, cat\n2, 3, dog\n",
			want: Dataset{N: 2, F32: []float32{0.5, 1, 2, 3}, Labels: []int32{0, 1}, NumClasses: 2, ClassNames: []string{"cat", "dog"}},
		},
		{
			name: "auto: a word over a number is a header, whatever its other names",
			in:   "2019,2020,y\n1,2,0\n3,4,1\n",
			want: Dataset{N: 2, F32: []float32{1, 2, 3, 4}, Labels: []int32{0, 1}, NumClasses: 2, ClassesFrom: `d.csv:3: column "y" (index 2): class id 1`},
		},
		{
			name: "auto: a word over a number in a feature column is a header",
			in:   "x,7,label\n1,2,cat\n3,4,dog\n",
			want: Dataset{N: 2, F32: []float32{1, 2, 3, 4}, Labels: []int32{0, 1}, NumClasses: 2, ClassNames: []string{"cat", "dog"}},
		},
		{
			name: "auto: a word over a word is data",
			in:   "5.3,3.0,setosa\n5.6,2.8,versicolor\n",
			want: Dataset{N: 2, F32: []float32{5.3, 3, 5.6, 2.8}, Labels: []int32{0, 1}, NumClasses: 2, ClassNames: []string{"setosa", "versicolor"}},
		},
		{
			name: "auto: one row with a word is data",
			in:   "1,2,cat\n",
			want: Dataset{N: 1, F32: []float32{1, 2}, Labels: []int32{0}, NumClasses: 1, ClassNames: []string{"cat"}},
		},
		{
			name: "header forced absent keeps the first row",
			in:   "1,2,3\n4,5,6\n",
			opts: CSVOptions{Header: HeaderAbsent, LabelKind: LabelsAreIDs},
			want: Dataset{N: 2, F32: []float32{1, 2, 4, 5}, Labels: []int32{3, 6}, NumClasses: 7, ClassesFrom: "d.csv:2: column index 2: class id 6"},
		},
		{
			name: "header forced present with numeric names",
			in:   "1,2,3\n4,5,6\n",
			opts: CSVOptions{Header: HeaderPresent, Labels: []string{"1"}, LabelKind: LabelsAreIDs},
			// "1" names column 0 (a header name wins over an index).
			want: Dataset{N: 1, F32: []float32{5, 6}, Labels: []int32{4}, NumClasses: 5, ClassesFrom: `d.csv:2: column "1" (index 0): class id 4`},
		},
		{
			name: "label by name first, features by name and index",
			in:   "y,a,b,c\n1,10,20,30\n0,11,21,31\n",
			opts: CSVOptions{Labels: []string{"y"}, Features: []string{"c", "1"}},
			want: Dataset{N: 2, F32: []float32{30, 10, 31, 11}, Labels: []int32{1, 0}, NumClasses: 2, ClassesFrom: `d.csv:2: column "y" (index 0): class id 1`},
		},
		{
			name: "label by index without header",
			in:   "1,10,20\n0,11,21\n",
			opts: CSVOptions{Labels: []string{"0"}},
			want: Dataset{N: 2, F32: []float32{10, 20, 11, 21}, Labels: []int32{1, 0}, NumClasses: 2, ClassesFrom: "d.csv:1: column index 0: class id 1"},
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
			name: "integer ids written as floats",
			in:   "1,1.0\n2,2.00\n3,3e0\n4,0\n5,-0\n6,+2\n",
			want: Dataset{N: 6, F32: []float32{1, 2, 3, 4, 5, 6}, Labels: []int32{1, 2, 3, 0, 0, 2}, NumClasses: 4, ClassesFrom: "d.csv:3: column index 1: class id 3e0"},
		},
		{
			name: "one float-written id among integers keeps integer ids",
			in:   "a,y\n1,0\n2,1.0\n3,10\n4,1\n",
			opts: CSVOptions{LabelKind: LabelsAreIDs},
			want: Dataset{N: 4, F32: []float32{1, 2, 3, 4}, Labels: []int32{0, 1, 10, 1}, NumClasses: 11, ClassesFrom: `d.csv:4: column "y" (index 1): class id 10`},
		},
		{
			name: "auto: ids with a row each",
			in:   "a,y\n1,2\n2,0\n3,1.0\n",
			want: Dataset{N: 3, F32: []float32{1, 2, 3}, Labels: []int32{2, 0, 1}, NumClasses: 3, ClassesFrom: `d.csv:2: column "y" (index 1): class id 2`},
		},
		{
			name: "classes read as names: numbers are names",
			in:   "a,y\n1,300\n2,100\n3,300\n",
			opts: CSVOptions{LabelKind: LabelsAreNames},
			want: Dataset{N: 3, F32: []float32{1, 2, 3}, Labels: []int32{1, 0, 1}, NumClasses: 2, ClassNames: []string{"100", "300"}},
		},
		{
			name: "a word makes every label a name, numbers too",
			in:   "a,y\n1,0\n2,cat\n3,1.0\n4,1\n",
			want: Dataset{N: 4, F32: []float32{1, 2, 3, 4}, Labels: []int32{0, 3, 2, 1}, NumClasses: 4, ClassNames: []string{"0", "1", "1.0", "cat"}},
		},
		{
			name: "training names: a file with only some classes gets the training ids",
			in:   "a,y\n1,dog\n2,cat\n3,dog\n",
			opts: CSVOptions{Classes: &ClassMap{NumClasses: 3, Names: []string{"bird", "cat", "dog"}}},
			want: Dataset{N: 3, F32: []float32{1, 2, 3}, Labels: []int32{2, 1, 2}, NumClasses: 3, ClassNames: []string{"bird", "cat", "dog"}},
		},
		{
			name: "training names: numbers are looked up as names",
			in:   "a,y\n1,1.0\n2,0\n",
			opts: CSVOptions{Classes: &ClassMap{NumClasses: 4, Names: []string{"0", "1", "1.0", "cat"}}},
			want: Dataset{N: 2, F32: []float32{1, 2}, Labels: []int32{2, 0}, NumClasses: 4, ClassNames: []string{"0", "1", "1.0", "cat"}},
		},
		{
			name: "training ids: the training class count",
			in:   "a,y\n1,3\n2,1.0\n",
			opts: CSVOptions{Classes: &ClassMap{NumClasses: 10}},
			want: Dataset{N: 2, F32: []float32{1, 2}, Labels: []int32{3, 1}, NumClasses: 10},
		},
		{
			name: "the mapping is ignored for regression",
			in:   "a,t\n1,2.5\n",
			opts: CSVOptions{Task: Regression, Classes: &ClassMap{NumClasses: 2, Names: []string{"x", "y"}}},
			want: Dataset{N: 1, F32: []float32{1}, Targets: []float32{2.5}, TargetDim: 1},
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
			// The column names are TestCSVColumns'.
			got.FeatureColumns, got.LabelColumns = nil, nil
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
		// Numeric column names over a class column of words: line 1 read
		// as data would make a class of its label alone.
		{"numeric names over words", "1,2,label\n0.4,0.5,cat\n0.1,0.2,dog\n0.3,0.3,cat\n", CSVOptions{}, `d.csv:1: cannot tell whether line 1 is a header row: it was read as data, but its label, "label" in column index 2, is on no other line; set data.csv.header: true (line 1 names the columns) or false (it is data)`},
		// A word in a training file's feature column, when the features
		// are every other column: it can be left out.
		{"non-numeric with header", "a,b,label\n1,2,x\n1,oops,y\n", CSVOptions{}, `d.csv:3: column "b" (index 1): "oops" is not a number; leave the column out by listing the feature columns in data.csv.features, or encode it as numbers`},
		{"non-numeric without header", "1,2,0\n1,oops,1\n", CSVOptions{}, `d.csv:2: column index 1: "oops" is not a number; leave the column out by listing the feature columns in data.csv.features, or encode it as numbers`},
		{"non-numeric in a regression's feature", "a,city,t\n1,lyon,2\n", CSVOptions{Task: Regression}, `d.csv:2: column "city" (index 1): "lyon" is not a number; leave the column out by listing the feature columns in data.csv.features, or encode it as numbers`},
		{"non-numeric in a feature picked", "a,b,label\n1,oops,y\n", CSVOptions{Features: []string{"b"}}, `d.csv:2: column "b" (index 1): "oops" is not a number`},
		{"non-numeric in a feature the model was trained on", "a,b,label\n1,oops,y\n", CSVOptions{Trained: &TrainedColumns{Features: []string{"a", "b"}, Labels: []string{"label"}, AllFeatures: true}},
			`d.csv:2: column "b" (index 1): "oops" is not a number`},
		{"non-numeric on line 1 hints at the header", "1,b,label\n1,c,x\n", CSVOptions{}, `d.csv:1: column index 1: "b" is not a number (if line 1 is a header row, set data.csv.header: true)`},
		{"a word over a number in the label column only, words below", "1,2,y\n3,4,0\n5,6,cat\n", CSVOptions{},
			`d.csv:1: cannot tell whether line 1 is a header row: column index 2 holds "y" there, above the number 0 on line 2, but also words such as "cat" (line 3); set data.csv.header: true or false`},
		{"ids from 1 leave class 0 without a row", "a,y\n1,1\n2,2\n3,3\n", CSVOptions{},
			`d.csv:4: column "y" (index 1): the labels are numbers, read as class ids 0 to 3, but no row has class 0; set data.csv.classes: names to read them as the names of 3 classes, or ids to keep every id from 0 to 3 as a class`},
		{"codes", "a,y\n1,100\n2,200.0\n3,300\n4,2e2\n", CSVOptions{},
			`d.csv:4: column "y" (index 1): the labels are numbers, read as class ids 0 to 300, but no row has classes 0 to 99, 101 to 199, 201 to 299; set data.csv.classes: names to read them as the names of 3 classes, or ids to keep every id from 0 to 300 as a class`},
		{"many gaps", "a,y\n1,1\n2,3\n3,5\n4,7\n5,9\n6,11\n7,13\n", CSVOptions{},
			`d.csv:8: column "y" (index 1): the labels are numbers, read as class ids 0 to 13, but no row has classes 0, 2, 4, 6, 8, ...; set data.csv.classes: names to read them as the names of 7 classes, or ids to keep every id from 0 to 13 as a class`},
		{"a name among ids", "a,y\n1,0\n2,cat\n", CSVOptions{LabelKind: LabelsAreIDs}, `d.csv:3: column "y" (index 1): label "cat" is not a class id (data.csv.classes is ids)`},
		{"numeric names without header", "2019,2020,2021\n1,2,0\n", CSVOptions{Labels: []string{"2021"}},
			`d.csv: label column index 2021 is out of range: the file has 3 columns (0 to 2) (if line 1 names the columns, set data.csv.header: true)`},
		{"empty cell", "a,b,label\n1,,x\n", CSVOptions{}, `d.csv:2: column "b" (index 1): "" is empty; want a number`},
		{"NaN", "a,b,label\n1,NaN,x\n", CSVOptions{}, `d.csv:2: column "b" (index 1): "NaN" is not a finite number`},
		{"out of range", "a,b,label\n1,1e39,x\n", CSVOptions{}, `d.csv:2: column "b" (index 1): "1e39" is out of float32 range`},
		{"bad target", "a,t\n1,x\n", CSVOptions{Task: Regression}, `d.csv:2: column "t" (index 1): "x" is not a number`},
		{"empty label", "a,label\n1,\n", CSVOptions{}, `d.csv:2: column "label" (index 1): the label is empty`},
		{"negative class id", "a,label\n1,0\n2,3\n3,-1\n", CSVOptions{}, `d.csv:4: column "label" (index 1): class id -1 is negative; class ids run from 0`},
		{"huge class id", "1,0\n2,99999999999\n", CSVOptions{}, `d.csv:2: column index 1: class id 99999999999 is too large`},
		{"missing column name", "a,b,c\n1,2,3\n", CSVOptions{Labels: []string{"z"}}, `d.csv: label column "z" not found (columns: a, b, c)`},
		{"missing feature name", "a,b,c\n1,2,3\n", CSVOptions{Features: []string{"a", "q"}}, `d.csv: feature column "q" not found (columns: a, b, c)`},
		{"column names that need quotes", "\"x\ny\",\"a,b\",,c\n1,2,3,4\n", CSVOptions{Labels: []string{"z"}}, `d.csv: label column "z" not found (columns: "x\ny", "a,b", "", c)`},
		{"name without header", "1,2,3\n", CSVOptions{Labels: []string{"y"}}, `d.csv: label column "y": the file has no header row, so columns are named by 0-based index (if line 1 names the columns, set data.csv.header: true)`},
		{"index out of range", "1,2,5\n", CSVOptions{Labels: []string{"3"}}, `d.csv: label column index 3 is out of range: the file has 3 columns (0 to 2)`},
		{"ambiguous name", "a,a,y\n1,2,3\n", CSVOptions{Features: []string{"a"}}, `d.csv: feature column "a" is ambiguous: columns 0 and 1 both have that name`},
		{"label is a feature", "a,b,y\n1,2,3\n", CSVOptions{Features: []string{"a", "y"}}, `d.csv: column "y" (index 2) is named twice (as label and as feature)`},
		// New files are read by the names of the columns the model uses:
		// two of one name would be ambiguous there.
		{"two features of one name", "a,a,y\n1,2,3\n", CSVOptions{},
			`d.csv: column "a" (index 0) and column "a" (index 1) have the same name; the model finds the columns it uses by name in validation, test and predict files, so each needs a name of its own: rename one`},
		{"a feature named as the label", "y,b,y\n1,2,3\n", CSVOptions{Labels: []string{"2"}}, `d.csv: column "y" (index 0) and column "y" (index 2) have the same name; the model finds the columns it uses by name in validation, test and predict files, so each needs a name of its own: rename one`},
		{"features by index of one name", "a,b,a,y\n1,2,3,4\n", CSVOptions{Features: []string{"0", "2"}}, `d.csv: column "a" (index 0) and column "a" (index 2) have the same name; the model finds the columns it uses by name in validation, test and predict files, so each needs a name of its own: rename one`},
		{"two class labels", "a,b,y\n1,2,3\n", CSVOptions{Labels: []string{"b", "y"}}, "d.csv: classification needs exactly one label column, got 2 (b, y)"},
		{"no features", "y\n1\n", CSVOptions{}, "d.csv: no feature columns: the file has 1 columns and all are labels"},
		{"unknown task", "1,2\n", CSVOptions{Task: "clustering"}, `d.csv: unknown task "clustering" (want "classification" or "regression")`},
		{"bad quote", "a,b\n1,\"2\n", CSVOptions{}, `d.csv:2:3: malformed CSV: extraneous or missing " in quoted-field: the quoted field that starts here is still open at the end of the file`},

		// Malformed rows are reported where the row, or the quoted field,
		// starts, not where the reader gives up.
		{"quote left open on line 6", "a,b\n1,2\n3,4\n5,6\n7,8\n9,\"10\n11,12\n13,14\n", CSVOptions{},
			`d.csv:6:3: malformed CSV: extraneous or missing " in quoted-field: the quoted field that starts here runs to line 8, column 7`},
		{"quote left open after blank lines and spaces", "a,b\n1,2\n\n\n  \"3,4\n5,6\n", CSVOptions{},
			`d.csv:5:3: malformed CSV: extraneous or missing " in quoted-field: the quoted field that starts here runs to line 6, column 5`},
		{"quote left open with CRLF", "a,b\r\n1,2\r\n3,\"4\r\n5,6\r\n", CSVOptions{},
			`d.csv:3:3: malformed CSV: extraneous or missing " in quoted-field: the quoted field that starts here runs to line 4, column 5`},
		{"escaped quote, then left open", "a,b\n1,\"2\"\"\n3\n", CSVOptions{},
			`d.csv:2:3: malformed CSV: extraneous or missing " in quoted-field: the quoted field that starts here runs to line 3, column 3`},
		{"stray quote after a field on two lines", "a,b\n1,\"x\ny\"z\n", CSVOptions{},
			`d.csv:2:3: malformed CSV: extraneous or missing " in quoted-field: the quoted field that starts here runs to line 3, column 2`},
		{"stray quote on one line", "a,b\n1,\"2\"x\n", CSVOptions{}, `d.csv:2:5: malformed CSV: extraneous or missing " in quoted-field`},
		{"bare quote", "a,b\n1,2\n3,x\"y\n", CSVOptions{}, `d.csv:3:4: malformed CSV: bare " in non-quoted-field`},

		// Integer class ids: whole numbers, however written.
		{"fractional label", "a,y\n1,0\n2,1\n3,1.5\n", CSVOptions{}, `d.csv:4: column "y" (index 1): label 1.5 is not a class id (class ids are whole numbers from 0); for a regression on this column, set loss: mse`},
		{"NaN label", "a,y\n1,0\n2,NaN\n", CSVOptions{}, `d.csv:3: column "y" (index 1): label NaN is not a class id (class ids are whole numbers from 0)`},
		{"NaN label", "a,y\n1,0\n2,NaN\n", CSVOptions{}, `d.csv:3: column "y" (index 1): label NaN is not a class id (class ids are whole numbers from 0)`},
		{"negative float label", "a,y\n1,0\n2,-1.0\n", CSVOptions{}, `d.csv:3: column "y" (index 1): class id -1.0 is negative; class ids run from 0`},
		{"label beyond float64", "a,y\n1,0\n2,1e999\n", CSVOptions{}, `d.csv:3: column "y" (index 1): class id 1e999 is too large`},

		// Files separated by something other than commas.
		{"semicolons", "a;b;label\n1;2;x\n", CSVOptions{}, `d.csv:1: the first row is a single field, "a;b;label", which looks separated by ';'; nettrain reads comma-separated files`},
		{"tabs", "a\tb\tlabel\n1\t2\t0\n", CSVOptions{}, `d.csv:1: the first row is a single field, "a\tb\tlabel", which looks separated by tabs; nettrain reads comma-separated files`},
		{"tabs without header", "\n1\t2\t0\n", CSVOptions{Labels: []string{"0"}}, `d.csv:2: the first row is a single field, "1\t2\t0", which looks separated by tabs; nettrain reads comma-separated files`},
		{"semicolons and decimal commas", "1,5;2,5;0\n", CSVOptions{}, `d.csv:1: column index 1: "5;2" is not a number (the file looks separated by ';'; nettrain reads comma-separated files)`},

		// Reading with the training mapping.
		{"unknown class", "a,y\n1,cat\n2,fish\n", CSVOptions{Classes: &ClassMap{NumClasses: 3, Names: []string{"bird", "cat", "dog"}}},
			`d.csv:3: column "y" (index 1): unknown class "fish"; the training classes are "bird", "cat", "dog"`},
		{"unknown class among many", "a,y\n1,c24\n2,c25\n", CSVOptions{Classes: &ClassMap{NumClasses: 25, Names: manyNames(25)}},
			`d.csv:3: column "y" (index 1): unknown class "c25"; the training classes are "c00", "c01", "c02", "c03", "c04", "c05", "c06", "c07", "c08", "c09", "c10", "c11", "c12", "c13", "c14", "c15", "c16", "c17", "c18", "c19", ... (25 in all)`},
		{"id beyond the training classes", "a,y\n1,0\n2,3\n", CSVOptions{Classes: &ClassMap{NumClasses: 3}},
			`d.csv:3: column "y" (index 1): class id 3 is not a training class (the training data has 3 classes, ids 0 to 2)`},
		{"id beyond a single training class", "a,y\n1,0\n2,1.0\n", CSVOptions{Classes: &ClassMap{NumClasses: 1}},
			`d.csv:3: column "y" (index 1): class id 1.0 is not a training class (the training data has 1 class, id 0)`},
		{"name where the training data has ids", "a,y\n1,0\n2,cat\n", CSVOptions{Classes: &ClassMap{NumClasses: 3}},
			`d.csv:3: column "y" (index 1): label "cat" is not a class id (the training data has 3 classes, ids 0 to 2)`},
		{"fraction where the training data has ids", "a,y\n1,1.5\n", CSVOptions{Classes: &ClassMap{NumClasses: 3}},
			`d.csv:2: column "y" (index 1): label 1.5 is not a class id (the training data has 3 classes, ids 0 to 2)`},
		{"negative where the training data has ids", "a,y\n1,-1\n", CSVOptions{Classes: &ClassMap{NumClasses: 3}},
			`d.csv:2: column "y" (index 1): class id -1 is negative; class ids run from 0`},
		{"mapping without classes", "a,y\n1,0\n", CSVOptions{Classes: &ClassMap{}}, "d.csv: bad class mapping: 0 classes, want at least 1"},
		{"mapping with too few names", "a,y\n1,0\n", CSVOptions{Classes: &ClassMap{NumClasses: 3, Names: []string{"a", "b"}}}, "d.csv: bad class mapping: 2 names for 3 classes"},
		{"mapping naming a class twice", "a,y\n1,0\n", CSVOptions{Classes: &ClassMap{NumClasses: 2, Names: []string{"a", "a"}}}, `d.csv: bad class mapping: class "a" is named twice`},
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

// manyNames returns the class names c00, c01, ... (n of them).
func manyNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("c%02d", i)
	}
	return names
}

// TestCSVTrainingMapping reads validation files with the training set's
// mapping, as the training code does.
func TestCSVTrainingMapping(t *testing.T) {
	tests := []struct {
		name       string
		train, val string
		wantTrain  []int32
		wantVal    []int32
		classes    int
		names      []string
		kind       LabelKind // of the training file
	}{
		{
			name:  "named classes, validation without bird",
			train: "a,y\n1,bird\n2,cat\n3,dog\n",
			val:   "a,y\n1,cat\n2,dog\n",
			// Read on its own, the validation file would map cat to 0.
			wantTrain: []int32{0, 1, 2}, wantVal: []int32{1, 2}, classes: 3, names: []string{"bird", "cat", "dog"},
		},
		{
			name:      "float-written ids in training, clean integers in validation",
			train:     "a,y\n1,0\n2,1.0\n3,10\n4,2\n",
			val:       "a,y\n1,10\n2,2\n",
			wantTrain: []int32{0, 1, 10, 2}, wantVal: []int32{10, 2}, classes: 11, kind: LabelsAreIDs,
		},
		{
			name:      "validation with fewer integer classes",
			train:     "a,y\n1,0\n2,5\n",
			val:       "a,y\n1,1\n",
			wantTrain: []int32{0, 5}, wantVal: []int32{1}, classes: 6, kind: LabelsAreIDs,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			train, err := ParseCSV("train.csv", strings.NewReader(tt.train), CSVOptions{LabelKind: tt.kind})
			if err != nil {
				t.Fatal(err)
			}
			val, err := ParseCSV("val.csv", strings.NewReader(tt.val), CSVOptions{Classes: train.ClassMap()})
			if err != nil {
				t.Fatal(err)
			}
			for _, ds := range []*Dataset{train, val} {
				if ds.NumClasses != tt.classes || !reflect.DeepEqual(ds.ClassNames, tt.names) {
					t.Errorf("%s: %d classes %q, want %d %q", ds.Source, ds.NumClasses, ds.ClassNames, tt.classes, tt.names)
				}
			}
			if !reflect.DeepEqual(train.Labels, tt.wantTrain) || !reflect.DeepEqual(val.Labels, tt.wantVal) {
				t.Errorf("labels: train %v, validation %v; want %v, %v", train.Labels, val.Labels, tt.wantTrain, tt.wantVal)
			}
		})
	}
}

func TestOpenQuoteColumn(t *testing.T) {
	tests := []struct {
		line string
		want int
	}{
		{``, 0},
		{`1,2,3`, 0},
		{`"a"`, 0},
		{`"a`, 1},
		{`1,"a`, 3},
		{`1,  "a`, 5},
		{`1,"a,b`, 3},
		{`1,"a"",b`, 3},
		{`1,"a""`, 3},
		{`1,"a","b`, 7},
		{`1,"a"x,"b`, 0}, // a stray quote: the csv.Reader places that error itself
		{`x"y,"b`, 5},    // a bare quote does not start a quoted field
		{"1,\t\"b", 4},
		{`1,"a" `, 0},
	}
	for _, tt := range tests {
		if got := openQuoteColumn([]byte(tt.line)); got != tt.want {
			t.Errorf("openQuoteColumn(%q) = %d, want %d", tt.line, got, tt.want)
		}
	}
}

// TestCSVColumns: a data set names the columns its features and labels
// came from, in the order read: header names, else indexes.
func TestCSVColumns(t *testing.T) {
	for _, tt := range []struct {
		name, in       string
		opts           CSVOptions
		feats, targets []string
	}{
		{"header, defaults", "a,b,y\n1,2,0\n", CSVOptions{}, []string{"a", "b"}, []string{"y"}},
		{"header, chosen order", "a,b,c,y\n0,2,3,0\n", CSVOptions{Labels: []string{"a"}, Features: []string{"c", "1"}}, []string{"c", "b"}, []string{"a"}},
		{"no header", "1,2,0\n", CSVOptions{}, []string{"0", "1"}, []string{"2"}},
		{"regression targets", "a,b,c\n1,2,3\n", CSVOptions{Task: Regression, Labels: []string{"c", "a"}}, []string{"b"}, []string{"c", "a"}},
		// Columns of one name that the model does not use do no harm.
		{"unused columns of one name", "n,n,b,y\n1,2,3,0\n", CSVOptions{Features: []string{"b"}}, []string{"b"}, []string{"y"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ds, err := ParseCSV("d.csv", strings.NewReader(tt.in), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ds.FeatureColumns, tt.feats) || !reflect.DeepEqual(ds.LabelColumns, tt.targets) {
				t.Errorf("columns %q and %q, want %q and %q", ds.FeatureColumns, ds.LabelColumns, tt.feats, tt.targets)
			}
		})
	}
}

// TestCSVTrainedColumns: with the columns a model was trained on
// (CSVOptions.Trained), a file is read by their names in the training
// order, whatever its own order; a missing or unknown column is an error
// naming it.
func TestCSVTrainedColumns(t *testing.T) {
	named := &TrainedColumns{Features: []string{"a", "b"}, Labels: []string{"y"}, AllFeatures: true}
	targets := &TrainedColumns{Features: []string{"a"}, Labels: []string{"t1", "t0"}}
	indexes := &TrainedColumns{Features: []string{"0", "1"}, Labels: []string{"2"}, AllFeatures: true}
	for _, tt := range []struct {
		name, in string
		cols     *TrainedColumns
		task     Task
		want     string // features and labels or targets, or the error
	}{
		{"same order", "a,b,y\n1,2,0\n", named, Classification, "[1 2] [0]"},
		{"reordered", "y,b,a\n0,2,1\n", named, Classification, "[1 2] [0]"},
		{"targets reordered, another column ignored", "t0,x,a,t1\n5,9,1,6\n", targets, Regression, "[1] [6 5]"},
		{"training without a header", "1,2,0\n", indexes, Classification, "[1 2] [0]"},
		{"other names", "x1,x2,y\n1,2,0\n", named, Classification,
			`d.csv: has no column "a", a feature the model was trained on (the file has the columns x1, x2, y)`},
		{"no header", "1,2,0\n", named, Classification,
			`d.csv: has no column "a", a feature the model was trained on (the file has 3 columns and no header row)`},
		{"a target missing", "t0,a\n5,1\n", targets, Regression,
			`d.csv: has no column "t1", a target column the model was trained on (the file has the columns t0, a)`},
		{"a column named twice", "a,a,b,y\n1,1,2,0\n", named, Classification,
			`d.csv: column "a" is ambiguous: columns 0 and 1 both have that name; the model was trained on one column of that name`},
		{"unknown column", "a,b,c,y\n1,2,3,0\n", named, Classification,
			`d.csv: column "c" (index 2) is not a column the model was trained on (its features are a, b; its label column is y)`},
		{"unknown column, no header", "1,2,3,0\n", indexes, Classification,
			`d.csv: column index 3 is not a column the model was trained on (its features are 0, 1; its label column is 2)`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ds, err := ParseCSV("d.csv", strings.NewReader(tt.in), CSVOptions{Trained: tt.cols, Task: tt.task})
			got := ""
			switch {
			case err != nil:
				got = err.Error()
			case tt.task == Regression:
				got = fmt.Sprint(ds.F32, ds.Targets)
			default:
				got = fmt.Sprint(ds.F32, ds.Labels)
			}
			if got != tt.want {
				t.Errorf("got\n  %s\nwant\n  %s", got, tt.want)
			}
		})
	}
}

// TestCSVStreamHeader: a CSV file of new inputs is read with the header
// detection of training files: a word above a number on line 2 makes
// line 1 a header (so columns named like numbers are found by name), and
// the rows of a file without a header keep their own line numbers,
// also in errors, after line 2 was looked at.
func TestCSVStreamHeader(t *testing.T) {
	for _, tc := range []struct {
		name      string
		in        string
		features  []string
		wantF     []float32
		wantLines []int
		wantErr   string
	}{
		{"names like numbers, found by name", "2019,2020,y\n1,2,0\n3,4,1\n", []string{"2020", "2019"}, []float32{2, 1, 4, 3}, []int{2, 3}, ""},
		{"a word over a number", "x1,7\n1,2\n", []string{"7", "x1"}, []float32{2, 1}, []int{2}, ""},
		{"numbers only: no header", "1,2\n3,4\n", []string{"1"}, []float32{2, 4}, []int{1, 2}, ""},
		{"words over words: no header", "1,a\n2,b\n\n3,c\n", []string{"0"}, []float32{1, 2, 3}, []int{1, 2, 4}, ""},
		{"an error on line 2, after it was looked at", "1,a\nx,b\n", []string{"0"}, nil, nil, `d.csv:2: column index 0: "x" is not a number`},
		{"an error on line 1, after line 2 was looked at", "1,a,q\n2,b,r\n", []string{"0", "2"}, nil, nil, `d.csv:1: column index 2: "q" is not a number`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "d.csv")
			os.WriteFile(path, []byte(tc.in), 0o644)
			s, err := OpenCSVStream(path, CSVOptions{Features: tc.features, Task: Regression}, 0, "")
			var f []float32
			var lines []int
			for err == nil {
				var ds *Dataset
				var l []int
				if ds, l, err = s.Next(1); err == nil {
					f, lines = append(f, ds.F32...), append(lines, l...)
				}
			}
			if s != nil {
				s.Close()
			}
			if errors.Is(err, io.EOF) {
				err = nil
			}
			got := ""
			if err != nil {
				got = strings.Replace(err.Error(), path, "d.csv", 1)
			}
			if got != tc.wantErr || tc.wantErr == "" && (!slices.Equal(f, tc.wantF) || !slices.Equal(lines, tc.wantLines)) {
				t.Errorf("features %v on lines %v, error %q; want %v on lines %v, error %q", f, lines, got, tc.wantF, tc.wantLines, tc.wantErr)
			}
		})
	}
}

// TestAutoHeaderMissingValues: an empty cell or a missing-value marker
// (NA, N/A, NULL, ?, ...) on line 1 says nothing about a header: a first
// row whose other cells are numbers is data, so its missing value is an
// error at its line and column rather than a data row silently taken as
// the column names. A word on line 1 still makes it a header, missing
// names or not.
func TestAutoHeaderMissingValues(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		task     Task
		header   []string // the column names of a header row; nil: line 1 is data
		wantErr  string
	}{
		{"an empty cell among numbers", "1.5,,0.7\n0.2,0.3,1\n", Regression, nil, `d.csv:1: column index 1: "" is empty; want a number`},
		{"an empty cell over a number, classes", "1.5,,0\n0.2,0.3,1\n", Classification, nil, `d.csv:1: column index 1: "" is empty; want a number`},
		{"NA among numbers", "1.5,NA,0.7\n0.2,0.3,1\n", Regression, nil, `d.csv:1: column index 1: "NA" is not a number`},
		{"N/A and ? among numbers", "N/A,2,?\n0.2,0.3,1\n", Regression, nil, `d.csv:1: column index 0: "N/A" is not a number`},
		{"spaces only", "1, ,2\n3,4,5\n", Regression, nil, `d.csv:1: column index 1: "" is empty; want a number`},
		{"every cell missing", ",NA,\n1,2,3\n", Regression, nil, `d.csv:1: column index 0: "" is empty; want a number`},
		{"words and an empty name", "a,,y\n1,2,3\n", Regression, []string{"a", "", "y"}, ""},
		{"a word over a number beside a missing value", "x,NA,0.7\n1,2,3\n", Regression, []string{"x", "NA", "0.7"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ds, err := ParseCSV("d.csv", strings.NewReader(tc.in), CSVOptions{Task: tc.task, Labels: []string{"2"}})
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.wantErr {
				t.Fatalf("error %q, want %q", got, tc.wantErr)
			}
			if err == nil {
				if cols := slices.Concat(ds.FeatureColumns, ds.LabelColumns); !slices.Equal(cols, tc.header) {
					t.Errorf("columns %q, want the header %q", cols, tc.header)
				}
			}
			// predict's reader (CSVStream) decides line 1 the same way.
			path := filepath.Join(t.TempDir(), "d.csv")
			os.WriteFile(path, []byte(tc.in), 0o644)
			s, err := OpenCSVStream(path, CSVOptions{Features: []string{"0", "1"}, Task: Regression}, 0, "")
			if err == nil {
				_, _, err = s.Next(1)
				s.Close()
			}
			if tc.header == nil && (err == nil || !strings.HasPrefix(strings.Replace(err.Error(), path, "d.csv", 1), "d.csv:1: column index ")) {
				t.Errorf("CSVStream: %v, want line 1 read as data and refused", err)
			}
		})
	}
}
