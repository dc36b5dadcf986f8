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

// TestCheckTrainedDataResolved: the data settings are compared as the
// checkpoint's training resolved them (its stored preprocessing: the CSV
// columns, whether the file had a header row, how the labels were read,
// the image size, a series' columns), not as config text: a default
// written out (data.csv.label: y for the last column, the features it
// took), or data.csv.header and data.csv.classes set to what detection
// found, pass, with checkpoints written before data.csv.classes too;
// settings that would preprocess otherwise are refused, the checkpoint's
// defaults shown readably, never as an empty value.
func TestCheckTrainedDataResolved(t *testing.T) {
	const plain = "name: t\ndata: {train: k.csv}\nmodel: {layers: [{dense: {units: classes}}]}\n"
	const picked = "name: t\ndata: {train: k.csv, csv: {label: y, features: [b, a]}}\nmodel: {layers: [{dense: {units: classes}}]}\n"
	const regression = "name: t\ndata: {train: k.csv, csv: {targets: [t1, t2]}}\nmodel: {layers: [{dense: {units: 2}}]}\nloss: mse\n"
	const images = "name: t\ndata: {train: pics}\nmodel: {layers: [flatten, {dense: {units: classes}}]}\n"
	const series = "name: t\ndata: {train: s.csv, normalize: standardize, sequence: {kind: series, window: 4}}\nmodel: {layers: [{lstm: {units: 2}}, {dense: {units: 2}}]}\nloss: mse\n"
	const seriesIn = "name: t\ndata: {train: s.csv, sequence: {kind: series, window: 4, inputs: [a, b], targets: [b]}}\nmodel: {layers: [{lstm: {units: 2}}, {dense: {units: 1}}]}\nloss: mse\n"
	withHeader := &checkpoint.Preprocess{Kind: checkpoint.KindTabular, Input: []int{2}, Normalize: "unit", Offset: []float64{0}, Scale: []float64{1},
		Features: []string{"a", "b"}, Targets: []string{"y"}, Classes: 3}
	noHeader := &checkpoint.Preprocess{Kind: checkpoint.KindTabular, Input: []int{2}, Normalize: "unit", Offset: []float64{0}, Scale: []float64{1},
		Features: []string{"0", "1"}, Targets: []string{"2"}, Classes: 3}
	named := &checkpoint.Preprocess{Kind: checkpoint.KindTabular, Input: []int{2}, Normalize: "unit", Offset: []float64{0}, Scale: []float64{1},
		Features: []string{"b", "a"}, Targets: []string{"y"}, Classes: 2, ClassNames: []string{"cat", "dog"}}
	targets := &checkpoint.Preprocess{Kind: checkpoint.KindTabular, Input: []int{2}, Normalize: "unit", Offset: []float64{0}, Scale: []float64{1},
		Features: []string{"a", "b"}, Targets: []string{"t1", "t2"}, TargetDim: 2}
	pics := &checkpoint.Preprocess{Kind: checkpoint.KindImages, Input: []int{1, 8, 8}, Bytes: true, Normalize: "unit", Offset: []float64{0}, Scale: []float64{1.0 / 255},
		Classes: 2, ClassNames: []string{"x", "y"}, Image: &checkpoint.ImageSpec{Channels: 1, Size: [2]int{8, 8}, Resize: "bilinear"}}
	seq := &checkpoint.Preprocess{Kind: checkpoint.KindSeries, Input: []int{4, 2}, Normalize: "standardize", Offset: []float64{0, 0}, Scale: []float64{1, 1},
		Sequence: &checkpoint.SequenceSpec{Window: 4, Horizon: 1, Target: "next", Columns: []string{"a", "b"}, In: []int{0, 1}, Out: []int{0, 1}}}
	seqIn := &checkpoint.Preprocess{Kind: checkpoint.KindSeries, Input: []int{4, 2}, Normalize: "unit", Offset: []float64{0, 0}, Scale: []float64{1, 1},
		Sequence: &checkpoint.SequenceSpec{Window: 4, Horizon: 1, Target: "next", Columns: []string{"a", "b"}, In: []int{0, 1}, Out: []int{1}}}
	for _, tc := range []struct {
		name, trained string
		pre           *checkpoint.Preprocess
		sets          []string
		want          string // "" when accepted
	}{
		{"the label column, the default", plain, withHeader, []string{"data.csv.label=y"}, ""},
		{"the label column by index", plain, withHeader, []string{"data.csv.label=2"}, ""},
		{"the features, the default", plain, withHeader, []string{"data.csv.features=[a, b]"}, ""},
		{"the features by index", plain, withHeader, []string{"data.csv.features=[0, 1]"}, ""},
		{"the header detection found", plain, withHeader, []string{"data.csv.header=true"}, ""},
		{"the classes detection found", plain, withHeader, []string{"data.csv.classes=ids"}, ""},
		{"all of them", plain, withHeader, []string{"data.csv={header: true, label: y, features: [a, b], classes: ids}"}, ""},
		{"none for unit on floats", plain, withHeader, []string{"data.normalize=none"}, ""},
		{"another label column", plain, withHeader, []string{"data.csv.label=a"},
			"--set data.csv.label=a: data.csv.label: is a, but ck.safetensors was trained with null (default: the last column, y), and its weights expect inputs preprocessed as in that training"},
		{"the features reordered", plain, withHeader, []string{"data.csv.features=[b, a]"},
			"data.csv.features: is [b, a], but ck.safetensors was trained with [] (default: every other column: a, b)"},
		{"no header, against the one detected", plain, withHeader, []string{"data.csv.header=false"},
			"data.csv.header: is false, but ck.safetensors was trained with null (detected: a header row)"},
		{"names, against ids", plain, withHeader, []string{"data.csv.classes=names"},
			"data.csv.classes: is names, but ck.safetensors was trained with null (the labels read as class ids)"},
		{"minmax", plain, withHeader, []string{"data.normalize=minmax"}, "data.normalize: is minmax, but ck.safetensors was trained with unit"},
		{"a headerless file: no header", plain, noHeader, []string{"data.csv.header=false", "data.csv.label=2", "data.csv.features=[0, 1]"}, ""},
		{"a headerless file: a header", plain, noHeader, []string{"data.csv.header=true"},
			"data.csv.header: is true, but ck.safetensors was trained with null (detected: no header row)"},
		{"a headerless file: a name", plain, noHeader, []string{"data.csv.label=y"},
			"data.csv.label: is y, but ck.safetensors was trained with null (default: the last column, 2)"},
		{"names picked: the same", picked, named, []string{"data.csv.classes=names", "data.csv.label=y"}, ""},
		{"names picked: the default label", picked, named, []string{"data.csv.label=null"},
			"data.csv.label: is null (default: the last column), but ck.safetensors was trained with y"},
		{"names picked: every column", picked, named, []string{"data.csv.features=[]"},
			"data.csv.features: is [] (default: every other column), but ck.safetensors was trained with [b, a]"},
		{"names picked: ids", picked, named, []string{"data.csv.classes=ids"},
			"data.csv.classes: is ids, but ck.safetensors was trained with null (the labels read as class names)"},
		{"targets: the same", regression, targets, []string{"data.csv.targets=[t1, t2]", "data.csv.features=[a, b]"}, ""},
		{"targets: one label", regression, targets, []string{"data.csv.targets=null", "data.csv.label=t1"},
			"data.csv.label: is t1, but ck.safetensors was trained with data.csv.targets [t1, t2]"},
		{"images: the size found", images, pics, []string{"data.image={size: [8, 8], channels: 1}"}, ""},
		{"images: another size", images, pics, []string{"data.image={size: [16, 16]}"},
			"data.image.size: is [16, 16], but ck.safetensors was trained with null (taken as [8, 8])"},
		{"images: colour", images, pics, []string{"data.image={channels: 3}"},
			"data.image.channels: is 3, but ck.safetensors was trained with null (taken as 1)"},
		{"series: the inputs, the default", series, seq, []string{"data.sequence.inputs=[a, b]", "data.sequence.targets=[a, b]"}, ""},
		{"series: other inputs", series, seq, []string{"data.sequence.inputs=[b]"},
			"data.sequence.inputs: is [b], but ck.safetensors was trained with [] (default: every column: a, b)"},
		{"series: the targets, the default", seriesIn, seqIn, []string{"data.sequence.targets=[b]", "data.normalize=none"}, ""},
		{"series: other targets", seriesIn, seqIn, []string{"data.sequence.targets=null"},
			"data.sequence.targets: is [] (default: the inputs), but ck.safetensors was trained with [b]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := model.Parse("c.yaml", []byte(tc.trained), tc.sets, nil)
			if err != nil {
				t.Fatal(err)
			}
			g, err := model.Build(cfg, PreprocessInfo(tc.pre))
			if err != nil {
				t.Fatal(err)
			}
			err = CheckTrainedModel(cfg, g, "ck.safetensors", checkpoint.State{Config: tc.trained, Preprocess: tc.pre})
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("got %v\nwant an error with %q", err, tc.want)
			}
		})
	}
}

// TestResumeSectionsResolved: the data section a resume (and eval of the
// validation and training splits, and export's refit) compares is hashed
// with the checkpoint's own values of the settings that resolve to its
// preprocessing, so that a default written out or a setting made
// explicit as detection found it is the same data; anything else in the
// data section, or a setting resolved otherwise, still differs.
func TestResumeSectionsResolved(t *testing.T) {
	const plain = "name: t\ndata: {train: /d/k.csv, validation_split: 0.2}\nmodel: {layers: [{dense: {units: classes}}]}\n"
	const images = "name: t\ndata: {train: /d/pics, image: {resize: bilinear}}\nmodel: {layers: [flatten, {dense: {units: classes}}]}\n"
	const series = "name: t\ndata: {train: /d/s.csv, sequence: {kind: series, window: 4}}\nmodel: {layers: [{lstm: {units: 2}}, {dense: {units: 2}}]}\nloss: mse\n"
	tab := &checkpoint.Preprocess{Kind: checkpoint.KindTabular, Input: []int{2}, Normalize: "unit", Offset: []float64{0}, Scale: []float64{1},
		Features: []string{"a", "b"}, Targets: []string{"y"}, Classes: 4}
	pics := &checkpoint.Preprocess{Kind: checkpoint.KindImages, Input: []int{1, 8, 8}, Bytes: true, Normalize: "unit", Offset: []float64{0}, Scale: []float64{1.0 / 255},
		Classes: 2, ClassNames: []string{"x", "y"}, Image: &checkpoint.ImageSpec{Channels: 1, Size: [2]int{8, 8}, Resize: "bilinear"}}
	seq := &checkpoint.Preprocess{Kind: checkpoint.KindSeries, Input: []int{4, 2}, Normalize: "none", Offset: []float64{0, 0}, Scale: []float64{1, 1},
		Sequence: &checkpoint.SequenceSpec{Window: 4, Horizon: 1, Target: "next", Columns: []string{"a", "b"}, In: []int{0, 1}, Out: []int{0, 1}}}
	for _, tc := range []struct {
		name, trained string
		pre           *checkpoint.Preprocess
		sets          []string
		same          bool
	}{
		{"the same config", plain, tab, nil, true},
		{"classes as read", plain, tab, []string{"data.csv.classes=ids"}, true},
		{"the header as detected, the label and features written out", plain, tab, []string{"data.csv={header: true, label: y, features: [a, b]}"}, true},
		{"none for unit on floats", plain, tab, []string{"data.normalize=none"}, true},
		{"classes as names", plain, tab, []string{"data.csv.classes=names"}, false},
		{"another validation split", plain, tab, []string{"data.validation_split=0.3"}, false},
		{"other data", plain, tab, []string{"data.train=/d/other.csv"}, false},
		{"the image size as found", images, pics, []string{"data.image={size: [8, 8], channels: 1}"}, true},
		{"no image settings", images, pics, []string{"data.image=null"}, true},
		{"skip_bad", images, pics, []string{"data.image={skip_bad: true}"}, false},
		{"the series' columns written out", series, seq, []string{"data.sequence.inputs=[a, b]", "data.sequence.targets=[a, b]", "data.normalize=none"}, true},
		{"another stride", series, seq, []string{"data.sequence.stride=2"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			trained, err := model.Parse("c.yaml", []byte(tc.trained), nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := model.Parse("c.yaml", []byte(tc.trained), tc.sets, nil)
			if err != nil {
				t.Fatal(err)
			}
			st := checkpoint.State{Config: tc.trained, Preprocess: tc.pre, Sections: trained.ResumeSections()}
			got := ResumeSections(cfg, st)
			if same := got["data"] == st.Sections["data"]; same != tc.same {
				t.Errorf("the data sections agree: %v, want %v", same, tc.same)
			}
			for _, k := range []string{"seed", "model", "optimizer"} {
				if got[k] != st.Sections[k] {
					t.Errorf("section %s changed", k)
				}
			}
		})
	}
}
