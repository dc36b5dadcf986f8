package train

import (
	"strings"
	"testing"

	"github.com/nettrain/nettrain/internal/checkpoint"
	"github.com/nettrain/nettrain/internal/model"
)

// TestCheckTrainedModel: a config whose model computes another function
// with the checkpoint's weights is refused, naming the layer and the
// override; spellings of the same layers, training-only settings, other
// sections, and checkpoints without a config pass.
func TestCheckTrainedModel(t *testing.T) {
	const trained = `name: t
data: {train: d.csv}
model:
  input: [1, 8, 8]
  layers:
    - conv2d: {filters: 4, kernel: 3, padding: 1}
    - batchnorm
    - leaky_relu
    - maxpool2d: {size: 2}
    - residual:
        - conv2d: {filters: 4, kernel: 3, padding: 1}
        - relu
    - dropout: {p: 0.3}
    - flatten
    - dense: {units: classes}
loss: cross_entropy
training: {epochs: 2}
`
	info := &model.DataInfo{Input: []int{1, 8, 8}, Classes: 3}
	for _, tc := range []struct {
		name string
		sets []string
		want string // "" when accepted
	}{
		{"the same config", nil, ""},
		{"other training settings", []string{"training.epochs=9", "optimizer.lr=0.5", "seed=4"}, ""},
		{"another dropout rate", []string{"model.layers.5.dropout.p=0.1"}, ""},
		{"another batchnorm momentum", []string{"model.layers.1={batchnorm: {momentum: 0.5}}"}, ""},
		{"padding same", []string{"model.layers.0.conv2d.padding=same"}, ""},
		{"kernel as a pair", []string{"model.layers.0.conv2d.kernel=[3, 3]"}, ""},
		{"the default slope written out", []string{"model.layers.2={leaky_relu: {negative_slope: 0.01}}"}, ""},
		{"the slope's alias", []string{"model.layers.2={leaky_relu: {slope: 0.01}}"}, ""},
		{"the pool's stride written out", []string{"model.layers.3.maxpool2d.stride=2"}, ""},
		{"units as a number", []string{"model.layers.7.dense.units=3"}, ""},
		{"another activation", []string{"model.layers.2=tanh"}, "--set model.layers.2=tanh: model.layers.2: layer 2 is tanh, but ck.safetensors was trained with leaky_relu"},
		{"another slope", []string{"model.layers.2={leaky_relu: {negative_slope: 0.2}}"}, "layer 2 is leaky_relu"},
		{"another padding", []string{"model.layers.0.conv2d.padding=0"}, "layer 0 is conv2d(4, 3x3, stride 1x1, pad 0,0,0,0), but ck.safetensors was trained with conv2d(4, 3x3, stride 1x1, pad 1,1,1,1)"},
		{"inside a block", []string{"model.layers.4.residual.1=sigmoid"}, "model.layers.4: layer 4.body.1 is sigmoid, but ck.safetensors was trained with relu there"},
		{"another loss", []string{"loss=mse"}, "--set loss=mse: loss: is mse, but ck.safetensors was trained with loss cross_entropy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := model.Parse("c.yaml", []byte(trained), tc.sets, nil)
			if err != nil {
				t.Fatal(err)
			}
			g, err := model.Build(cfg, info)
			if err != nil {
				t.Fatal(err)
			}
			err = CheckTrainedModel(cfg, g, "ck.safetensors", checkpoint.State{Config: trained})
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
	// A regression trained with mse runs under half_sse: the same outputs.
	reg := strings.NewReplacer("loss: cross_entropy", "loss: mse", "units: classes", "units: 1").Replace(trained)
	cfg, err := model.Parse("c.yaml", []byte(reg), []string{"loss=half_sse"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	g, err := model.Build(cfg, &model.DataInfo{Input: []int{1, 8, 8}})
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckTrainedModel(cfg, g, "ck.safetensors", checkpoint.State{Config: reg}); err != nil {
		t.Errorf("half_sse for mse: %v", err)
	}
	// A plain weights file carries no config: not checked. A nettrain
	// checkpoint whose config is missing, does not read or does not build
	// cannot be checked: refused, naming the checkpoint.
	cfg, _ = model.Parse("c.yaml", []byte(trained), []string{"model.layers.2=tanh"}, nil)
	g, _ = model.Build(cfg, info)
	if err := CheckTrainedModel(cfg, g, "w.safetensors", checkpoint.State{Plain: true}); err != nil {
		t.Errorf("plain weights file: %v, want no check", err)
	}
	for _, tc := range []struct {
		name, own, want string
	}{
		{"no config", "", `w.safetensors: metadata "config" (the config the run trained with) is missing or empty, so the model it was trained with cannot be checked against c.yaml's`},
		{"a config that does not read", "not: [a config", `w.safetensors: metadata "config" (the config the run trained with) does not read, so the model it was trained with cannot be checked against c.yaml's: w.safetensors:1: invalid YAML`},
		{"an unknown layer", strings.Replace(trained, "- relu", "- relux", 1), `does not read, so the model it was trained with cannot be checked against c.yaml's: w.safetensors:12:11: model.layers[4].residual[1]: unknown layer kind "relux"`},
		{"a config that does not build", strings.Replace(trained, "kernel: 3, padding: 1}\n    - batchnorm", "kernel: 30, padding: 1}\n    - batchnorm", 1),
			`w.safetensors: metadata "config" (the config the run trained with) does not build on the data c.yaml's model was built with, so the model it was trained with cannot be checked against c.yaml's: w.safetensors:6:7: layer 0 (conv2d)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckTrainedModel(cfg, g, "w.safetensors", checkpoint.State{Config: tc.own})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
	// A model-only config (no data) against a checkpoint whose config
	// takes its sizes from the data: built with the stored preprocessing,
	// so another activation is still refused; without it, not checked.
	own := strings.Replace(trained, "input: [1, 8, 8]\n", "", 1)
	only := strings.Replace(strings.Replace(trained, "data: {train: d.csv}\n", "", 1), "units: classes", "units: 3", 1)
	cfg, err = model.Parse("c.yaml", []byte(only), []string{"model.layers.2=tanh"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if g, err = model.Build(cfg, nil); err != nil {
		t.Fatal(err)
	}
	pre := &checkpoint.Preprocess{Kind: checkpoint.KindImages, Input: []int{1, 8, 8}, Classes: 3}
	if err := CheckTrainedModel(cfg, g, "ck.safetensors", checkpoint.State{Config: own, Preprocess: pre}); err == nil || !strings.Contains(err.Error(), "layer 2 is tanh") {
		t.Errorf("model-only config, stored preprocessing: %v, want tanh refused", err)
	}
	if err := CheckTrainedModel(cfg, g, "ck.safetensors", checkpoint.State{Config: own}); err != nil {
		t.Errorf("model-only config, no stored preprocessing: %v, want no check", err)
	}
}

// TestCheckTrainedData: a config whose data settings would preprocess
// inputs otherwise than the checkpoint's training did (another
// normalisation, other CSV columns or label reading, another image size,
// another window) is refused, naming the key and the override, rather
// than silently ignored (eval, predict and export apply the checkpoint's
// preprocessing) or applied to weights trained on other inputs (a
// series' normalisation is fitted again). Settings that do not change
// how an input is preprocessed pass.
func TestCheckTrainedData(t *testing.T) {
	const tabular = `name: t
data: {train: d.csv, normalize: standardize, csv: {label: y}}
model: {layers: [{dense: {units: classes}}]}
`
	const images = `name: t
data: {train: pics, image: {size: [8, 8]}}
model: {layers: [flatten, {dense: {units: classes}}]}
`
	const series = `name: t
data: {train: s.csv, normalize: standardize, sequence: {kind: series, window: 4, inputs: [a]}}
model: {layers: [{lstm: {units: 2}}, {dense: {units: 1}}]}
loss: mse
`
	for _, tc := range []struct {
		name, trained string
		sets          []string
		want          string // "" when accepted
	}{
		{"the same config", tabular, nil, ""},
		{"the data moved", tabular, []string{"data.train=elsewhere/d.csv", "data.test=t.csv"}, ""},
		{"another validation split", tabular, []string{"data.validation_split=0.3", "seed=3"}, ""},
		{"the default written out", tabular, []string{"data.csv.header=null"}, ""},
		{"another normalisation", tabular, []string{"data.normalize=minmax"},
			"--set data.normalize=minmax: data.normalize: is minmax, but ck.safetensors was trained with standardize, and its weights expect inputs preprocessed as in that training; use the config the run trained with"},
		{"another label column", tabular, []string{"data.csv.label=z"}, "--set data.csv.label=z: data.csv.label: is z, but ck.safetensors was trained with y"},
		{"features picked", tabular, []string{"data.csv.features=[a, b]"}, "data.csv.features: is [a, b], but ck.safetensors was trained with []"},
		{"labels read as names", tabular, []string{"data.csv.classes=names"}, "data.csv.classes: is names, but ck.safetensors was trained with null"},
		{"a header forced", tabular, []string{"data.csv.header=true"}, "data.csv.header: is true, but ck.safetensors was trained with null"},
		{"another image size", images, []string{"data.image.size=[16, 16]"}, "data.image.size: is [16, 16], but ck.safetensors was trained with [8, 8]"},
		{"nearest resizing", images, []string{"data.image.resize=nearest"}, "data.image.resize: is nearest, but ck.safetensors was trained with bilinear"},
		{"skip_bad", images, []string{"data.image.skip_bad=true"}, ""},
		{"augmentation", images, []string{"data.augment={flip_horizontal: true}"}, ""},
		{"another window", series, []string{"data.sequence.window=6"}, "data.sequence.window: is 6, but ck.safetensors was trained with 4"},
		{"differences", series, []string{"data.sequence.difference=true"}, "data.sequence.difference: is true, but ck.safetensors was trained with false"},
		{"another stride", series, []string{"data.sequence.stride=2"}, ""},
		{"a series normalised otherwise", series, []string{"data.normalize=none"}, "data.normalize: is none, but ck.safetensors was trained with standardize"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := model.Parse("c.yaml", []byte(tc.trained), tc.sets, nil)
			if err != nil {
				t.Fatal(err)
			}
			info := &model.DataInfo{Input: []int{3}, Classes: 2}
			if cfg.Data.Image != nil {
				info.Input = []int{1, 8, 8}
			}
			if cfg.Data.Sequence != nil {
				info = &model.DataInfo{Input: []int{4, 1}}
			}
			g, err := model.Build(cfg, info)
			if err != nil {
				t.Fatal(err)
			}
			err = CheckTrainedModel(cfg, g, "ck.safetensors", checkpoint.State{Config: tc.trained})
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}
