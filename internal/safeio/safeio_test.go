package safeio

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	reg := filepath.Join(dir, "f")
	if err := os.WriteFile(reg, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	zero := filepath.Join(dir, "zero")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
		limit      int64
		want       string // "" = success
	}{
		{"regular", reg, 0, ""},
		{"regular within limit", reg, 5, ""},
		{"over limit", reg, 4, "more than"},
		{"fifo without writer", fifo, 0, "named pipe"},
		{"symlink to /dev/zero", zero, 0, "character device"},
		{"directory", dir, 0, "a directory"},
		{"missing", filepath.Join(dir, "nope"), 0, "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan struct{})
			var b []byte
			var err error
			go func() { b, err = ReadFile(tc.path, tc.limit, "the test limit"); close(done) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("ReadFile blocked")
			}
			if tc.want == "" {
				if err != nil || string(b) != "hello" {
					t.Fatalf("got %q, %v", b, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			var te *TooLargeError
			if tc.want == "more than" && !errors.As(err, &te) {
				t.Fatalf("want a *TooLargeError, got %T", err)
			}
		})
	}
}

// TestReadFileAllocatesOnce checks that ReadFile holds a file once: it
// allocates about the file's size, not the 2.25 times that probing for a
// byte more through append (which copies the buffer into a larger one)
// cost, with which a checkpoint of 1.4 GB could not be read in 4 GB.
func TestReadFileAllocatesOnce(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name  string
		size  int
		limit int64
	}{
		{"empty", 0, 0},
		{"small", 100, 0},
		{"1 MiB, no limit", 1 << 20, 0},
		{"1 MiB, at the limit", 1 << 20, 1 << 20},
		{"1 MiB, under the limit", 1 << 20, 1 << 30},
		{"8 MiB, no limit", 8 << 20, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := make([]byte, tc.size)
			for i := range want {
				want[i] = byte(i * 7)
			}
			path := filepath.Join(dir, "f")
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			b, err := ReadFile(path, tc.limit, "the test limit")
			runtime.ReadMemStats(&after)
			if err != nil || !bytes.Equal(b, want) {
				t.Fatalf("got %d bytes, %v; want the file's %d", len(b), err, tc.size)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > uint64(tc.size)+16<<10 {
				t.Errorf("allocated %d bytes to read %d", alloc, tc.size)
			}
		})
	}
}

// TestReadAllStops checks that readAll reads at most stop bytes and
// grows its buffer only below stop: a file that grew after its size was
// taken is told by one byte more, without copying the buffer.
func TestReadAllStops(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		capacity   int
		stop       int64
		want       string
		sameBuffer bool
	}{
		{"file kept its size", "abcd", 5, 5, "abcd", true},
		{"file grew by one byte", "abcde", 5, 5, "abcde", true},
		{"file grew by more", "abcdefgh", 5, 5, "abcde", true},
		{"buffer smaller than the file", "abcdefgh", 2, 100, "abcdefgh", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			buf := make([]byte, 0, tc.capacity)
			b, err := readAll(io.LimitReader(strings.NewReader(tc.in), tc.stop), buf, tc.stop)
			if err != nil || string(b) != tc.want {
				t.Fatalf("got %q, %v; want %q", b, err, tc.want)
			}
			if same := cap(b) > 0 && &b[:1][0] == &buf[:1][0]; same != tc.sameBuffer {
				t.Errorf("read into the buffer passed: %v, want %v", same, tc.sameBuffer)
			}
		})
	}
}

// TestLimitSize checks that a streamed file ends at the size it had when
// it was opened, and that a file that grew is an error, not more data.
func TestLimitSize(t *testing.T) {
	tests := []struct {
		name    string
		content string
		size    int64
		want    string // read text
		wantErr bool
	}{
		{"exact", "hello", 5, "hello", false},
		{"empty", "", 0, "", false},
		{"grew", "hello, world", 5, "hello", true},
		{"shorter than said", "hel", 5, "hel", false}, // the format reader reports truncation
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := LimitSize(strings.NewReader(tc.content), "f", tc.size)
			var got []byte
			buf := make([]byte, 2)
			var err error
			for {
				var n int
				n, err = r.Read(buf)
				got = append(got, buf[:n]...)
				if err != nil {
					break
				}
			}
			if string(got) != tc.want {
				t.Errorf("read %q, want %q", got, tc.want)
			}
			var ge *GrewError
			if tc.wantErr != errors.As(err, &ge) || !tc.wantErr && err != io.EOF {
				t.Errorf("error %v, want a *GrewError: %v", err, tc.wantErr)
			}
			if tc.wantErr && err.Error() != "f grew while it was read (from 5 bytes); is another process writing it?" {
				t.Errorf("message %q", err)
			}
		})
	}
}

func TestTooLargeErrorMessage(t *testing.T) {
	tests := []struct {
		err  TooLargeError
		want string
	}{
		{TooLargeError{Path: "a.bin", Size: 3 << 20, Limit: 1 << 20, What: "training.memory_limit 1MiB"},
			"a.bin is 3.0 MiB, more than training.memory_limit 1MiB (1.0 MiB) allows"},
		{TooLargeError{Path: "a.idx", Size: 3 << 20, Limit: 1 << 20, Content: "the data set (dimensions [3145728] of 0x08 unsigned byte)"},
			"a.idx: the data set (dimensions [3145728] of 0x08 unsigned byte) needs 3.0 MiB of memory, more than the limit (1.0 MiB) allows"},
		{TooLargeError{Path: "a.csv:12", Size: 2003, Limit: 2002, What: "x", Content: "the data read up to this line"},
			"a.csv:12: the data read up to this line needs 2003 bytes of memory, more than x (2002 bytes) allows"},
	}
	for _, tc := range tests {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("got\n  %s\nwant\n  %s", got, tc.want)
		}
	}
}
