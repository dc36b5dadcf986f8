package model

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/spf13/viper"
)

// check runs Parse on each case: want "" means the config loads, otherwise
// the error must be exactly want.
func check(t *testing.T, tests []parseCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			c, err := parse(t, tc.src, tc.sets...)
			if err == nil && tc.needData {
				err = c.RequireData("")
			}
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("no error, want\n  %s", tc.want)
			case tc.want != "" && err.Error() != tc.want:
				t.Fatalf("error\n  %v\nwant\n  %s", err, tc.want)
			}
		})
	}
}

type parseCase struct {
	name string
	src  string
	sets []string
	env  map[string]string
	want string
	// needData also asks for the training data (as train and eval do).
	needData bool
}

// TestMultipleDocuments: a config is one YAML document; a second one (after
// ---) is refused where it starts instead of being silently ignored.
func TestMultipleDocuments(t *testing.T) {
	second := "c.yaml:13:1: a second YAML document starts here; a config is a single document: merge its keys into the first one or remove it"
	check(t, []parseCase{
		{name: "one document", src: base},
		{name: "explicit start", src: "---\n" + base},
		{name: "explicit end", src: base + "...\n"},
		{name: "second document", src: base + "---\nname: u\n", want: second},
		{name: "trailing ---", src: base + "---\n", want: second},
		{name: "second document after an end marker", src: base + "...\n---\nname: u\n", want: strings.Replace(second, ":13:", ":14:", 1)},
		{name: "empty first document", src: "---\n---\n" + base, want: strings.Replace(second, ":13:", ":2:", 1)},
		{name: "invalid second document", src: base + "--- [\n", want: "c.yaml:13: invalid YAML: did not find expected node content"},
		// An override's value is one YAML document too: the rest was
		// silently cut, so --set $'name=a\n---\nb: [1' trained run "a".
		{name: "override with an explicit end", src: base, sets: []string{"name=a\n..."}},
		{name: "override with a second document", src: base, sets: []string{"name=a\n---\nname: b"},
			want: `--set name=a\n---\nname: b: name: the value holds a second YAML document (from the --- on its line 2); an override's value is a single document`},
		{name: "override with an invalid second document", src: base, sets: []string{"name=a\n---\nb: [1"},
			want: `--set name=a\n---\nb: [1: name: value is not valid YAML: line 2: did not find expected ',' or ']'`},
		{name: "override with an empty second document", src: base, sets: []string{"training.epochs=3\n---"},
			want: `--set training.epochs=3\n---: training.epochs: the value holds a second YAML document (from the --- on its line 2); an override's value is a single document`},
		{name: "variable with a second document", src: base, env: map[string]string{"NETTRAIN_TRAINING_EPOCHS": "3\n--- 4"},
			want: `NETTRAIN_TRAINING_EPOCHS=3\n--- 4: training.epochs: the value holds a second YAML document (from the --- on its line 2); an override's value is a single document`},
	})
}

// TestYAMLSyntaxErrorLine: a YAML syntax error names the line where the
// problem is, not the line yaml.v3 reports (where the enclosing block or
// flow starts), and no column, which yaml.v3 does not tell.
func TestYAMLSyntaxErrorLine(t *testing.T) {
	// edit replaces line n (1-based) of base with text.
	edit := func(n int, text string) string {
		lines := strings.Split(base, "\n")
		lines[n-1] = text
		return strings.Join(lines, "\n")
	}
	tabHint := " (this line has a tab: YAML indents with spaces only)"
	quoteHint := " (a quoted string opened on this line is not closed)"
	check(t, []parseCase{
		{name: "list item indented one space less", src: edit(8, "   - relu"),
			want: "c.yaml:8: invalid YAML: did not find expected key"},
		{name: "stray closing brace", src: edit(9, "    - dense: {units: 10}}"),
			want: "c.yaml:9: invalid YAML: did not find expected key"},
		{name: "unclosed brace", src: edit(7, "    - dense: {units: 16"),
			want: "c.yaml:7: invalid YAML: did not find expected ',' or '}'"},
		{name: "tab indentation after a line with a tab", src: base + "  batch_size:\t64\n\tshuffle: true\n",
			want: "c.yaml:14: invalid YAML: found a tab character that violates indentation" + tabHint},
		{name: "tab-indented list item", src: edit(8, "\t- relu"),
			want: "c.yaml:8: invalid YAML: found character that cannot start any token" + tabHint},
		{name: "after a multi-line flow mapping", src: edit(10, "optimizer: {name: sgd,\n  lr: 0.1}\ntraining:\n   epochs: 2\n batch_size: 8"),
			want: "c.yaml:14: invalid YAML: did not find expected key"},
		{name: "double quote never closed", src: edit(1, `name: "t`),
			want: "c.yaml:1: invalid YAML: found unexpected end of stream" + quoteHint},
		{name: "single quote never closed", src: edit(3, "  train: 'mnist:train"),
			want: "c.yaml:3: invalid YAML: found unexpected end of stream" + quoteHint},
		{name: "quote never closed after a closed multi-line quoted string", src: edit(1, "name: \"t\n  u\"\nseed: 'open"),
			want: "c.yaml:3: invalid YAML: found unexpected end of stream" + quoteHint},
		{name: "quote opened on the last line", src: strings.TrimSuffix(base, "\n") + "\nloss: 'mse",
			want: "c.yaml:13: invalid YAML: found unexpected end of stream" + quoteHint},
		{name: "quote never closed after a multi-line flow list", src: edit(7, "    - dense: {units: 16,\n      bias: true}") + `loss: "mse` + "\n",
			want: "c.yaml:14: invalid YAML: found unexpected end of stream" + quoteHint},
		{name: "CRLF line ends", src: strings.ReplaceAll(edit(8, "   - relu"), "\n", "\r\n"),
			want: "c.yaml:8: invalid YAML: did not find expected key"},
		{name: "CR line ends", src: strings.ReplaceAll(edit(9, "    - dense: {units: 10}}"), "\n", "\r"),
			want: "c.yaml:9: invalid YAML: did not find expected key"},
	})
}

// TestRunNames: the run name names the directory runs/<name> and appears in
// messages, so only a safe set is allowed, and a refused name is printed
// quoted (control characters escaped, a long name cut).
func TestRunNames(t *testing.T) {
	named := func(yamlName string) string { return strings.Replace(base, "name: t", "name: "+yamlName, 1) }
	rule := "must be 1 to 100 ASCII letters, digits, '.', '_' or '-', not starting with '.' or '-' (it names the run directory runs/<name>); got "
	long := strings.Repeat("a", 101)
	tests := []parseCase{
		{name: "letters digits dot underscore dash", src: named("mnist-mlp_2.v1")},
		{name: "leading underscore", src: named("_x")},
		{name: "100 characters", src: named(strings.Repeat("a", 100))},
		{name: "newline", src: named(`"a\nb"`), want: `c.yaml:1:7: name: ` + rule + `"a\nb"`},
		{name: "only spaces", src: named(`"   "`), want: `c.yaml:1:7: name: ` + rule + `"   "`},
		{name: "NUL", src: named(`"a\0b"`), want: `c.yaml:1:7: name: ` + rule + `"a\x00b"`},
		{name: "escape sequence", src: named(`"\e[31mred"`), want: `c.yaml:1:7: name: ` + rule + `"\x1b[31mred"`},
		{name: "leading dot", src: named(".hidden"), want: `c.yaml:1:7: name: ` + rule + `".hidden"`},
		{name: "dot dot", src: named(`".."`), want: `c.yaml:1:7: name: ` + rule + `".."`},
		{name: "leading dash", src: named(`"-rf"`), want: `c.yaml:1:7: name: ` + rule + `"-rf"`},
		{name: "slash", src: named("a/b"), want: `c.yaml:1:7: name: ` + rule + `"a/b"`},
		{name: "space inside", src: named("my run"), want: `c.yaml:1:7: name: ` + rule + `"my run"`},
		{name: "non-ASCII letter", src: named("résumé"), want: `c.yaml:1:7: name: ` + rule + `"résumé"`},
		{name: "101 characters", src: named(long), want: `c.yaml:1:7: name: ` + rule + `"` + long + `"`},
		{name: "very long name is cut", src: named(strings.Repeat("é", 5000)), want: `c.yaml:1:7: name: ` + rule + `"` + strings.Repeat("é", 40) + `"... (10000 bytes)`},
		{name: "from --set", src: base, sets: []string{"name=-x"}, want: `--set name=-x: name: ` + rule + `"-x"`},
	}
	check(t, tests)
	// Without a name key the run is named after the file; a file name
	// outside the safe set says so.
	noName := strings.Replace(base, "name: t\n", "", 1)
	for _, tc := range []struct{ file, want string }{
		{"dir/mnist-2.yaml", ""},
		{"dir/my config.yaml", `dir/my config.yaml: name: the run name "my config" comes from the config file's name, but it ` + rule[:strings.Index(rule, ";")] + `: add a name: key to the config`},
		{"dir/.yaml", `dir/.yaml: name: the run name "" comes from the config file's name, but it ` + rule[:strings.Index(rule, ";")] + `: add a name: key to the config`},
	} {
		c, err := Parse(tc.file, []byte(noName), nil, viper.New())
		switch {
		case tc.want == "" && (err != nil || c.Name != "mnist-2"):
			t.Errorf("%s: %v %+v", tc.file, err, c)
		case tc.want != "" && (err == nil || err.Error() != tc.want):
			t.Errorf("%s: error\n  %v\nwant\n  %s", tc.file, err, tc.want)
		}
	}
}

// TestCountCaps: counts that size allocations or loops are capped at a
// stated maximum, which itself is accepted.
func TestCountCaps(t *testing.T) {
	lstm := func(n int) string {
		return fmt.Sprintf("data: {train: x.csv}\nmodel:\n  input: [4, 1]\n  layers:\n    - lstm: {units: 1, layers: %d}\n    - dense: {units: 3}\n", n)
	}
	grid := func(n int) string {
		lrs := make([]string, n)
		for i := range lrs {
			lrs[i] = fmt.Sprint(i + 1)
		}
		return "[" + strings.Join(lrs, ", ") + "]"
	}
	tests := []parseCase{}
	for _, k := range []struct {
		key string
		max int
	}{
		{"training.epochs", MaxEpochs},
		{"training.batch_size", MaxBatchSize},
		{"training.threads", MaxThreads},
		{"checkpoint.keep", MaxCheckpointKeep},
		{"compare.grid_points", MaxGridPoints},
		{"compare.seeds", MaxSeeds},
		{"compare.evals_per_epoch", MaxEvalsPerEpoch},
	} {
		set := func(v int) []string { return []string{fmt.Sprintf("%s=%d", k.key, v)} }
		tests = append(tests,
			parseCase{name: k.key + " at the maximum", src: base, sets: set(k.max)},
			parseCase{name: k.key + " over the maximum", src: base, sets: set(k.max + 1),
				want: fmt.Sprintf("--set %s=%d: %s: must be at most %d, got %d", k.key, k.max+1, k.key, k.max, k.max+1)},
		)
	}
	tests = append(tests,
		parseCase{name: "threads in the file", src: base + "  threads: 1000000\n",
			want: "c.yaml:13:12: training.threads: must be at most 1024, got 1000000"},
		parseCase{name: "seeds from the environment", src: base, env: map[string]string{"NETTRAIN_COMPARE_SEEDS": "5000"},
			want: "NETTRAIN_COMPARE_SEEDS=5000: compare.seeds: must be at most 1000, got 5000"},
		// Each stacked LSTM layer is four parameter tensors, listed before
		// any size check: 10^8 of them ran out of memory in Load.
		parseCase{name: "lstm layers at the maximum", src: lstm(MaxLSTMLayers)},
		parseCase{name: "lstm layers over the maximum", src: lstm(100_000_000),
			want: "c.yaml:5:32: layer 0 (lstm): layers: must be at most 1000, got 100000000"},
		// An explicit grid is as many runs as grid_points.
		parseCase{name: "explicit grid at the maximum", src: base + "compare: {lr_grid: {sgd: " + grid(MaxGridPoints) + "}}\n"},
		parseCase{name: "explicit grid over the maximum", src: base + "compare: {lr_grid: {sgd: " + grid(MaxGridPoints+1) + "}}\n",
			want: "c.yaml:13:26: compare.lr_grid.sgd: must list at most 1000 learning rates, got 1001"},
	)
	check(t, tests)
}

// TestOverrideErrorsNameTheOverride: an error caused by a --set or NETTRAIN_*
// override names it. A node the override set gives the override alone; a
// mapping it changed, or a combination of values (layer shapes, an
// optimizer's or a schedule's hyperparameters), gives the override and the
// file position. Errors in the file that no override touched stay on the
// file alone.
func TestOverrideErrorsNameTheOverride(t *testing.T) {
	csv := strings.Replace(base, "train: mnist:train", "train: d.csv\n  csv: {label: y}", 1)
	series := strings.Replace(base, "train: mnist:train", "train: d.csv\n  sequence: {kind: series, window: 4, inputs: [a]}", 1)
	nesterov := strings.Replace(base, "momentum: 0.9", "momentum: 0.9, nesterov: true", 1)
	softmax := strings.Replace(base, "dense: {units: 10}", "dense: {units: 10}\n    - softmax", 1) + "loss: mse\n"
	conv := cnnConfig("[1, 8, 8]", "conv2d: {filters: 2, kernel: 3, padding: same}", "flatten", "dense: {units: 2}")
	check(t, []parseCase{
		{name: "a layer kind added to a layer", src: base, sets: []string{"model.layers.0.conv2d.filters=3"},
			want: "--set model.layers.0.conv2d.filters=3 (c.yaml:7:7): model.layers[0]: a layer is one kind with its parameters, e.g. {dense: {units: 10}}; got 2 keys [dense conv2d] (indent the parameters under the kind)"},
		{name: "required value emptied", src: base, sets: []string{"data.train=null"}, needData: true,
			want: "--set data.train=null: data.train: required: the training data (mnist:train, fashion-mnist:train, or a path to an IDX, CSV or safetensors file, a folder of images in class folders, or a text or series file with data.sequence)"},
		{name: "required value emptied by the environment", src: base, env: map[string]string{"NETTRAIN_DATA_TRAIN": "null"}, needData: true,
			want: "NETTRAIN_DATA_TRAIN=null: data.train: required: the training data (mnist:train, fashion-mnist:train, or a path to an IDX, CSV or safetensors file, a folder of images in class folders, or a text or series file with data.sequence)"},
		{name: "csv targets added beside a label", src: csv, sets: []string{"data.csv.targets=[a, b]"},
			want: "--set data.csv.targets=[a, b] (c.yaml:4:8): data.csv: give label (one column) or targets (several regression columns), not both"},
		{name: "sequence made text with inputs", src: series, sets: []string{"data.sequence.kind=text"},
			want: "--set data.sequence.kind=text (c.yaml:4:13): data.sequence: inputs and targets pick columns of a series; a text has none"},
		{name: "test set added to sequence data", src: series, sets: []string{"data.test=t.csv"},
			want: "--set data.test=t.csv (c.yaml:3:3): data: sequence data is split chronologically: the validation part is the last validation_split of data.train; data.test and data.validation do not apply"},
		{name: "optimizer renamed under its hyperparameters", src: base, sets: []string{"optimizer.name=adam"},
			want: "--set optimizer.name=adam (c.yaml:10:33): optimizer.momentum: unknown key; known keys in optimizer: amsgrad, betas, eps, lr, weight_decay"},
		{name: "optimizer hyperparameters that no longer fit together", src: nesterov, sets: []string{"optimizer.momentum=0"},
			want: "--set optimizer.momentum=0 (c.yaml:10:58): optimizer.nesterov: needs momentum > 0 and dampening 0 (as torch.optim.SGD)"},
		{name: "schedule renamed to one with a required key", src: base + "schedule: {name: constant}\n", sets: []string{"schedule.name=step"},
			want: "--set schedule.name=step (c.yaml:13:11): schedule.step_size: required: the number of intervals between reductions, e.g. 10"},
		{name: "input shape the layers do not fit", src: base, sets: []string{"model.input=[1,2,2]"},
			want: "--set model.input=[1,2,2] (c.yaml:7:7): layer 0 (dense): input is [1 2 2]; dense works on the last axis of a vector or a (time, features) sequence: add a flatten layer before it"},
		{name: "loss that does not fit the last layer", src: softmax, sets: []string{"loss=cross_entropy"},
			want: "--set loss=cross_entropy (c.yaml:10:7): layer 3 (softmax): cross_entropy takes logits and applies softmax itself (as torch.nn.CrossEntropyLoss); remove this softmax layer, or use loss mse or half_sse on probabilities"},
		{name: "layer parameters that no longer fit together", src: conv, sets: []string{"model.layers.0.conv2d.stride=2"},
			want: "--set model.layers.0.conv2d.stride=2 (c.yaml:5:48): layer 0 (conv2d): padding: \"same\" needs stride 1 (as in PyTorch), got stride [2, 2]"},
		{name: "parameters given to a bare layer", src: base, sets: []string{"model.layers.1.relu.x=1"},
			want: "--set model.layers.1.relu.x=1: model.layers[1].relu: relu takes no parameters, got a mapping"},
		{name: "unknown optimizer to compare", src: base + "compare: {optimizers: [sgd, fooo]}\n",
			want: `c.yaml:13:23: compare.optimizers: unknown optimizer "fooo"; known: sgd, momentum, nesterov, adagrad, adadelta, rmsprop, adam, adamw, nadam`},
		{name: "optimizer compared twice", src: base, sets: []string{"compare.optimizers=[adam, adam]"},
			want: `--set compare.optimizers=[adam, adam]: compare.optimizers: lists "adam" twice`},
		{name: "misspelt optimizer in the rate grid", src: base, sets: []string{"compare.lr_grid={adamm: [0.1]}"},
			want: `--set compare.lr_grid={adamm: [0.1]}: compare.lr_grid: unknown optimizer "adamm" (did you mean "adam"?); known: sgd, momentum, nesterov, adagrad, adadelta, rmsprop, adam, adamw, nadam`},
		// Whether lr_grid's optimizers are compared, and which of
		// trace.target and trace.output_grad starts backprop, depend on
		// the flags (--optimizers, --target): the commands check them.
		{name: "rate grid of an optimizer the file does not compare", src: base + "compare: {optimizers: [sgd], lr_grid: {adam: [0.1]}}\n"},
		{name: "a rate that is not > 0", src: base + "compare: {lr_grid: {adam: [0.1, 0]}}\n",
			want: `c.yaml:13:27: compare.lr_grid.adam: learning rates must be finite and > 0, got 0`},
		{name: "a negative target loss", src: base, sets: []string{"compare.target_loss=-5"},
			want: `--set compare.target_loss=-5: compare.target_loss: must be a finite validation loss > 0 (or null), got -5`},
		{name: "trace target and output gradient both", src: base + "trace: {target: [1]}\n", sets: []string{"trace.output_grad=[0.5]"}},
		{name: "an error in another layer stays on the file", src: strings.Replace(base, "units: 10", "units: 0", 1), sets: []string{"model.layers.0.dense.units=64"},
			want: "c.yaml:9:22: layer 2 (dense): units: must be at least 1, got 0"},
		{name: "a missing key stays on the file", src: strings.Replace(base, "train: mnist:train", "validation: v.csv", 1), sets: []string{"data.test=t.csv"},
			want: "c.yaml:3:3: data.train: required with data.sequence, data.test or data.validation: the training data (mnist:train, fashion-mnist:train, or a path to an IDX, CSV or safetensors file, a folder of images in class folders, or a text or series file with data.sequence)"},
	})
}

// TestEnvironmentSections: an environment variable naming a whole section
// (or list entry) applies exactly as the --set of that key does; one naming
// no config key is ignored; a section and a key inside it cannot both be
// overridden, from any source.
func TestEnvironmentSections(t *testing.T) {
	hash := func(t *testing.T, env map[string]string, sets ...string) string {
		t.Helper()
		for k, v := range env {
			t.Setenv(k, v)
		}
		c, err := parse(t, base, sets...)
		if err != nil {
			t.Fatal(err)
		}
		return c.Hash()
	}
	plain := hash(t, nil)
	for _, tc := range []struct {
		env     map[string]string
		set     string // the equivalent --set; "" when the variable is ignored
		changes bool
	}{
		{map[string]string{"NETTRAIN_OPTIMIZER": "sgd"}, "optimizer=sgd", true},
		{map[string]string{"NETTRAIN_OPTIMIZER": "{name: adam, lr: 0.01}"}, "optimizer={name: adam, lr: 0.01}", true},
		{map[string]string{"NETTRAIN_TRAINING": "{epochs: 4}"}, "training={epochs: 4}", true},
		{map[string]string{"NETTRAIN_MODEL_LAYERS_1": "tanh"}, "model.layers.1=tanh", true},
		{map[string]string{"NETTRAIN_MODEL_LAYERS_0_DENSE": "{units: 8}"}, "model.layers.0.dense={units: 8}", true},
		// NETTRAIN_DATA is the directory of the built-in data sets.
		{map[string]string{"NETTRAIN_DATA": "/nonexistent"}, "", false},
		{map[string]string{"NETTRAIN_DATA": "/nonexistent"}, "data.train=mnist:train", false},
		{map[string]string{"NETTRAIN_NO_SUCH_KEY": "1", "NETTRAIN_TRAINING_EPOCHZ": "3"}, "", false},
	} {
		want := plain // computed before the variables are set
		if tc.changes {
			want = hash(t, nil, tc.set)
		}
		t.Run(fmt.Sprint(tc.env), func(t *testing.T) {
			var got string
			if tc.changes || tc.set == "" {
				got = hash(t, tc.env)
			} else {
				got = hash(t, tc.env, tc.set)
			}
			if got != want {
				t.Fatalf("the config differs from the one with --set %q (%s)", tc.set, map[bool]string{true: "the variable was ignored", false: "wrong value"}[got == plain])
			}
		})
	}
	conflict := func(inner, section, key string) string {
		return inner + ": " + key + ": conflicts with " + section + ", which replaces all of optimizer: give optimizer as one value, or set only keys inside it"
	}
	check(t, []parseCase{
		{name: "section variable with a bad value", src: base, env: map[string]string{"NETTRAIN_TRAINING": "5"},
			want: "NETTRAIN_TRAINING=5: training: expected a mapping, got the integer 5"},
		{name: "the same value with --set", src: base, sets: []string{"training=5"},
			want: "--set training=5: training: expected a mapping, got the integer 5"},
		{name: "model section variable", src: base, env: map[string]string{"NETTRAIN_MODEL": "x"},
			want: `NETTRAIN_MODEL=x: model: expected a mapping, got "x"`},
		{name: "--set section and --set key inside", src: base, sets: []string{"optimizer=sgd", "optimizer.lr=0.5"},
			want: conflict("--set optimizer.lr=0.5", "--set optimizer=sgd", "optimizer.lr")},
		{name: "--set key inside before --set section", src: base, sets: []string{"optimizer.lr=0.5", "optimizer=sgd"},
			want: conflict("--set optimizer.lr=0.5", "--set optimizer=sgd", "optimizer.lr")},
		{name: "section variable and --set key inside", src: base, sets: []string{"optimizer.lr=0.5"}, env: map[string]string{"NETTRAIN_OPTIMIZER": "sgd"},
			want: conflict("--set optimizer.lr=0.5", "NETTRAIN_OPTIMIZER=sgd", "optimizer.lr")},
		{name: "--set section and variable of a key inside", src: base, sets: []string{"optimizer=sgd"}, env: map[string]string{"NETTRAIN_OPTIMIZER_LR": "0.5"},
			want: conflict("NETTRAIN_OPTIMIZER_LR=0.5", "--set optimizer=sgd", "optimizer.lr")},
		{name: "section variable and variable of a key inside", src: base, env: map[string]string{"NETTRAIN_OPTIMIZER": "sgd", "NETTRAIN_OPTIMIZER_LR": "0.5"},
			want: conflict("NETTRAIN_OPTIMIZER_LR=0.5", "NETTRAIN_OPTIMIZER=sgd", "optimizer.lr")},
		{name: "the same key from both: --set wins", src: base, sets: []string{"optimizer.lr=0.5"}, env: map[string]string{"NETTRAIN_OPTIMIZER_LR": "-1"}},
	})
}

// TestDecoderEdgeCases: every odd input the decoder meets gives one clear
// line: numbers beyond their type, keys given twice or differing in case,
// merge keys, control characters, alias bombs, deep nesting.
func TestDecoderEdgeCases(t *testing.T) {
	epochs := func(v string) string { return strings.Replace(base, "epochs: 2", "epochs: "+v, 1) }
	lr := func(v string) string { return strings.Replace(base, "lr: 0.1", "lr: "+v, 1) }
	check(t, []parseCase{
		{name: "integer beyond int64", src: epochs("99999999999999999999"),
			want: "c.yaml:12:11: training.epochs: 99999999999999999999 is too large: at most 9223372036854775807"},
		{name: "integer just beyond int64", src: epochs("9223372036854775808"),
			want: "c.yaml:12:11: training.epochs: 9223372036854775808 is too large: at most 9223372036854775807"},
		{name: "integer below int64", src: epochs("-99999999999999999999"),
			want: "c.yaml:12:11: training.epochs: -99999999999999999999 is too small: at least -9223372036854775808"},
		{name: "hexadecimal beyond int64", src: epochs("0xFFFFFFFFFFFFFFFFFF"),
			want: "c.yaml:12:11: training.epochs: 0xFFFFFFFFFFFFFFFFFF is too large: at most 9223372036854775807"},
		{name: "seed beyond uint64", src: "seed: 99999999999999999999\n" + base,
			want: "c.yaml:1:7: seed: 99999999999999999999 is too large: at most 18446744073709551615"},
		{name: "largest seed", src: "seed: 18446744073709551615\n" + base},
		{name: "quoted integer stays a string", src: epochs(`"3"`),
			want: `c.yaml:12:11: training.epochs: expected an integer, got "3"`},
		{name: "number beyond float64", src: lr("1e400"),
			want: "c.yaml:10:28: optimizer.lr: 1e400 is outside the range of a 64-bit floating-point number"},
		{name: "negative number beyond float64", src: lr("-1e400"),
			want: "c.yaml:10:28: optimizer.lr: -1e400 is outside the range of a 64-bit floating-point number"},
		{name: "number beyond float64 from --set", src: base, sets: []string{"optimizer.lr=1e999"},
			want: "--set optimizer.lr=1e999: optimizer.lr: 1e999 is outside the range of a 64-bit floating-point number"},
		{name: "key differing in case", src: strings.Replace(base, "training:", "Training:", 1),
			want: `c.yaml:11:1: Training: unknown key (did you mean "training"?); known keys here: checkpoint, compare, data, dtype, loss, model, name, optimizer, schedule, seed, trace, training`},
		{name: "key given twice", src: epochs("2\n  epochs: 3"),
			want: "c.yaml:13:3: training.epochs: key appears twice (first at line 12, column 3)"},
		{name: "map key given twice", src: base + "compare: {lr_grid: {adam: [0.1], adam: [0.2]}}\n",
			want: "c.yaml:13:34: compare.lr_grid.adam: key appears twice (first at line 13, column 21)"},
		{name: "merge key", src: strings.Replace(base, "training:\n  epochs: 2", "training:\n  <<: {epochs: 2}", 1),
			want: "c.yaml:12:3: training.<<: YAML merge keys (<<: *anchor) are not supported; write the keys out, or use an alias (*anchor) for the whole value"},
		{name: "control characters in a key", src: epochs(`2` + "\n" + `  "ep\e[31mochs": 2`),
			want: `c.yaml:13:3: training.ep\x1b[31mochs: unknown key; known keys in training: batch_size, clip_norm, clip_value, early_stopping, epochs, eval_every_steps, memory_limit, on_nan, shuffle, steps, tensorboard, threads`},
		{name: "control characters in a --set", src: base, sets: []string{"name=a\x1b[2Jb\nc"},
			want: `--set name=a\x1b[2Jb\nc: name: value is not valid YAML: control characters are not allowed`},
		{name: "bidi override in a key", src: epochs(`2` + "\n" + `  "ep\u202eochs": 2`),
			want: `c.yaml:13:3: training.ep\u202eochs: unknown key; known keys in training: batch_size, clip_norm, clip_value, early_stopping, epochs, eval_every_steps, memory_limit, on_nan, shuffle, steps, tensorboard, threads`},
		{name: "deep nesting", src: "name: " + strings.Repeat("[", 20000),
			want: "c.yaml: invalid YAML: exceeded max depth of 10000"},
	})
	// An alias bomb: 3000 references to a list of 1000 numbers would be 3
	// million values; decoding stops at maxVisits.
	var b strings.Builder
	b.WriteString(base + "compare:\n  lr_grid:\n    x0: &a [" + strings.Repeat("1, ", 999) + "1]\n")
	for i := 1; i < 3000; i++ {
		fmt.Fprintf(&b, "    x%d: *a\n", i)
	}
	_, err := parse(t, b.String())
	if err == nil || !strings.Contains(err.Error(), "the config expands to more than 1048576 values") || strings.Contains(err.Error(), "\n") {
		t.Errorf("alias bomb: %v", err)
	}
}

// TestErrorIsOneSafeLine: whatever a file name, key or override holds, the
// message is one line without raw control characters or broken UTF-8.
func TestErrorIsOneSafeLine(t *testing.T) {
	for _, tc := range []struct {
		err  Error
		want string
	}{
		{Error{File: "c.yaml", Line: 3, Col: 1, Path: "name", Msg: "plain"}, "c.yaml:3:1: name: plain"},
		{Error{File: "a\nb.yaml", Msg: "x"}, `a\nb.yaml: x`},
		{Error{File: "a\xffb.yaml", Msg: "x"}, `a\xffb.yaml: x`},
		{Error{Origin: "--set k=\x1b]0;title\a", Path: "k", Msg: "x"}, `--set k=\x1b]0;title\a: k: x`},
		{Error{File: "c.yaml", Line: 1, Col: 1, Path: "ke\x00y", Msg: "tab\there"}, `c.yaml:1:1: ke\x00y: tab\there`},
		{Error{File: "ünï.yaml", Msg: "é"}, "ünï.yaml: é"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("%+v:\n  %s\nwant\n  %s", tc.err, got, tc.want)
		}
	}
}

// TestDeepNestingIsCheap: a small config nested thousands of levels deep
// (within yaml.v3's depth limit) is refused in milliseconds; looking up
// overrides for every section of it once took cubic time.
func TestDeepNestingIsCheap(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"mappings", "name: t\nx: " + strings.Repeat("{a: ", 5000) + "1" + strings.Repeat("}", 5000) + "\n",
			"c.yaml:2:1: x: unknown key; known keys here: checkpoint, compare, data, dtype, loss, model, name, optimizer, schedule, seed, trace, training"},
		{"lists", "name: t\nx: " + strings.Repeat("[", 5000) + "1" + strings.Repeat("]", 5000) + "\n",
			"c.yaml:2:1: x: unknown key; known keys here: checkpoint, compare, data, dtype, loss, model, name, optimizer, schedule, seed, trace, training"},
		{"under a known key", strings.Replace(base, "epochs: 2", "epochs: "+strings.Repeat("[", 5000)+"1"+strings.Repeat("]", 5000), 1),
			"c.yaml:12:11: training.epochs: expected an integer, got a list"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() {
				_, err := parse(t, tc.src)
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil || err.Error() != tc.want {
					t.Fatalf("error\n  %v\nwant\n  %s", err, tc.want)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Parse did not return within 5 s")
			}
		})
	}
}

// TestKeyErrorsAfterLoadNameOverrides: errors found after the config is
// loaded (the data does not fit the model, a checkpoint was trained with
// other settings) name the overrides of the key they are about, or under
// it, beside the file position; ResumeOverrides names those of a
// checkpoint's sections (model covers the loss; training only what a
// resume must keep).
func TestKeyErrorsAfterLoadNameOverrides(t *testing.T) {
	for _, tc := range []struct {
		sets     []string
		key      string
		want     string
		sections []string
		resume   string
	}{
		{[]string{"model.layers.0.dense.units=64"}, "model.layers.0",
			"--set model.layers.0.dense.units=64 (c.yaml:7:7): model.layers.0: msg", []string{"model"}, " (this command sets --set model.layers.0.dense.units=64)"},
		{[]string{"model.layers.0.dense.units=64"}, "model.layers.2", "c.yaml:9:7: model.layers.2: msg", []string{"training"}, ""},
		{[]string{"model.input=[784]"}, "model.input", "--set model.input=[784]: model.input: msg", []string{"data", "seed"}, ""},
		{[]string{"training.epochs=3", "training.batch_size=32"}, "training.batch_size",
			"--set training.batch_size=32: training.batch_size: msg", []string{"training"}, " (this command sets --set training.batch_size=32)"},
		{[]string{"loss=mse"}, "loss", "--set loss=mse: loss: msg", []string{"model"}, " (this command sets --set loss=mse)"},
		{[]string{"training={batch_size: 32, epochs: 2}"}, "training.batch_size",
			"--set training={batch_size: 32, epochs: 2}: training.batch_size: msg", []string{"training"}, " (this command sets --set training={batch_size: 32, epochs: 2})"},
		{nil, "model.layers.0", "c.yaml:7:7: model.layers.0: msg", []string{"model"}, ""},
	} {
		c, err := Parse("c.yaml", []byte(base), tc.sets, viper.New())
		if err != nil {
			t.Fatal(err)
		}
		if got := c.KeyError(tc.key, "msg").Error(); got != tc.want {
			t.Errorf("%v %s: %s, want %s", tc.sets, tc.key, got, tc.want)
		}
		if got := c.ResumeOverrides(tc.sections); got != tc.resume {
			t.Errorf("%v %v: %q, want %q", tc.sets, tc.sections, got, tc.resume)
		}
	}
}
