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
	"fmt"
	"runtime"
	"sort"
	"strings"
)

// Through runs f with every allocation profiled (runtime.MemProfileRate
// 1, restored afterwards; values under 16 bytes without pointers, which
// the runtime packs several to a block, are profiled a block at a time,
// so some of those go unseen) and returns how many allocations f made whose
// stack has a function whose full name starts with one of prefixes (a
// package path such as "github.com/nettrain/nettrain/", or a method such
// as "github.com/nettrain/nettrain/internal/parallel.(*Pool)"), and where:
// each such stack's count and frames, for a test's failure message.
func Through(f func(), prefixes ...string) (n int64, where string) {
	defer func(r int) { runtime.MemProfileRate = r }(runtime.MemProfileRate)
	runtime.MemProfileRate = 1
	before := count(prefixes)
	f()
	after := count(prefixes)
	var b strings.Builder
	keys := make([]string, 0, len(after))
	for k := range after {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if d := after[k] - before[k]; d != 0 {
			n += d
			fmt.Fprintf(&b, "%d at\n%s", d, k)
		}
	}
	return n, b.String()
}

// count sums the profile's allocations through prefixes by stack (its
// frames, one "function file:line" per line). The profile is as of the
// last completed collection, which may miss the allocations of the cycle
// before it: two collections bring it up to date.
func count(prefixes []string) map[string]int64 {
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
	sums := map[string]int64{}
	for _, r := range recs {
		if key, ok := through(r.Stack(), prefixes); ok {
			sums[key] += r.AllocObjects
		}
	}
	return sums
}

// through reports whether a stack has a function starting with one of
// prefixes, and not count itself (whose records and keys are not f's),
// with the stack's frames.
func through(stack []uintptr, prefixes []string) (string, bool) {
	frames := runtime.CallersFrames(stack)
	found := false
	var b strings.Builder
	for {
		f, more := frames.Next()
		if strings.HasSuffix(f.Function, "internal/allocs.count") {
			return "", false
		}
		for _, p := range prefixes {
			found = found || strings.HasPrefix(f.Function, p)
		}
		fmt.Fprintf(&b, "  %s %s:%d\n", f.Function, f.File, f.Line)
		if !more {
			return b.String(), found
		}
	}
}
