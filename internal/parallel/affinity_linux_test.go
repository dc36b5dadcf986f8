//go:build linux

package parallel

import (
	"os"
	"path/filepath"
	"strings"
)

// threadAffinities returns the Cpus_allowed_list of every thread of the
// process (/proc/self/task/*/status), the first being the main thread's.
func threadAffinities() ([]string, bool) {
	tasks, err := filepath.Glob("/proc/self/task/*/status")
	if err != nil || len(tasks) == 0 {
		return nil, false
	}
	var out []string
	for _, p := range tasks {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // the thread has exited
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
				out = append(out, strings.TrimSpace(v))
			}
		}
	}
	return out, len(out) > 0
}
