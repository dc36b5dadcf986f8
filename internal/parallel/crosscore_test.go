package parallel

import (
	"runtime"
	"testing"
)

// TestMeasureCrossCore checks that the measurement gives plausible figures
// on a machine of two or more cores (and refuses on one), and that it
// leaves the calling thread's CPU affinity as it found it.
func TestMeasureCrossCore(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before, okBefore := affinity()
	cc, ok := MeasureCrossCore()
	if runtime.NumCPU() < 2 || runtime.GOMAXPROCS(0) < 2 {
		if ok {
			t.Fatalf("MeasureCrossCore on %d CPUs (GOMAXPROCS %d) = %+v, true; want false", runtime.NumCPU(), runtime.GOMAXPROCS(0), cc)
		}
		return
	}
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
	if cc.CPUs[0] == cc.CPUs[1] && cc.CPUs[0] >= 0 {
		t.Errorf("measured core %d against itself", cc.CPUs[0])
	}
	if after, okAfter := affinity(); okBefore && okAfter && after != before {
		t.Errorf("the thread's CPU affinity changed from %s to %s", before, after)
	}
	t.Logf("cores %v: round trip %.0f ns, remote read +%.1f us per MiB", cc.CPUs, cc.RoundTripNS, cc.ReadUSPerMiB)
}
