package model

import (
	"encoding/json"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/nettrain/nettrain/internal/optim"
)

// OptimizerConfig is the optimizer mapping: `name` picks the optimizer, the
// other keys are its hyperparameters (each optimizer's own, with torch.optim's
// defaults), e.g. {name: sgd, lr: 0.1, momentum: 0.9}.
type OptimizerConfig struct {
	Name  string
	Optim optim.Config
}

func (o *OptimizerConfig) decodeNode(d *decoder, n *yaml.Node, path string) error {
	if n.Kind == yaml.ScalarNode && !isNull(n) {
		// optimizer: adam
		return o.setName(d, n, n.Value, path)
	}
	if n.Kind != yaml.MappingNode {
		return d.errAt(n, path, "expected a mapping such as {name: adam, lr: 0.001}, got %s", describe(n))
	}
	if _, nn := keyNode(n, "name"); nn != nil && !isNull(nn) { // name: null is no name: the default
		if nn.Kind != yaml.ScalarNode {
			return d.errAt(nn, path+".name", "expected an optimizer name, got %s", describe(nn))
		}
		if err := o.setName(d, nn, nn.Value, path+".name"); err != nil {
			return err
		}
	}
	// A key the file gives may not exist for a name an override gave.
	return d.withOverrides(d.decodeFields(n, reflect.ValueOf(o.Optim).Elem(), path, map[string]bool{"name": true}), path+".name")
}

func (o *OptimizerConfig) setName(d *decoder, n *yaml.Node, name, path string) error {
	c, ok := optim.Defaults(name)
	if v, isVariant := optim.VariantNamed(name); !ok && isVariant {
		// A name compare-optimizers reports (momentum, nesterov): say
		// which optimizer and keys it stands for.
		with := "its defaults"
		if s := v.Settings(); len(s) > 0 {
			with = strings.Join(s, " and ")
		}
		return d.errAt(n, path, "unknown optimizer %q: that is compare-optimizers' name for %s with %s, written optimizer: %s; known: %s",
			name, v.Optimizer, with, v.ConfigForm(), oneOf(optim.Names()))
	}
	if !ok {
		return d.errAt(n, path, "unknown optimizer %q%s; known: %s", name, didYouMean(name, optim.Names()), oneOf(optim.Names()))
	}
	o.Name, o.Optim = name, c
	return nil
}

// MarshalJSON encodes the name with the hyperparameters (for the config hash).
func (o OptimizerConfig) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Name  string
		Optim optim.Config
	}{o.Name, o.Optim})
}

// ScheduleSpec is the schedule mapping: `name` picks the learning-rate
// schedule, the other keys are its parameters, e.g. {name: cosine, warmup: 2}.
type ScheduleSpec struct {
	Name  string
	Sched optim.ScheduleConfig
}

func (s *ScheduleSpec) decodeNode(d *decoder, n *yaml.Node, path string) error {
	set := func(nn *yaml.Node, name, p string) error {
		c, ok := optim.ScheduleDefaults(name)
		if !ok {
			return d.errAt(nn, p, "unknown schedule %q%s; known: %s", name, didYouMean(name, optim.ScheduleNames()), oneOf(optim.ScheduleNames()))
		}
		s.Name, s.Sched = name, c
		return nil
	}
	if n.Kind == yaml.ScalarNode && !isNull(n) {
		return set(n, n.Value, path)
	}
	if n.Kind != yaml.MappingNode {
		return d.errAt(n, path, "expected a mapping such as {name: cosine, warmup: 1}, got %s", describe(n))
	}
	if _, nn := keyNode(n, "name"); nn != nil && !isNull(nn) { // name: null is no name: the default
		if nn.Kind != yaml.ScalarNode {
			return d.errAt(nn, path+".name", "expected a schedule name, got %s", describe(nn))
		}
		if err := set(nn, nn.Value, path+".name"); err != nil {
			return err
		}
	}
	return d.withOverrides(d.decodeFields(n, reflect.ValueOf(s.Sched).Elem(), path, map[string]bool{"name": true}), path+".name")
}

// MarshalJSON encodes the name with the parameters (for the config hash).
func (s ScheduleSpec) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Name  string
		Sched optim.ScheduleConfig
	}{s.Name, s.Sched})
}
