package train

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/checkpoint"
	"github.com/nettrain/nettrain/internal/model"
)

// CheckTrainedModel refuses to run a checkpoint under a config whose model
// computes another function with the same weights: a layer of another
// kind or with other settings (tanh for relu, another negative slope or
// padding), another loss (probabilities for raw outputs), another
// model.input. Tensor shapes alone do not catch these, and the
// predictions would be silently wrong.
//
// The reference is the checkpoint's own config (its "config" metadata,
// the run's resolved config), built into layers with the data g was built
// with, so that spellings of the same layer agree (padding: same and 1,
// slope and negative_slope, a default written out, units: classes).
// Settings that only act in training (dropout's p, batchnorm's momentum,
// an LSTM's forget_bias) may differ, and so may mse and half_sse. The
// data settings that decide how an input is preprocessed (the
// normalisation, the CSV columns, header and classes, the image size, the
// windows) must resolve to the checkpoint's preprocessing too
// (checkTrainedData, compareData).
//
// Plain files (exported weights, PyTorch's: st.Plain) carry no config and
// are not checked. A nettrain checkpoint always carries its config (every
// version wrote it), so one without it, or with a config that does not
// read or does not build on the data g was built with, is refused, naming
// the checkpoint: its model cannot be checked, and a forged or damaged
// file must not skip the check. The one config that is not built is one
// that takes its sizes from the data when g had none (a model-only
// config): it is built with the checkpoint's stored preprocessing when
// there is one, else left unchecked (the shapes are still checked).
func CheckTrainedModel(cfg *model.Config, g *model.Graph, ckpt string, st checkpoint.State) error {
	if st.Plain || g == nil {
		return nil
	}
	cannot := fmt.Sprintf("so the model it was trained with cannot be checked against %s's", cfg.File)
	if strings.TrimSpace(st.Config) == "" {
		return fmt.Errorf("%s: metadata \"config\" (the config the run trained with) is missing or empty, %s; every nettrain checkpoint stores it: the file was altered or written by another program", ckpt, cannot)
	}
	trained, err := model.Parse(ckpt, []byte(st.Config), nil, nil)
	if err != nil {
		return fmt.Errorf("%s: metadata \"config\" (the config the run trained with) does not read, %s: %v", ckpt, cannot, err)
	}
	use := "; use the config the run trained with (its resolved copy is config.yaml in the run directory)"
	if err := checkTrainedData(cfg, trained, st.Preprocess, ckpt, use); err != nil {
		return err
	}
	info := g.Info
	if info == nil && st.Preprocess != nil {
		info = PreprocessInfo(st.Preprocess)
	}
	tg, err := model.Build(trained, info)
	if errors.Is(err, model.ErrNeedsData) && info == nil {
		return nil // a model-only config, and a checkpoint without its preprocessing: the shapes are checked
	}
	if err != nil {
		return fmt.Errorf("%s: metadata \"config\" (the config the run trained with) does not build on the data %s's model was built with, %s: %v", ckpt, cfg.File, cannot, err)
	}
	if lossKind(tg.Loss) != lossKind(g.Loss) {
		return cfg.KeyError("loss", "is %s, but %s was trained with loss %s, which changes what the outputs mean%s", g.Loss, ckpt, tg.Loss, use)
	}
	if !slices.Equal(tg.Input, g.Input) {
		return cfg.KeyError("model.input", "is %v, but %s was trained on inputs of shape %v%s", g.Input, ckpt, tg.Input, use)
	}
	a, b := flatSpecs(tg.Specs), flatSpecs(g.Specs)
	for i := range max(len(a), len(b)) {
		switch {
		case i >= len(a):
			return cfg.KeyError("model.layers", "has layer %s (%s), which %s was not trained with%s", b[i].path, describeSpec(b[i].spec), ckpt, use)
		case i >= len(b):
			return cfg.KeyError("model.layers", "has no layer %s, which %s was trained with (%s)%s", a[i].path, ckpt, describeSpec(a[i].spec), use)
		case a[i].path != b[i].path || !reflect.DeepEqual(a[i].norm, b[i].norm):
			return cfg.KeyError("model.layers."+topIndex(b[i].path), "layer %s is %s, but %s was trained with %s there: the weights would compute another function%s",
				b[i].path, describeSpec(b[i].spec), ckpt, describeSpec(a[i].spec), use)
		}
	}
	return nil
}

// OtherModel explains err, a failure to build cfg's model for a
// checkpoint's data or to load the checkpoint's weights into it, when the
// checkpoint was trained with another model: layers of other kinds, or
// another number of them (blocks' inner layers included), or another loss
// (a regression's checkpoint for a classifier), as the config the
// checkpoint stores says. Such an error is about cfg's model on data
// it was never meant for ("add a flatten layer"); the mistake is the
// checkpoint. It returns err itself otherwise, and for files without a
// config or with one that no longer parses.
func OtherModel(cfg *model.Config, ckpt string, st checkpoint.State, err error) error {
	if err == nil || st.Config == "" {
		return err
	}
	trained, perr := model.Parse(ckpt, []byte(st.Config), nil, nil)
	if perr != nil {
		return err
	}
	a, b := layerKinds(trained.Model.Layers), layerKinds(cfg.Model.Layers)
	if slices.Equal(a, b) && lossKind(trained.Loss) == lossKind(cfg.Loss) {
		// The same layers with other sizes: name the overrides that may
		// have changed the layer's shape (its own, an earlier layer's
		// width, the input's).
		var se *checkpoint.ShapeError
		if errors.As(err, &se) {
			keys := []string{"model.input"}
			for i := 0; i <= se.Layer; i++ {
				keys = append(keys, fmt.Sprintf("model.layers.%d", i))
			}
			if o := cfg.OverridesOf(keys...); len(o) > 0 {
				return fmt.Errorf("%w (%s changed it; leave it out to match the checkpoint)", err, strings.Join(o, ", "))
			}
		}
		return err
	}
	on := ""
	if d := trained.Data.Train; d != "" {
		if rel, rerr := filepath.Rel(cfg.Dir, d); rerr == nil && filepath.IsAbs(d) {
			d = rel
		}
		on = " on " + d
	}
	return fmt.Errorf("%s was trained with another model than %s: %s, loss %s%s, where %s has %s, loss %s; give a checkpoint of %s's model, or use the config the checkpoint's run trained with (its resolved copy is config.yaml in the run directory)",
		ckpt, cfg.File, strings.Join(a, ", "), trained.Loss, on, cfg.File, strings.Join(b, ", "), cfg.Loss, cfg.File)
}

// layerKinds lists the kinds of layers, a block's as kind[inner, ...].
func layerKinds(layers []model.LayerConfig) []string {
	kinds := make([]string, len(layers))
	for i, l := range layers {
		kinds[i] = l.Kind
		if l.Body != nil {
			kinds[i] += "[" + strings.Join(layerKinds(l.Body), ", ") + "]"
		}
	}
	return kinds
}

// lossKind groups losses whose trained outputs mean the same: mse and
// half_sse both train raw regression outputs.
func lossKind(loss string) string {
	if loss == backprop.HalfSSE {
		return backprop.MSE
	}
	return loss
}

// flatSpec is one layer of a graph, blocks' inner layers included: its
// state_dict path ("3", "3.body.1"), its spec, and the spec with the
// training-only settings and the inner layers cleared, for comparison.
type flatSpec struct {
	path string
	spec backprop.Spec
	norm any
}

func flatSpecs(specs []backprop.Spec) []flatSpec {
	var out []flatSpec
	backprop.Walk(specs, func(path string, s backprop.Spec) {
		out = append(out, flatSpec{path: path, spec: s, norm: normalSpec(s)})
	})
	return out
}

// trainingOnly are the spec fields that act only in training: they do not
// change what the trained weights compute.
var trainingOnly = map[string]bool{"P": true, "Momentum": true, "ForgetBias": true}

// normalSpec is a copy of s with its training-only fields and its inner
// layers (compared on their own) zeroed.
func normalSpec(s backprop.Spec) any {
	v := reflect.ValueOf(s)
	if v.Kind() != reflect.Struct {
		return s
	}
	c := reflect.New(v.Type()).Elem()
	c.Set(v)
	specType := reflect.TypeFor[backprop.Spec]()
	for i := range c.NumField() {
		f, t := c.Field(i), c.Type().Field(i)
		inner := t.Type == specType || t.Type.Kind() == reflect.Slice && t.Type.Elem() == specType
		if (trainingOnly[t.Name] || inner) && f.CanSet() {
			f.Set(reflect.Zero(t.Type))
		}
	}
	return c.Interface()
}

// describeSpec names a layer for messages: its String when it has one,
// else its kind and its settings (not its input shape): "leaky_relu
// (Slope 0.2)", "tanh".
func describeSpec(s backprop.Spec) string {
	if st, ok := s.(fmt.Stringer); ok {
		return st.String()
	}
	v := reflect.ValueOf(normalSpec(s))
	if v.Kind() != reflect.Struct {
		return s.Kind()
	}
	var fields []string
	for i := range v.NumField() {
		f, t := v.Field(i), v.Type().Field(i)
		if t.Name == "In" || f.IsZero() || fmt.Sprint(f.Interface()) == s.Kind() {
			continue
		}
		if f.Kind() == reflect.Pointer {
			f = f.Elem()
		}
		fields = append(fields, fmt.Sprintf("%s %v", t.Name, f.Interface()))
	}
	if len(fields) == 0 {
		return s.Kind()
	}
	return s.Kind() + " (" + strings.Join(fields, ", ") + ")"
}

// topIndex is the top-level layer of a state_dict path ("3" of
// "3.body.1"), for the config key.
func topIndex(path string) string {
	i, _, _ := strings.Cut(path, ".")
	if _, err := strconv.Atoi(i); err != nil {
		return ""
	}
	return i
}
