package safeio

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
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
func writeAtomic(path string, fsys fileSystem, write func(io.Writer) error) (err error) {
	fail := func(what string, err error) error {
		return fmt.Errorf("cannot write %s: %s: %w%s", path, what, cause(err), hint(err, false))
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("cannot write %s: it is a directory", path)
	}
	mode := fs.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	dir := filepath.Dir(path)
	f, err := fsys.createTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("cannot write %s: cannot create a temporary file in %s: %w%s", path, dir, cause(err), hint(err, true))
	}
	tmp := f.Name()
	closed, renamed := false, false
	defer func() {
		if err == nil || renamed {
			return
		}
		if !closed {
			f.Close()
		}
		fsys.remove(tmp)
	}()
	if err := write(f); err != nil {
		return fail("writing temporary file "+tmp, err)
	}
	if err := f.Chmod(mode); err != nil {
		return fail("setting the mode of "+tmp, err)
	}
	if err := f.Sync(); err != nil {
		return fail("flushing "+tmp+" to disk", err)
	}
	closed = true
	if err := f.Close(); err != nil {
		return fail("closing "+tmp, err)
	}
	if err := fsys.rename(tmp, path); err != nil {
		return fail("renaming "+tmp+" over it", err)
	}
	renamed = true
	if err := fsys.syncDir(dir); err != nil {
		return fmt.Errorf("wrote %s but could not sync directory %s, so the file may not survive a crash: %w", path, dir, cause(err))
	}
	return nil
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
