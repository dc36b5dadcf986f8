package model

import (
	"fmt"
	"regexp"
	"strconv"

	"gopkg.in/yaml.v3"
)

// MaxNameLength bounds a run name (the name key), in bytes.
const MaxNameLength = 100

// nameRe is the safe set of run names: they name a directory (runs/<name>)
// and appear in messages and file names, so no separators, spaces or
// control characters, and no leading '.' (hidden, "..") or '-' (an option
// to the shell tools run on the directory).
var nameRe = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]*$`)

const nameRule = "must be 1 to 100 ASCII letters, digits, '.', '_' or '-', not starting with '.' or '-' (it names the run directory runs/<name>)"

// checkName refuses a run name outside the safe set; n is the name node, or
// the node where it would be when the name comes from the file's name.
func (c *Config) checkName(d *decoder, n *yaml.Node) error {
	if len(c.Name) <= MaxNameLength && nameRe.MatchString(c.Name) {
		return nil
	}
	if n == nil || n.Kind != yaml.ScalarNode || isNull(n) || n.Value == "" {
		return &Error{File: d.file, Path: "name", Msg: fmt.Sprintf(
			"the run name %s comes from the config file's name, but it %s: add a name: key to the config", quoteName(c.Name), nameRule)}
	}
	return d.errAt(n, "name", "%s; got %s", nameRule, quoteName(c.Name))
}

// quoteName quotes a name for a message (%q: control characters escaped),
// cutting one too long to read.
func quoteName(s string) string {
	if len(s) <= 2*MaxNameLength {
		return strconv.Quote(s)
	}
	cut := 0
	for i := range s {
		if cut++; cut > 40 {
			return fmt.Sprintf("%q... (%d bytes)", s[:i], len(s))
		}
	}
	return strconv.Quote(s)
}
