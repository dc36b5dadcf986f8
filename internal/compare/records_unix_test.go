//go:build unix

package compare

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRecordsNotAFile: trials.jsonl as a FIFO (no writer, no reader) or
// a symlink to /dev/zero is refused in one line naming it, by the reader
// and the appender alike, without blocking on the FIFO or reading the
// device without end; so are a file over the bound and a line over it.
func TestRecordsNotAFile(t *testing.T) {
	fifo := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(fifo, RecordsFile), 0o644); err != nil {
		t.Fatal(err)
	}
	zero := t.TempDir()
	if err := os.Symlink("/dev/zero", filepath.Join(zero, RecordsFile)); err != nil {
		t.Fatal(err)
	}
	big := t.TempDir() // sparse: no disk used
	if f, err := os.Create(filepath.Join(big, RecordsFile)); err != nil {
		t.Fatal(err)
	} else {
		f.Truncate(maxRecordsBytes + 1)
		f.Close()
	}
	long := t.TempDir()
	line := `{"optimizer":"sgd","sweep":"s","curve":[` + strings.Repeat(`{"step":1},`, maxRecordLine/11) + `{"step":1}]}`
	os.WriteFile(filepath.Join(long, RecordsFile), []byte("\n"+line+"\n"), 0o644)

	for _, tc := range []struct {
		name, dir, want string
		appendToo       bool
	}{
		{"fifo", fifo, "trials.jsonl is a named pipe (FIFO), not a regular file", true},
		{"dev-zero", zero, "trials.jsonl is a character device", true},
		{"too-big", big, "trials.jsonl is 268435457 bytes, more than the bound of a comparison's records (268435456 bytes) allows", false},
		{"long-line", long, "trials.jsonl:2: line longer than 16.0 MiB, which no trial record is", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan struct{})
			go func() {
				defer close(done)
				check := func(what string, err error) {
					if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
						t.Errorf("%s: %v; want one line with %q", what, err, tc.want)
					}
				}
				_, err := readRecords(tc.dir)
				check("readRecords", err)
				if tc.appendToo {
					check("repairRecords", repairRecords(tc.dir))
					check("appendRecord", appendRecord(tc.dir, Record{}))
					check("touchRecords", touchRecords(tc.dir))
				}
			}()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				t.Fatal("blocked on trials.jsonl")
			}
		})
	}
}
