//go:build !linux

package parallel

import "runtime"

// twoCPUs reports no cores to pin to (-1, -1: the threads run unpinned),
// if the machine has two.
func twoCPUs() ([2]int, bool) { return [2]int{-1, -1}, runtime.NumCPU() >= 2 }

// pinThread only locks the goroutine to its thread: threads are not
// pinned off Linux.
func pinThread(int) (unpin func() error, err error) {
	runtime.LockOSThread()
	return func() error { runtime.UnlockOSThread(); return nil }, nil
}
