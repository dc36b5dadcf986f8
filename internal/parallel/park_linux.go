//go:build linux

package parallel

import (
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// parker is where one goroutine parks until another wakes it, without
// allocating: park blocks the goroutine's thread in the futex(2) system
// call on token (Go's scheduler hands the thread's P to other goroutines
// meanwhile), and unpark sets the token and wakes it. Parking on a
// channel, or on anything else of the sync package, allocates a waiter
// record (a sudog) whenever the runtime's caches of them are empty, which
// breaks the pool's zero allocations per step (see
// TestParkingAllocatesNothing).
//
// One token at most is kept: an unpark before the park makes that park
// return at once, like a send on a channel of capacity 1.
type parker struct {
	token atomic.Uint32 // 1: a wake-up not yet consumed
}

// The futex(2) operations, the same on every Linux architecture:
// FUTEX_WAIT and FUTEX_WAKE on a word of this process only.
const (
	futexWaitPrivate = 0 | 128
	futexWakePrivate = 1 | 128
)

// init prepares the parker (NewPool calls it once per parker): the zero
// word needs nothing.
func (p *parker) init() {}

// park returns once a token is there, consuming it.
func (p *parker) park() {
	for !p.token.CompareAndSwap(1, 0) {
		// Sleeps only while the token is still 0; returns at a wake-up, a
		// signal or a token that came first, and the loop looks again.
		unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(&p.token)), futexWaitPrivate, 0, 0, 0, 0)
	}
}

// unpark leaves a token and wakes the parked goroutine, if any.
func (p *parker) unpark() {
	if p.token.Swap(1) == 0 {
		unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(&p.token)), futexWakePrivate, 1, 0, 0, 0)
	}
}
