package train

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nettrain/nettrain/internal/checkpoint"
	"github.com/nettrain/nettrain/internal/testutil"
)

// TestFingerprints: the data's fingerprint follows the data as loaded: the
// same values written differently fingerprint the same; a changed value,
// a changed class name or another sample count does not.
func TestFingerprints(t *testing.T) {
	csv := func(n int, change func(i int) string) string {
		var b strings.Builder
		b.WriteString("x,y,label\n")
		for i := 0; i < n; i++ {
			if s := change(i); s != "" {
				b.WriteString(s)
				continue
			}
			fmt.Fprintf(&b, "%d,%d,%s\n", i%7, i%3, []string{"a", "b"}[i%2])
		}
		return b.String()
	}
	same := func(int) string { return "" }
	const tabular = `name: f
data: {train: d.csv, validation_split: 0.25}
model: {input: [2], layers: [{dense: {units: 2}}]}
`
	const text = `name: f
data: {train: d.txt, sequence: {kind: text, window: 4}}
model: {layers: [onehot, {lstm: {units: 2}}, {dense: {units: classes}}]}
`
	const series = `name: f
data: {train: s.csv, validation_split: 0, sequence: {kind: series, window: 3, inputs: [v], difference: true}}
model: {layers: [{lstm: {units: 2}}, {dense: {units: 1}}]}
loss: mse
`
	rows := func(change int) string {
		var b strings.Builder
		b.WriteString("t,v\n")
		for i := range 30 {
			v := i * i
			if i == change {
				v++
			}
			fmt.Fprintf(&b, "%d,%d\n", i, v)
		}
		return b.String()
	}
	story := strings.Repeat("the quick brown fox jumps over the lazy dog. ", 20)
	tests := []struct {
		name, config, file string
		a, b               string // two versions of the file
		same               bool
		samples            int // of b
	}{
		{"csv rewritten with the same values", tabular, "d.csv", csv(40, same), csv(40, func(i int) string {
			if i == 3 {
				return "3.0,0.00,b\n"
			}
			return ""
		}), true, 40},
		{"csv with one value changed", tabular, "d.csv", csv(40, same), csv(40, func(i int) string {
			if i == 3 {
				return "3,1,b\n"
			}
			return ""
		}), false, 40},
		{"csv with a label changed", tabular, "d.csv", csv(40, same), csv(40, func(i int) string {
			if i == 3 {
				return "3,0,a\n"
			}
			return ""
		}), false, 40},
		{"csv with a row dropped", tabular, "d.csv", csv(40, same), csv(39, same), false, 39},
		{"text unchanged", text, "d.txt", story, story, true, len(story)},
		{"text with one character changed", text, "d.txt", story, strings.Replace(story, "lazy", "hazy", 1), false, len(story)},
		// 30 rows, 29 differences: the count says which it is.
		{"differenced series with one value changed", series, "s.csv", rows(-1), rows(7), false, 29},
	}
	load := func(t *testing.T, dir, config, file, content string) []checkpoint.DataFingerprint {
		t.Helper()
		os.WriteFile(filepath.Join(dir, file), []byte(content), 0o644)
		m, err := Load[float32](testutil.LoadConfig(t, dir, config))
		if err != nil {
			t.Fatal(err)
		}
		return m.Data.Fingerprints
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			a := load(t, dir, tc.config, tc.file, tc.a)
			b := load(t, dir, tc.config, tc.file, tc.b)
			if len(b) != 1 || b[0].Key != "data.train" || b[0].Source != tc.file || b[0].Samples != tc.samples || b[0].Size != int64(len(tc.b)) {
				t.Fatalf("fingerprint %+v", b)
			}
			d := checkpoint.DataDiffers(a, b)
			if (d == "") != tc.same {
				t.Errorf("DataDiffers: %q, want same: %v", d, tc.same)
			}
			if tc.config == series && !strings.Contains(d, "the same 29 row-to-row differences, other values") {
				t.Errorf("DataDiffers: %q, want it to count the differences as such", d)
			}
		})
	}
}

// TestFingerprintOfFloat64Data: under dtype float64 the data is kept in
// float64 but fingerprints as its float32 rounding, the same as under
// float32, so checkpoints written before float64 data resume.
func TestFingerprintOfFloat64Data(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "d.csv"), []byte("a,b,t\n0.1,0.123456789012,1.5\n2,-3.3333333333333,0.25\n"), 0o644)
	const config = `name: f
data: {train: d.csv, validation_split: 0, normalize: none}
model: {input: [2], layers: [{dense: {units: 1}}]}
loss: mse
`
	m32, err := Load[float32](testutil.LoadConfig(t, dir, config))
	if err != nil {
		t.Fatal(err)
	}
	m64, err := Load[float64](testutil.LoadConfig(t, dir, config, "dtype=float64"))
	if err != nil {
		t.Fatal(err)
	}
	if d := checkpoint.DataDiffers(m32.Data.Fingerprints, m64.Data.Fingerprints); d != "" {
		t.Errorf("float64 data fingerprints differently: %s", d)
	}
	x := make([]float64, 2)
	m64.Data.Train.Fill([]int{0}, x, nil, make([]float64, 1))
	if x[1] != 0.123456789012 {
		t.Errorf("float64 batch holds %.17g, want the file's 0.123456789012", x[1])
	}
}
