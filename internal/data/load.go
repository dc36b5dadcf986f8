package data

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// LoadOptions says how Load resolves and reads a source.
type LoadOptions struct {
	// BaseDir is the directory relative paths are resolved against (the
	// config file's directory); empty means the current directory.
	BaseDir string
	// CSV applies to CSV sources.
	CSV CSVOptions
	// Locator finds the built-in data sets; nil means DefaultLocator().
	Locator *Locator
}

// aliases are the built-in data sets, each with a train and a test split.
var aliases = map[string]int{"mnist": 10, "fashion-mnist": 10} // name -> classes

// Load loads the data set a config names:
//
//	mnist:train, mnist:test, fashion-mnist:train, fashion-mnist:test
//	path.csv          (with opts.CSV)
//	path.safetensors  (tensors x and y)
//	path of an IDX images file, raw or gzipped, whose name contains
//	"images-idx3"; its labels file is the same path with "labels-idx1"
//	in place of "images-idx3"
func Load(spec string, opts LoadOptions) (*Dataset, error) {
	if spec == "" {
		return nil, fmt.Errorf("no data source given")
	}
	if set, split, ok := strings.Cut(spec, ":"); ok && isAliasLike(set) && !strings.ContainsAny(split, `./\`) {
		classes, known := aliases[set]
		if !known {
			return nil, fmt.Errorf("unknown data set %q in %q (built in: mnist, fashion-mnist; or give a path to a .csv, .safetensors or IDX file)", set, spec)
		}
		if split != "train" && split != "test" {
			return nil, fmt.Errorf("unknown split %q in %q (want %s:train or %s:test)", split, spec, set, set)
		}
		loc := opts.Locator
		if loc == nil {
			loc = DefaultLocator()
		}
		images, labels, err := loc.Find(set, split)
		if err != nil {
			return nil, err
		}
		ds, err := LoadIDX(images, labels)
		if err != nil {
			return nil, err
		}
		if ds.NumClasses > classes {
			return nil, fmt.Errorf("%s: labels go up to %d, but %s has %d classes", images, ds.NumClasses-1, set, classes)
		}
		ds.Source, ds.NumClasses = spec, classes
		return ds, nil
	}

	path := spec
	if !filepath.IsAbs(path) && opts.BaseDir != "" {
		path = filepath.Join(opts.BaseDir, path)
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return nil, fmt.Errorf("%s is a directory, not a data file", path)
	}
	base := strings.ToLower(filepath.Base(path))
	switch {
	case strings.HasSuffix(base, ".csv"):
		return ReadCSV(path, opts.CSV)
	case strings.HasSuffix(base, ".safetensors"):
		return ReadSafetensors(path)
	}
	labels, ok := idxLabelsPath(path)
	if !ok {
		return nil, fmt.Errorf("%s: cannot tell the format: want a .csv or .safetensors file, an IDX images file whose name contains \"images-idx3\", or one of mnist:train, mnist:test, fashion-mnist:train, fashion-mnist:test", path)
	}
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	if _, err := os.Stat(labels); err != nil {
		return nil, fmt.Errorf("%s: labels file %s not found (its name is the images file's with labels-idx1 in place of images-idx3)", path, labels)
	}
	return LoadIDX(path, labels)
}

// isAliasLike reports whether s could be the name part of an alias: lower
// case letters, digits and dashes (so that "C:\x" and "./a:b" are paths).
func isAliasLike(s string) bool {
	if len(s) < 2 {
		return false
	}
	for _, r := range s {
		if !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}
