package infer

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/session"
	"github.com/nettrain/nettrain/internal/testutil"
)

// TestCheckpointOfAnotherModel: a checkpoint trained with another model
// (its config's layers are of other kinds) is refused by eval, predict and
// export with a message about the checkpoint, naming both models, before
// the config's model is built for the checkpoint's data: that build, or
// loading the weights, failed with a message blaming a correct config
// ("set model.input", "add a flatten layer").
func TestCheckpointOfAnotherModel(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("a,b,c,y\n")
	for i := range 30 {
		fmt.Fprintf(&b, "%d,%d,%d,%s\n", i%4, i%3, i%5, []string{"p", "q"}[i%2])
	}
	os.WriteFile(filepath.Join(dir, "d.csv"), []byte(b.String()), 0o644)
	os.WriteFile(filepath.Join(dir, "new.csv"), []byte("a,b,c\n1,2,3\n"), 0o644)
	b.Reset()
	b.WriteString("v\n")
	for i := range 40 {
		fmt.Fprintf(&b, "%d\n", i%7)
	}
	os.WriteFile(filepath.Join(dir, "s.csv"), []byte(b.String()), 0o644)
	testutil.WriteImageFolder(t, filepath.Join(dir, "pics"), 2, 4, 6, 6, false)
	configs := map[string]string{
		"mlp": `name: mlp
data: {train: d.csv, test: d.csv, validation_split: 0.2}
model: {layers: [{dense: {units: 4}}, relu, {dense: {units: classes}}]}
training: {epochs: 1, batch_size: 8}
`,
		"cnn": `name: cnn
data: {train: pics, test: pics, validation_split: 0.25}
model: {layers: [{conv2d: {filters: 2, kernel: 3}}, relu, flatten, {dense: {units: classes}}]}
training: {epochs: 1, batch_size: 4}
`,
		"reg": `name: reg
data: {train: d.csv, validation_split: 0.2, csv: {label: c, features: [a, b]}}
model: {layers: [{dense: {units: 4}}, relu, {dense: {units: 1}}]}
loss: mse
training: {epochs: 1, batch_size: 8}
`,
		"lstm": `name: lstm
data: {train: s.csv, validation_split: 0.25, sequence: {kind: series, window: 3}}
model: {layers: [{lstm: {units: 2}}, {dense: {units: 1}}]}
loss: mse
training: {epochs: 1, batch_size: 4}
`,
	}
	cfgs, cks := map[string]*model.Config{}, map[string]string{}
	for name, src := range configs {
		sub := filepath.Join(dir, name)
		os.MkdirAll(sub, 0o755)
		cfgs[name] = testutil.LoadConfig(t, sub, strings.NewReplacer("d.csv", "../d.csv", "pics", "../pics", "s.csv", "../s.csv").Replace(src))
		cks[name] = filepath.Join(sub, "run", "best.safetensors")
		if _, err := session.Run(cfgs[name], session.Options{OutDir: filepath.Join(sub, "run")}); err != nil {
			t.Fatal(err)
		}
	}
	predict := func(cfg, ck, in string) error {
		_, err := PredictInputs(cfgs[cfg], InputOptions{Checkpoint: cks[ck], Inputs: []string{in}, Top: 1})
		return err
	}
	eval := func(cfg, ck string) error { _, err := EvalCheckpoint(cfgs[cfg], cks[ck], Test, 1); return err }
	export := func(cfg, ck string) error {
		_, err := ExportONNX(cfgs[cfg], cks[ck], filepath.Join(dir, "m.onnx"))
		return err
	}
	forecast := func(cfg, ck string) error {
		_, err := ForecastValidation(cfgs[cfg], cks[ck], filepath.Join(dir, "p.csv"), "")
		return err
	}
	other := func(ck, cfg, trained, has string) string {
		return fmt.Sprintf("%s was trained with another model than %s: %s, where %s has %s", ck, cfgs[cfg].File, trained, cfgs[cfg].File, has)
	}
	const mlp, cnn, lstm = "dense, relu, dense", "conv2d, relu, flatten, dense", "lstm, dense, loss mse"
	for _, tc := range []struct {
		name string
		run  func() error
		want string // "": no error
	}{
		{"predict, its own checkpoint", func() error { return predict("mlp", "mlp", filepath.Join(dir, "new.csv")) }, ""},
		{"predict images with an MLP's checkpoint", func() error { return predict("cnn", "mlp", filepath.Join(dir, "pics")) }, other(cks["mlp"], "cnn", mlp+", loss cross_entropy on ../d.csv", cnn+", loss cross_entropy")},
		{"predict CSV rows with a CNN's checkpoint", func() error { return predict("mlp", "cnn", filepath.Join(dir, "new.csv")) }, other(cks["cnn"], "mlp", cnn+", loss cross_entropy on ../pics", mlp+", loss cross_entropy")},
		{"eval with a CNN's checkpoint", func() error { return eval("mlp", "cnn") }, other(cks["cnn"], "mlp", cnn+", loss cross_entropy on ../pics", mlp+", loss cross_entropy")},
		{"eval with an MLP's checkpoint", func() error { return eval("cnn", "mlp") }, other(cks["mlp"], "cnn", mlp+", loss cross_entropy on ../d.csv", cnn+", loss cross_entropy")},
		{"export with a CNN's checkpoint", func() error { return export("mlp", "cnn") }, other(cks["cnn"], "mlp", cnn+", loss cross_entropy on ../pics", mlp+", loss cross_entropy")},
		{"forecast with an MLP's checkpoint", func() error { return forecast("lstm", "mlp") }, other(cks["mlp"], "lstm", mlp+", loss cross_entropy on ../d.csv", lstm)},
		{"forecast, its own checkpoint", func() error { return forecast("lstm", "lstm") }, ""},
		{"predict classes with a regression's checkpoint", func() error { return predict("mlp", "reg", filepath.Join(dir, "new.csv")) },
			other(cks["reg"], "mlp", mlp+", loss mse on ../d.csv", mlp+", loss cross_entropy")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)) {
				t.Errorf("got %v\nwant %q", err, tc.want)
			}
		})
	}
}
