package train

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/testutil"
)

// TestOtherFilesByColumnName: data.test and data.validation CSV files are
// read by the column names the model was trained on, not by position: a
// file with its columns in another order gives the training order's
// samples, and a file without a training column (x1..x4 for a..d), with
// a column the model never saw, or without a header row to find the
// names in, is an error naming the file and the column.
func TestOtherFilesByColumnName(t *testing.T) {
	cols := []string{"a", "b", "c", "d", "label"}
	rows := make([][]string, 12)
	for i := range rows {
		rows[i] = []string{fmt.Sprint(i), fmt.Sprint(10 * i), fmt.Sprint(-i), fmt.Sprint(i * i), fmt.Sprint(i % 3)}
	}
	// file writes the rows with the columns in the order given by name
	// (header true) or without a header row; extra names get the cell 7.
	file := func(header bool, order ...string) string {
		var b strings.Builder
		if header {
			b.WriteString(strings.Join(order, ",") + "\n")
		}
		for _, r := range rows {
			cells := make([]string, len(order))
			for k, name := range order {
				cells[k] = "7"
				if j := slices.Index(cols, name); j >= 0 {
					cells[k] = r[j]
				}
			}
			b.WriteString(strings.Join(cells, ",") + "\n")
		}
		return b.String()
	}
	const all = `name: cols
data: {train: train.csv, test: test.csv, validation_split: 0.25, normalize: standardize}
model: {layers: [{dense: {units: 3}}]}
loss: cross_entropy
training: {epochs: 1, batch_size: 4}
`
	picked := strings.Replace(all, "normalize: standardize", "normalize: standardize, csv: {features: [a, b, c, d]}", 1)
	tests := []struct {
		name, config, test string
		want               string // an error, or "" for the training order's samples
	}{
		{"same order", all, file(true, cols...), ""},
		{"columns reversed", all, file(true, "d", "c", "b", "a", "label"), ""},
		{"label first", all, file(true, "label", "d", "c", "b", "a"), ""},
		{"another column, features picked by name", picked, file(true, "e", "b", "a", "label", "d", "c"), ""},
		{"other names", all, file(true, "x1", "x2", "x3", "x4", "label"),
			`data.test: test.csv: has no column "a", a feature the model was trained on (the file has the columns x1, x2, x3, x4, label)`},
		{"a feature missing", all, file(true, "a", "b", "d", "label"),
			`data.test: test.csv: has no column "c", a feature the model was trained on (the file has the columns a, b, d, label)`},
		{"no label column", all, file(true, "a", "b", "c", "d"),
			`data.test: test.csv: has no column "label", the label column the model was trained on (the file has the columns a, b, c, d)`},
		{"another column", all, file(true, "a", "b", "c", "d", "label", "e"),
			`data.test: test.csv: column "e" (index 5) is not a column the model was trained on (its features are a, b, c, d; its label column is label)`},
		{"no header row", all, file(false, cols...),
			`data.test: test.csv: has no column "a", a feature the model was trained on (the file has 5 columns and no header row)`},
	}
	// samples fills every sample of s: features and labels.
	samples := func(m *Model[float64], s Split[float64]) ([]float64, []int32) {
		pos := make([]int, s.Len())
		for i := range pos {
			pos[i] = i
		}
		x := make([]float64, len(pos)*backprop.Prod(m.Graph.Input))
		y := make([]int32, len(pos))
		s.Fill(pos, x, y, nil)
		return x, y
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "train.csv"), []byte(file(true, cols...)), 0o644)
			os.WriteFile(filepath.Join(dir, "test.csv"), []byte(tt.test), 0o644)
			m, err := Load[float64](testutil.LoadConfig(t, dir, tt.config))
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.Data.LoadTest()
			want := strings.Replace(tt.want, "test.csv", filepath.Join(dir, "test.csv"), 1)
			if tt.want != "" {
				if err == nil || !strings.HasSuffix(err.Error(), want) {
					t.Fatalf("error %v, want one ending %q", err, want)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			// As data.validation, the file is read the same way.
			vm, verr := Load[float64](testutil.LoadConfig(t, dir, strings.Replace(tt.config, "validation_split: 0.25", "validation: test.csv", 1)))
			if tt.want != "" {
				want := strings.Replace(want, "data.test", "data.validation", 1)
				if verr == nil || !strings.HasSuffix(verr.Error(), want) {
					t.Fatalf("as data.validation: error %v, want one ending %q", verr, want)
				}
				return
			}
			if verr != nil {
				t.Fatal(verr)
			}
			wantX, wantY := samples(m, m.Data.TrainForEval())
			// The training split holds 3/4 of the rows, in an order of its
			// own: compare every test sample with the training samples.
			x, y := samples(m, got)
			vx, vy := samples(vm, vm.Data.Val)
			in := backprop.Prod(m.Graph.Input)
			if len(y) != len(rows) || len(vy) != len(rows) {
				t.Fatalf("%d test and %d validation samples, want %d", len(y), len(vy), len(rows))
			}
			found := 0
			for i := range wantY {
				for k := range y {
					if slices.Equal(x[k*in:(k+1)*in], wantX[i*in:(i+1)*in]) && y[k] == wantY[i] {
						found++
						break
					}
				}
			}
			if found != len(wantY) {
				t.Errorf("%d of the %d training samples are among the test file's (%v...), want all", found, len(wantY), x[:in])
			}
			// Unnormalised, the validation samples are the file's rows
			// in the training order of columns, the first a, b, c, d = 0, 0, 0, 0.
			if vy[1] != 1 || vy[11] != 2 {
				t.Errorf("validation labels %v", vy)
			}
			first, second := vx[:in], vx[in:2*in]
			if !(second[0] > first[0] && second[1] > first[1] && second[2] < first[2] && second[3] > first[3]) {
				t.Errorf("validation samples %v then %v: not columns a, b, c, d", first, second)
			}
		})
	}
}
