//go:build !windows

package safeio

import (
	"os"
	"syscall"
)

// setBlocking clears O_NONBLOCK, which Open set so that opening a FIFO
// without a writer cannot block.
func setBlocking(f *os.File) error { return syscall.SetNonblock(int(f.Fd()), false) }
