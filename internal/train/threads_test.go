package train

import (
	"runtime"
	"strings"
	"testing"

	"github.com/nettrain/nettrain/internal/model"
)

// TestThreads: the flag wins, then training.threads, then GOMAXPROCS (the
// cores the process may use), never runtime.NumCPU, which ignores a
// container's CPU limit.
func TestThreads(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	three := 3
	for _, c := range []struct {
		name     string
		config   *int
		override int
		want     int
	}{
		{"default", nil, 0, 1},
		{"config", &three, 0, 3},
		{"flag over config", &three, 5, 5},
		{"flag", nil, 2, 2},
	} {
		cfg := &model.Config{}
		cfg.Training.Threads = c.config
		if got := Threads(cfg, c.override); got != c.want {
			t.Errorf("%s: Threads = %d, want %d (GOMAXPROCS 1)", c.name, got, c.want)
		}
	}
}

// TestThreadsWarning: a run warns when it is to use more threads than the
// cores the process may use, and only then.
func TestThreadsWarning(t *testing.T) {
	for _, c := range []struct {
		threads, cores int
		want           string // "" for no warning
	}{
		{1, 2, ""},
		{2, 2, ""},
		{4, 2, "warning: 4 threads on the 2 cores this process may use (GOMAXPROCS, at most its CPU mask): the extra threads take turns\non the cores and likely slow the run; use --threads 2 or training.threads: 2"},
		{2, 1, "warning: 2 threads on the 1 core this process may use (GOMAXPROCS, at most its CPU mask)"},
	} {
		if got := ThreadsWarning(c.threads, c.cores); (c.want == "") != (got == "") || !strings.HasPrefix(got, c.want) {
			t.Errorf("%d threads, %d cores: %q, want %q", c.threads, c.cores, got, c.want)
		}
	}
}
