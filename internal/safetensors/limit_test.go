package safetensors

import (
	"github.com/nettrain/nettrain/internal/testutil"

	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nettrain/nettrain/internal/safeio"
)

// TestReadNonRegular checks that a checkpoint path that is not a regular
// file is refused at once, in one line naming it.
func TestReadNonRegular(t *testing.T) {
	dir := t.TempDir()
	zero := filepath.Join(dir, "zero.safetensors")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo.safetensors")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip(err)
	}
	tests := []struct {
		name, path, want string
	}{
		{"symlink to /dev/zero", zero, "is a character device, not a regular file"},
		{"fifo without a writer", fifo, "is a named pipe (FIFO), not a regular file"},
		{"directory", dir, "is a directory, not a regular file"},
	}
	for _, tc := range tests {
		for _, limit := range []int64{0, 1 << 20} {
			t.Run(fmt.Sprintf("%s/limit %d", tc.name, limit), func(t *testing.T) {
				var err error
				testutil.Bounded(t, 5*time.Second, 64<<20, func() { _, err = ReadLimit(tc.path, limit, "the test limit") })
				if err == nil || !strings.Contains(err.Error(), tc.path+" "+tc.want) || strings.Contains(err.Error(), "\n") {
					t.Errorf("error %q, want one line with %q", err, tc.path+" "+tc.want)
				}
			})
		}
	}
	var err error
	testutil.Bounded(t, 5*time.Second, 64<<20, func() { _, err = Read(zero) })
	if err == nil || !strings.Contains(err.Error(), zero+" is a character device") {
		t.Errorf("Read: error %v", err)
	}
}

// TestReadLimit checks that ReadLimit refuses a file larger than its
// limit before reading it, and reads one within it as Read does.
func TestReadLimit(t *testing.T) {
	dir := t.TempDir()
	b, err := Marshal([]Tensor{{Name: "w", Shape: []int{256}, Data: make([]float32, 256)}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "w.safetensors")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	size := int64(len(b))
	tests := []struct {
		name  string
		limit int64
		want  string // "" = success
	}{
		{"no limit", 0, ""},
		{"exactly the size", size, ""},
		{"one byte short", size - 1, fmt.Sprintf("%s is %d bytes, more than training.memory_limit 1KiB (%d bytes) allows", path, size, size-1)},
		{"half the size", size / 2, fmt.Sprintf("%s is %s, more than training.memory_limit 1KiB (%s) allows", path, safeio.Bytes(size), safeio.Bytes(size/2))},
		{"negative", -1, fmt.Sprintf("safetensors: %s: byte limit -1 is negative", path)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ReadLimit(path, tc.limit, "training.memory_limit 1KiB")
			if tc.want == "" {
				if err != nil || len(f.Names()) != 1 {
					t.Fatalf("ReadLimit = %v, %v", f, err)
				}
				return
			}
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error:\n  %v\nwant\n  %s", err, tc.want)
			}
			var te *safeio.TooLargeError
			if tc.limit > 0 && !errors.As(err, &te) {
				t.Errorf("want a *safeio.TooLargeError, got %T", err)
			}
		})
	}
}
