//go:build !linux

package parallel

// parker is where one goroutine parks until another wakes it. Off Linux
// it is a channel of capacity 1, which may allocate the runtime's waiter
// records while their caches fill; on Linux it is a futex, which never
// allocates, when the pool's goroutines fit the cores.
type parker struct{ ch chanParker }

// init makes the channel (NewPool calls it once per parker).
func (p *parker) init(bool) { p.ch.init() }

// park returns once a token is there, consuming it.
func (p *parker) park() { p.ch.park() }

// unpark leaves a token (at most one) and wakes the parked goroutine, if any.
func (p *parker) unpark() { p.ch.unpark() }
