package session

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMetricsStepsBounded: metrics.csv's lines are read up to 64 KiB
// (a file appended to without a newline is not read whole), a bad row is
// quoted in a message of bounded length, and a last line without its
// newline is no row.
func TestMetricsStepsBounded(t *testing.T) {
	const header = "epoch,step,train_loss\n"
	long := strings.Repeat("9", 1<<20)
	for _, tc := range []struct {
		name, body string
		steps      int
		err        string
	}{
		{"rows", "1,5,0.1\n2,10,0.2\n", 2, ""},
		{"cut-last", "1,5,0.1\n2,1", 1, ""},
		{"long-no-newline", "1,5,0.1\n" + long, 0, ":3: a line of more than 64.0 KiB, which no metrics row is"},
		{"long-row", "1,5,0.1\n" + long + ",1\n", 0, ":3: a line of more than 64.0 KiB"},
		{"long-epoch", strings.Repeat("x", 60<<10) + ",5\n", 0, `:2: the epoch is "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...", not a number`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "metrics.csv")
			os.WriteFile(p, []byte(header+tc.body), 0o644)
			steps, err := metricsSteps(p)
			switch {
			case tc.err == "" && (err != nil || len(steps) != tc.steps):
				t.Errorf("%d steps, %v; want %d", len(steps), err, tc.steps)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err) || len(err.Error()) > 300):
				t.Errorf("error %.400v; want one of at most 300 bytes with %q", err, tc.err)
			}
		})
	}
}
