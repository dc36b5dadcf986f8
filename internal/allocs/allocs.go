// Package allocs counts, for tests, the heap allocations made through a
// program's own code while a function runs: those whose call stack has a
// function of a given package path prefix. Counting runtime.MemStats's
// mallocs instead also counts what the Go runtime allocates for itself
// (a thread it starts, a collection's workers), which no change to the
// program can avoid; and testing.AllocsPerRun divides with the remainder
// dropped, so an allocation every few calls goes unseen. Nothing outside
// tests imports this package.
package allocs

import (
	"runtime"
	"strings"
)

// Through runs f with every allocation profiled (runtime.MemProfileRate
// 1, restored afterwards) and returns how many allocations f made whose
// stack has a function whose full name starts with one of prefixes (a
// package path such as "github.com/nettrain/nettrain/", or a method such
// as "github.com/nettrain/nettrain/internal/parallel.(*Pool)").
func Through(f func(), prefixes ...string) int64 {
	defer func(r int) { runtime.MemProfileRate = r }(runtime.MemProfileRate)
	runtime.MemProfileRate = 1
	before := count(prefixes)
	f()
	return count(prefixes) - before
}

// count sums the profile's allocations through prefixes. The profile is
// as of the last completed collection, which may miss the allocations of
// the cycle before it: two collections bring it up to date.
func count(prefixes []string) int64 {
	runtime.GC()
	runtime.GC()
	recs := make([]runtime.MemProfileRecord, 1024)
	for {
		n, ok := runtime.MemProfile(recs, true)
		if ok {
			recs = recs[:n]
			break
		}
		recs = make([]runtime.MemProfileRecord, n+1024)
	}
	var sum int64
	for _, r := range recs {
		if through(r.Stack(), prefixes) {
			sum += r.AllocObjects
		}
	}
	return sum
}

// through reports whether a stack has a function starting with one of
// prefixes, and not count itself (whose record buffer is not f's).
func through(stack []uintptr, prefixes []string) bool {
	frames := runtime.CallersFrames(stack)
	found := false
	for {
		f, more := frames.Next()
		if strings.HasSuffix(f.Function, "internal/allocs.count") {
			return false
		}
		for _, p := range prefixes {
			found = found || strings.HasPrefix(f.Function, p)
		}
		if !more {
			return found
		}
	}
}
