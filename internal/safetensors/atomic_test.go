package safetensors

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

var sample = []Tensor{{Name: "w", Shape: []int{2, 2}, Data: []float32{1, 2, 3, 4}}}

// leftovers lists the files in dir other than keep.
func leftovers(t *testing.T, dir string, keep ...string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var extra []string
outer:
	for _, e := range entries {
		for _, k := range keep {
			if e.Name() == k {
				continue outer
			}
		}
		extra = append(extra, e.Name())
	}
	return extra
}

func TestWriteReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Write(path, sample, map[string]string{"epoch": "3"}); err != nil {
		t.Fatal(err)
	}
	f, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	w, shape, err := f.Float32("w")
	if err != nil || len(w) != 4 || w[3] != 4 || len(shape) != 2 || f.Metadata["epoch"] != "3" {
		t.Errorf("read back %v %v %v %v", w, shape, f.Metadata, err)
	}
	want, _ := Marshal(sample, map[string]string{"epoch": "3"})
	if got, _ := os.ReadFile(path); !bytes.Equal(got, want) {
		t.Errorf("Write and Marshal differ")
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode of replaced file = %v, want 0600 kept (%v)", fi.Mode(), err)
	}
	if extra := leftovers(t, dir, "model.safetensors"); len(extra) > 0 {
		t.Errorf("temporary files left: %v", extra)
	}

	// A new file gets 0644.
	path2 := filepath.Join(dir, "new.safetensors")
	if err := Write(path2, sample, nil); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path2); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("mode of new file = %v, want 0644 (%v)", fi.Mode(), err)
	}
}

// TestWriteReadOnlyDir writes into a real read-only directory. Root
// ignores directory permissions, so as root the test reruns itself as user
// nobody (uid 65534) from a copy of the test binary, and skips only if
// that is impossible. The injected EACCES and EROFS cases of
// TestWriteInjectedFailures cover the messages in any case.
func TestWriteReadOnlyDir(t *testing.T) {
	if os.Geteuid() == 0 && os.Getenv("SAFETENSORS_TEST_CHILD") == "" {
		rerunAsNobody(t, "^TestWriteReadOnlyDir$")
		return
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	if f, err := os.CreateTemp(dir, "probe"); err == nil {
		f.Close()
		os.Remove(f.Name())
		t.Skip("directory permissions are not enforced for this user")
	}
	err := Write(path, sample, nil)
	want := "cannot write " + path + ": cannot create a temporary file in " + dir + ": permission denied (the directory is not writable by this user)"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant %s", err, want)
	}
	if !errors.Is(err, fs.ErrPermission) {
		t.Errorf("error does not match fs.ErrPermission")
	}
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Errorf("old file changed to %q", got)
	}
	if extra := leftovers(t, dir, "model.safetensors"); len(extra) > 0 {
		t.Errorf("temporary files left: %v", extra)
	}
}

func TestWriteBadPath(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nodir", "m.safetensors")
	err := Write(missing, sample, nil)
	if err == nil || !strings.Contains(err.Error(), "cannot write "+missing+": cannot create a temporary file in "+filepath.Dir(missing)+": no such file or directory (the directory does not exist)") {
		t.Errorf("missing dir: %v", err)
	}
	err = Write(dir, sample, nil)
	if err == nil || err.Error() != "cannot write "+dir+": it is a directory" {
		t.Errorf("directory: %v", err)
	}
}

// failFile wraps a real temporary file and fails one operation.
type failFile struct {
	*os.File
	writeErr error
	written  int // bytes accepted before writeErr
	syncErr  error
	closeErr error
}

func (f *failFile) Write(p []byte) (int, error) {
	if f.writeErr != nil {
		if f.written+len(p) > 20 {
			n := max(0, 20-f.written)
			f.File.Write(p[:n])
			f.written += n
			return n, f.writeErr
		}
		f.written += len(p)
	}
	return f.File.Write(p)
}

func (f *failFile) Sync() error {
	if f.syncErr != nil {
		return f.syncErr
	}
	return f.File.Sync()
}

func (f *failFile) Close() error {
	err := f.File.Close()
	if f.closeErr != nil {
		return f.closeErr
	}
	return err
}

func TestWriteInjectedFailures(t *testing.T) {
	pathErr := func(op string, err error) error { return &fs.PathError{Op: op, Path: "/somewhere", Err: err} }
	tests := []struct {
		name       string
		createErr  error
		file       failFile
		renameErr  error
		syncDirErr error
		want       string // after "cannot write PATH: "
		renamed    bool   // the new file is in place despite the error
	}{
		{name: "read-only file system", createErr: pathErr("open", syscall.EROFS),
			want: "cannot create a temporary file in DIR: read-only file system (the file system is read-only)"},
		{name: "permission denied", createErr: pathErr("open", syscall.EACCES),
			want: "cannot create a temporary file in DIR: permission denied (the directory is not writable by this user)"},
		{name: "disk full", file: failFile{writeErr: syscall.ENOSPC},
			want: "writing temporary file TMP: no space left on device (the disk is full)"},
		{name: "sync fails", file: failFile{syncErr: pathErr("sync", syscall.EIO)},
			want: "flushing TMP to disk: input/output error"},
		{name: "close fails", file: failFile{closeErr: pathErr("close", syscall.EDQUOT)},
			want: "closing TMP: disk quota exceeded"},
		{name: "rename fails", renameErr: &os.LinkError{Op: "rename", Old: "a", New: "b", Err: syscall.EXDEV},
			want: "renaming TMP over it: invalid cross-device link"},
		{name: "directory sync fails", syncDirErr: pathErr("sync", syscall.EIO), renamed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "model.safetensors")
			if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
				t.Fatal(err)
			}
			var tmp string
			fsys := fileSystem{
				createTemp: func(dir, pattern string) (tempFile, error) {
					if tt.createErr != nil {
						return nil, tt.createErr
					}
					f, err := os.CreateTemp(dir, pattern)
					if err != nil {
						return nil, err
					}
					tmp = f.Name()
					ff := tt.file
					ff.File = f
					return &ff, nil
				},
				rename: func(o, n string) error {
					if tt.renameErr != nil {
						return tt.renameErr
					}
					return os.Rename(o, n)
				},
				remove: os.Remove,
				syncDir: func(string) error {
					return tt.syncDirErr
				},
			}
			l, err := plan(sample, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = writeAtomic(path, fsys, func(w io.Writer) error { return encode(w, l, sample) })
			if err == nil {
				t.Fatal("no error")
			}
			if tt.renamed {
				want := "wrote " + path + " but could not sync directory " + dir + ", so the file may not survive a crash: input/output error"
				if err.Error() != want {
					t.Errorf("error = %v\nwant %s", err, want)
				}
				if _, err := Read(path); err != nil {
					t.Errorf("new file not in place: %v", err)
				}
				return
			}
			want := "cannot write " + path + ": " + strings.NewReplacer("DIR", dir, "TMP", tmp).Replace(tt.want)
			if err.Error() != want {
				t.Errorf("error = %v\nwant %s", err, want)
			}
			if got, _ := os.ReadFile(path); string(got) != "old" {
				t.Errorf("old file changed to %q", got)
			}
			if extra := leftovers(t, dir, "model.safetensors"); len(extra) > 0 {
				t.Errorf("temporary files left: %v", extra)
			}
		})
	}
}
