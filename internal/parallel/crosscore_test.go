package parallel

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// twoCores skips a test that needs two cores and GOMAXPROCS >= 2, after
// checking that MeasureCrossCore refuses without them.
func twoCores(t *testing.T) [2]int {
	t.Helper()
	cpus, ok := CrossCoreCPUs()
	if !ok || runtime.GOMAXPROCS(0) < 2 {
		if cc, ok := MeasureCrossCore(); ok {
			t.Fatalf("MeasureCrossCore on %d CPUs (GOMAXPROCS %d) = %+v, true; want false", runtime.NumCPU(), runtime.GOMAXPROCS(0), cc)
		}
		t.Skip("needs two cores and GOMAXPROCS >= 2")
	}
	return cpus
}

// TestMeasureCrossCore checks that the measurement gives plausible figures
// and leaves every thread's CPU affinity as it found it.
func TestMeasureCrossCore(t *testing.T) {
	cpus := twoCores(t)
	before, okBefore := threadAffinities()
	cc, ok := MeasureCrossCore()
	if !ok {
		t.Fatal("MeasureCrossCore reported false on a machine of two or more cores")
	}
	// A cache line's round trip takes tens of nanoseconds at least (two
	// transfers between cores) and far less than a millisecond.
	if cc.RoundTripNS < 10 || cc.RoundTripNS > 1e6 {
		t.Errorf("round trip %.1f ns: not a cache line's", cc.RoundTripNS)
	}
	if cc.ReadUSPerMiB < 0 || cc.ReadUSPerMiB > 1e5 {
		t.Errorf("remote read %.1f us per MiB: implausible", cc.ReadUSPerMiB)
	}
	for c, gbs := range cc.L2ReadGBs {
		// Reading from L2 moves tens to hundreds of GB/s: not less than
		// a memory bus, not more than a register file.
		if gbs < 1 || gbs > 1e4 {
			t.Errorf("core %d: L2 read %.1f GB/s: implausible", cc.CPUs[c], gbs)
		}
	}
	if cc.CPUs != cpus {
		t.Errorf("measured cores %v, want the first two allowed, %v", cc.CPUs, cpus)
	}
	if after, okAfter := threadAffinities(); okBefore && okAfter {
		for _, a := range after {
			if a != before[0] {
				t.Errorf("a thread's CPU affinity is %s after the measurement, the process's %s before", a, before[0])
			}
		}
	}
	t.Logf("cores %v: round trip %.0f ns, remote read +%.1f us per MiB, L2 read %.0f and %.0f GB/s", cc.CPUs, cc.RoundTripNS, cc.ReadUSPerMiB, cc.L2ReadGBs[0], cc.L2ReadGBs[1])
}

// TestMeasureCrossCoreOnErrors: bad cores and a lone P are errors naming
// what was expected, returned at once.
func TestMeasureCrossCoreOnErrors(t *testing.T) {
	cpus := twoCores(t)
	for _, c := range []struct {
		a, b int
		want string
	}{
		{cpus[0], cpus[0], "are the same core"},
		{cpus[0], -1, "or -1 for both"},
		{cpus[0], 1 << 20, "is not one this process may run on"},
	} {
		if _, err := MeasureCrossCoreOn(c.a, c.b); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("MeasureCrossCoreOn(%d, %d) = %v, want an error containing %q", c.a, c.b, err, c.want)
		}
	}
	old := runtime.GOMAXPROCS(1)
	_, err := MeasureCrossCoreOn(cpus[0], cpus[1])
	runtime.GOMAXPROCS(old)
	if err == nil || !strings.Contains(err.Error(), "GOMAXPROCS of at least 2") {
		t.Errorf("with GOMAXPROCS 1: %v, want an error about GOMAXPROCS", err)
	}
}

// TestMeasureCrossCoreTimeLimit: a second thread that never answers ends
// the measurement with an error after the limit, affinity restored.
func TestMeasureCrossCoreTimeLimit(t *testing.T) {
	cpus := twoCores(t)
	defer func(l time.Duration) { crossCoreLimit, stallSecondForTest = l, false }(crossCoreLimit)
	crossCoreLimit, stallSecondForTest = 50*time.Millisecond, true
	before, okBefore := threadAffinities()
	start := time.Now()
	_, err := MeasureCrossCoreOn(cpus[0], cpus[1])
	if took := time.Since(start); err == nil || !strings.Contains(err.Error(), "did not answer") || took > 2*time.Second {
		t.Errorf("stalled second thread: %v after %v, want a timeout error after about 50ms", err, took)
	}
	if after, okAfter := threadAffinities(); okBefore && okAfter {
		for _, a := range after {
			if a != before[0] {
				t.Errorf("a thread's CPU affinity is %s after the timeout, the process's %s before", a, before[0])
			}
		}
	}
}

// TestSummarizeCrossCore: medians (the mean of the middle two for an even
// count), lowest and highest round trip, count; nil for no measurements.
func TestSummarizeCrossCore(t *testing.T) {
	if s := SummarizeCrossCore(nil); s != nil {
		t.Errorf("SummarizeCrossCore(nil) = %+v, want nil", s)
	}
	for _, c := range []struct {
		ms   []CrossCore
		want CrossCoreStats
	}{
		{[]CrossCore{{CPUs: [2]int{0, 1}, RoundTripNS: 140, ReadUSPerMiB: 3, L2ReadGBs: [2]float64{150, 80}}},
			CrossCoreStats{CPUs: [2]int{0, 1}, RoundTripNS: 140, RoundTripMinNS: 140, RoundTripMaxNS: 140, ReadUSPerMiB: 3, Measurements: 1,
				L2ReadGBs: [2]float64{150, 80}, L2ReadMinGBs: [2]float64{150, 80}}},
		{[]CrossCore{{CPUs: [2]int{2, 3}, RoundTripNS: 500, ReadUSPerMiB: 30, L2ReadGBs: [2]float64{150, 160}},
			{CPUs: [2]int{2, 3}, RoundTripNS: 100, ReadUSPerMiB: 2, L2ReadGBs: [2]float64{80, 170}},
			{CPUs: [2]int{2, 3}, RoundTripNS: 480, ReadUSPerMiB: 28, L2ReadGBs: [2]float64{160, 75}},
			{CPUs: [2]int{2, 3}, RoundTripNS: 120, ReadUSPerMiB: 4, L2ReadGBs: [2]float64{170, 150}}},
			CrossCoreStats{CPUs: [2]int{2, 3}, RoundTripNS: 300, RoundTripMinNS: 100, RoundTripMaxNS: 500, ReadUSPerMiB: 16, Measurements: 4,
				L2ReadGBs: [2]float64{155, 155}, L2ReadMinGBs: [2]float64{80, 75}}},
	} {
		if got := SummarizeCrossCore(c.ms); got == nil || *got != c.want {
			t.Errorf("SummarizeCrossCore(%+v) = %+v, want %+v", c.ms, got, c.want)
		}
	}
}
