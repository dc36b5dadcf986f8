package model

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestLoadReadsOnlyRegularFiles: a config path that is a FIFO without a
// writer, a symlink to /dev/zero, a directory or a file larger than
// MaxConfigSize is refused at once with one line, never read (or waited
// on) without bound.
func TestLoadReadsOnlyRegularFiles(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	if err := os.WriteFile(good, []byte(base), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	zero := filepath.Join(dir, "zero.yaml")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(dir, "huge.yaml")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	// Sparse: one byte over the limit costs no disk.
	if err := f.Truncate(MaxConfigSize + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	tests := []struct {
		name, path, want string // want "" = loads
	}{
		{"regular file", good, ""},
		{"fifo without writer", fifo, fifo + ": cannot read config: it is a named pipe (FIFO), not a regular file; nettrain reads only regular files"},
		{"symlink to /dev/zero", zero, zero + ": cannot read config: it is a character device, not a regular file; nettrain reads only regular files"},
		{"directory", dir, dir + ": cannot read config: it is a directory, not a regular file; nettrain reads only regular files"},
		{"larger than MaxConfigSize", huge, huge + ": cannot read config: it is 16777217 bytes, more than a config may be (at most 16777216 bytes, 16 MiB)"},
		{"missing", filepath.Join(dir, "nope.yaml"), filepath.Join(dir, "nope.yaml") + ": cannot read config: no such file or directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() {
				_, err := Load(tc.path, nil)
				done <- err
			}()
			var err error
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Load did not return within 10 s")
			}
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || err.Error() != tc.want):
				t.Fatalf("error\n  %v\nwant\n  %s", err, tc.want)
			}
		})
	}
}
