package session

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// tryLock takes an exclusive lock on f's first byte without waiting
// (LockFileEx); Windows drops it when the process ends.
func tryLock(f *os.File) error {
	var ol windows.Overlapped
	return windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ol)
}

// lockBusy tells whether tryLock failed because another process holds the
// lock.
func lockBusy(err error) bool {
	return errors.Is(err, windows.ERROR_LOCK_VIOLATION) || errors.Is(err, windows.ERROR_SHARING_VIOLATION)
}

// lockUnsupported tells whether the file system has no locks.
func lockUnsupported(err error) bool { return errors.Is(err, windows.ERROR_NOT_SUPPORTED) }

// lockHeld is LockHeld's test: Windows has no table of locks to read, so
// a lock file whose pid is a live process counts as held.
func lockHeld(_ os.FileInfo, pid int) (int, bool) {
	if pid <= 0 {
		return pid, false
	}
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(pid))
	if err != nil {
		return pid, false
	}
	windows.CloseHandle(h)
	return pid, true
}
