package infer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nettrain/nettrain/internal/session"
	"github.com/nettrain/nettrain/internal/testutil"
)

// TestONNXSizeLimit: a model whose ONNX file would pass protobuf's 2 GiB
// (here a lowered limit) is refused with the way out, and nothing is
// written.
func TestONNXSizeLimit(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "d.csv"), []byte("a,b,y\n1,2,0\n2,1,1\n3,3,0\n0,1,1\n1,1,0\n2,2,1\n"), 0o644)
	cfg := testutil.LoadConfig(t, dir, "name: c\ndata: {train: d.csv, validation_split: 0}\nmodel: {layers: [{dense: {units: 64}}, relu, {dense: {units: 2}}]}\ntraining: {steps: 1}\n")
	run := filepath.Join(dir, "run")
	if _, err := session.Run(cfg, session.Options{OutDir: run}); err != nil {
		t.Fatal(err)
	}
	ck, out := filepath.Join(run, "last.safetensors"), filepath.Join(dir, "m.onnx")
	if _, err := ExportONNX(cfg, ck, out); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(out)
	os.Remove(out)
	defer func(n int) { maxONNXBytes = n }(maxONNXBytes)
	maxONNXBytes = len(b) - 1
	_, err := ExportONNX(cfg, ck, out)
	if err == nil || !strings.Contains(err.Error(), "more than the 2 GiB a protobuf file may hold; export the weights alone (--format safetensors)") {
		t.Errorf("over the limit: %v", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a refused export wrote %s", out)
	}
}
