package parallel

import (
	"fmt"
	"runtime"
	"slices"
	"sync/atomic"
	"time"
)

// CrossCore is what it costs this machine, at the moment of measuring, to
// move data from one core to another: the cost every parallel loop pays
// when a goroutine reads what another core wrote (a GEMM's output read by
// the next layer, a gradient read by the optimizer). On a virtual machine
// it changes with where the host places the virtual CPUs: on this project's
// 2-core VM the round trip is about 140 ns in some hours and about 480 ns
// in others, and a small training step (the MNIST MLP at batch 64) scales
// from 1 to 2 threads by about 1.75x in the first and about 1.35x in the
// second, with the same code and the same GEMM speed.
type CrossCore struct {
	CPUs         [2]int  `json:"cpus"`                   // the two cores measured (-1, -1: not pinned)
	RoundTripNS  float64 `json:"round_trip_ns"`          // one cache line there and back: median of rounds
	ReadUSPerMiB float64 `json:"remote_read_us_per_mib"` // extra time to read 1 MiB the other core just wrote, against reading it from one's own cache
}

// crossCoreTrips and crossCoreRounds bound MeasureCrossCore to a few tens
// of milliseconds even at 500 ns a trip.
const (
	crossCoreTrips  = 20000 // round trips per round
	crossCoreRounds = 5
	crossCoreReads  = 20 // 1 MiB hand-overs
)

// MeasureCrossCore measures CrossCore between the first two cores this
// process may run on (MeasureCrossCoreOn). It needs two cores and
// GOMAXPROCS >= 2, and returns false otherwise or when pinning fails. It
// should run while no other goroutine of the process is busy: it first
// sleeps twice spinTime, so that the idle workers of the process's pools
// have parked. It takes about 10 to 60 ms.
func MeasureCrossCore() (CrossCore, bool) {
	if runtime.GOMAXPROCS(0) < 2 {
		return CrossCore{}, false
	}
	cpus, ok := twoCPUs()
	if !ok {
		return CrossCore{}, false
	}
	time.Sleep(2 * spinTime)
	cc, err := MeasureCrossCoreOn(cpus[0], cpus[1])
	return cc, err == nil
}

// MeasureCrossCoreOn measures CrossCore between cores a and b, with the
// calling goroutine pinned to a and another to b (on Linux; elsewhere they
// run unpinned). The threads' CPU affinity is restored afterwards.
func MeasureCrossCoreOn(a, b int) (CrossCore, error) {
	if a == b {
		return CrossCore{}, fmt.Errorf("cores %d and %d are the same core", a, b)
	}
	cc := CrossCore{CPUs: [2]int{a, b}}
	unpinA, err := pinThread(a)
	if err != nil {
		return CrossCore{}, err
	}
	defer unpinA()

	var flag, seq atomic.Int64
	buf := make([]float32, 1<<18) // 1 MiB
	started := make(chan error, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		unpinB, err := pinThread(b)
		started <- err
		if err != nil {
			return
		}
		defer unpinB()
		for i := int64(1); i <= crossCoreRounds*crossCoreTrips; i++ {
			for flag.Load() != 2*i-1 {
			}
			flag.Store(2 * i)
		}
		for r := int64(1); r <= crossCoreReads; r++ {
			for seq.Load() != 2*r-1 {
			}
			for i := range buf {
				buf[i]++
			}
			seq.Store(2 * r)
		}
	}()
	if err := <-started; err != nil {
		<-done
		return CrossCore{}, err
	}
	trips := make([]float64, 0, crossCoreRounds)
	i := int64(0)
	for range crossCoreRounds {
		t := time.Now()
		for range crossCoreTrips {
			i++
			flag.Store(2*i - 1)
			for flag.Load() != 2*i {
			}
		}
		trips = append(trips, float64(time.Since(t).Nanoseconds())/crossCoreTrips)
	}
	extra := make([]float64, 0, crossCoreReads)
	var sum float32
	for r := int64(1); r <= crossCoreReads; r++ {
		seq.Store(2*r - 1)
		for seq.Load() != 2*r {
		}
		t := time.Now()
		sum += sumLines(buf)
		remote := time.Since(t)
		t = time.Now()
		sum += sumLines(buf)
		extra = append(extra, float64((remote-time.Since(t)).Nanoseconds())/1e3)
	}
	<-done
	if sum == 0.5 { // keep the sums
		runtime.KeepAlive(buf)
	}
	cc.RoundTripNS = median(trips)
	cc.ReadUSPerMiB = max(0, median(extra))
	return cc, nil
}

// sumLines reads one value of every 64-byte cache line of x, in four
// independent sums, so that the loop is bound by moving lines.
func sumLines(x []float32) float32 {
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
	slices.Sort(x)
	return x[len(x)/2]
}
