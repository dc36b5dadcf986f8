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
//
// # Reading
//
// Load reads the config with package safeio: only a regular file (a FIFO,
// a device or a directory is refused without blocking) of at most
// MaxConfigSize bytes. A config is one YAML document; a second one (after
// ---) is an error at the line where it starts. Decoding is strict: an
// unknown key, a key given twice, a value of the wrong type or out of range
// is an error, never ignored or replaced by a default; so is a YAML merge
// key (<<), which the node tree does not expand. A known key whose value
// is null (key: null, --set key=null, NETTRAIN_KEY=null) is the key left
// out: its default, whatever its type (training.epochs: null is 1,
// data.normalize: null is unit, optimizer: null is adam with its
// defaults; a required key stays unset and is reported as missing). Aliases are followed, up
// to 2^20 decoded values in all. Counts that size memory or loops are
// capped (MaxThreads, MaxBatchSize, MaxEpochs, MaxCheckpointKeep,
// MaxGridPoints, MaxSeeds, MaxEvalsPerEpoch, MaxLSTMLayers; layer sizes
// are bounded by their number of values), and the run name, which
// names the directory runs/<name>, is limited to a safe set of at most
// MaxNameLength characters.
//
// # Overrides
//
// --set key=value (Load's sets) and NETTRAIN_<KEY> environment variables
// override the file, as viper layers them: for one key, --set wins over
// the environment, and both over the file. The key is dotted, list entries
// by index (model.layers.0.dense.units); the variable is the key in upper
// case with '.' and '-' as '_' (EnvName: NETTRAIN_TRAINING_BATCH_SIZE). The
// value is one YAML document (a second one, after ---, is an error naming
// the override, as in a file), so it can be a whole section or list entry:
// --set optimizer=sgd, --set 'training={epochs: 3}', or the same from the
// environment, NETTRAIN_OPTIMIZER=sgd, which replaces the section just as
// the --set does (and NETTRAIN_TRAINING=5 is the same error as
// --set training=5). Variables that name no config key are ignored, and so
// is NETTRAIN_DATA, which is the directory of the built-in data sets, not
// the data section. An empty variable counts as unset (viper's default),
// and an empty --set value (key=) is refused (SplitSet): read as YAML's
// null it would clear the key silently; key=null does that on purpose.
//
// A section and a key inside it cannot both be overridden, whether by two
// --set flags, two variables or one of each (--set optimizer=sgd with
// --set optimizer.lr=0.1): the result would depend on their order, so it is
// an error that names both; give the section as one value instead.
//
// # Errors
//
// Every error is an *Error located as precisely as possible: file:line:col
// of the node for values from the file; the override alone
// ("--set key=value: ..." or "NETTRAIN_X=value: ...") for values an
// override set; both ("--set key=value (file:line:col): ...") when an
// override changed a mapping or list of the file, or changed one of the
// values that an error about several values together depends on (a
// layer's input shape, an optimizer's hyperparameters). A message is one
// line: control characters, bidirectional overrides and bytes that are not
// UTF-8 are escaped as %q escapes them, so nothing in a config or on the
// command line reaches the terminal raw.
package model
