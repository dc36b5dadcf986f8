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
	"sync"
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
	createTemp: func(dir, pattern string) (tempFile, error) {
		f, err := os.CreateTemp(dir, pattern)
		if err == nil {
			temps.add(f.Name())
		}
		return f, err
	},
	rename: func(oldpath, newpath string) error {
		err := os.Rename(oldpath, newpath)
		if err == nil {
			temps.drop(oldpath)
		}
		return err
	},
	remove: func(name string) error {
		err := os.Remove(name)
		temps.drop(name)
		return err
	},
	syncDir: syncDir,
}

// temps are the temporary files of writes in progress (neither renamed
// into place nor removed yet), for RemoveTemps.
var temps = tempSet{names: map[string]bool{}}

type tempSet struct {
	mu    sync.Mutex
	names map[string]bool
}

func (t *tempSet) add(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.names[name] = true
}

func (t *tempSet) drop(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.names, name)
}

// RemoveTemps removes the temporary files of the writes in progress, for
// a command that exits on a signal: what it was writing is left as it
// was, with no partial temporary file beside it (nothing would remove
// one later outside a run directory).
func RemoveTemps() {
	temps.mu.Lock()
	defer temps.mu.Unlock()
	for name := range temps.names {
		os.Remove(name)
		delete(temps.names, name)
	}
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
//
// Only regular files are written, as only regular files are read: a path
// that exists as anything else (a FIFO, a device, a socket, a directory)
// is refused and left alone, also behind a symlink, and so is a symlink
// to nothing or one that loops. A symlink to a regular file is written
// through: the file it names is replaced (atomically, beside itself), the
// link stays. An existing file keeps its permissions; a new one is 0644.
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
	tmp, target, err := stage(path, fsys, write)
	if err != nil {
		return err
	}
	if err := fsys.rename(tmp, target); err != nil {
		fsys.remove(tmp)
		return fmt.Errorf("cannot write %s: renaming %s over it: %w%s", path, tmp, cause(err), hint(err, false))
	}
	dir := filepath.Dir(target)
	if err := fsys.syncDir(dir); err != nil {
		return fmt.Errorf("wrote %s but could not sync directory %s, so the file may not survive a crash: %w", path, dir, cause(err))
	}
	return nil
}

// CheckOutput returns the error that writing path would give for what is
// already there (see WriteFile): commands check their output flags with
// it before doing any work.
func CheckOutput(path string) error {
	if _, _, err := outputTarget(path); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	return nil
}

// outputTarget is the file that writing path replaces, and the
// permissions the new file gets: path itself with its permissions, or
// 0644 when it does not exist; for a symlink to a regular file, the file
// it names, with that file's permissions. Anything else that exists at
// path is an error (see WriteFile).
func outputTarget(path string) (target string, perm fs.FileMode, err error) {
	fi, err := os.Lstat(path)
	switch {
	case err != nil:
		// Nothing there (or the directory cannot be searched: creating
		// the temporary file says why).
		return path, 0o644, nil
	case fi.Mode().IsRegular():
		return path, fi.Mode().Perm(), nil
	case fi.Mode()&fs.ModeSymlink == 0:
		return "", 0, fmt.Errorf("it is %s, not a regular file; nettrain writes only regular files", describeMode(fi.Mode()))
	}
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		// Name what is missing at the end of the links, as far as
		// EvalSymlinks gets; else what the link itself says.
		missing, _ := os.Readlink(path)
		var pe *fs.PathError
		if _, err := filepath.EvalSymlinks(path); errors.As(err, &pe) && errors.Is(err, fs.ErrNotExist) {
			missing = pe.Path
		}
		return "", 0, fmt.Errorf("it is a symlink to %s, which does not exist", missing)
	}
	if err == nil {
		target, err = filepath.EvalSymlinks(path)
	}
	switch {
	case err != nil:
		return "", 0, fmt.Errorf("it is a symlink that cannot be followed: %w", cause(err))
	case !st.Mode().IsRegular():
		return "", 0, fmt.Errorf("it is a symlink to %s, %s, not a regular file; nettrain writes only regular files", target, describeMode(st.Mode()))
	}
	return target, st.Mode().Perm(), nil
}

// stage writes a file through write into a temporary file next to the
// file that path names (outputTarget: path, or the regular file a
// symlink at path names), with that file's permissions (0644 for a new
// file), synced and closed, and returns the temporary's name and that
// file's; renaming the one over the other is the caller's. On failure
// the temporary is removed and path is untouched.
func stage(path string, fsys fileSystem, write func(io.Writer) error) (_, target string, err error) {
	fail := func(what string, err error) error {
		return fmt.Errorf("cannot write %s: %s: %w%s", path, what, cause(err), hint(err, false))
	}
	target, mode, err := outputTarget(path)
	if err != nil {
		return "", "", fmt.Errorf("cannot write %s: %w", path, err)
	}
	dir := filepath.Dir(target)
	f, err := fsys.createTemp(dir, "."+filepath.Base(target)+".tmp*")
	if err != nil {
		return "", "", fmt.Errorf("cannot write %s: cannot create a temporary file in %s: %w%s", path, dir, cause(err), hint(err, true))
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
		return "", "", fail("writing temporary file "+tmp, err)
	}
	if err := f.Chmod(mode); err != nil {
		return "", "", fail("setting the mode of "+tmp, err)
	}
	if err := f.Sync(); err != nil {
		return "", "", fail("flushing "+tmp+" to disk", err)
	}
	closed = true
	if err := f.Close(); err != nil {
		return "", "", fail("closing "+tmp, err)
	}
	return tmp, target, nil
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

// staged is a temporary file, the path it was written for, and the file
// it replaces (path, or the regular file a symlink at path names).
type staged struct{ tmp, path, target string }

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

// WriteWith stages the content write streams for path (see Batch and
// WriteFile). A file staged twice keeps the later content.
func (b *Batch) WriteWith(path string, write func(io.Writer) error) error {
	tmp, target, err := stage(path, b.fs(), write)
	if err != nil {
		return err
	}
	for i, s := range b.staged {
		if s.target == target {
			b.fs().remove(s.tmp)
			b.staged[i].tmp = tmp
			return nil
		}
	}
	b.staged = append(b.staged, staged{tmp: tmp, path: path, target: target})
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
		if err := fsys.rename(s.tmp, s.target); err != nil {
			var removed, kept []string
			for _, r := range all[i:] {
				fsys.remove(r.tmp)
				if i == 0 {
					continue // nothing new is in place: the old files stay
				}
				switch rerr := fsys.remove(r.target); {
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
		if d := filepath.Dir(s.target); !slices.Contains(dirs, d) {
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
