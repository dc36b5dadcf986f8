package infer

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nettrain/nettrain/internal/checkpoint/cktest"
	"github.com/nettrain/nettrain/internal/session"
	"github.com/nettrain/nettrain/internal/testutil"
)

// olderCheckpoint trains src, whose data.csv line ("  csv: {...}") says
// how the data is read, and returns a checkpoint as a nettrain before
// that setting existed (data.csv.classes) or was needed (data.csv.header,
// before a word above a number made line 1 a header) wrote it: its
// config, its config hash and its resume sections without the csv line.
func olderCheckpoint(t *testing.T, dir, src string) string {
	t.Helper()
	cfg := testutil.LoadConfig(t, dir, src)
	if _, err := session.Run(cfg, session.Options{OutDir: filepath.Join(dir, "run")}); err != nil {
		t.Fatal(err)
	}
	if !testutil.CSVLine.MatchString(src) {
		t.Fatalf("no csv line in the config:\n%s", src)
	}
	older := testutil.LoadConfig(t, dir, testutil.CSVLine.ReplaceAllString(src, ""))
	ck := filepath.Join(dir, "older.safetensors")
	if err := cktest.AsOlder(filepath.Join(dir, "run", "last.safetensors"), ck, testutil.CSVLine, older.Hash(), older.ResumeSections()); err != nil {
		t.Fatal(err)
	}
	return ck
}

// TestOlderCheckpointReadsItsData: a checkpoint of a run trained before
// data.csv.classes, on numeric labels 1 to 3 (class ids then, with a
// class 0 no row has), or before a word above a number made line 1 a
// header (a headerless file whose line 1 ends in a class name), is
// evaluated on its validation and training splits, and exported, with
// its data read as it was (the settings its config leaves to the data
// taken from the checkpoint), also when the config now sets
// data.csv.classes or data.csv.header to what the checkpoint read, as
// the errors about such data ask; another setting is refused.
func TestOlderCheckpointReadsItsData(t *testing.T) {
	const base = "name: o\ndata:\n  train: d.csv\n  test: d.csv\n  csv: {%s}\nmodel: {layers: [{dense: {units: classes}}]}\ntraining: {epochs: 1, batch_size: 8}\n"
	ids, headerless := testutil.OlderCSVData()
	dirs := map[string]string{}
	checkpoints := map[string]string{}
	for kind, tc := range map[string]struct{ file, setting string }{
		"ids":        {ids, "classes: ids"},
		"headerless": {headerless, "header: false"},
	} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "d.csv"), []byte(tc.file), 0o644)
		os.WriteFile(filepath.Join(dir, "new.csv"), []byte("a,b\n1,2\n"), 0o644)
		dirs[kind], checkpoints[kind] = dir, olderCheckpoint(t, dir, fmt.Sprintf(base, tc.setting))
	}
	plain := strings.Replace(base, "  csv: {%s}\n", "", 1)
	for _, tc := range []struct {
		name, kind, command string
		sets                []string
		classes             int    // the classes eval finds
		want                string // an error with this; "": none
	}{
		{"ids: validation", "ids", "validation", nil, 4, ""},
		{"ids: train", "ids", "train", nil, 4, ""},
		{"ids: test", "ids", "test", nil, 4, ""},
		{"ids: validation, classes ids", "ids", "validation", []string{"data.csv.classes=ids"}, 4, ""},
		{"ids: train, classes ids", "ids", "train", []string{"data.csv.classes=ids"}, 4, ""},
		{"ids: validation, classes names", "ids", "validation", []string{"data.csv.classes=names"}, 0,
			"older.safetensors was trained with other settings of data than c.yaml gives now (this command sets --set data.csv.classes=names)"},
		{"ids: predict, classes ids", "ids", "predict", []string{"data.csv.classes=ids"}, 0, ""},
		{"ids: predict, classes names", "ids", "predict", []string{"data.csv.classes=names"}, 0,
			"--set data.csv.classes=names: data.csv.classes: is names, but older.safetensors was trained with null (the labels read as class ids)"},
		{"ids: export", "ids", "export", nil, 0, ""},
		{"ids: export, classes ids", "ids", "export", []string{"data.csv.classes=ids"}, 0, ""},
		{"headerless: validation", "headerless", "validation", nil, 3, ""},
		{"headerless: train", "headerless", "train", nil, 3, ""},
		{"headerless: validation, no header", "headerless", "validation", []string{"data.csv.header=false"}, 3, ""},
		{"headerless: validation, a header", "headerless", "validation", []string{"data.csv.header=true"}, 0,
			"older.safetensors was trained with other settings of data than c.yaml gives now (this command sets --set data.csv.header=true)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, ck := dirs[tc.kind], checkpoints[tc.kind]
			cfg := testutil.LoadConfig(t, dir, plain, tc.sets...)
			var err error
			classes := 0
			switch tc.command {
			case "predict":
				_, err = PredictInputs(cfg, InputOptions{Checkpoint: ck, Inputs: []string{filepath.Join(dir, "new.csv")}, Top: 1})
			case "export":
				_, err = ExportONNX(cfg, ck, filepath.Join(t.TempDir(), "m.onnx"))
			default:
				res, e := EvalCheckpoint(cfg, ck, Split(tc.command), 1)
				err, classes = e, res.Classes
			}
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), ""), tc.want)):
				t.Errorf("got %v\nwant an error with %q", err, tc.want)
			case tc.want == "" && tc.classes > 0 && classes != tc.classes:
				t.Errorf("%d classes, want %d", classes, tc.classes)
			}
		})
	}
}
