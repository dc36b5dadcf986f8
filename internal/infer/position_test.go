package infer

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nettrain/nettrain/internal/session"
	"github.com/nettrain/nettrain/internal/testutil"
)

// TestHeaderlessTrainingReadsByPosition: a model trained on a CSV file
// without a header row knows its columns only by position. A new file
// with a header is read by position all the same, but predict says so in
// one note naming the file and the names it does not go by (its columns
// may be in another order); a test file with a header is refused, since
// eval's scores would silently depend on the order of its columns.
func TestHeaderlessTrainingReadsByPosition(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	for i := range 40 {
		fmt.Fprintf(&b, "%d,%d,%d,%s\n", i%5, i%3, i%7, []string{"cat", "dog"}[i%2])
	}
	os.WriteFile(filepath.Join(dir, "d.csv"), []byte(b.String()), 0o644)
	cfg := testutil.LoadConfig(t, dir, `name: p
data: {train: d.csv, test: test.csv, validation_split: 0.25}
model: {layers: [{dense: {units: classes}}]}
training: {epochs: 1, batch_size: 8}
`)
	ck := filepath.Join(dir, "run", "best.safetensors")
	if _, err := session.Run(cfg, session.Options{OutDir: filepath.Join(dir, "run")}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, file string
		note       string // "": none
	}{
		{"no header", "1,2,3\n4,5,6\n", ""},
		{"no header, labels", "1,2,3,cat\n", ""},
		{"a header in the training order", "a,b,c\n1,2,3\n", `new.csv: the model was trained on a CSV file without a header row, so this file's columns are read by position (0 to 2), not by the names on its line 1 (a, b, c)`},
		{"a header in another order", "c,b,a,label\n3,2,1,cat\n", `new.csv: the model was trained on a CSV file without a header row, so this file's columns are read by position (0 to 3), not by the names on its line 1 (c, b, a, label)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := filepath.Join(dir, "new.csv")
			os.WriteFile(in, []byte(tc.file), 0o644)
			var notes []string
			_, err := PredictInputs(cfg, InputOptions{Checkpoint: ck, Inputs: []string{in}, Top: 1, Warn: func(m string) { notes = append(notes, m) }})
			if err != nil {
				t.Fatal(err)
			}
			want := []string{}
			if tc.note != "" {
				want = append(want, strings.Replace(tc.note, "new.csv", in, 1))
			}
			if fmt.Sprint(notes) != fmt.Sprint(want) {
				t.Errorf("notes %q, want %q", notes, want)
			}
			os.WriteFile(filepath.Join(dir, "test.csv"), []byte(tc.file), 0o644)
			_, err = EvalCheckpoint(cfg, ck, Test, 1)
			switch {
			case !strings.Contains(tc.file, "a,"):
				// No header: read by position, as training read its file
				// (an error, if any, is not about the header).
				if err != nil && strings.Contains(err.Error(), "trained on a CSV file without") {
					t.Errorf("eval: %v", err)
				}
			case err == nil || !strings.Contains(err.Error(), "test.csv: has a header row ("+strings.ReplaceAll(strings.SplitN(tc.file, "\n", 2)[0], ",", ", ")+"), but the model was trained on a CSV file without one"):
				t.Errorf("eval on a test file with a header: %v", err)
			}
		})
	}
}
