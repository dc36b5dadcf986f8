package parallel

import "runtime"

// chanParker parks a goroutine on a channel of capacity 1: a token means
// "look again". Receiving makes the Go runtime allocate a waiter record
// (a sudog) when its caches have none; parking in futex(2) (Linux, a pool
// that fits the cores) does not.
type chanParker struct{ ch chan struct{} }

func (p *chanParker) init() { p.ch = make(chan struct{}, 1) }

func (p *chanParker) park() { <-p.ch }

func (p *chanParker) unpark() {
	select {
	case p.ch <- struct{}{}:
	default:
	}
}

// Cores is the number of cores the process may use: GOMAXPROCS (the
// GOMAXPROCS environment variable, else the CPU affinity mask lowered to
// a container's CPU limit), and no more than the affinity mask's CPUs
// (runtime.NumCPU) when GOMAXPROCS was set above them. It is the default
// thread count of a run, and a pool of at most that many goroutines parks
// in futex(2).
func Cores() int { return min(runtime.GOMAXPROCS(0), runtime.NumCPU()) }
