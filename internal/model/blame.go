package model

import (
	"errors"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// An error that an override (--set or NETTRAIN_*) caused names it:
//   - a node the override set carries the override as its origin (errAt);
//   - a mapping or list of the file that an override changed (a key added,
//     an entry replaced) names those overrides beside its position, for
//     errors about the mapping as a whole (errIn);
//   - errors about how several values fit together (layer shapes, an
//     optimizer's hyperparameters) name the overrides of the section
//     involved beside the file position (withOverrides).
// Errors in the file that no override touched give the position alone.

// applied is one override as setPath applied it.
type applied struct{ key, origin string }

// noteChange records that origin changed the contents of the file's
// mapping or list n.
func (d *decoder) noteChange(n *yaml.Node, origin string) {
	if _, ok := d.origins[n]; ok {
		return // set by an override as a whole: errAt names it
	}
	if d.changed == nil {
		d.changed = map[*yaml.Node][]string{}
	}
	if !slices.Contains(d.changed[n], origin) {
		d.changed[n] = append(d.changed[n], origin)
	}
}

// errIn is errAt for an error about mapping or list n as a whole: when
// overrides changed its contents, they are named with its position.
func (d *decoder) errIn(n *yaml.Node, path, format string, args ...any) *Error {
	e := d.errAt(n, path, format, args...)
	if e.Origin == "" {
		e.Origin = strings.Join(d.changed[n], ", ")
	}
	return e
}

// withOverrides adds to an error located in the file the overrides of the
// given sections (dotted config keys and everything under them), when the
// error is about how values of those sections fit together.
func (d *decoder) withOverrides(err error, sections ...string) error {
	var e *Error
	if !errors.As(err, &e) || e.Origin != "" {
		return err
	}
	e.Origin = strings.Join(d.overridesOf(sections...), ", ")
	return err
}

// OverridesOf names the overrides (--set or NETTRAIN_*) of this load that
// set one of the given sections (dotted config keys), something under it
// or a section above it as a whole, in the order they were applied; for messages about a section as a
// whole, such as a checkpoint trained with other settings of it.
func (c *Config) OverridesOf(sections ...string) []string {
	if c.dec == nil {
		return nil
	}
	return c.dec.overridesOf(sections...)
}

func (d *decoder) overridesOf(sections ...string) []string {
	var names []string
	for _, a := range d.applied {
		for _, s := range sections {
			// The key itself, something under it, or a section above it
			// set as a whole (--set training={batch_size: 32}).
			if (a.key == s || strings.HasPrefix(a.key, s+".") || strings.HasPrefix(s, a.key+".")) && !slices.Contains(names, a.origin) {
				names = append(names, a.origin)
			}
		}
	}
	return names
}
