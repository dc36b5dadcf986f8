//go:build linux

package main

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCSVUnderAddressSpaceLimit: under ulimit -v (here what the process
// maps at start plus 400 MiB), the limit nettrain derives from it leaves
// room for a data file's arrays to grow: a CSV whose rows would not fit
// is refused at its line, with the limit named, rather than crashing out
// of memory half-way (20 million rows, 229 MiB by the estimate, passed
// three quarters of what was left and then died with a Go stack trace),
// and one that fits trains.
func TestCSVUnderAddressSpaceLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 76 MiB CSV")
	}
	dir := t.TempDir()
	write := func(name string, pairs int) {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		w := bufio.NewWriterSize(f, 1<<20)
		w.WriteString("a,label\n")
		for range pairs {
			w.WriteString("1,0\n2,1\n")
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	write("big.csv", 10_000_000)
	write("small.csv", 1_000_000)
	const cfg = `name: as
data: {train: DATA, validation_split: 0.2}
model:
  input: [1]
  layers: [{dense: {units: 2}}]
loss: cross_entropy
training: {epochs: 1, batch_size: 64, steps: 2}
`
	for _, tc := range []struct {
		data string
		want string // "": trains
	}{
		{"big.csv", "the data read up to this line needs "},
		{"small.csv", ""},
	} {
		os.WriteFile(filepath.Join(dir, "c.yaml"), []byte(strings.Replace(cfg, "DATA", tc.data, 1)), 0o644)
		cmd := nettrainCmd(t, dir, "train", "c.yaml", "--out", "run-"+tc.data, "--threads", "2")
		cmd.Env = append(cmd.Env, "GO_TEST_MEMORY_MIB=400")
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v\n%.2000s", tc.data, err, out)
		case tc.want != "" && (!errors.As(err, &exit) || exit.ExitCode() != 1 || strings.Count(string(out), "\n") != 1 ||
			!strings.Contains(string(out), tc.want) || !strings.Contains(string(out), "a data file's share (a third) of what the process's ulimit -v or -d leaves")):
			t.Errorf("%s: %v\n%.2000s\nwant exit 1 and one line with %q", tc.data, err, out, tc.want)
		}
	}
}
