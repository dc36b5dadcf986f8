//go:build linux

package parallel

import (
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// maxCPU is the number of cores a unix.CPUSet holds.
var maxCPU = int(unsafe.Sizeof(unix.CPUSet{})) * 8

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
// cpu (cpu < 0: only locks it); unpin restores the thread's affinity and
// unlocks it. A thread whose affinity cannot be restored stays locked to
// its goroutine, so that no other goroutine runs on it (the runtime ends
// it with a goroutine that exits locked), and unpin reports the error.
func pinThread(cpu int) (unpin func() error, err error) {
	runtime.LockOSThread()
	if cpu < 0 {
		return func() error { runtime.UnlockOSThread(); return nil }, nil
	}
	var old unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("reading this thread's CPU affinity: %w", err)
	}
	if cpu >= maxCPU || !old.IsSet(cpu) {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("core %d is not one this process may run on (%s)", cpu, cpuList(&old))
	}
	var s unix.CPUSet
	s.Set(cpu)
	if err := unix.SchedSetaffinity(0, &s); err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("pinning a thread to core %d: %w", cpu, err)
	}
	return func() error {
		if err := unix.SchedSetaffinity(0, &old); err != nil {
			return fmt.Errorf("restoring a thread's CPU affinity after pinning it to core %d: %w", cpu, err)
		}
		runtime.UnlockOSThread()
		return nil
	}, nil
}

// cpuList names the cores of s, e.g. "cores 0, 1".
func cpuList(s *unix.CPUSet) string {
	out := "cores"
	sep := " "
	for c := 0; c < maxCPU; c++ {
		if s.IsSet(c) {
			out += fmt.Sprintf("%s%d", sep, c)
			sep = ", "
		}
	}
	return out
}
