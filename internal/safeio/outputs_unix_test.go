//go:build unix

package safeio

import (
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestWriteOnlyRegularFiles: a path that exists and is not a regular file
// (a FIFO, a device, a socket, a directory, also behind a symlink, or a
// symlink to nothing) is refused with one line and left as it was, by
// WriteFile and by a Batch alike. It was replaced by a regular file that
// took the device's mode (0666, world-writable). A symlink to a regular
// file is written through: the file it names gets the new content and
// keeps its mode, the link stays. A new file is 0644, an existing one
// keeps its mode.
func TestWriteOnlyRegularFiles(t *testing.T) {
	tests := []struct {
		name string
		// setup makes what is at path (in dir; other is a second
		// directory) and returns the file that should get the content
		// ("" when the write is refused).
		setup func(t *testing.T, dir, other, path string) string
		want  string // the error, after "cannot write PATH: "; OTHER stands for other
		mode  fs.FileMode
	}{
		{name: "new file", mode: 0o644,
			setup: func(t *testing.T, dir, other, path string) string { return path }},
		{name: "existing file keeps its mode", mode: 0o600,
			setup: func(t *testing.T, dir, other, path string) string {
				must(t, os.WriteFile(path, []byte("old"), 0o600))
				return path
			}},
		{name: "fifo", want: "it is a named pipe (FIFO), not a regular file; nettrain writes only regular files",
			setup: func(t *testing.T, dir, other, path string) string {
				must(t, syscall.Mkfifo(path, 0o666))
				return ""
			}},
		{name: "directory", want: "it is a directory, not a regular file; nettrain writes only regular files",
			setup: func(t *testing.T, dir, other, path string) string {
				must(t, os.Mkdir(path, 0o755))
				return ""
			}},
		{name: "socket", want: "it is a socket, not a regular file; nettrain writes only regular files",
			setup: func(t *testing.T, dir, other, path string) string {
				l, err := net.Listen("unix", path)
				must(t, err)
				t.Cleanup(func() { l.Close() })
				return ""
			}},
		{name: "symlink to /dev/zero", want: "it is a symlink to /dev/zero, a character device, not a regular file; nettrain writes only regular files",
			setup: func(t *testing.T, dir, other, path string) string {
				must(t, os.Symlink("/dev/zero", path))
				return ""
			}},
		{name: "symlink to a fifo", want: "it is a symlink to OTHER/f, a named pipe (FIFO), not a regular file; nettrain writes only regular files",
			setup: func(t *testing.T, dir, other, path string) string {
				must(t, syscall.Mkfifo(filepath.Join(other, "f"), 0o666))
				must(t, os.Symlink(filepath.Join(other, "f"), path))
				return ""
			}},
		{name: "symlink to nothing", want: "it is a symlink to OTHER/none, which does not exist",
			setup: func(t *testing.T, dir, other, path string) string {
				must(t, os.Symlink(filepath.Join(other, "none"), path))
				return ""
			}},
		{name: "symlink loop", want: "it is a symlink that cannot be followed: too many levels of symbolic links",
			setup: func(t *testing.T, dir, other, path string) string {
				must(t, os.Symlink(path, path))
				return ""
			}},
		{name: "symlink to a regular file", mode: 0o640,
			setup: func(t *testing.T, dir, other, path string) string {
				target := filepath.Join(other, "target.csv")
				must(t, os.WriteFile(target, []byte("old"), 0o640))
				must(t, os.Symlink(filepath.Join("..", filepath.Base(other), "target.csv"), path))
				return target
			}},
		{name: "chain of symlinks", mode: 0o600,
			setup: func(t *testing.T, dir, other, path string) string {
				target := filepath.Join(other, "target.csv")
				must(t, os.WriteFile(target, []byte("old"), 0o600))
				must(t, os.Symlink(target, filepath.Join(other, "link")))
				must(t, os.Symlink(filepath.Join(other, "link"), path))
				return target
			}},
	}
	writers := map[string]func(path string, data []byte) error{
		"WriteFile": WriteFile,
		"Batch": func(path string, data []byte) error {
			var b Batch
			if err := b.WriteFile(path, data); err != nil {
				b.Discard()
				return err
			}
			return b.Commit()
		},
	}
	for _, tt := range tests {
		for wname, write := range writers {
			t.Run(tt.name+"/"+wname, func(t *testing.T) {
				top := t.TempDir()
				dir, other := filepath.Join(top, "dir"), filepath.Join(top, "other")
				must(t, os.Mkdir(dir, 0o755))
				must(t, os.Mkdir(other, 0o755))
				path := filepath.Join(dir, "out.csv")
				target := tt.setup(t, dir, other, path)
				before, _ := os.Lstat(path)
				err := write(path, []byte("new"))
				if tt.want != "" {
					want := "cannot write " + path + ": " + strings.ReplaceAll(tt.want, "OTHER", other)
					if err == nil || err.Error() != want {
						t.Fatalf("error %v\nwant %s", err, want)
					}
					after, _ := os.Lstat(path)
					if after == nil || after.Mode() != before.Mode() {
						t.Errorf("%s changed: %v, was %v", path, after, before.Mode())
					}
				} else {
					if err != nil {
						t.Fatal(err)
					}
					if got, _ := os.ReadFile(target); string(got) != "new" {
						t.Errorf("%s holds %q, want the new content", target, got)
					}
					fi, err := os.Stat(target)
					must(t, err)
					if fi.Mode() != tt.mode {
						t.Errorf("%s has mode %v, want %v", target, fi.Mode(), tt.mode)
					}
					if before != nil {
						if after, _ := os.Lstat(path); after == nil || after.Mode().Type() != before.Mode().Type() {
							t.Errorf("%s was %v, is now %v", path, before.Mode().Type(), after)
						}
					}
				}
				for _, d := range []string{dir, other} {
					for _, n := range leftovers(t, d) {
						if strings.Contains(n, ".tmp") {
							t.Errorf("temporary file left: %s", filepath.Join(d, n))
						}
					}
				}
			})
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
