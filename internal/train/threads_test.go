package train

import (
	"runtime"
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
