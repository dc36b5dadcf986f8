package parallel

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// CrossCore is what it costs this machine, at the moment of measuring, to
// move data from one core to another: the cost every parallel loop pays
// when a goroutine reads what another core wrote (a GEMM's output read by
// the next layer, a gradient read by the optimizer). On a virtual machine
// it changes with where the host places the virtual CPUs: on this
// project's 2-core VM on 2026-12-04 the round trip was about 140 ns in
// some hours and about 480 ns in others, and the MNIST MLP's step at
// batch 64 scaled from 1 to 2 threads by about 1.75x in the first and
// about 1.35x in the second, with the same code and the same GEMM speed.
//
// It also measures each core on its own: how fast it reads data in its own
// L2 cache (L2ReadGBs). On the same VM a core's L2 read bandwidth halved
// (and its L2 latency doubled) for tens of seconds at a time, on either
// core, independently of the round trip, most likely while another
// tenant's thread ran on the same physical core; the GRU's forward pass
// on that core took 1.3 to 1.5 times as long meanwhile, while a GEMM
// kernel (its data in L1 and registers) ran at full speed. A 2-thread
// step then waits for the slowed core.
type CrossCore struct {
	CPUs         [2]int  `json:"cpus"`                   // the two cores measured; -1, -1: two unpinned threads
	RoundTripNS  float64 `json:"round_trip_ns"`          // one cache line there and back: median of rounds
	ReadUSPerMiB float64 `json:"remote_read_us_per_mib"` // extra time to read 1 MiB the other core just wrote, against reading it from one's own cache
	// L2ReadGBs is each core's read bandwidth, in GB/s, over a buffer of
	// l2ProbeBytes in its own cache (best of l2ProbeRounds rounds).
	L2ReadGBs [2]float64 `json:"l2_read_gbs"`
}

// crossCoreTrips and crossCoreRounds bound MeasureCrossCore to a few tens
// of milliseconds even at 500 ns a trip.
const (
	crossCoreTrips  = 20000 // round trips per round
	crossCoreRounds = 5
	crossCoreReads  = 20 // 1 MiB hand-overs
)

// l2ProbeBytes is half the smallest L2 cache of the cores nettrain has
// kernels for (512 KiB to 2 MiB) and several times their L1 (32 to 48
// KiB); l2ProbeRounds of l2ProbePasses passes take about half a
// millisecond per core.
const (
	l2ProbeBytes  = 256 << 10
	l2ProbeRounds = 5
	l2ProbePasses = 20
)

// crossCoreLimit stops a measurement whose second thread does not answer
// (both threads on one core), which would otherwise take many minutes. A
// variable for the tests.
var crossCoreLimit = 2 * time.Second

// stallSecondForTest makes the second thread of MeasureCrossCoreOn never
// answer, for the test of its time limit.
var stallSecondForTest bool

// crossCoreMu serialises measurements, which share their buffers (kept
// between measurements, so that bench's measurements between turns leave
// no garbage for a collection during the next turn).
var (
	crossCoreMu                  sync.Mutex
	crossCoreBuf, crossCoreProbe []float32
)

// sink keeps the sums of the timed reads from being optimised away.
var sink float32

// CrossCoreCPUs returns the first two cores this process may run on:
// those MeasureCrossCore measures. Where threads cannot be pinned (not
// Linux) it returns -1, -1 if the machine has two cores. It reports false
// on a machine, or a CPU mask, of one core.
func CrossCoreCPUs() ([2]int, bool) { return twoCPUs() }

// MeasureCrossCore measures CrossCore between the first two cores this
// process may run on (CrossCoreCPUs, MeasureCrossCoreOn). It needs two
// cores and GOMAXPROCS >= 2, and returns false otherwise or when the
// measurement fails. It should run while no other goroutine of the
// process is busy: it first sleeps twice spinTime, so that the idle
// workers of the process's pools have parked. It takes about 10 to 60 ms.
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
// calling goroutine pinned to a and another to b (Linux only; -1 for both
// runs two unpinned threads). The threads' CPU affinity is restored
// afterwards. It fails if GOMAXPROCS < 2, if a core is not one this
// process may run on, or if the second thread does not answer within
// crossCoreLimit.
func MeasureCrossCoreOn(a, b int) (CrossCore, error) {
	if p := runtime.GOMAXPROCS(0); p < 2 {
		return CrossCore{}, fmt.Errorf("measuring between two cores needs GOMAXPROCS of at least 2, have %d", p)
	}
	if a == b && a >= 0 {
		return CrossCore{}, fmt.Errorf("cores %d and %d are the same core", a, b)
	}
	if (a < 0) != (b < 0) {
		return CrossCore{}, fmt.Errorf("cores %d and %d: give two cores, or -1 for both (unpinned threads)", a, b)
	}
	// Measurements share their buffers and must not overlap; the time
	// limit starts once this one has them.
	crossCoreMu.Lock()
	defer crossCoreMu.Unlock()
	cc := CrossCore{CPUs: [2]int{a, b}}
	unpinA, err := pinThread(a)
	if err != nil {
		return CrossCore{}, err
	}
	var flag, seq atomic.Int64
	var abort atomic.Bool
	deadline := time.Now().Add(crossCoreLimit)
	// late reports, every 4096 polls of a wait, whether the measurement
	// has run out of time (telling the other thread so).
	late := func(polls *int) bool {
		*polls++
		if *polls&4095 != 0 {
			return false
		}
		if abort.Load() || time.Now().After(deadline) {
			abort.Store(true)
			return true
		}
		return false
	}
	if crossCoreBuf == nil {
		crossCoreBuf = make([]float32, 1<<18) // 1 MiB
	}
	if crossCoreProbe == nil {
		crossCoreProbe = make([]float32, l2ProbeBytes/4)
	}
	buf, probe := crossCoreBuf, crossCoreProbe
	// Each core's L2 bandwidth is measured while the other thread is not
	// running: this one's before the second starts, the second's while
	// this one waits on started.
	cc.L2ReadGBs[0] = l2Read(probe)
	started := make(chan error, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		unpinB, err := pinThread(b)
		if err == nil {
			// The first thread waits on started meanwhile.
			cc.L2ReadGBs[1] = l2Read(probe)
		}
		started <- err
		if err != nil {
			return
		}
		defer unpinB() //nolint:errcheck // a thread left pinned stays locked and ends with this goroutine
		polls := 0
		if stallSecondForTest {
			for !late(&polls) {
			}
			return
		}
		for i := int64(1); i <= crossCoreRounds*crossCoreTrips; i++ {
			for flag.Load() != 2*i-1 {
				if late(&polls) {
					return
				}
			}
			flag.Store(2 * i)
		}
		for r := int64(1); r <= crossCoreReads; r++ {
			for seq.Load() != 2*r-1 {
				if late(&polls) {
					return
				}
			}
			for i := range buf {
				buf[i]++
			}
			seq.Store(2 * r)
		}
	}()
	err = <-started
	if err == nil {
		err = cc.measure(&flag, &seq, buf, late)
	}
	<-done
	if uerr := unpinA(); uerr != nil && err == nil {
		err = uerr
	}
	if err != nil {
		return CrossCore{}, err
	}
	return cc, nil
}

// measure is the first thread's side of MeasureCrossCoreOn: the timed
// round trips, then the timed reads of what the other thread wrote.
func (cc *CrossCore) measure(flag, seq *atomic.Int64, buf []float32, late func(*int) bool) error {
	timeout := fmt.Errorf("the second thread did not answer within %v: are both threads on one core (GOMAXPROCS, CPU mask)?", crossCoreLimit)
	polls := 0
	trips := make([]float64, 0, crossCoreRounds)
	i := int64(0)
	for range crossCoreRounds {
		t := time.Now()
		for range crossCoreTrips {
			i++
			flag.Store(2*i - 1)
			for flag.Load() != 2*i {
				if late(&polls) {
					return timeout
				}
			}
		}
		trips = append(trips, float64(time.Since(t).Nanoseconds())/crossCoreTrips)
	}
	extra := make([]float64, 0, crossCoreReads)
	var sum float32
	for r := int64(1); r <= crossCoreReads; r++ {
		seq.Store(2*r - 1)
		for seq.Load() != 2*r {
			if late(&polls) {
				return timeout
			}
		}
		t := time.Now()
		sum += sumLines(buf)
		remote := time.Since(t)
		t = time.Now()
		sum += sumLines(buf)
		extra = append(extra, float64((remote-time.Since(t)).Nanoseconds())/1e3)
	}
	sink = sum
	cc.RoundTripNS = median(trips)
	cc.ReadUSPerMiB = max(0, median(extra))
	return nil
}

// CrossCoreStats summarises several CrossCore measurements: the medians,
// and the round trip's lowest and highest.
type CrossCoreStats struct {
	CPUs           [2]int  `json:"cpus"`
	RoundTripNS    float64 `json:"round_trip_ns"`
	RoundTripMinNS float64 `json:"round_trip_min_ns"`
	RoundTripMaxNS float64 `json:"round_trip_max_ns"`
	ReadUSPerMiB   float64 `json:"remote_read_us_per_mib"`
	Measurements   int     `json:"measurements"`
	// Each core's L2 read bandwidth: the median and the lowest of the
	// measurements, in GB/s.
	L2ReadGBs    [2]float64 `json:"l2_read_gbs"`
	L2ReadMinGBs [2]float64 `json:"l2_read_min_gbs"`
}

// SummarizeCrossCore summarises measurements (of the same two cores); nil
// if there are none.
func SummarizeCrossCore(ms []CrossCore) *CrossCoreStats {
	if len(ms) == 0 {
		return nil
	}
	trips := make([]float64, len(ms))
	reads := make([]float64, len(ms))
	for i, m := range ms {
		trips[i], reads[i] = m.RoundTripNS, m.ReadUSPerMiB
	}
	trip, read := median(trips), median(reads) // median sorts
	st := &CrossCoreStats{CPUs: ms[0].CPUs, RoundTripNS: trip, RoundTripMinNS: trips[0],
		RoundTripMaxNS: trips[len(trips)-1], ReadUSPerMiB: read, Measurements: len(ms)}
	for c := range 2 {
		l2 := make([]float64, len(ms))
		for i, m := range ms {
			l2[i] = m.L2ReadGBs[c]
		}
		st.L2ReadGBs[c] = median(l2)
		st.L2ReadMinGBs[c] = l2[0]
	}
	return st
}

// OnCore runs f on the calling goroutine with its thread pinned to core
// cpu (Linux; elsewhere, and for cpu -1, unpinned), then restores the
// thread's CPU affinity. It fails if cpu is not a core this process may
// run on. For probes that time the same work on each core in turn
// (scripts/coreprobe).
func OnCore(cpu int, f func()) error {
	unpin, err := pinThread(cpu)
	if err != nil {
		return err
	}
	f()
	return unpin()
}

// L2ReadGBs returns the calling thread's read bandwidth from its own L2
// cache, in GB/s: the probe of CrossCore.L2ReadGBs (run it under OnCore
// to choose the core).
func L2ReadGBs() float64 {
	crossCoreMu.Lock()
	defer crossCoreMu.Unlock()
	if crossCoreProbe == nil {
		crossCoreProbe = make([]float32, l2ProbeBytes/4)
	}
	return l2Read(crossCoreProbe)
}

// l2Read returns the calling thread's read bandwidth over x, in GB/s:
// the best of l2ProbeRounds rounds of l2ProbePasses passes of sumLines,
// after one pass that brings x into its caches.
func l2Read(x []float32) float64 {
	sum := sumLines(x)
	best := time.Duration(1 << 62)
	for range l2ProbeRounds {
		t := time.Now()
		for range l2ProbePasses {
			sum += sumLines(x)
		}
		best = min(best, time.Since(t))
	}
	sink += sum
	return float64(4*len(x)*l2ProbePasses) / float64(best.Nanoseconds())
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

// median sorts x and returns its median (the mean of the middle two for
// an even count).
func median(x []float64) float64 {
	slices.Sort(x)
	n := len(x)
	if n%2 == 0 {
		return (x[n/2-1] + x[n/2]) / 2
	}
	return x[n/2]
}
