// Package model turns a YAML config file into a validated, immutable
// Config, and a Config into a network graph.
//
// Decoding (Load, Parse) is strict: the YAML node tree is decoded by hand
// (yaml.v3's Node.Decode drops KnownFields), so an unknown key, a value of
// the wrong type or out of range, or an unknown layer, loss or optimizer
// name stops with one *Error naming the file and line:column (or the
// --set / NETTRAIN_* override the value came from) and what was expected,
// with a did-you-mean for misspelt names. Overrides are layered over the
// file's node tree through a viper instance passed in (never the global
// one), so line:column survive for everything that came from the file.
//
// Build turns the config's model section into a Graph (input shape, one
// backprop.Spec per layer, loss), checking every layer's parameters
// against the shape that reaches it; it is called once per command, after
// the data (if any) is known, and never modifies the Config. Layer kinds
// are not known here: they come from backprop's registry (each kind
// registers itself in its own file), and their parameter structs are
// decoded by reflection over their yaml tags.
//
// Invariants: a Config does not change after Parse returns it (commands
// that vary a setting, such as compare-optimizers' trials, copy it);
// Resolved holds the config after overrides, with relative paths made
// absolute, exactly as a run saves it; Hash and ResumeSections depend only
// on decoded values, never on formatting or comments.
package model
