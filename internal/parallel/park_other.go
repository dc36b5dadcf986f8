//go:build !linux

package parallel

// parker is where one goroutine parks until another wakes it. Off Linux
// it is a channel of capacity 1, which may allocate the runtime's waiter
// records while their caches fill; on Linux it is a futex, which never
// allocates.
type parker struct{ ch chan struct{} }

// init makes the channel (NewPool calls it once per parker).
func (p *parker) init() { p.ch = make(chan struct{}, 1) }

// park returns once a token is there, consuming it.
func (p *parker) park() { <-p.ch }

// unpark leaves a token (at most one) and wakes the parked goroutine, if any.
func (p *parker) unpark() {
	select {
	case p.ch <- struct{}{}:
	default:
	}
}
