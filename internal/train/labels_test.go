package train

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/viper"

	"github.com/nettrain/nettrain/internal/model"
)

// TestClassLabels: a CSV label column of numbers holds class ids when
// every id from 0 to the largest has a row; ids that leave some without
// one (labels 1 to 3, codes 100, 200, 300) are refused, naming the file,
// the column and data.csv.classes, which reads them as class names
// (names) or keeps every id as a class (ids). The model's outputs must be
// one per class: more (classes no sample has, which predict would still
// answer) is refused as fewer is.
func TestClassLabels(t *testing.T) {
	for _, tc := range []struct {
		name   string
		labels []string // in turn, over 30 rows
		sets   []string
		want   string   // an error with this; "": none
		names  []string // the class names wanted
		n      int      // the classes wanted
	}{
		{"ids 0 to 2", []string{"0", "1", "2"}, nil, "", nil, 3},
		{"ids from 1", []string{"1", "2", "3"}, nil,
			`d.csv:4: column "label" (index 2): the labels are numbers, read as class ids 0 to 3, but no row has class 0; set data.csv.classes: names to read them as the names of 3 classes, or ids to keep every id from 0 to 3 as a class`, nil, 0},
		{"codes", []string{"100", "300", "200"}, nil,
			`d.csv:3: column "label" (index 2): the labels are numbers, read as class ids 0 to 300, but no row has classes 0 to 99, 101 to 199, 201 to 299; set data.csv.classes: names to read them as the names of 3 classes, or ids to keep every id from 0 to 300 as a class`, nil, 0},
		{"ids from 1 as names", []string{"1", "2", "3"}, []string{"data.csv.classes=names"}, "", []string{"1", "2", "3"}, 3},
		{"codes as names", []string{"100", "300", "200"}, []string{"data.csv.classes=names"}, "", []string{"100", "200", "300"}, 3},
		{"ids from 1 kept as ids", []string{"1", "2", "3"}, []string{"data.csv.classes=ids", "model.layers.0.dense.units=4"}, "", nil, 4},
		{"names", []string{"cat", "dog"}, nil, "", []string{"cat", "dog"}, 2},
		{"names are not ids", []string{"cat", "dog"}, []string{"data.csv.classes=ids"}, `d.csv:2: column "label" (index 2): label "cat" is not a class id (data.csv.classes is ids)`, nil, 0},
		{"an unknown setting", []string{"0", "1"}, []string{"data.csv.classes=labels"}, `data.csv.classes: unknown value "labels"`, nil, 0},
		{"classes for regression targets", []string{"0", "1"}, []string{"data.csv.classes=names", "loss=mse"}, `data.csv.classes: reads class labels (loss cross_entropy); with loss mse the label column holds regression targets`, nil, 0},
		{"more outputs than named classes", []string{"cat", "dog", "eel"}, []string{"model.layers.0.dense.units=5"},
			`model.layers.0: d.csv has 3 classes ("cat", "dog", "eel"), but layer 0 (dense) outputs 5 values; it needs one per class (units: classes): the other outputs would be classes no sample has`, nil, 0},
		{"more outputs than class ids", []string{"0", "1", "2"}, []string{"model.layers.0.dense.units=5"},
			`model.layers.0: d.csv has 3 classes (d.csv:4: column "label" (index 2): class id 2), but layer 0 (dense) outputs 5 values; it needs one per class (units: classes): the other outputs would be classes no sample has`, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var b strings.Builder
			b.WriteString("a,b,label\n")
			for i := range 30 {
				fmt.Fprintf(&b, "%d,%d,%s\n", i%5, i%7, tc.labels[i%len(tc.labels)])
			}
			os.WriteFile(filepath.Join(dir, "d.csv"), []byte(b.String()), 0o644)
			os.WriteFile(filepath.Join(dir, "c.yaml"), []byte(classesConfig), 0o644)
			var m *Model[float32]
			cfg, err := model.Parse(filepath.Join(dir, "c.yaml"), []byte(classesConfig), tc.sets, viper.New())
			if err == nil {
				m, err = Load[float32](cfg)
			}
			switch {
			case tc.want != "":
				if err == nil || !strings.Contains(strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), ""), tc.want) {
					t.Errorf("Load: %v\nwant an error with %s", err, tc.want)
				}
			case err != nil:
				t.Errorf("Load: %v", err)
			case m.Data.Classes != tc.n || !slices.Equal(m.Data.ClassNames, tc.names):
				t.Errorf("%d classes %q, want %d %q", m.Data.Classes, m.Data.ClassNames, tc.n, tc.names)
			}
		})
	}
}
