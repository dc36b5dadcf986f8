package model

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/spf13/viper"

	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/optim"
)

const base = `name: t
data:
  train: mnist:train
model:
  input: [784]
  layers:
    - dense: {units: 16}
    - relu
    - dense: {units: 10}
optimizer: {name: sgd, lr: 0.1, momentum: 0.9}
training:
  epochs: 2
`

func parse(t *testing.T, src string, sets ...string) (*Config, error) {
	t.Helper()
	c, err := Parse("c.yaml", []byte(src), sets, viper.New())
	if err != nil {
		return nil, err
	}
	// Shape errors come from Build; a model that takes sizes from the
	// data is built later, with the data.
	if _, err := Build(c, nil); err != nil && !errors.Is(err, ErrNeedsData) {
		return nil, err
	}
	return c, nil
}

// mustBuild builds c's graph with info, failing the test on an error.
func mustBuild(t *testing.T, c *Config, info *DataInfo) *Graph {
	t.Helper()
	g, err := Build(c, info)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestParseGood(t *testing.T) {
	c, err := parse(t, base)
	if err != nil {
		t.Fatal(err)
	}
	if c.Training.Epochs != 2 || c.Training.BatchSize != 64 || c.Seed != 1 || c.DType != "float32" {
		t.Errorf("decoded %+v", c.Training)
	}
	sgd := c.Optimizer.Optim.(*optim.SGDConfig)
	if sgd.LR != 0.1 || sgd.Momentum != 0.9 || sgd.Nesterov {
		t.Errorf("optimizer %+v", sgd)
	}
	g := mustBuild(t, c, nil)
	if len(g.Specs) != 3 || g.Specs[2].OutShape()[0] != 10 {
		t.Errorf("graph %+v", g)
	}
	if d := g.Specs[0].(backprop.DenseSpec); !d.Bias || d.Units != 16 {
		t.Errorf("dense spec %+v", d)
	}
}

func TestOverrides(t *testing.T) {
	t.Setenv("NETTRAIN_TRAINING_BATCH_SIZE", "32")
	t.Setenv("NETTRAIN_TRAINING_EPOCHS", "7") // --set wins over the environment
	c, err := parse(t, base, "training.epochs=5", "optimizer.lr=0.01", "model.layers.0.dense.units=64", "seed=9")
	if err != nil {
		t.Fatal(err)
	}
	if c.Training.Epochs != 5 || c.Training.BatchSize != 32 || c.Seed != 9 {
		t.Errorf("training %+v seed %d", c.Training, c.Seed)
	}
	if lr := c.Optimizer.Optim.LearningRate(); lr != 0.01 {
		t.Errorf("lr %v", lr)
	}
	if u := mustBuild(t, c, nil).Specs[0].(backprop.DenseSpec).Units; u != 64 {
		t.Errorf("units %d", u)
	}
	if !strings.Contains(string(c.Resolved), "units: 64") {
		t.Errorf("resolved config does not show the override:\n%s", c.Resolved)
	}
}

// TestOverridesIntoEmptySections: --set and NETTRAIN_* reach the keys of
// a section (or a layer's parameters) left empty in the file.
func TestOverridesIntoEmptySections(t *testing.T) {
	src := strings.Replace(strings.Replace(base, "- dense: {units: 16}", "- dense:", 1), "training:\n  epochs: 2\n", "training:\n", 1)
	if !strings.HasSuffix(src, "training:\n") || !strings.Contains(src, "- dense:\n") {
		t.Fatalf("the base config changed: update this test:\n%s", src)
	}
	t.Setenv("NETTRAIN_TRAINING_BATCH_SIZE", "32")
	c, err := parse(t, src, "training.epochs=5", "model.layers.0.dense.units=8")
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	if c.Training.Epochs != 5 || c.Training.BatchSize != 32 {
		t.Errorf("training %+v", c.Training)
	}
	if u := mustBuild(t, c, nil).Specs[0].(backprop.DenseSpec).Units; u != 8 {
		t.Errorf("units %d", u)
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		sets []string
		env  [2]string
		want string
	}{
		{"unknown key", strings.Replace(base, "epochs: 2", "epochz: 2", 1), nil, [2]string{},
			`c.yaml:12:3: training.epochz: unknown key (did you mean "epochs"?)`},
		{"wrong type", strings.Replace(base, "epochs: 2", "epochs: three", 1), nil, [2]string{},
			`c.yaml:12:11: training.epochs: expected an integer, got "three"`},
		{"float for int", strings.Replace(base, "epochs: 2", "epochs: 2.5", 1), nil, [2]string{},
			`training.epochs: expected an integer, got the number 2.5`},
		{"zero epochs", strings.Replace(base, "epochs: 2", "epochs: 0", 1), nil, [2]string{},
			`c.yaml:12:11: training.epochs: must be at least 1, got 0`},
		{"trace digits 0", base + "trace: {digits: 0}\n", nil, [2]string{},
			`trace.digits: must be from 1 to 17 significant digits (or null for 6), got 0`},
		{"trace digits 40", base, []string{"trace.digits=40"}, [2]string{},
			`trace.digits: must be from 1 to 17 significant digits (or null for 6), got 40`},
		{"unknown layer", strings.Replace(base, "- relu", "- rellu", 1), nil, [2]string{},
			`c.yaml:8:7: model.layers[1]: unknown layer kind "rellu" (did you mean "relu"?)`},
		{"zero units", strings.Replace(base, "units: 16", "units: 0", 1), nil, [2]string{},
			`c.yaml:7:22: layer 0 (dense): units: must be at least 1, got 0`},
		{"unknown layer param", strings.Replace(base, "units: 16", "unit: 16", 1), nil, [2]string{},
			`c.yaml:7:15: model.layers[0].dense.unit: unknown key (did you mean "units"?)`},
		{"unknown optimizer", strings.Replace(base, "name: sgd", "name: adamm", 1), nil, [2]string{},
			`c.yaml:10:19: optimizer.name: unknown optimizer "adamm" (did you mean "adam"?)`},
		{"a comparison's variant as the optimizer name", strings.Replace(base, "name: sgd", "name: nesterov", 1), nil, [2]string{},
			`c.yaml:10:19: optimizer.name: unknown optimizer "nesterov": that is compare-optimizers' name for sgd with momentum 0.9 and nesterov true, written optimizer: {name: sgd, momentum: 0.9, nesterov: true}; known: adadelta,`},
		{"a comparison's variant set as the name", base, []string{"optimizer.name=momentum"}, [2]string{},
			`--set optimizer.name=momentum: optimizer.name: unknown optimizer "momentum": that is compare-optimizers' name for sgd with momentum 0.9, written optimizer: {name: sgd, momentum: 0.9}; known: adadelta,`},
		{"a comparison's variant set as the section", base, []string{"optimizer=nesterov"}, [2]string{},
			`optimizer: unknown optimizer "nesterov": that is compare-optimizers' name for sgd with momentum 0.9 and nesterov true, written optimizer: {name: sgd, momentum: 0.9, nesterov: true}`},
		{"key of another optimizer", strings.Replace(base, "momentum: 0.9", "betas: [0.9, 0.99]", 1), nil, [2]string{},
			`c.yaml:10:33: optimizer.betas: unknown key`},
		{"bad optimizer value", strings.Replace(base, "lr: 0.1", "lr: -1", 1), nil, [2]string{},
			`c.yaml:10:28: optimizer.lr: must be >= 0, got -1`},
		{"bad set", base, []string{"training.epochs=abc"}, [2]string{},
			`--set training.epochs=abc: training.epochs: expected an integer, got "abc"`},
		{"unknown set key", base, []string{"training.epochz=1"}, [2]string{},
			`--set training.epochz=1: training.epochz: unknown key (did you mean "epochs"?)`},
		{"bad env", base, nil, [2]string{"NETTRAIN_TRAINING_BATCH_SIZE", "-3"},
			`NETTRAIN_TRAINING_BATCH_SIZE=-3: training.batch_size: must be at least 1, got -3`},
		{"set index out of range", base, []string{"model.layers.7.dense.units=3"}, [2]string{},
			`model.layers is a list of 3 entries`},
		{"bad yaml", "name: [a\n", nil, [2]string{}, `c.yaml:`},
		{"empty", "", nil, [2]string{}, `c.yaml: the config is empty`},
		{"missing train", strings.Replace(base, "train: mnist:train", "test: mnist:test", 1), nil, [2]string{},
			`data.train: required`},
		{"softmax before cross_entropy", strings.Replace(base, "dense: {units: 10}", "dense: {units: 10}\n    - softmax", 1), nil, [2]string{},
			`layer 3 (softmax): cross_entropy takes logits`},
		{"layer with two keys", strings.Replace(base, "- dense: {units: 16}", "- dense: {units: 16}\n      relu: null", 1), nil, [2]string{},
			`a layer is one kind with its parameters`},
		{"conv2d without filters", strings.Replace(strings.Replace(base, "input: [784]", "input: [1, 28, 28]", 1), "- dense: {units: 16}", "- conv2d: {kernel: 3}\n    - flatten", 1), nil, [2]string{},
			`layer 0 (conv2d): filters: must be at least 1, got 0 (required: the number of output channels, e.g. filters: 16)`},
		{"lstm without units", strings.Replace(strings.Replace(base, "input: [784]", "input: [28, 28]", 1), "- dense: {units: 16}", "- lstm", 1), nil, [2]string{},
			`layer 0 (lstm): units: must be at least 1, got 0 (required: the hidden state's size`},
		{"relu with params", strings.Replace(base, "- relu", "- relu: {units: 3}", 1), nil, [2]string{},
			`relu takes no parameters`},
		{"bad dtype", "dtype: float16\n" + base, nil, [2]string{}, `c.yaml:1:8: dtype: unknown value "float16"`},
		{"input zero", strings.Replace(base, "input: [784]", "input: [0, 3]", 1), nil, [2]string{}, `c.yaml:5:10: model.input: every dimension must be at least 1, got 0 at position 0`},
		{"image channels", strings.Replace(base, "train: mnist:train", "train: digits\n  image: {channels: 2}", 1), nil, [2]string{},
			`c.yaml:4:21: data.image.channels: must be 1 (grayscale) or 3 (RGB), got 2`},
		{"image size", strings.Replace(base, "train: mnist:train", "train: digits\n  image: {size: [28]}", 1), nil, [2]string{},
			`c.yaml:4:17: data.image.size: expected [height, width], got a list of 1`},
		{"image size zero", strings.Replace(base, "train: mnist:train", "train: digits\n  image: {size: [28, 0]}", 1), nil, [2]string{},
			`c.yaml:4:17: data.image.size: width 0: must be 1 to 32768`},
		{"image resize", strings.Replace(base, "train: mnist:train", "train: digits\n  image: {resize: bicubic}", 1), nil, [2]string{},
			`c.yaml:4:19: data.image.resize: unknown value "bicubic"; expected one of: bilinear, nearest`},
		{"image unknown key", strings.Replace(base, "train: mnist:train", "train: digits\n  image: {skip_bda: true}", 1), nil, [2]string{},
			`c.yaml:4:11: data.image.skip_bda: unknown key (did you mean "skip_bad"?)`},
		{"augment rotate", strings.Replace(base, "train: mnist:train", "train: digits\n  augment: {rotate: 400}", 1), nil, [2]string{},
			`c.yaml:4:21: data.augment.rotate: must be 0 to 180 degrees, got 400`},
		{"augment translate", strings.Replace(base, "train: mnist:train", "train: digits\n  augment: {translate: 1.5}", 1), nil, [2]string{},
			`c.yaml:4:24: data.augment.translate: must be a fraction of the size, at least 0 and less than 1, got 1.5`},
		{"augment crop", strings.Replace(base, "train: mnist:train", "train: digits\n  augment: {random_crop: {}}", 1), nil, [2]string{},
			`c.yaml:4:26: data.augment.random_crop.padding: must be at least 1 (the zero padding on each side), got 0`},
		{"augment sequence", strings.Replace(base, "train: mnist:train", "train: t.txt\n  sequence: {window: 4}\n  augment: {flip_horizontal: true}", 1), nil, [2]string{},
			`c.yaml:5:12: data.augment: applies to images; data.sequence reads a text or a series`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env[0] != "" {
				t.Setenv(tc.env[0], tc.env[1])
			}
			_, err := parse(t, tc.src, tc.sets...)
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error\n  %s\nwant it to contain\n  %s", err, tc.want)
			}
		})
	}
}

func TestGraphFromData(t *testing.T) {
	src := `data: {train: x.txt}
model:
  layers:
    - embedding: {dim: 8}
    - lstm: {units: 16}
    - dense: {units: classes}
`
	c, err := parse(t, src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Build(c, nil); !errors.Is(err, ErrNeedsData) || !strings.Contains(err.Error(), "c.yaml:3:3: model.input: not set") {
		t.Fatalf("building without the data: %v", err)
	}
	g := mustBuild(t, c, &DataInfo{Input: []int{32}, Classes: 40, Vocab: 40, Tokens: true})
	if e := g.Specs[0].(backprop.EmbeddingSpec); e.Vocab != 40 || e.Dim != 8 {
		t.Errorf("embedding %+v", e)
	}
	if d := g.Specs[2].(backprop.DenseSpec); d.Units != 40 {
		t.Errorf("dense units %d", d.Units)
	}
	_, err = Build(c, &DataInfo{Input: []int{32, 3}})
	if err == nil || !strings.Contains(err.Error(), "c.yaml:4:7: layer 0 (embedding): takes a sequence of token ids (T), got the input shape [32 3]") {
		t.Errorf("embedding on numbers: %v", err)
	}
	_, err = parse(t, strings.Replace(src, "  layers:\n    - embedding: {dim: 8}\n", "  input: [32]\n  layers:\n    - relu\n    - embedding: {dim: 8, vocab: 9}\n", 1))
	if err == nil || !strings.Contains(err.Error(), "must be the first layer") {
		t.Errorf("embedding after another layer: %v", err)
	}
}

func TestEveryOptimizerDecodes(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"{name: adamw, lr: 0.01, weight_decay: 0.1, amsgrad: true}", `&{AdamConfig:{Rate:{LR:0.01} Betas:[0.9 0.999] Eps:1e-08 WeightDecay:0.1 AMSGrad:true}}`},
		{"{name: adagrad, lr_decay: 0.01, initial_accumulator_value: 0.1}", `&{Rate:{LR:0.01} LRDecay:0.01 WeightDecay:0 InitialAccumulatorValue:0.1 Eps:1e-10}`},
		{"{name: adadelta, rho: 0.95}", `&{Rate:{LR:1} Rho:0.95 Eps:1e-06 WeightDecay:0}`},
		{"{name: rmsprop, momentum: 0.9, centered: true}", `&{Rate:{LR:0.01} Alpha:0.99 Eps:1e-08 WeightDecay:0 Momentum:0.9 Centered:true}`},
		{"{name: nadam, momentum_decay: 0.005}", `&{Rate:{LR:0.002} Betas:[0.9 0.999] Eps:1e-08 WeightDecay:0 MomentumDecay:0.005}`},
		{"sgd", `&{Rate:{LR:0.001} Momentum:0 Dampening:0 WeightDecay:0 Nesterov:false}`},
	} {
		c, err := parse(t, strings.Replace(base, "{name: sgd, lr: 0.1, momentum: 0.9}", tc.src, 1))
		if err != nil {
			t.Errorf("%s: %v", tc.src, err)
			continue
		}
		if got := fmt.Sprintf("%+v", c.Optimizer.Optim); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.src, got, tc.want)
		}
	}
	t.Setenv("NETTRAIN_OPTIMIZER_WEIGHT_DECAY", "0.5")
	c, err := parse(t, strings.Replace(base, "{name: sgd, lr: 0.1, momentum: 0.9}", "{name: adamw}", 1))
	if err != nil || c.Optimizer.Optim.(*optim.AdamWConfig).WeightDecay != 0.5 {
		t.Errorf("environment override of an inlined key: %v %+v", err, c)
	}
}

// TestEnvironmentSetsKeysTheFileOmits: NETTRAIN_* reaches what --set
// reaches though the file does not mention it: a layer's parameter left
// at its default, and the keys of sections that decode themselves
// (training.early_stopping, data.image, data.sequence); a bad value is
// an error naming the variable.
func TestEnvironmentSetsKeysTheFileOmits(t *testing.T) {
	for _, tc := range []struct {
		env, value string
		check      func(c *Config) bool
		want       string // an error, or "" when accepted
	}{
		{"NETTRAIN_MODEL_LAYERS_0_DENSE_BIAS", "false", func(c *Config) bool {
			return !mustBuild(t, c, nil).Specs[0].(backprop.DenseSpec).Bias
		}, ""},
		{"NETTRAIN_MODEL_LAYERS_2_DENSE_BIAS", "false", func(c *Config) bool {
			return !mustBuild(t, c, nil).Specs[2].(backprop.DenseSpec).Bias
		}, ""},
		{"NETTRAIN_TRAINING_EARLY_STOPPING_PATIENCE", "3", func(c *Config) bool {
			return c.Training.EarlyStopping != nil && c.Training.EarlyStopping.Patience == 3
		}, ""},
		{"NETTRAIN_TRAINING_EARLY_STOPPING_PATIENCE", "x", nil, "NETTRAIN_TRAINING_EARLY_STOPPING_PATIENCE=x: training.early_stopping.patience: expected an integer"},
		{"NETTRAIN_DATA_IMAGE_RESIZE", "nearest", func(c *Config) bool {
			return c.Data.Image != nil && c.Data.Image.Resize == "nearest"
		}, ""},
	} {
		t.Run(tc.env+"="+tc.value, func(t *testing.T) {
			t.Setenv(tc.env, tc.value)
			c, err := parse(t, base)
			switch {
			case tc.want != "":
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("got %v, want %q", err, tc.want)
				}
			case err != nil:
				t.Fatal(err)
			case !tc.check(c):
				t.Errorf("%s=%s did not reach the config:\n%s", tc.env, tc.value, c.Resolved)
			}
		})
	}
}

// TestSplitSet: a --set is key=value with a dotted key of non-empty parts
// and a value; an empty value (only spaces too) is refused naming the key,
// rather than read as YAML's null, which cleared the key silently. null
// itself is a value.
func TestSplitSet(t *testing.T) {
	for _, tc := range []struct {
		in, key, value, err string
	}{
		{in: "training.epochs=3", key: "training.epochs", value: "3"},
		{in: " optimizer.lr = 0.1", key: "optimizer.lr", value: " 0.1"},
		{in: "training.steps=null", key: "training.steps", value: "null"},
		{in: "name=a=b", key: "name", value: "a=b"},
		{in: "name", err: "expected key=value"},
		{in: "=1", err: "expected key=value"},
		{in: "a..b=1", err: `key "a..b" has an empty part`},
		{in: "model.init_from=", err: "no value for model.init_from after the '=' (an unset shell variable?); give one, or model.init_from=null for the key's default"},
		{in: "name=  ", err: "no value for name after the '='"},
	} {
		key, value, err := SplitSet(tc.in)
		switch {
		case tc.err == "" && (err != nil || key != tc.key || value != tc.value):
			t.Errorf("SplitSet(%q) = %q, %q, %v; want %q, %q", tc.in, key, value, err, tc.key, tc.value)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("SplitSet(%q): %v, want an error with %q", tc.in, err, tc.err)
		}
	}
	// Parse refuses it too (overrides that do not come through the flag).
	if _, err := Parse("c.yaml", []byte("name: x\n"), []string{"name="}, nil); err == nil || err.Error() != "--set name=: no value for name after the '=' (an unset shell variable?); give one, or name=null for the key's default" {
		t.Errorf("Parse: %v", err)
	}
}

// TestDidYouMean: the closest candidate within two edits, or the one
// candidate that the word begins (a shortening such as "val_acc").
func TestDidYouMean(t *testing.T) {
	monitors := []string{MonitorValLoss, MonitorValAccuracy}
	for _, tc := range []struct {
		word  string
		cands []string
		want  string
	}{
		{"val_acc", monitors, ` (did you mean "val_accuracy"?)`},
		{"VAL_ACC", monitors, ` (did you mean "val_accuracy"?)`},
		{"val_los", monitors, ` (did you mean "val_loss"?)`},
		{"accuracy", monitors, ""},
		{"epochz", []string{"epochs", "batch_size"}, ` (did you mean "epochs"?)`},
		{"rellu", []string{"relu", "tanh"}, ` (did you mean "relu"?)`},
	} {
		if got := didYouMean(tc.word, tc.cands); got != tc.want {
			t.Errorf("didYouMean(%q, %v) = %q, want %q", tc.word, tc.cands, got, tc.want)
		}
	}
}

// TestParseBytes: sizes with and without units; a fraction of a byte (0,
// which would mean no limit) and sizes that would wrap int64 are refused.
func TestParseBytes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		err  string
	}{
		{"512MiB", 512 << 20, ""},
		{"4GiB", 4 << 30, ""},
		{"2GB", 2e9, ""},
		{" 1000000 ", 1000000, ""},
		{"1.5KiB", 1536, ""},
		{"1", 1, ""},
		{"0.5", 0, `expected a size of at least 1 byte such as 512MiB or 4GiB, got "0.5" (0.5 bytes)`},
		{"0", 0, `expected a positive size`},
		{"-1GiB", 0, `expected a positive size`},
		{"NaN", 0, `expected a positive size`},
		{"9223372036854775807", 0, `expected a size below 4EiB`},
		{"1e30", 0, `expected a size below 4EiB`},
		{"8589934592GiB", 0, `expected a size below 4EiB`},
		{"Inf", 0, `expected a size below 4EiB`},
	} {
		got, err := ParseBytes(tc.in)
		if tc.err == "" && (err != nil || got != tc.want) || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d, %q", tc.in, got, err, tc.want, tc.err)
		}
	}
}
