package session

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nettrain/nettrain/internal/checkpoint/cktest"
	"github.com/nettrain/nettrain/internal/testutil"
)

// TestResumeOlderCheckpoint: a run trained before data.csv.classes on
// numeric labels 1 to 3 (class ids then, class 0 without a row), or
// before a word above a number made line 1 a header (a headerless file
// whose line 1 ends in a class name), resumes with its data read as it
// was: the config as it was, or with data.csv.classes or data.csv.header
// set to what the run read, as the errors about such data ask, goes on
// exactly as the run would have (the same weights as resuming the same
// checkpoint whose config says so); another setting is refused.
func TestResumeOlderCheckpoint(t *testing.T) {
	const base = "name: o\ndata:\n  train: d.csv\n  csv: {%s}\nmodel: {layers: [{dense: {units: classes}}]}\ntraining: {epochs: 1, batch_size: 8}\n"
	ids, headerless := testutil.OlderCSVData()
	plain := testutil.CSVLine.ReplaceAllString(base, "")
	for _, tc := range []struct {
		name, file, setting string
		sets                []string
		want                string // an error with this; "": none
	}{
		{"ids", ids, "classes: ids", nil, ""},
		{"ids, classes ids", ids, "classes: ids", []string{"data.csv.classes=ids"}, ""},
		{"ids, classes names", ids, "classes: ids", []string{"data.csv.classes=names"},
			"older.safetensors was trained with other settings of data than c.yaml gives now (this command sets --set data.csv.classes=names)"},
		{"headerless", headerless, "header: false", nil, ""},
		{"headerless, no header", headerless, "header: false", []string{"data.csv.header=false"}, ""},
		{"headerless, a header", headerless, "header: false", []string{"data.csv.header=true"},
			"older.safetensors was trained with other settings of data than c.yaml gives now (this command sets --set data.csv.header=true)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "d.csv"), []byte(tc.file), 0o644)
			src := fmt.Sprintf(base, tc.setting)
			if _, err := Run(loadConfig(t, dir, src), Options{OutDir: filepath.Join(dir, "run")}); err != nil {
				t.Fatal(err)
			}
			// The checkpoint as the older nettrain wrote it: its config,
			// config hash and resume sections without the csv line.
			older := loadConfig(t, dir, plain)
			ck := filepath.Join(dir, "older.safetensors")
			if err := cktest.AsOlder(filepath.Join(dir, "run", "last.safetensors"), ck, testutil.CSVLine, older.Hash(), older.ResumeSections()); err != nil {
				t.Fatal(err)
			}
			_, err := Run(loadConfig(t, dir, plain, append([]string{"training.epochs=2"}, tc.sets...)...), Options{OutDir: filepath.Join(dir, "older"), Resume: ck})
			switch {
			case tc.want != "":
				if err == nil || !strings.Contains(strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), ""), tc.want) {
					t.Errorf("resume: %v\nwant an error with %q", err, tc.want)
				}
				return
			case err != nil:
				t.Fatalf("resume: %v", err)
			}
			// The same run, resumed from the checkpoint that says how.
			if _, err := Run(loadConfig(t, dir, src, "training.epochs=2"), Options{OutDir: filepath.Join(dir, "said"), Resume: filepath.Join(dir, "run", "last.safetensors")}); err != nil {
				t.Fatal(err)
			}
			if a, b := weights(t, filepath.Join(dir, "older", "last.safetensors")), weights(t, filepath.Join(dir, "said", "last.safetensors")); !reflect.DeepEqual(a, b) {
				t.Errorf("the older checkpoint's run went on otherwise than the same run's")
			}
		})
	}
}
