// Command coreprobe watches how fast each core of this machine runs while
// nothing else of nettrain does: every -every, for -for, it times the same
// small piece of training on each core in turn, pinned (the forward pass
// of the GRU of configs/series-gru.yaml: 12 steps, 32 units, batch 16,
// float32, about 55 µs, bound by L1 and L2 latency rather than by
// arithmetic), and measures each core's read bandwidth from its own L2
// cache and the cores' cache-line round trip (parallel.MeasureCrossCore):
//
//	go run ./scripts/coreprobe                   # every 30 s for 8 minutes
//	go run ./scripts/coreprobe -every 10s -for 2m
//
// On this project's VM it showed one core or the other running that pass
// 1.3 to 1.5 times slower for tens of seconds at a time, with its L2
// bandwidth lower (122 to 155 GB/s against 161 to 204 over this probe's
// 256 KiB), while the other ran at full speed:
// something else on the host sharing that physical core. A 2-thread step
// waits for the slower core (README, Performance).
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/parallel"
)

func main() {
	every := flag.Duration("every", 30*time.Second, "time between probes")
	total := flag.Duration("for", 8*time.Minute, "how long to probe")
	flag.Parse()
	cpus, ok := parallel.CrossCoreCPUs()
	if !ok {
		fmt.Fprintln(os.Stderr, "coreprobe: this process may use only one core")
		os.Exit(1)
	}
	const n, steps, in, units = 16, 12, 16, 32
	s := backprop.GRUSpec{In: []int{steps, in}, Units: units, Layers: 1}
	net := backprop.NewNetwork[float32](s.In, []backprop.Spec{s}, backprop.MSE, n)
	net.Init(rand.New(rand.NewPCG(1, 1)))
	x := make([]float32, n*steps*in)
	for i := range x {
		x[i] = float32(i%7)*0.1 - 0.3
	}
	layer, ctx := net.Layers[0], &backprop.Ctx{}
	// gru times the pass, best of 5 rounds of 200.
	gru := func() float64 {
		best := time.Duration(1 << 62)
		for range 5 {
			t := time.Now()
			for range 200 {
				layer.Forward(ctx, x, n)
			}
			best = min(best, time.Since(t)/200)
		}
		return float64(best.Nanoseconds()) / 1e3
	}
	fmt.Printf("%-8s  %9s  %-28s  %-28s\n", "time", "round trip", fmt.Sprintf("core %d: GRU pass, L2 read", cpus[0]), fmt.Sprintf("core %d: GRU pass, L2 read", cpus[1]))
	for end := time.Now().Add(*total); ; {
		cc, err := parallel.MeasureCrossCoreOn(cpus[0], cpus[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, "coreprobe:", err)
			os.Exit(1)
		}
		var us, gbs [2]float64
		for i, c := range cpus {
			if err := parallel.OnCore(c, func() { us[i], gbs[i] = gru(), parallel.L2ReadGBs() }); err != nil {
				fmt.Fprintln(os.Stderr, "coreprobe:", err)
				os.Exit(1)
			}
		}
		fmt.Printf("%s  %7.0f ns  %6.1f us, %4.0f GB/s %13s  %6.1f us, %4.0f GB/s\n", time.Now().Format("15:04:05"), cc.RoundTripNS,
			us[0], gbs[0], "", us[1], gbs[1])
		if time.Now().Add(*every).After(end) {
			return
		}
		time.Sleep(*every)
	}
}
