package model

import (
	"fmt"
	"os"
	"strings"
)

// reservedEnv are config keys whose NETTRAIN_ variable means something
// else: NETTRAIN_DATA is the directory of the built-in data sets (package
// data), so the data section is not set from the environment (its keys
// are: NETTRAIN_DATA_TRAIN).
var reservedEnv = map[string]bool{"data": true}

// maxKeyDepth bounds the dotted parts of the file's paths looked up as
// overrides: no config key has more (model.layers.0.conv2d.kernel.0 has 6),
// and looking up every section of a path thousands of levels deep would
// take time cubic in its depth.
const maxKeyDepth = 8

// addSections adds to keys every section and list entry that holds one of
// them, so that NETTRAIN_OPTIMIZER=sgd applies as --set optimizer=sgd does.
func addSections(keys map[string]bool) {
	var sections []string
	for k := range keys {
		for i := strings.LastIndexByte(k, '.'); i > 0; i = strings.LastIndexByte(k[:i], '.') {
			sections = append(sections, k[:i])
		}
	}
	for _, s := range sections {
		keys[s] = true
	}
}

// envOverride returns the NETTRAIN_ variable that overrides key, as viper
// reads it (set and not empty), formatted as an origin.
func envOverride(key string) (string, bool) {
	if reservedEnv[key] {
		return "", false
	}
	v := os.Getenv(EnvName(key))
	return EnvName(key) + "=" + v, v != ""
}

// overlappingOverrides refuses overrides of a section and of a key inside
// it (--set or environment, in any combination): viper would keep one of
// them silently, which one depending on their order and source. keys are
// sorted; sets maps --set keys to their origin.
func overlappingOverrides(keys []string, sets map[string]string) error {
	origin := func(k string) (string, bool) {
		if o, ok := sets[k]; ok {
			return o, true
		}
		return envOverride(k)
	}
	for _, k := range keys {
		inner, ok := origin(k)
		if !ok {
			continue
		}
		for i := strings.LastIndexByte(k, '.'); i > 0; i = strings.LastIndexByte(k[:i], '.') {
			if outer, ok := origin(k[:i]); ok {
				return &Error{Origin: inner, Path: k, Msg: fmt.Sprintf(
					"conflicts with %s, which replaces all of %s: give %s as one value, or set only keys inside it", outer, k[:i], k[:i])}
			}
		}
	}
	return nil
}
