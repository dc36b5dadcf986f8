package parallel

import (
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"

	"go.uber.org/automaxprocs/maxprocs"
)

// FitQuota lowers GOMAXPROCS, and so Cores and every default thread count,
// to a Linux container's CPU quota rounded up, when Go chose more: Go's
// own default is the quota rounded up but at least 2, so a process
// limited to one CPU (a Kubernetes limits.cpu of 1 or less) would run 2
// threads taking turns on it, which makes a training step slower than 1
// thread does. The quota is the process's own cgroup's (v1, or v2 mounted
// at /sys/fs/cgroup), read by go.uber.org/automaxprocs; a parent's limit
// is not seen.
//
// It never raises GOMAXPROCS (a quota above the CPUs the process may use
// changes nothing), and it does nothing when GOMAXPROCS is set to a
// positive number or GODEBUG has containermaxprocs=0, when there is no
// quota, or when the cgroups cannot be read (it returns that error). A
// lowered GOMAXPROCS stays for the run; otherwise Go keeps updating its
// default as the limit or the CPU mask changes. The command calls it
// once, first.
func FitQuota() error {
	if v, ok := os.LookupEnv("GOMAXPROCS"); ok {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			return nil // the user's choice
		}
		// Go ignores a value that is not a positive number, and
		// automaxprocs would take it as set.
		os.Unsetenv("GOMAXPROCS")
	}
	if strings.Contains(","+os.Getenv("GODEBUG")+",", ",containermaxprocs=0,") {
		return nil // the user asked Go to ignore the container's limit
	}
	prev := runtime.GOMAXPROCS(0)
	quota := -1.0
	_, err := maxprocs.Set(maxprocs.Min(1), maxprocs.RoundQuotaFunc(func(q float64) int {
		quota = q
		return quotaProcs(prev, q)
	}))
	if quota >= 0 && quotaProcs(prev, quota) == prev {
		// Set wrote Go's own value back, which stops Go's updates of it.
		runtime.SetDefaultGOMAXPROCS()
	}
	return err
}

// quotaProcs is FitQuota's GOMAXPROCS for a CPU quota (in CPUs) when Go
// chose prev: the quota rounded up, at least 1, at most prev.
func quotaProcs(prev int, quota float64) int {
	return max(1, min(prev, int(math.Ceil(quota))))
}
