package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/nettrain/nettrain/internal/compare"
	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/safeio"
	"github.com/nettrain/nettrain/internal/session"
)

// namedFile is a file a command reads or writes, with what it is for
// messages ("--out", "the checkpoint (--checkpoint)").
type namedFile struct{ what, path string }

// readFiles are the files every command given cfg reads: the config and
// its data files and initial weights, then more.
func readFiles(cfg *model.Config, configPath string, more ...namedFile) []namedFile {
	ins := []namedFile{{"the config", configPath}}
	if cfg != nil {
		for _, d := range []namedFile{{"data.train", cfg.Data.Train}, {"data.validation", cfg.Data.Validation}, {"data.test", cfg.Data.Test}} {
			if d.path != "" {
				ins = append(ins, namedFile{"the data file " + d.what, cfg.Path(d.path)})
			}
		}
		if p := cfg.Model.InitFrom; p != nil && *p != "" {
			ins = append(ins, namedFile{"model.init_from", cfg.Path(*p)})
		}
	}
	return append(ins, more...)
}

// sameFile tells whether two paths name one file: the same path once
// cleaned and made absolute, or, when both exist, the same file.
func sameFile(a, b string) bool {
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	if err1 == nil && err2 == nil && aa == bb {
		return true
	}
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

// refuseOverwritingInputs is a usage error when two outputs name one file,
// when an output names a file the command reads (the same file, also
// by another path or through a link): writing it would destroy the input,
// and a failure after that would leave neither; when an output names a
// file of a training run or comparison in its own directory (a checkpoint,
// the metrics, the resolved config); or when an output names something
// other than a regular file (safeio.CheckOutput).
func refuseOverwritingInputs(outs, ins []namedFile) error {
	// Two outputs naming one file: one would silently replace the other.
	for i, a := range outs {
		for _, b := range outs[:i] {
			if a.path != "" && b.path != "" && sameFile(a.path, b.path) {
				return usageError{fmt.Errorf("%s and %s name the same file (%s): one would replace the other; name two files", b.what, a.what, a.path)}
			}
		}
	}
	for _, o := range outs {
		if o.path == "" {
			continue
		}
		// A FIFO, a device or a directory (also behind a symlink) would
		// fail the write after the work; say so before.
		if err := safeio.CheckOutput(o.path); err != nil {
			return usageError{fmt.Errorf("%s: %w", o.what, err)}
		}
		if ost, err := os.Stat(o.path); err == nil {
			for _, in := range ins {
				if in.path == "" {
					continue
				}
				if ist, err := os.Stat(in.path); err == nil && os.SameFile(ost, ist) {
					return usageError{fmt.Errorf("%s %s is %s (%s), which nettrain does not overwrite; name another file", o.what, o.path, in.what, in.path)}
				}
			}
		}
		// A file of a run (or a comparison) in its directory: replacing it
		// would break a resume, the board or a report, though the command
		// does not read it.
		if session.OwnedRunFile(o.path) {
			return usageError{fmt.Errorf("%s %s is a file of the training run in %s, which nettrain does not overwrite; name another file", o.what, o.path, filepath.Dir(o.path))}
		}
		if compare.OwnedOutputFile(o.path) {
			return usageError{fmt.Errorf("%s %s is a file of the comparison in %s, which nettrain does not overwrite; name another file", o.what, o.path, filepath.Dir(o.path))}
		}
	}
	return nil
}
