//go:build linux

// Command crosscore measures what it costs this machine to move data from
// one core to another, the cost that decides how a small training step
// scales with threads (README, Performance):
//
//	go run ./scripts/crosscore            # cores 0 and 1
//	go run ./scripts/crosscore -a 0 -b 3
//
// It pins two threads to cores a and b and prints the round trip of one
// cache line (a flag written by one core, answered by the other), and the
// time for core a to read 1 MiB that core b has just written, against
// reading it again from its own cache: the difference is the price of
// every megabyte a step hands from one core to the other.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	a := flag.Int("a", 0, "first core")
	b := flag.Int("b", 1, "second core")
	flag.Parse()
	if err := run(*a, *b); err != nil {
		fmt.Fprintln(os.Stderr, "crosscore:", err)
		os.Exit(1)
	}
}

// pin locks the calling goroutine to its thread and the thread to cpu.
func pin(cpu int) error {
	runtime.LockOSThread()
	var s unix.CPUSet
	s.Set(cpu)
	if err := unix.SchedSetaffinity(0, &s); err != nil {
		return fmt.Errorf("pinning a thread to core %d: %v", cpu, err)
	}
	return nil
}

func run(a, b int) error {
	if a == b {
		return fmt.Errorf("-a and -b name the same core %d", a)
	}
	if err := pin(a); err != nil {
		return err
	}
	errc := make(chan error, 1)
	var flag, seq atomic.Int64
	const trips, rounds = 200000, 50
	buf := make([]float32, 1<<18) // 1 MiB
	go func() {
		if err := pin(b); err != nil {
			errc <- err
			flag.Store(-1)
			return
		}
		errc <- nil
		for i := int64(1); i <= trips; i++ {
			for flag.Load() != 2*i-1 {
			}
			flag.Store(2 * i)
		}
		for r := int64(1); r <= rounds; r++ {
			for seq.Load() != 2*r-1 {
			}
			for i := range buf {
				buf[i]++
			}
			seq.Store(2 * r)
		}
	}()
	if err := <-errc; err != nil {
		return err
	}
	t := time.Now()
	for i := int64(1); i <= trips; i++ {
		flag.Store(2*i - 1)
		for flag.Load() != 2*i {
		}
	}
	trip := time.Since(t).Seconds() / trips
	var remote, local []float64
	var sum float32
	for r := int64(1); r <= rounds; r++ {
		seq.Store(2*r - 1)
		for seq.Load() != 2*r {
		}
		t := time.Now()
		sum += sum4(buf)
		remote = append(remote, time.Since(t).Seconds())
		t = time.Now()
		sum += sum4(buf)
		local = append(local, time.Since(t).Seconds())
	}
	mr, ml := median(remote), median(local)
	fmt.Printf("cores %d and %d: a cache line's round trip %.0f ns\n", a, b, trip*1e9)
	fmt.Printf("reading 1 MiB the other core has just written: %.1f us; again from its own cache: %.1f us; difference %.1f us per MiB (%.1f GB/s)\n",
		mr*1e6, ml*1e6, (mr-ml)*1e6, (1<<20)/(mr-ml)/1e9)
	if sum == 0.5 { // keep the sums
		fmt.Println()
	}
	return nil
}

// sum4 reads one value of every 64-byte cache line, with four independent
// sums, so that the loop is bound by moving lines, not by additions.
func sum4(x []float32) float32 {
	var s0, s1, s2, s3 float32
	for i := 0; i+63 < len(x); i += 64 {
		s0 += x[i]
		s1 += x[i+16]
		s2 += x[i+32]
		s3 += x[i+48]
	}
	return s0 + s1 + s2 + s3
}

func median(x []float64) float64 {
	sort.Float64s(x)
	return x[len(x)/2]
}
