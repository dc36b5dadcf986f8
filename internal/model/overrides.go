package model

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/viper"
	"gopkg.in/yaml.v3"

	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/optim"
)

// EnvPrefix is the prefix of environment variables that override config
// keys: NETTRAIN_TRAINING_EPOCHS=1 sets training.epochs.
const EnvPrefix = "NETTRAIN"

// EnvName is the environment variable that overrides a config key.
func EnvName(key string) string {
	return EnvPrefix + "_" + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(key))
}

// SplitSet splits a --set override, key=value, into its key (without the
// spaces around it) and its value, YAML. A missing '=', an empty key, an
// empty part of a dotted key (a..b, training.) or an empty value (key=,
// or only spaces after the '=') is an error in the command line itself,
// found before any config is read; whether the key exists is the
// config's business.
//
// An empty value is refused rather than read: YAML reads it as null,
// which silently clears a key (name, data.test, model.init_from,
// training.steps all fall back to their defaults), Helm and viper as the
// empty string, which no key takes; typically a shell variable that was
// not set (--set model.init_from=$CKPT). key=null gives any key its
// default on purpose, as if the file left it out. (An empty NETTRAIN_*
// variable is ignored, as unset, as viper reads the environment.)
func SplitSet(s string) (key, value string, err error) {
	key, value, ok := strings.Cut(s, "=")
	key = strings.TrimSpace(key)
	if !ok || key == "" {
		return "", "", errors.New("expected key=value, e.g. --set training.epochs=1")
	}
	if err := CheckKeyPath(key); err != nil {
		return "", "", err
	}
	if strings.TrimSpace(value) == "" {
		return "", "", fmt.Errorf("no value for %s after the '=' (an unset shell variable?); give one, or %s=null for the key's default", key, key)
	}
	return key, value, nil
}

// CheckKeyPath refuses a dotted config key with an empty part (a..b,
// training.): an override's (--set, --grid, --random) key that is wrong in
// its form, before any config is read.
func CheckKeyPath(key string) error {
	if slices.Contains(strings.Split(key, "."), "") {
		return fmt.Errorf("key %q has an empty part; a key is a dotted path such as optimizer.lr or model.layers.0.dense.units", key)
	}
	return nil
}

// applyOverrides layers --set key=value overrides (highest precedence) and
// NETTRAIN_* environment variables over the file's node tree, through a
// viper instance: viper resolves which source wins for each key, the node
// tree keeps line:column for everything that came from the file.
func (d *decoder) applyOverrides(root *yaml.Node, sets []string, v *viper.Viper) error {
	setKeys := map[string]string{} // key -> "--set key=value"
	for _, s := range sets {
		key, val, err := SplitSet(s)
		if err != nil {
			return &Error{Origin: "--set " + s, Msg: err.Error()}
		}
		v.Set(key, val)
		setKeys[strings.ToLower(key)] = "--set " + s
	}
	v.SetEnvPrefix(EnvPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_", "-", "_"))
	v.AutomaticEnv()

	keys := map[string]bool{}
	for k := range setKeys {
		keys[k] = true
	}
	for _, k := range schemaKeys() {
		keys[k] = true
	}
	leafPaths(root, "", keys)
	layerParamKeys(root, keys)
	addSections(keys)
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	if err := overlappingOverrides(sorted, setKeys); err != nil {
		return err
	}
	for _, key := range sorted {
		if _, fromSet := setKeys[key]; reservedEnv[key] && !fromSet {
			continue
		}
		val := v.Get(key)
		if _, isMap := val.(map[string]any); val == nil || isMap {
			continue // unset, or only deeper keys are set (handled on their own)
		}
		origin, ok := setKeys[key]
		if !ok {
			origin = EnvName(key)
		}
		s, ok := val.(string)
		if !ok {
			s = fmt.Sprint(val)
		}
		if _, fromSet := setKeys[key]; !fromSet {
			origin = fmt.Sprintf("%s=%s", origin, s)
		}
		if err := d.setPath(root, key, s, origin); err != nil {
			return err
		}
	}
	return nil
}

// setPath replaces (or adds) the node at the dotted key path with value
// parsed as YAML, remembering the override as its origin.
func (d *decoder) setPath(root *yaml.Node, key, value, origin string) error {
	var val yaml.Node
	if err := unmarshalOne("", []byte(value), &val); err != nil {
		var second *Error
		if errors.As(err, &second) {
			// yaml.Unmarshal would keep the first document and drop the
			// rest; a config file with a second document is refused too.
			return &Error{Origin: origin, Path: key, Msg: fmt.Sprintf("the value holds a second YAML document (from the --- on its line %d); an override's value is a single document", second.Line)}
		}
		return &Error{Origin: origin, Path: key, Msg: "value is not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	nv := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
	if len(val.Content) > 0 {
		nv = val.Content[0]
	}
	d.markOrigin(nv, origin)
	d.applied = append(d.applied, applied{key, origin})
	parts := strings.Split(key, ".")
	n := root
	for i, p := range parts {
		last := i == len(parts)-1
		switch n.Kind {
		case yaml.MappingNode:
			_, child := keyNode(n, p)
			if child == nil {
				kn := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: p}
				d.origins[kn] = origin
				d.noteChange(n, origin)
				if last {
					n.Content = append(n.Content, kn, nv)
					return nil
				}
				child = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
				d.origins[child] = origin
				n.Content = append(n.Content, kn, child)
			} else if last {
				d.noteChange(n, origin)
				for j := 1; j < len(n.Content); j += 2 {
					if n.Content[j-1].Value == p {
						n.Content[j] = nv
					}
				}
				return nil
			}
			if child.Kind == yaml.ScalarNode && child.Tag == "!!null" && i+1 < len(parts) {
				// "training:" left empty: a section with no keys yet.
				child.Kind, child.Tag, child.Value = yaml.MappingNode, "!!map", ""
				d.noteChange(child, origin)
			}
			n = child
		case yaml.SequenceNode:
			idx, err := strconv.Atoi(p)
			if err != nil || idx < 0 || idx >= len(n.Content) {
				return &Error{Origin: origin, Path: strings.Join(parts[:i+1], "."),
					Msg: fmt.Sprintf("%s is a list of %d entries; use an index from 0 to %d", strings.Join(parts[:i], "."), len(n.Content), len(n.Content)-1)}
			}
			if last {
				d.noteChange(n, origin)
				n.Content[idx] = nv
				return nil
			}
			n = resolve(n.Content[idx])
			if n.Kind == yaml.ScalarNode && i+1 < len(parts) {
				// "- relu" written as a scalar: turn it into {relu: {}} so params can be set.
				kn := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: n.Value, Line: n.Line, Column: n.Column}
				n.Kind, n.Tag, n.Value = yaml.MappingNode, "!!map", ""
				n.Content = []*yaml.Node{kn, {Kind: yaml.MappingNode, Tag: "!!map", Line: n.Line, Column: n.Column}}
				d.origins[n.Content[1]] = origin
				d.noteChange(n, origin)
			}
		default:
			return &Error{Origin: origin, Path: strings.Join(parts[:i], "."),
				Msg: fmt.Sprintf("is %s, so it has no key %q", describe(n), p)}
		}
	}
	return nil
}

func (d *decoder) markOrigin(n *yaml.Node, origin string) {
	if n.Kind == yaml.AliasNode {
		return
	}
	d.origins[n] = origin
	for _, c := range n.Content {
		d.markOrigin(c, origin)
	}
}

// leafPaths adds the dotted paths of every scalar in the tree to keys.
func leafPaths(n *yaml.Node, prefix string, keys map[string]bool) {
	if n == nil || n.Kind == yaml.AliasNode || len(keys) > 100000 || strings.Count(prefix, ".") >= maxKeyDepth {
		return // aliases repeat what their anchor already listed; no key is that deep
	}
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			leafPaths(c, prefix, keys)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			leafPaths(n.Content[i+1], joinPath(prefix, strings.ToLower(n.Content[i].Value)), keys)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			leafPaths(c, fmt.Sprintf("%s.%d", prefix, i), keys)
		}
	default:
		if prefix != "" {
			keys[prefix] = true
		}
	}
}

// sectionDecoders are the sections that decode themselves (nodeDecoder)
// from a mapping of ordinary keys, which the environment may set one by
// one.
var sectionDecoders = map[reflect.Type]bool{
	reflect.TypeFor[ImageConfig]():    true,
	reflect.TypeFor[SequenceConfig](): true,
	reflect.TypeFor[EarlyStopping]():  true,
}

// layerParamKeys adds the keys of every parameter of each layer the file's
// model.layers lists (model.layers.0.dense.bias), so that an environment
// variable can set a parameter the file leaves at its default, as --set
// does.
func layerParamKeys(root *yaml.Node, keys map[string]bool) {
	_, m := keyNode(root, "model")
	_, layers := keyNode(m, "layers")
	if layers = resolve(layers); layers == nil || layers.Kind != yaml.SequenceNode {
		return
	}
	for i, l := range layers.Content {
		kind := ""
		switch l = resolve(l); {
		case l == nil:
		case l.Kind == yaml.ScalarNode:
			kind = l.Value
		case l.Kind == yaml.MappingNode && len(l.Content) >= 2:
			kind = l.Content[0].Value
		}
		k, ok := backprop.LookupKind(kind)
		if !ok || k.Params == nil || k.Block {
			continue
		}
		t := reflect.TypeOf(k.Params())
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			continue
		}
		for j := range t.NumField() {
			name, _, _ := strings.Cut(t.Field(j).Tag.Get("yaml"), ",")
			if name != "" && name != "-" {
				keys[fmt.Sprintf("model.layers.%d.%s.%s", i, strings.ToLower(kind), name)] = true
			}
		}
	}
}

// schemaKeys lists the dotted paths of every scalar or list key of the config
// schema (and every optimizer's hyperparameters), so that an environment
// variable can set a key the file does not mention.
func schemaKeys() []string {
	var keys []string
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || reflect.PointerTo(t).Implements(nodeDecoderType) {
			if prefix != "" {
				keys = append(keys, prefix)
			}
			// A section that decodes itself from a scalar or a mapping
			// (data.image, data.sequence, training.early_stopping) is set
			// whole or key by key.
			if t.Kind() != reflect.Struct || !sectionDecoders[t] {
				return
			}
		}
		for i := 0; i < t.NumField(); i++ {
			name, opts, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
			if name == "" && opts == "inline" {
				walk(t.Field(i).Type, prefix)
				continue
			}
			if name == "" || name == "-" {
				continue
			}
			if t.Field(i).Type == reflect.TypeFor[OptimizerConfig]() {
				keys = append(keys, joinPath(prefix, name)+".name")
				for _, on := range optim.Names() {
					c, _ := optim.Defaults(on)
					walk(reflect.TypeOf(c), joinPath(prefix, name))
				}
				continue
			}
			if t.Field(i).Type == reflect.TypeFor[ScheduleSpec]() {
				keys = append(keys, joinPath(prefix, name)+".name")
				for _, sn := range optim.ScheduleNames() {
					c, _ := optim.ScheduleDefaults(sn)
					walk(reflect.TypeOf(c), joinPath(prefix, name))
				}
				continue
			}
			if t.Field(i).Type == reflect.TypeFor[[]LayerConfig]() {
				continue
			}
			walk(t.Field(i).Type, joinPath(prefix, name))
		}
	}
	walk(reflect.TypeFor[Config](), "")
	return keys
}
