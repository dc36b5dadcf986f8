package session

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// asideName is the hidden subdirectory of a run directory where
// --overwrite keeps the old run's files until the new run has written its
// first last.safetensors (hidden: the --out checks ignore it). asideDone
// is the file inside it that says every old file was moved there: from
// then on, what the run directory holds is the new run's.
const (
	asideName = ".nettrain-overwritten"
	asideDone = ".complete"
)

// OverwriteAside is asideName, for messages outside the package.
const OverwriteAside = asideName

// aside is the old run --overwrite set aside in its run directory.
type aside struct{ dir, sub string }

// setAside moves the run files (isRunFile) of dir into its asideName
// subdirectory, a rename on the same file system, and marks the move
// complete. On failure it moves back what it moved and dir is as it was.
func setAside(dir string) (*aside, error) {
	a := &aside{dir: dir, sub: filepath.Join(dir, asideName)}
	if err := os.Mkdir(a.sub, 0o755); err != nil {
		return nil, fmt.Errorf("cannot set the old run aside for --overwrite: %w", err)
	}
	entries, err := os.ReadDir(dir)
	var moved []string
	for _, e := range entries {
		if err != nil {
			break
		}
		if n := e.Name(); isRunFile(n) {
			if err = os.Rename(filepath.Join(dir, n), filepath.Join(a.sub, n)); err == nil {
				moved = append(moved, n)
			}
		}
	}
	if err == nil {
		var f *os.File
		if f, err = os.Create(filepath.Join(a.sub, asideDone)); err == nil {
			err = f.Close()
		}
	}
	if err == nil {
		syncDirs(a.sub, dir)
		return a, nil
	}
	for _, n := range moved {
		os.Rename(filepath.Join(a.sub, n), filepath.Join(dir, n))
	}
	os.Remove(filepath.Join(a.sub, asideDone))
	os.Remove(a.sub)
	return nil, fmt.Errorf("cannot set the old run aside for --overwrite (%s left as it was): %w", dir, err)
}

// drop removes the old run once the new one is past the point of no
// return (its first last.safetensors). A failure is only noted: the next
// run in the directory removes it (recoverAside).
func (a *aside) drop(log io.Writer) {
	if err := os.RemoveAll(a.sub); err != nil {
		fmt.Fprintf(log, "note: could not remove the overwritten run's files in %s (%v); the next run in %s removes them\n", a.sub, err, a.dir)
	}
}

// putBack removes the run files the new run wrote and moves the old run's
// back, so that the directory is as it was before --overwrite.
func (a *aside) putBack() error {
	entries, err := os.ReadDir(a.dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if isRunFile(e.Name()) {
			if err := os.Remove(filepath.Join(a.dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
	}
	return a.moveBack()
}

// moveBack moves the files set aside back into the run directory, never
// over a file there, and removes the subdirectory. The marker goes first:
// a process killed halfway leaves the old run partly back and no marker,
// which recoverAside finishes moving back (with the marker, the old
// run's last.safetensors back in place would pass for the new run's
// first checkpoint, and the rest would be removed).
func (a *aside) moveBack() error {
	if err := os.Remove(filepath.Join(a.sub, asideDone)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	syncDirs(a.sub)
	entries, err := os.ReadDir(a.sub)
	if err != nil {
		return err
	}
	for _, e := range entries {
		n := e.Name()
		if n == asideDone {
			continue
		}
		to := filepath.Join(a.dir, n)
		if _, err := os.Lstat(to); err == nil {
			return fmt.Errorf("both %s and %s hold %s", a.dir, a.sub, n)
		}
		if err := os.Rename(filepath.Join(a.sub, n), to); err != nil {
			return err
		}
	}
	if err := os.Remove(a.sub); err != nil {
		return err
	}
	syncDirs(a.dir)
	return nil
}

// failed is err of a run that ended before its first last.safetensors,
// with the old run put back (or where it stays when that fails).
func (a *aside) failed(err error) error {
	if perr := a.putBack(); perr != nil {
		return fmt.Errorf("%w; the run --overwrite was to replace could not be put back (%v): its files are in %s", err, perr, a.sub)
	}
	return fmt.Errorf("%w; the run --overwrite was to replace is back in %s as it was", err, a.dir)
}

// recoverAside finishes what a killed --overwrite left in dir: when the
// move aside was complete and the new run wrote its last.safetensors, the
// old run is removed (as the new run would have done); otherwise the new
// run's files (there are none before the move is complete) are removed
// and the old run moved back. The caller holds the directory's lock.
func recoverAside(dir string, log io.Writer) error {
	a := &aside{dir: dir, sub: filepath.Join(dir, asideName)}
	if _, err := os.Lstat(a.sub); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	_, doneErr := os.Stat(filepath.Join(a.sub, asideDone))
	_, lastErr := os.Stat(filepath.Join(dir, "last.safetensors"))
	if doneErr == nil && lastErr == nil {
		if err := os.RemoveAll(a.sub); err != nil {
			return fmt.Errorf("cannot remove %s, the run an interrupted --overwrite replaced: %w", a.sub, err)
		}
		fmt.Fprintf(log, "note: removed %s, the run an interrupted --overwrite replaced (the new run had its first checkpoint)\n", a.sub)
		return nil
	}
	move := a.moveBack
	if doneErr == nil {
		move = a.putBack
	}
	if err := move(); err != nil {
		return fmt.Errorf("cannot put back the run an interrupted --overwrite set aside in %s (%v): move its files back into %s to keep it, or remove it to drop it", a.sub, err, dir)
	}
	fmt.Fprintf(log, "note: put back the run an interrupted --overwrite had set aside in %s (the new run ended before its first checkpoint)\n", a.sub)
	return nil
}

// syncDirs makes renames in dirs durable, as far as it can.
func syncDirs(dirs ...string) {
	if runtime.GOOS == "windows" {
		return
	}
	for _, d := range dirs {
		if f, err := os.Open(d); err == nil {
			f.Sync()
			f.Close()
		}
	}
}
