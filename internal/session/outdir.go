package session

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ForeignFiles lists, in name order, the entries of the output directory
// dir that are not nettrain's: neither named by own (the files the command
// writes there) nor the lock and the temporary files of interrupted writes
// that nettrain leaves in any output directory, nor hidden files (.gitkeep,
// .DS_Store: a folder holding only those is empty to its user). It is empty
// when dir is missing, empty or not a directory (creating it reports that).
func ForeignFiles(dir string, own func(name string) bool) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var foreign []string
	for _, e := range entries {
		n := e.Name()
		if n == LockFile || strings.HasPrefix(n, ".") || own(n) {
			continue
		}
		foreign = append(foreign, n)
	}
	return foreign
}

// ForeignDirError refuses an output directory that holds other files
// (foreign, from ForeignFiles) and none of the command's output: a typo in
// --out, or --out ., would scatter the command's files among them. what
// names the directory ("run directory"), holds what it would hold ("nettrain
// run") and markers the files that tell ("metrics.csv or status.json").
func ForeignDirError(what, dir, holds, markers string, foreign []string) error {
	list := strings.Join(foreign[:min(len(foreign), 3)], ", ")
	if len(foreign) > 3 {
		list += fmt.Sprintf(" and %d more", len(foreign)-3)
	}
	return fmt.Errorf("%s %s is not empty and holds no %s (it has %s, and no %s): nettrain does not write its files among others; give --out a new or empty directory",
		what, dir, holds, list, markers)
}

// orList joins names as "a, b or c".
func orList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// runMarkers are the files by which a directory is a run's: train writes
// the metrics files as it starts, status.json as it ends (config.yaml
// and the curves have names too common to tell).
var runMarkers = []string{"metrics.csv", "metrics.jsonl", StatusFile}

// isRunFile tells whether name is a file train writes into its run
// directory.
func isRunFile(name string) bool {
	for _, f := range runFiles {
		if name == f {
			return true
		}
	}
	return strings.HasPrefix(name, "step-") && strings.HasSuffix(name, ".safetensors") || strings.HasPrefix(name, "events.out.tfevents.")
}

// checkRunDir refuses a run directory that is not empty and holds no run
// but other files (resume: the checkpoint resumed in its own directory is
// the run's). A missing or empty directory, or a run's, is fine.
func checkRunDir(dir string, o Options) error {
	resumed := ""
	if o.Resume != "" && sameDir(dir, filepath.Dir(o.Resume)) {
		resumed = filepath.Base(o.Resume)
	}
	foreign := ForeignFiles(dir, func(n string) bool { return isRunFile(n) || n == resumed })
	if len(foreign) == 0 {
		return nil
	}
	for _, m := range runMarkers {
		if _, err := os.Stat(filepath.Join(dir, m)); err == nil {
			return nil
		}
	}
	return ForeignDirError("run directory", dir, "nettrain run", orList(runMarkers), foreign)
}

// OwnedRunFile tells whether path names a file a training run writes into
// its run directory (config.yaml, last.safetensors, metrics.csv, a step-N
// checkpoint, ...) inside a directory that holds a run (one of its markers,
// or the lock of a run in progress), whether the file exists yet or not:
// another command writing there (export's --out, predict's --out, trace's
// --png) would replace the run's own file, and a resume or the board would
// then fail or show another thing.
func OwnedRunFile(path string) bool {
	if !isRunFile(filepath.Base(path)) {
		return false
	}
	// A marker other than the file itself: a user's own metrics.csv (a
	// predict --out written there before) makes no run of its directory.
	dir, base := filepath.Dir(path), filepath.Base(path)
	for _, m := range append([]string{LockFile}, runMarkers...) {
		if m == base {
			continue
		}
		if st, err := os.Stat(filepath.Join(dir, m)); err == nil && st.Mode().IsRegular() {
			return true
		}
	}
	return false
}
