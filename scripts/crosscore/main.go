// Command crosscore measures what it costs this machine to move data from
// one core to another, the cost that decides how a small training step
// scales with threads (README, Performance):
//
//	go run ./scripts/crosscore            # the first two cores this process may use
//	go run ./scripts/crosscore -a 0 -b 3
//
// It pins two threads to cores a and b and prints the round trip of one
// cache line (a flag written by one core, answered by the other), and the
// extra time for core a to read 1 MiB that core b has just written,
// against reading it again from its own cache: the price of every
// megabyte a step hands from one core to the other. It also prints each
// core's read bandwidth from its own L2 cache, which halves while
// something else on the host runs on that physical core. `nettrain bench`
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
	a := flag.Int("a", -1, "first core (default: the first this process may use)")
	b := flag.Int("b", -1, "second core (default: the second this process may use)")
	flag.Parse()
	if *a < 0 && *b < 0 {
		cpus, ok := parallel.CrossCoreCPUs()
		if !ok {
			fmt.Fprintln(os.Stderr, "crosscore: this process may use only one core")
			os.Exit(1)
		}
		*a, *b = cpus[0], cpus[1]
	}
	cc, err := parallel.MeasureCrossCoreOn(*a, *b)
	if err != nil {
		fmt.Fprintln(os.Stderr, "crosscore:", err)
		os.Exit(1)
	}
	fmt.Printf("cores %d and %d: a cache line's round trip %.0f ns\n", *a, *b, cc.RoundTripNS)
	fmt.Printf("reading 1 MiB the other core has just written: %.1f us more than from its own cache\n", cc.ReadUSPerMiB)
	fmt.Printf("reading from its own L2 cache: core %d %.0f GB/s, core %d %.0f GB/s\n", *a, cc.L2ReadGBs[0], *b, cc.L2ReadGBs[1])
}
