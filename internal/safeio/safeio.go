// Package safeio opens and reads the files a user names (configs, data
// files, checkpoints) so that no file can make nettrain hang or exhaust
// memory, and writes nettrain's files so that no failure leaves one half
// written.
//
// Invariants:
//   - Only regular files are read. A FIFO, a character device such as
//     /dev/zero, a socket or a directory is refused with an error naming
//     the path and what it is, also when reached through a symlink. The
//     file is opened non-blocking and checked with fstat on the open
//     descriptor, so a FIFO without a writer cannot block the open and a
//     path swapped between a check and the open cannot slip through.
//   - Every read is bounded: ReadFile refuses a file larger than its limit
//     before reading it, and never reads more than limit bytes even if the
//     file grows while it is read. It holds the file once: a file that
//     keeps its size costs one buffer of its size plus one byte (the byte
//     that tells a file that grew), never a copy into a larger buffer.
//     Readers that stream a file wrap it in LimitSize, which ends it at
//     the size Open returned and fails when the file grows, so a file
//     another process keeps appending to cannot make a reader run without
//     end.
//   - A file whose header or size claims more memory than a caller's limit
//     is refused with a *TooLargeError, which names the file, the size and
//     the limit; Content says what needs the memory when it is not the
//     file's bytes themselves (the data set an IDX header describes, say).
//   - Every file nettrain writes is written atomically (WriteFile,
//     WriteWith): a temporary file beside it, synced and renamed over it,
//     so a failure or a crash leaves the old file or the new one. Only
//     regular files are written: a path that exists as a FIFO, a device,
//     a socket or a directory, also behind a symlink, or a symlink to
//     nothing is refused and left alone (CheckOutput says so before any
//     work); a symlink to a regular file is written through, the link
//     kept. A replaced file keeps its permissions, a new one is 0644. Files
//     that belong together (a report's) go through a Batch: all are
//     written as temporaries first and renamed into place only when every
//     one was written, so a failure while writing leaves all the old files.
//
// Errors are *os.PathError values (for "cannot open" failures) or plain
// errors whose text names the path; they never panic.
package safeio

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// Open opens path for reading if it is a regular file, and returns the file
// and its size.
func Open(path string) (*os.File, int64, error) {
	return openRegular(path, os.O_RDONLY, "reads")
}

// openRegular opens path with flag if it is a regular file: non-blocking
// (a FIFO without a peer cannot block the open), checked with fstat on the
// descriptor, then back to blocking I/O. verb says what nettrain does
// with such files, for the error.
func openRegular(path string, flag int, verb string) (*os.File, int64, error) {
	f, err := os.OpenFile(path, flag|syscall.O_NONBLOCK, 0o644)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, 0, fmt.Errorf("%s is %s, not a regular file; nettrain %s only regular files", path, describeMode(st.Mode()), verb)
	}
	if err := setBlocking(f); err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, st.Size(), nil
}

// OpenAppend opens path for appending, creating it (0644) when it is
// missing, if it is a regular file: a FIFO, a device or a directory (also
// behind a symlink) is refused with an error naming the path and what it
// is, and the open cannot block on a FIFO without a reader (O_NONBLOCK;
// the descriptor is checked with fstat, as Open does).
func OpenAppend(path string) (*os.File, error) {
	// An existing FIFO or device is named as such (opening a FIFO for
	// writing without a reader fails with ENXIO, which says less).
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is %s, not a regular file; nettrain writes only regular files", path, describeMode(st.Mode()))
	}
	f, _, err := openRegular(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, "writes")
	return f, err
}

// describeMode names a non-regular file type for messages.
func describeMode(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "a special file"
}

// TooLargeError reports a file larger than what may be read of it, or a
// file whose content would need more memory than a limit allows.
type TooLargeError struct {
	// Path names the file; it may carry a line ("d.csv:12") when Content
	// is about a part of the file.
	Path string
	// Size is the file's size (at least Limit+1 when it grew), or the
	// memory Content needs.
	Size  int64
	Limit int64
	What  string // what the limit is, e.g. "training.memory_limit 64MiB"
	// Content, when not empty, says what needs Size bytes of memory, as a
	// singular noun phrase ("the data set (dimensions [60000 28 28] of
	// 0x08 unsigned byte and 60000 labels)"); empty means the file itself
	// is Size bytes.
	Content string
}

func (e *TooLargeError) Error() string {
	what := e.What
	if what == "" {
		what = "the limit"
	}
	size, lim := Bytes(e.Size), Bytes(e.Limit)
	if size == lim { // "1.0 MiB, more than ... (1.0 MiB)": give the bytes
		size, lim = fmt.Sprintf("%d bytes", e.Size), fmt.Sprintf("%d bytes", e.Limit)
	}
	if e.Content != "" {
		return fmt.Sprintf("%s: %s needs %s of memory, more than %s (%s) allows", e.Path, e.Content, size, what, lim)
	}
	return fmt.Sprintf("%s is %s, more than %s (%s) allows", e.Path, size, what, lim)
}

// LimitSize returns a reader of the first size bytes of r, a file opened
// with Open (which returned size), that fails with a *GrewError when r
// holds more: the file grew while it was read. A reader that streams a
// file through it reads at most size+1 bytes of it.
func LimitSize(r io.Reader, path string, size int64) io.Reader {
	return &sizedReader{r: r, path: path, size: size, left: size}
}

type sizedReader struct {
	r          io.Reader
	path       string
	size, left int64
}

func (s *sizedReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if s.left <= 0 {
		// At the size: one byte more means the file grew.
		var one [1]byte
		if n, _ := s.r.Read(one[:]); n > 0 {
			return 0, &GrewError{Path: s.path, Size: s.size}
		}
		return 0, io.EOF
	}
	if int64(len(p)) > s.left {
		p = p[:s.left]
	}
	n, err := s.r.Read(p)
	s.left -= int64(n)
	return n, err
}

// GrewError reports a file that grew while it was read.
type GrewError struct {
	Path string
	Size int64 // the size when it was opened
}

func (e *GrewError) Error() string {
	return fmt.Sprintf("%s grew while it was read (from %d bytes); is another process writing it?", e.Path, e.Size)
}

// ReadFile reads the whole regular file at path, refusing one larger than
// limit bytes (limit <= 0: no limit beyond the file's size at open).
// what names the limit in the error.
func ReadFile(path string, limit int64, what string) ([]byte, error) {
	f, size, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if limit > 0 && size > limit {
		return nil, &TooLargeError{Path: path, Size: size, Limit: limit, What: what}
	}
	max := size
	if limit > 0 {
		max = limit
	}
	// Read at most max+1 bytes: one more than allowed tells a file that
	// grew after the stat. The buffer has room for that byte, so a file
	// that kept its size is read with one allocation of its size (plus
	// one byte), not copied into a larger buffer to probe for more.
	b := make([]byte, 0, size+1)
	b, err = readAll(io.LimitReader(f, max+1), b, max+1)
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		if limit > 0 {
			return nil, &TooLargeError{Path: path, Size: int64(len(b)), Limit: limit, What: what}
		}
		return nil, &GrewError{Path: path, Size: size}
	}
	return b, nil
}

// readAll appends what r holds to b, reading at most stop bytes in all:
// the buffer grows only while it is below stop (a file that grew).
func readAll(r io.Reader, b []byte, stop int64) ([]byte, error) {
	for {
		if int64(len(b)) >= stop {
			return b, nil
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// Clip shortens text a message quotes from a file (a cell, a row, a
// name) to its first n bytes and "...", so that a forged file cannot make
// the one-line message megabytes long.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// Bytes formats a byte count for messages: "512 B", "1.5 MiB".
func Bytes(b int64) string {
	const unit = 1024
	if b < unit {
		return fmt.Sprintf("%d B", b)
	}
	div, exp := int64(unit), 0
	for n := b / unit; n >= unit; n /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(b)/float64(div), "KMGTPE"[exp])
}
