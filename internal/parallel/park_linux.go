//go:build linux

package parallel

import (
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// parker is where one goroutine parks until another wakes it, without
// allocating: park blocks the goroutine's thread in the futex(2) system
// call on token, and unpark sets the token and wakes it. Receiving from a
// channel, or waiting in the sync package, allocates a waiter record (a
// sudog) whenever the runtime's caches of them are empty, which broke the
// pool's zero allocations per step (see TestParkingAllocatesNothing).
//
// A goroutine in a system call keeps its thread, and its P (the
// scheduler's right to run Go code) until it returns or the runtime's
// monitor takes the P for other goroutines, after 20 microseconds to 10
// milliseconds; it then gets it back, or another, on waking. Nothing in a
// training run waits on that: the parked goroutines are the pool's own,
// and the goroutine running the step has a P of its own.
//
// A pool with more goroutines than cores parks on a channel instead
// (chanParker): each goroutine parked in a system call holds an OS
// thread, and waking many of them to share a few cores made such a pool
// many times slower than with channels (256 threads on 2 cores: the
// MNIST MLP trained at 2,857 samples/s against 41,390; README). Such a
// pool is slow anyway (train warns), and may allocate when it parks.
//
// One token at most is kept: an unpark before the park makes that park
// return at once, like a send on a channel of capacity 1.
type parker struct {
	token atomic.Uint32 // 1: a wake-up not yet consumed
	ch    chanParker    // used instead when ch.ch is not nil
}

// The futex(2) operations, the same on every Linux architecture:
// FUTEX_WAIT and FUTEX_WAKE on a word of this process only.
const (
	futexWaitPrivate = 0 | 128
	futexWakePrivate = 1 | 128
)

// init prepares the parker (NewPool calls it once per parker): a futex,
// whose zero word needs nothing, when the pool's goroutines fit the
// cores, else a channel.
func (p *parker) init(fits bool) {
	if !fits {
		p.ch.init()
	}
}

// park returns once a token is there, consuming it.
func (p *parker) park() {
	if p.ch.ch != nil {
		p.ch.park()
		return
	}
	for !p.token.CompareAndSwap(1, 0) {
		// Sleeps only while the token is still 0; returns at a wake-up, a
		// signal or a token that came first, and the loop looks again.
		_, _, e := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(&p.token)), futexWaitPrivate, 0, 0, 0, 0)
		if e != 0 && e != unix.EINTR && e != unix.EAGAIN {
			// No futex here (a seccomp filter, a 32-bit kernel without
			// the old time call): poll the token rather than spin.
			time.Sleep(100 * time.Microsecond)
		}
	}
}

// unpark leaves a token and wakes the parked goroutine, if any.
func (p *parker) unpark() {
	if p.ch.ch != nil {
		p.ch.unpark()
		return
	}
	if p.token.Swap(1) == 0 {
		unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(&p.token)), futexWakePrivate, 1, 0, 0, 0)
	}
}
