package train

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/nettrain/nettrain/internal/testutil"
)

// classesCSV is 40 rows of two features and a label column, labels
// 0, 1, 2 in turn, the last one replaced by last when it is not "".
func classesCSV(last string) string {
	var b strings.Builder
	b.WriteString("a,b,label\n")
	for i := 0; i < 40; i++ {
		l := fmt.Sprint(i % 3)
		if i == 39 && last != "" {
			l = last
		}
		fmt.Fprintf(&b, "%d,%d,%s\n", i%5, i%7, l)
	}
	return b.String()
}

const classesConfig = `name: cls
data: {train: d.csv, validation_split: 0}
model:
  layers:
    - dense: {units: classes}
loss: cross_entropy
training: {batch_size: 8, memory_limit: 64MiB}
`

// imagesConfig is classesConfig on an image folder.
const imagesConfig = `name: cls
data: {train: images, validation_split: 0}
model:
  layers:
    - flatten
    - dense: {units: classes}
loss: cross_entropy
training: {batch_size: 8, memory_limit: 64MiB}
`

// TestEvaluateManyClasses: Evaluate keeps the confusion matrix for up to
// 1000 classes and says why it has none above, with the same per-class
// scores; its memory grows with the classes, not their square. Before,
// 20000 outputs made every evaluation allocate a 3.2 GB matrix (Go's
// "fatal error: out of memory" at the first epoch's end).
func TestEvaluateManyClasses(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "d.csv"), []byte(classesCSV("")), 0o644)
	for _, tc := range []struct {
		units  int
		matrix bool
	}{{3, true}, {1000, true}, {1001, false}, {4000, false}} {
		t.Run(fmt.Sprint(tc.units), func(t *testing.T) {
			m, err := Load[float32](testutil.LoadConfig(t, dir, classesConfig, fmt.Sprintf("model.layers.0.dense.units=%d", tc.units)))
			if err != nil {
				t.Fatal(err)
			}
			net, err := m.InitNetwork(8)
			if err != nil {
				t.Fatal(err)
			}
			pool := NewPool(1)
			defer pool.Close()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			r := Evaluate(pool.Ctx(), net, m.Data.Train, m.Data.Classes)
			runtime.ReadMemStats(&after)
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20+uint64(8*tc.units*min(tc.units, 1000)) {
				t.Errorf("Evaluate allocated %d bytes for %d classes", alloc, tc.units)
			}
			js, _ := json.Marshal(r)
			var fields map[string]any
			json.Unmarshal(js, &fields)
			_, hasMatrix := fields["confusion"]
			omitted, _ := fields["confusion_omitted"].(string)
			if hasMatrix != tc.matrix || (omitted == "") != tc.matrix {
				t.Errorf("confusion matrix %v, confusion_omitted %q; want the matrix: %v", hasMatrix, omitted, tc.matrix)
			}
			if want := fmt.Sprintf("%d classes: a confusion matrix is kept for up to 1000", tc.units); !tc.matrix && omitted != want {
				t.Errorf("confusion_omitted %q, want %q", omitted, want)
			}
			if r.Classes != tc.units || len(r.Support) != tc.units || len(r.Precision) != tc.units || len(r.Recall) != tc.units || len(r.F1) != tc.units {
				t.Fatalf("%d classes, %d supports, %d precisions, %d recalls, %d F1s; want %d each",
					r.Classes, len(r.Support), len(r.Precision), len(r.Recall), len(r.F1), tc.units)
			}
			if r.Support[0] != 14 || r.Support[1] != 13 || r.Support[2] != 13 || r.Count != 40 {
				t.Errorf("support %v of %d samples, want 14, 13, 13 of 40", r.Support[:3], r.Count)
			}
			// The scores agree with the matrix when there is one.
			for c := 0; c < len(r.Confusion); c++ {
				row, col := 0, 0
				for k := range r.Confusion {
					row += r.Confusion[c][k]
					col += r.Confusion[k][c]
				}
				if row != r.Support[c] || r.Recall[c] != ratio(r.Confusion[c][c], row) || r.Precision[c] != ratio(r.Confusion[c][c], col) {
					t.Errorf("class %d: support %d, recall %g, precision %g disagree with the matrix", c, r.Support[c], r.Recall[c], r.Precision[c])
				}
			}
		})
	}
}
