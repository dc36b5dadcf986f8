// Command nettrain trains neural networks described in YAML files.
package main

import (
	"os"

	"github.com/nettrain/nettrain/internal/parallel"
)

func main() {
	// A container limited to one CPU gets one thread, not Go's two. An
	// unreadable cgroup leaves Go's choice, which is what runs without it.
	_ = parallel.FitQuota()
	os.Exit(Main(os.Args[1:], DefaultStreams()))
}
