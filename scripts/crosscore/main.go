// Command crosscore measures what it costs this machine to move data from
// one core to another, the cost that decides how a small training step
// scales with threads (README, Performance):
//
//	go run ./scripts/crosscore            # cores 0 and 1
//	go run ./scripts/crosscore -a 0 -b 3
//
// It pins two threads to cores a and b and prints the round trip of one
// cache line (a flag written by one core, answered by the other), and the
// extra time for core a to read 1 MiB that core b has just written,
// against reading it again from its own cache: the price of every
// megabyte a step hands from one core to the other. `nettrain bench`
// takes the same measurement (parallel.MeasureCrossCore) between the
// turns of a multi-threaded run and reports it with the run.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/nettrain/nettrain/internal/parallel"
)

func main() {
	a := flag.Int("a", 0, "first core")
	b := flag.Int("b", 1, "second core")
	flag.Parse()
	cc, err := parallel.MeasureCrossCoreOn(*a, *b)
	if err != nil {
		fmt.Fprintln(os.Stderr, "crosscore:", err)
		os.Exit(1)
	}
	fmt.Printf("cores %d and %d: a cache line's round trip %.0f ns\n", *a, *b, cc.RoundTripNS)
	fmt.Printf("reading 1 MiB the other core has just written: %.1f us more than from its own cache\n", cc.ReadUSPerMiB)
}
