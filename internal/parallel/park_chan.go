package parallel

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
