package parallel

import (
	"math"
	"runtime"

	"go.uber.org/automaxprocs/maxprocs"
)

// FitQuota lowers GOMAXPROCS, and so Cores and every default thread count,
// to a Linux container's CPU quota (cgroup v1 or v2) rounded up, when Go
// chose more: Go's own default is the quota rounded up but at least 2, so
// a process limited to one CPU (a Kubernetes limits.cpu of 1 or less)
// would run 2 threads taking turns on it, which makes a training step
// slower than 1 thread does. It never raises GOMAXPROCS (a quota above
// the CPUs the process may use changes nothing), and leaves it alone when
// the GOMAXPROCS environment variable is set or there is no quota. The
// command calls it once, first; it returns the error reading the cgroups,
// if any, with GOMAXPROCS unchanged.
func FitQuota() error {
	prev := runtime.GOMAXPROCS(0)
	_, err := maxprocs.Set(maxprocs.Min(1), maxprocs.RoundQuotaFunc(func(quota float64) int { return quotaProcs(prev, quota) }))
	return err
}

// quotaProcs is FitQuota's GOMAXPROCS for a CPU quota (in CPUs) when Go
// chose prev: the quota rounded up, at least 1, at most prev.
func quotaProcs(prev int, quota float64) int {
	return max(1, min(prev, int(math.Ceil(quota))))
}
