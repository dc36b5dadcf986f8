//go:build linux

package parallel

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// twoCPUs returns the first two cores in this process's affinity mask.
func twoCPUs() ([2]int, bool) {
	var s unix.CPUSet
	if err := unix.SchedGetaffinity(0, &s); err != nil || s.Count() < 2 {
		return [2]int{}, false
	}
	var cpus [2]int
	n := 0
	for c := 0; n < 2; c++ {
		if s.IsSet(c) {
			cpus[n] = c
			n++
		}
	}
	return cpus, true
}

// pinThread locks the calling goroutine to its thread and the thread to
// cpu; unpin restores the thread's affinity and unlocks it.
func pinThread(cpu int) (unpin func(), err error) {
	runtime.LockOSThread()
	var old unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	var s unix.CPUSet
	s.Set(cpu)
	if err := unix.SchedSetaffinity(0, &s); err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("pinning a thread to core %d: %v", cpu, err)
	}
	return func() {
		// A thread whose mask could not be restored stays locked to its
		// goroutine, so that no other goroutine runs on it (it exits with
		// a goroutine that ends locked).
		if unix.SchedSetaffinity(0, &old) == nil {
			runtime.UnlockOSThread()
		}
	}, nil
}
