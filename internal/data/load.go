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
	// Classes, when not nil, is the training data's class mapping
	// (Dataset.ClassMap of the training set), for loading validation and
	// test data: labels get the training ids, a class the training data
	// does not have is an error, and the Dataset gets the training
	// NumClasses and ClassNames (see ClassMap). It applies to every
	// format and replaces CSV.Classes; nil reads each file on its own.
	Classes *ClassMap
	// MaxBytes bounds the memory, in bytes, that reading the data set may
	// fill: the data set itself, plus the file's bytes for formats read
	// whole (safetensors). A data set that needs more, as its header or
	// size claims (IDX, safetensors) or as its rows add up (CSV), is
	// refused before the memory is allocated, with a *safeio.TooLargeError
	// naming the file, the size needed and the limit. 0 means no limit;
	// a negative value is an error.
	MaxBytes int64
	// LimitName names MaxBytes in messages, e.g.
	// "training.memory_limit 64MiB"; empty reads "the limit".
	LimitName string
	// Image applies to image folders (LoadImageFolder).
	Image FolderOptions
	// Float64 reads numbers for float64 training: CSV features and
	// targets as float64 (as CSVOptions.Float64, which it sets) and the
	// float tensors of a safetensors file as float64 (F64, Targets64),
	// so that no value is rounded to float32 on its way to the loss.
	// Bytes (IDX, images, safetensors U8) stay bytes, and IDX float
	// data stays float32.
	Float64 bool
}

// aliases are the built-in data sets, each with a train and a test split.
var aliases = map[string]int{"mnist": 10, "fashion-mnist": 10} // name -> classes

// Load loads the data set a config names:
//
//	mnist:train, mnist:test, fashion-mnist:train, fashion-mnist:test
//	path.csv          (with opts.CSV)
//	path.safetensors  (tensors x and y)
//	path of a folder with one subfolder of images per class (LoadImageFolder, with opts.Image)
//	path of an IDX images file, raw or gzipped, whose name contains
//	"images-idx3" (train-images-idx3-ubyte) or "images.idx3" (Kaggle's
//	train-images.idx3-ubyte); its labels file is the same path with
//	"labels-idx1" or "labels.idx1" in its place
func Load(spec string, opts LoadOptions) (*Dataset, error) {
	if spec == "" {
		return nil, fmt.Errorf("no data source given")
	}
	lim, err := newLimit(spec, opts.MaxBytes, opts.LimitName)
	if err != nil {
		return nil, err
	}
	if opts.Classes != nil {
		if err := opts.Classes.check(spec); err != nil {
			return nil, err
		}
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
		ds, err := loadIDX(images, labels, lim)
		if err != nil {
			return nil, err
		}
		if ds.NumClasses > classes {
			return nil, fmt.Errorf("%s: labels go up to %d, but %s has %d classes", images, ds.NumClasses-1, set, classes)
		}
		ds.Source, ds.NumClasses = spec, classes
		if err := ds.useClasses(opts.Classes, labels); err != nil {
			return nil, err
		}
		return ds, nil
	}

	path := spec
	if !filepath.IsAbs(path) && opts.BaseDir != "" {
		path = filepath.Join(opts.BaseDir, path)
	}
	base := strings.ToLower(filepath.Base(path))
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		if _, _, _, idx := idxLabelsPath(path); idx || strings.HasSuffix(base, ".csv") || strings.HasSuffix(base, ".safetensors") {
			return nil, fmt.Errorf("%s is a directory, not a data file", path)
		}
		return loadImageFolder(path, opts.Image, opts.Classes, lim)
	}
	switch {
	case strings.HasSuffix(base, ".csv"):
		csvOpts := opts.CSV
		csvOpts.Float64 = csvOpts.Float64 || opts.Float64
		if opts.Classes != nil {
			csvOpts.Classes = opts.Classes
		}
		return readCSV(path, csvOpts, lim)
	case strings.HasSuffix(base, ".safetensors"):
		return readSafetensors(path, opts.Classes, lim, opts.Float64)
	}
	labels, imagesTag, labelsTag, ok := idxLabelsPath(path)
	if !ok {
		if IsImageFile(path) {
			return nil, fmt.Errorf("%s: is a single image; image data is a folder with one subfolder of images per class (give the folder)", path)
		}
		if images, labelsTag, ok := idxImagesPath(path); ok {
			return nil, fmt.Errorf("%s: is an IDX labels file; give its images file, %s (the name with %s in place of %s)", path, images, idxTags[labelsTag], labelsTag)
		}
		if _, err := os.Stat(path); err != nil {
			return nil, err // no such file: say so before guessing at a format
		}
		return nil, fmt.Errorf("%s: cannot tell the format: want a .csv or .safetensors file, a folder of class folders of images, an IDX images file whose name contains \"images-idx3\" or \"images.idx3\", or one of mnist:train, mnist:test, fashion-mnist:train, fashion-mnist:test", path)
	}
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	if _, err := os.Stat(labels); err != nil {
		return nil, fmt.Errorf("%s: labels file %s not found (its name is the images file's with %s in place of %s)", path, labels, labelsTag, imagesTag)
	}
	ds, err := loadIDX(path, labels, lim)
	if err != nil {
		return nil, err
	}
	if err := ds.useClasses(opts.Classes, labels); err != nil {
		return nil, err
	}
	return ds, nil
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
