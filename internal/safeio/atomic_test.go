package safeio

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// leftovers lists the files in dir other than keep.
func leftovers(t *testing.T, dir string, keep ...string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var extra []string
	for _, e := range entries {
		if !slicesContains(keep, e.Name()) {
			extra = append(extra, e.Name())
		}
	}
	return extra
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
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
			err := writeAtomic(path, fsys, func(w io.Writer) error {
				_, err := w.Write([]byte("new contents, more than the 20 bytes a failing disk accepts"))
				return err
			})
			if err == nil {
				t.Fatal("no error")
			}
			if tt.renamed {
				want := "wrote " + path + " but could not sync directory " + dir + ", so the file may not survive a crash: input/output error"
				if err.Error() != want {
					t.Errorf("error = %v\nwant %s", err, want)
				}
				if got, _ := os.ReadFile(path); !strings.HasPrefix(string(got), "new contents") {
					t.Errorf("new file not in place: %q", got)
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
