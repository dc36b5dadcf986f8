//go:build !windows

package session

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// flock is syscall.Flock (a variable for the test of file systems without
// locks).
var flock = syscall.Flock

// tryLock takes f's exclusive flock without waiting.
func tryLock(f *os.File) error { return flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) }

// lockBusy tells whether tryLock failed because another process holds the
// lock.
func lockBusy(err error) bool { return errors.Is(err, syscall.EWOULDBLOCK) }

// lockUnsupported tells whether a flock error means the file system has no
// locks (rather than that another process holds this one).
func lockUnsupported(err error) bool {
	return errors.Is(err, syscall.ENOSYS) || errors.Is(err, syscall.ENOLCK) ||
		errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, syscall.EINVAL)
}

// lockHeld is LockHeld's test on the lock file st, whose pid is pid: the
// kernel's table of locks (/proc/locks) names its inode; where that table
// cannot be read, a live pid counts as held.
func lockHeld(st os.FileInfo, pid int) (int, bool) {
	sys, ok := st.Sys().(*syscall.Stat_t)
	locks, err := os.ReadFile("/proc/locks")
	if !ok || err != nil {
		return pid, pid > 0 && syscall.Kill(pid, 0) != syscall.ESRCH
	}
	// Lines read "1: FLOCK  ADVISORY  WRITE 1234 08:01:56789 0 EOF":
	// the holder's pid, then major:minor:inode.
	want := ":" + strconv.FormatUint(sys.Ino, 10)
	for _, line := range strings.Split(string(locks), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 || f[1] != "FLOCK" || !strings.HasSuffix(f[5], want) {
			continue
		}
		dev := strings.Split(f[5], ":")
		if len(dev) != 3 || !sameDev(dev[0], dev[1], uint64(sys.Dev)) {
			continue
		}
		if p, err := strconv.Atoi(f[4]); err == nil && p > 0 {
			pid = p
		}
		return pid, true
	}
	return pid, false
}

// sameDev compares /proc/locks' hexadecimal major and minor device numbers
// with a stat's device.
func sameDev(maj, min string, dev uint64) bool {
	a, err1 := strconv.ParseUint(maj, 16, 32)
	b, err2 := strconv.ParseUint(min, 16, 32)
	if err1 != nil || err2 != nil {
		return false
	}
	major := (dev >> 8) & 0xfff
	minor := (dev & 0xff) | ((dev >> 12) & 0xfff00)
	return a == major && b == minor
}
