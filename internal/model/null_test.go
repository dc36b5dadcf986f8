package model

import (
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/viper"
	"gopkg.in/yaml.v3"
)

// nullBase sets many keys to something other than their defaults, so that
// clearing one with null shows whether it went back to its default.
const nullBase = `name: t
seed: 7
dtype: float64
loss: mse
data:
  train: mnist:train
  test: mnist:test
  validation_split: 0.2
  normalize: standardize
  csv: {header: true, label: y}
model:
  input: [784]
  layers:
    - dense: {units: 16, bias: false}
    - relu
    - dense: {units: 10}
optimizer: {name: sgd, lr: 0.1, momentum: 0.9}
schedule: {name: cosine, warmup: 1}
training:
  epochs: 2
  batch_size: 32
  shuffle: false
  steps: 10
  threads: 2
  on_nan: skip_batch
  clip_norm: 1
  tensorboard: true
  early_stopping: {monitor: val_loss, patience: 3}
checkpoint: {every_epochs: 2, keep: 5, every_steps: 4}
compare: {optimizers: [sgd, adam], grid_points: 3, seeds: 2, evals_per_epoch: 4, target_loss: 0.5}
trace: {digits: 4}
`

// editKey returns src with the key at the dotted path removed (del) or
// set to null.
func editKey(t *testing.T, src, path string, del bool) string {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	n := doc.Content[0]
	parts := strings.Split(path, ".")
	for i, p := range parts {
		if n.Kind == yaml.SequenceNode {
			j, _ := strconv.Atoi(p)
			n = n.Content[j]
			continue
		}
		found := false
		for j := 0; j+1 < len(n.Content); j += 2 {
			if n.Content[j].Value != p {
				continue
			}
			found = true
			if i < len(parts)-1 {
				n = n.Content[j+1]
				break
			}
			if del {
				n.Content = append(n.Content[:j], n.Content[j+2:]...)
			} else {
				n.Content[j+1] = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
			}
			break
		}
		if !found {
			t.Fatalf("no key %s in the config", path)
		}
	}
	out, err := yaml.Marshal(&doc)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// TestNullIsTheDefault: a key given as null, in the file, by --set key=null
// or by NETTRAIN_KEY=null, decodes as if it were absent: its default (no
// limit, off, detect for the keys whose default is null), whatever its
// type. An error message once told users to clear a key with key=null,
// while most keys refused the null ("expected an integer, got null",
// `unknown value ""`).
func TestNullIsTheDefault(t *testing.T) {
	for _, key := range []string{
		"name", "seed", "dtype", "loss",
		"data", "data.test", "data.validation_split", "data.normalize", "data.csv", "data.csv.header", "data.csv.label",
		"model.layers.0.dense.bias",
		"optimizer", "optimizer.lr", "optimizer.momentum", "optimizer.name",
		"schedule", "schedule.warmup", "schedule.name",
		"training", "training.epochs", "training.batch_size", "training.shuffle", "training.steps", "training.threads",
		"training.on_nan", "training.clip_norm", "training.tensorboard", "training.early_stopping", "training.early_stopping.patience",
		"training.early_stopping.monitor",
		"checkpoint.every_epochs", "checkpoint.keep", "checkpoint.every_steps",
		"compare.optimizers", "compare.grid_points", "compare.seeds", "compare.evals_per_epoch", "compare.target_loss",
		"trace.digits",
	} {
		t.Run(key, func(t *testing.T) {
			src := nullBase
			if key == "optimizer.name" {
				// sgd's momentum is not a key of the default optimizer, adam.
				src = editKey(t, nullBase, "optimizer.momentum", true)
			}
			want, err := Parse("c.yaml", []byte(editKey(t, src, key, true)), nil, nil)
			if err != nil {
				t.Fatalf("without %s: %v", key, err)
			}
			parseWith := func(how, src string, sets []string) {
				t.Helper()
				c, err := Parse("c.yaml", []byte(src), sets, viper.New())
				switch {
				case err != nil:
					t.Errorf("%s: %v", how, err)
				case c.Hash() != want.Hash():
					t.Errorf("%s: the config differs from the one without %s", how, key)
				}
			}
			parseWith(key+": null in the file", editKey(t, src, key, false), nil)
			parseWith("--set "+key+"=null", src, []string{key + "=null"})
			if key != "data" { // NETTRAIN_DATA is the data directory, not the section
				t.Setenv(EnvName(key), "null")
				parseWith(EnvName(key)+"=null", src, nil)
			}
		})
	}
}
