package train

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/nettrain/nettrain/internal/checkpoint"
	"github.com/nettrain/nettrain/internal/model"
)

// CheckTrainedModel refuses to run a checkpoint under a config whose model
// computes another function with the same weights: a layer of another
// kind or with other settings (relu for tanh, another negative slope or
// padding), another loss (softmax probabilities or raw outputs), another
// model.input. Tensor shapes alone do not catch these, and the
// predictions would be silently wrong. The checkpoint's own config (its
// "config" metadata, the resolved config of the run) is the reference;
// files without one (exported weights, PyTorch's) are not checked.
// Settings that only matter in training (a dropout rate, batchnorm's
// momentum, the initialisation) may differ.
func CheckTrainedModel(cfg *model.Config, ckpt string, st checkpoint.State) error {
	if st.Config == "" {
		return nil
	}
	trained, err := model.Parse(ckpt, []byte(st.Config), nil, nil)
	if err != nil {
		return nil // a config an older nettrain wrote; the shapes are still checked
	}
	use := "; use the config the run trained with (its resolved copy is config.yaml in the run directory)"
	if trained.Loss != cfg.Loss {
		return fmt.Errorf("%s was trained with loss %s, but %s sets loss %s, which changes what the outputs mean%s", ckpt, trained.Loss, cfg.File, cfg.Loss, use)
	}
	if a, b := trained.Model.Input, cfg.Model.Input; a != nil && b != nil && !slices.Equal(a, b) {
		return fmt.Errorf("%s was trained with model.input %v, but %s sets %v%s", ckpt, a, cfg.File, b, use)
	}
	if path, a, b := firstLayerDifference(trained.Model.Layers, cfg.Model.Layers, "model.layers"); path != "" {
		return fmt.Errorf("%s was trained with %s: %s, but %s has %s there: the weights would compute another function%s", ckpt, path, a, cfg.File, b, use)
	}
	return nil
}

// trainingOnly are layer settings that do not change what a trained
// network computes (at evaluation): they may differ between the
// checkpoint's config and the one running it.
var trainingOnly = map[string][]string{
	"dropout":   {"p"},
	"batchnorm": {"momentum"},
	"lstm":      {"forget_bias"},
	"gru":       {"forget_bias"},
}

// firstLayerDifference compares two layer lists kind by kind and setting
// by setting, returning the first difference's key and both sides
// (described), or "" when they agree.
func firstLayerDifference(a, b []model.LayerConfig, path string) (string, string, string) {
	for i := range max(len(a), len(b)) {
		p := fmt.Sprintf("%s.%d", path, i)
		switch {
		case i >= len(a):
			return p, "no layer", describeLayer(b[i])
		case i >= len(b):
			return p, describeLayer(a[i]), "no layer"
		}
		da, db := describeLayer(a[i]), describeLayer(b[i])
		if a[i].Kind != b[i].Kind || da != db {
			return p, da, db
		}
		if q, x, y := firstLayerDifference(a[i].Body, b[i].Body, p+"."+a[i].Kind+".layers"); q != "" {
			return q, x, y
		}
	}
	return "", "", ""
}

// describeLayer is a layer's kind and settings as JSON, without its inner
// layers and without training-only settings: {"conv2d":{"filters":8,...}}.
func describeLayer(l model.LayerConfig) string {
	var params map[string]any
	if l.Params != nil {
		b, err := json.Marshal(l.Params)
		if err != nil || json.Unmarshal(b, &params) != nil {
			return l.Kind
		}
	}
	// Name the settings as the config does (yaml tags), not by Go field.
	if t := reflect.TypeOf(l.Params); t != nil && t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct {
		for i := range t.Elem().NumField() {
			f := t.Elem().Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if v, ok := params[f.Name]; ok && name != "" && name != "-" && f.Tag.Get("json") == "" {
				delete(params, f.Name)
				params[name] = v
			}
		}
	}
	for _, k := range trainingOnly[l.Kind] {
		delete(params, k)
	}
	delete(params, "layers")
	for k, v := range params {
		if v == nil { // unset (a default, or an alias of another key)
			delete(params, k)
		}
	}
	if len(params) == 0 {
		return l.Kind
	}
	b, _ := json.Marshal(map[string]any{l.Kind: params})
	return string(b)
}
