//go:build !linux

package parallel

import "runtime"

// twoCPUs reports no cores to pin to: the goroutines run unpinned.
func twoCPUs() ([2]int, bool) { return [2]int{-1, -1}, runtime.NumCPU() >= 2 }

// pinThread only locks the goroutine to its thread.
func pinThread(int) (unpin func(), err error) {
	runtime.LockOSThread()
	return runtime.UnlockOSThread, nil
}
