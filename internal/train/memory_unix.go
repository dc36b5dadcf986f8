//go:build unix

package train

import "golang.org/x/sys/unix"

// addressSpace is the process's address-space limit (RLIMIT_AS, ulimit
// -v) in bytes, 0 when there is none.
func addressSpace() int64 { return rlimit(unix.RLIMIT_AS) }

// dataLimit is the process's data limit (RLIMIT_DATA, ulimit -d, which
// counts the Go heap's anonymous mappings), 0 when there is none.
func dataLimit() int64 { return rlimit(unix.RLIMIT_DATA) }

func rlimit(resource int) int64 {
	var r unix.Rlimit
	if err := unix.Getrlimit(resource, &r); err != nil || r.Cur == unix.RLIM_INFINITY || r.Cur > 1<<62 {
		return 0
	}
	return int64(r.Cur)
}
