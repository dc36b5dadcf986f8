//go:build linux

package parallel

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// affinity is the calling thread's CPU mask, printed.
func affinity() (string, bool) {
	var s unix.CPUSet
	if err := unix.SchedGetaffinity(0, &s); err != nil {
		return "", false
	}
	return fmt.Sprint(s), true
}
