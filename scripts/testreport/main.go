// Command testreport reads `go test -json` output on standard input and
// prints what a person reads in CI: each package's ok/FAIL line, the full
// output of every failed test, the list of skipped tests with the reason
// each gave, and a closing line "N passed, N failed, N skipped" (tests and
// subtests). It exits 1 when a test or a package failed (a build error
// too), so `go test -json ./... | go run ./scripts/testreport` fails as
// `go test ./...` does.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
	Elapsed float64
}

// report accumulates the events of a run.
type report struct {
	out                     map[string][]string // package/test -> output lines
	passed, failed, skipped int
	skips                   []string // "pkg TestX: reason"
	failedPkgs              int
	// lostPkgs counts the packages that failed with no failed test of
	// their own (a setup or build failure, a crash before any test
	// reported): each counts as one failure in the closing line.
	lostPkgs int
	failedIn map[string]int // failed tests per package
	lines    []string       // package result lines, in order
}

func key(e event) string { return e.Package + " " + e.Test }

func (r *report) add(e event) {
	switch e.Action {
	case "output":
		r.out[key(e)] = append(r.out[key(e)], e.Output)
		if e.Test == "" {
			t := strings.TrimRight(e.Output, "\n")
			if strings.HasPrefix(t, "ok ") || strings.HasPrefix(t, "FAIL") || strings.HasPrefix(t, "?") || strings.HasPrefix(t, "# ") || strings.HasPrefix(t, "--- FAIL") {
				r.lines = append(r.lines, t)
			}
		}
	case "pass":
		if e.Test != "" {
			r.passed++
		}
	case "fail":
		if e.Test != "" {
			r.failed++
			r.failedIn[e.Package]++
			r.lines = append(r.lines, strings.TrimRight(strings.Join(r.out[key(e)], ""), "\n"))
		} else {
			r.failedPkgs++
			if r.failedIn[e.Package] == 0 {
				r.lostPkgs++
			}
		}
	case "skip":
		if e.Test != "" {
			r.skipped++
			r.skips = append(r.skips, fmt.Sprintf("%s %s: %s", e.Package, e.Test, reason(r.out[key(e)])))
		}
	}
}

// reason is the message a skipped test logged (the lines after its
// "--- SKIP" line), on one line.
func reason(lines []string) string {
	var msg []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- SKIP") {
			continue
		}
		msg = append(msg, t)
	}
	if len(msg) == 0 {
		return "(no reason given)"
	}
	return strings.Join(msg, " ")
}

func run(in io.Reader, w io.Writer) int {
	r := &report{out: map[string][]string{}, failedIn: map[string]int{}}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			// Not JSON: a build error or go's own message. Show it.
			fmt.Fprintln(w, sc.Text())
			if strings.TrimSpace(sc.Text()) != "" {
				r.failedPkgs++
				r.lostPkgs++
			}
			continue
		}
		r.add(e)
	}
	for _, l := range r.lines {
		fmt.Fprintln(w, l)
	}
	sort.Strings(r.skips)
	fmt.Fprintf(w, "\nskipped tests (%d):\n", len(r.skips))
	for _, s := range r.skips {
		fmt.Fprintln(w, "  "+s)
	}
	if len(r.skips) == 0 {
		fmt.Fprintln(w, "  none")
	}
	if r.lostPkgs > 0 {
		fmt.Fprintf(w, "\n%d package(s) failed before any test of theirs could (a build or setup failure: see the FAIL lines above); each counts as one failure below\n", r.lostPkgs)
	}
	fmt.Fprintf(w, "\n%d passed, %d failed, %d skipped\n", r.passed, r.failed+r.lostPkgs, r.skipped)
	if r.failed > 0 || r.failedPkgs > 0 {
		return 1
	}
	return 0
}

func main() { os.Exit(run(os.Stdin, os.Stdout)) }
