package session

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nettrain/nettrain/internal/safeio"
)

// LockFile is the lock file of a run's (or a comparison's) directory: it
// exists while a process writes there and holds its pid.
const LockFile = "nettrain.lock"

// dirLock is a run directory's lock: LockFile, held with flock(2) for as
// long as the run trains. The kernel drops the flock when the process
// dies, however it dies, so a lock file left by a killed run is stale by
// construction and the next run takes it over; the pid in the file is
// there for the messages.
type dirLock struct {
	f    *os.File
	path string
	// created is true when lockDir created the directory: unlock removes
	// it again if nothing else was written into it.
	created bool
	// noLock: the file system does not support flock; nothing is held.
	noLock bool
}

// lockDir creates the run directory if needed and takes its lock, or
// fails at once, naming the pid of the run that holds it. A stale lock
// file (its process gone) is taken over, with a note in log.
func lockDir(dir, what string, log io.Writer) (*dirLock, error) {
	_, statErr := os.Stat(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create the %s %s: %w", what, dir, err)
	}
	l := &dirLock{path: filepath.Join(dir, LockFile), created: os.IsNotExist(statErr)}
	// A few tries: between our open and our flock, the holder may end and
	// remove the file, leaving us a lock on a file nobody else sees.
	for try := 0; try < 10; try++ {
		f, err := os.OpenFile(l.path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			l.cleanup()
			return nil, fmt.Errorf("cannot lock %s %s: %w", what, dir, err)
		}
		if err := tryLock(f); err != nil {
			pid := readPid(f)
			f.Close()
			if lockUnsupported(err) {
				// A file system without flock (Lustre mounted without
				// -o flock, NFS without a lock daemon): go on unlocked
				// rather than refuse every run there.
				if pid == 0 {
					os.Remove(l.path)
				}
				if log != nil {
					fmt.Fprintf(log, "note: the file system of %s does not support locks (%v): running without the %s's lock, so make sure no other nettrain process writes there\n", dir, err, what)
				}
				l.noLock = true
				return l, nil
			}
			l.cleanup()
			if lockBusy(err) {
				who := "pid unknown"
				if pid > 0 {
					who = "pid " + strconv.Itoa(pid)
				}
				return nil, fmt.Errorf("%s %s is in use by another nettrain process (%s, lock file %s): wait for it to end or stop it; two processes in one directory would overwrite each other's files",
					what, dir, who, l.path)
			}
			return nil, fmt.Errorf("cannot lock %s %s: %v", what, dir, err)
		}
		held, err1 := f.Stat()
		named, err2 := os.Stat(l.path)
		if err1 != nil || err2 != nil || !os.SameFile(held, named) {
			f.Close()
			continue
		}
		if pid := readPid(f); pid > 0 && log != nil {
			fmt.Fprintf(log, "note: took over the lock of pid %d (%s), which no longer runs here\n", pid, l.path)
		}
		if err := f.Truncate(0); err == nil {
			_, err = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
		}
		l.f = f
		return l, nil
	}
	l.cleanup()
	return nil, fmt.Errorf("cannot lock %s %s: its lock file %s keeps changing", what, dir, l.path)
}

// DirLock is a run or sweep directory's lock (see LockDir).
type DirLock struct{ l *dirLock }

// LockDir creates dir if needed and takes its lock for as long as a
// command writes there (a comparison's or sweep's trial records), or fails
// at once naming the pid that holds it: two processes appending to one
// trials.jsonl would run every trial twice. what names the directory in
// messages ("sweep's output directory"). Unlock releases it and removes
// dir again when LockDir created it and nothing was written into it.
func LockDir(dir, what string, log io.Writer) (*DirLock, error) {
	l, err := lockDir(dir, what, log)
	if err != nil {
		return nil, err
	}
	return &DirLock{l}, nil
}

// Unlock releases the lock; a nil lock does nothing.
func (d *DirLock) Unlock() {
	if d != nil {
		d.l.unlock()
	}
}

// readPid reads the pid in a lock file (0 when there is none).
func readPid(f *os.File) int {
	b := make([]byte, 32)
	n, _ := f.ReadAt(b, 0)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b[:n])))
	if err != nil || pid < 1 {
		return 0
	}
	return pid
}

// unlock removes the lock file, then releases the lock (in this order:
// whoever opens the file after that finds a new one, see lockDir).
func (l *dirLock) unlock() {
	if l != nil && l.noLock {
		l.cleanup()
		return
	}
	if l == nil || l.f == nil {
		return
	}
	os.Remove(l.path)
	l.f.Close()
	l.f = nil
	l.cleanup()
}

// cleanup removes the run directory again if lockDir created it and it is
// still empty (a run that failed before writing anything).
func (l *dirLock) cleanup() {
	if l.created {
		os.Remove(filepath.Dir(l.path)) // fails, harmlessly, unless empty
	}
}

// LockHeld tells whether a run trains in dir now: whether a process holds
// the flock of its nettrain.lock, and its pid. It only reads: the kernel's
// table of locks (/proc/locks) names the lock file's inode; where that
// table cannot be read, a lock file whose pid is a live process counts as
// held. (Taking the lock, even shared, to test it could make a run that
// starts at that moment fail.)
func LockHeld(dir string) (pid int, held bool) {
	path := filepath.Join(dir, LockFile)
	st, err := os.Stat(path)
	if err != nil {
		return 0, false
	}
	f, _, err := safeio.Open(path) // a FIFO would block a plain open
	if err == nil {
		pid = readPid(f)
		f.Close()
	}
	return lockHeld(st, pid)
}
