package safeio

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
)

// tempFile is the part of *os.File that writeAtomic uses.
type tempFile interface {
	io.Writer
	Name() string
	Chmod(fs.FileMode) error
	Sync() error
	Close() error
}

// fileSystem holds the operations writeAtomic performs, so that tests can
// inject failures.
type fileSystem struct {
	createTemp func(dir, pattern string) (tempFile, error)
	rename     func(oldpath, newpath string) error
	remove     func(name string) error
	syncDir    func(dir string) error
}

var osFS = fileSystem{
	createTemp: func(dir, pattern string) (tempFile, error) { return os.CreateTemp(dir, pattern) },
	rename:     os.Rename,
	remove:     os.Remove,
	syncDir:    syncDir,
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // directories cannot be opened for syncing there
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return err
	}
	return d.Close()
}

// WriteFile writes data to path atomically: through a temporary file in
// the same directory, synced and renamed over path, the directory synced;
// on failure path is untouched and the error says what failed. nettrain
// writes every file it produces this way (or through WriteWith).
func WriteFile(path string, data []byte) error {
	return writeAtomic(path, osFS, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteWith is WriteFile for content that write streams into the file.
func WriteWith(path string, write func(io.Writer) error) error {
	return writeAtomic(path, osFS, write)
}

// writeAtomic writes a file through write into a temporary file next to
// path and renames it over path. See WriteFile.
func writeAtomic(path string, fsys fileSystem, write func(io.Writer) error) error {
	tmp, err := stage(path, fsys, write)
	if err != nil {
		return err
	}
	if err := fsys.rename(tmp, path); err != nil {
		fsys.remove(tmp)
		return fmt.Errorf("cannot write %s: renaming %s over it: %w%s", path, tmp, cause(err), hint(err, false))
	}
	dir := filepath.Dir(path)
	if err := fsys.syncDir(dir); err != nil {
		return fmt.Errorf("wrote %s but could not sync directory %s, so the file may not survive a crash: %w", path, dir, cause(err))
	}
	return nil
}

// stage writes a file through write into a temporary file next to path,
// with path's mode (0644 for a new file), synced and closed, and returns
// the temporary's name; renaming it over path is the caller's. On failure
// the temporary is removed and path is untouched.
func stage(path string, fsys fileSystem, write func(io.Writer) error) (_ string, err error) {
	fail := func(what string, err error) error {
		return fmt.Errorf("cannot write %s: %s: %w%s", path, what, cause(err), hint(err, false))
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return "", fmt.Errorf("cannot write %s: it is a directory", path)
	}
	mode := fs.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	dir := filepath.Dir(path)
	f, err := fsys.createTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return "", fmt.Errorf("cannot write %s: cannot create a temporary file in %s: %w%s", path, dir, cause(err), hint(err, true))
	}
	tmp := f.Name()
	closed := false
	defer func() {
		if err == nil {
			return
		}
		if !closed {
			f.Close()
		}
		fsys.remove(tmp)
	}()
	if err := write(f); err != nil {
		return "", fail("writing temporary file "+tmp, err)
	}
	if err := f.Chmod(mode); err != nil {
		return "", fail("setting the mode of "+tmp, err)
	}
	if err := f.Sync(); err != nil {
		return "", fail("flushing "+tmp+" to disk", err)
	}
	closed = true
	if err := f.Close(); err != nil {
		return "", fail("closing "+tmp, err)
	}
	return tmp, nil
}

// Batch writes files that belong together (the files of a report), so
// that they replace their old versions together: each is written as
// WriteFile writes it, but left as its synced temporary file next to its
// path until Commit renames them all into place. A failure while writing
// leaves every path as it was (Discard removes the temporaries written
// so far). The zero Batch is ready to use; a Batch is not safe for
// concurrent use.
type Batch struct {
	fsys   *fileSystem // nil: osFS
	staged []staged
	placed int // files the last Commit renamed into place
}

type staged struct{ tmp, path string }

func (b *Batch) fs() fileSystem {
	if b.fsys == nil {
		return osFS
	}
	return *b.fsys
}

// WriteFile stages data for path (see Batch).
func (b *Batch) WriteFile(path string, data []byte) error {
	return b.WriteWith(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteWith stages the content write streams for path (see Batch). A
// path staged twice keeps the later content.
func (b *Batch) WriteWith(path string, write func(io.Writer) error) error {
	tmp, err := stage(path, b.fs(), write)
	if err != nil {
		return err
	}
	for i, s := range b.staged {
		if s.path == path {
			b.fs().remove(s.tmp)
			b.staged[i].tmp = tmp
			return nil
		}
	}
	b.staged = append(b.staged, staged{tmp: tmp, path: path})
	return nil
}

// Discard removes the temporaries staged and not committed: every path
// stays as it was. Discarding a committed or empty Batch does nothing.
func (b *Batch) Discard() {
	for _, s := range b.staged {
		b.fs().remove(s.tmp)
	}
	b.staged = nil
}

// Commit renames every staged file into place, in the order staged, and
// syncs their directories. Renames need no space, so this fails only on a
// broken file system. If a rename fails all the same, the temporaries not
// yet renamed are removed; if it was not the first, the old versions of
// their paths are removed too, so that no old file is left beside the new
// ones already in place; the error, one line, names the file and which old
// files were removed.
func (b *Batch) Commit() error {
	fsys := b.fs()
	all := b.staged
	b.staged, b.placed = nil, 0
	var dirs []string
	for i, s := range all {
		if err := fsys.rename(s.tmp, s.path); err != nil {
			var removed, kept []string
			for _, r := range all[i:] {
				fsys.remove(r.tmp)
				if i == 0 {
					continue // nothing new is in place: the old files stay
				}
				switch rerr := fsys.remove(r.path); {
				case rerr == nil:
					removed = append(removed, r.path)
				case !errors.Is(rerr, fs.ErrNotExist):
					kept = append(kept, r.path)
				}
			}
			var more string
			if len(removed) > 0 {
				more += fmt.Sprintf("; the old %s removed, so that none is left beside the new files already in place", listPaths(removed))
			}
			if len(kept) > 0 {
				more += fmt.Sprintf("; the old %s could not be removed and no longer belong with the files beside them", listPaths(kept))
			}
			return fmt.Errorf("cannot write %s: renaming %s over it: %w%s%s", s.path, s.tmp, cause(err), hint(err, false), more)
		}
		b.placed++
		if d := filepath.Dir(s.path); !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	for _, d := range dirs {
		if err := fsys.syncDir(d); err != nil {
			return fmt.Errorf("wrote %d files in %s but could not sync the directory, so they may not survive a crash: %w", len(all), d, cause(err))
		}
	}
	return nil
}

// Placed is how many files the last Commit renamed into place: all it
// staged, or on failure those before the file it names (none: every old
// file is as it was).
func (b *Batch) Placed() int { return b.placed }

// listPaths joins paths as "a was", "a and b were" or "a, b and c were".
func listPaths(paths []string) string {
	if len(paths) == 1 {
		return paths[0] + " was"
	}
	return strings.Join(paths[:len(paths)-1], ", ") + " and " + paths[len(paths)-1] + " were"
}

// cause strips the operation and path that os errors repeat, keeping the
// reason (the result still matches errors.Is(err, fs.ErrPermission) etc.).
func cause(err error) error {
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		return pe.Err
	case errors.As(err, &le):
		return le.Err
	}
	return err
}

// hint adds advice for the failures people meet most; creating reports
// whether err came from creating the temporary file in the directory.
func hint(err error, creating bool) string {
	switch {
	case errors.Is(err, syscall.ENOSPC):
		return " (the disk is full)"
	case errors.Is(err, syscall.EROFS):
		return " (the file system is read-only)"
	case creating && errors.Is(err, fs.ErrPermission):
		return " (the directory is not writable by this user)"
	case creating && errors.Is(err, fs.ErrNotExist):
		return " (the directory does not exist)"
	}
	return ""
}
