package model

import "github.com/nettrain/nettrain/internal/backprop"

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/nettrain/nettrain/internal/safeio"
)

// MaxConfigSize bounds the config file Load reads (16 MiB): real configs
// are a few kilobytes, and the bound keeps a wrong path (a device, a data
// file) from exhausting memory.
const MaxConfigSize = 16 << 20

// readConfig reads the config file with safeio: only a regular file, at
// most MaxConfigSize bytes, never blocking on a FIFO.
func readConfig(path string) ([]byte, error) {
	src, err := safeio.ReadFile(path, MaxConfigSize, "the config size limit")
	if err == nil {
		return src, nil
	}
	msg := osErr(err)
	var tl *safeio.TooLargeError
	if errors.As(err, &tl) {
		msg = fmt.Sprintf("it is %d bytes, more than a config may be (at most %d bytes, 16 MiB)", tl.Size, tl.Limit)
	} else if rest, ok := strings.CutPrefix(msg, path+" "); ok {
		msg = "it " + rest // "it is a named pipe (FIFO), not a regular file; ..."
	}
	return nil, &Error{File: path, Msg: "cannot read config: " + msg}
}

// Caps on counts in the config. Each bounds memory or loop sizes that a
// typo (1e6 threads) would otherwise turn into gigabytes; no real use
// comes near them. The command-line flags that override these keys
// (--threads, --lr-grid, --seeds, --evals-per-epoch) are checked against
// the same numbers.
const (
	// MaxThreads bounds training.threads (each thread has its own buffers).
	MaxThreads = 1024
	// MaxBatchSize bounds training.batch_size (buffers are sized for a batch).
	MaxBatchSize = 1 << 20
	// MaxEpochs bounds training.epochs, so that the schedule's length in
	// steps (epochs times batches per epoch) cannot overflow.
	MaxEpochs = 1_000_000
	// MaxCheckpointKeep bounds checkpoint.keep.
	MaxCheckpointKeep = 10_000
	// MaxGridPoints bounds compare.grid_points (runs per optimizer) and
	// the length of each explicit compare.lr_grid list.
	MaxGridPoints = 1000
	// MaxSeeds bounds compare.seeds (final runs per optimizer).
	MaxSeeds = 1000
	// MaxEvalsPerEpoch bounds compare.evals_per_epoch (points per
	// learning curve and epoch).
	MaxEvalsPerEpoch = 10_000
)

// checkCaps refuses counts above their cap; at finds a key's node.
func (c *Config) checkCaps(d *decoder, at func(string) *yaml.Node) error {
	threads := 0
	if c.Training.Threads != nil {
		threads = *c.Training.Threads
	}
	for _, k := range []struct {
		key    string
		v, max int
	}{
		{"training.epochs", c.Training.Epochs, MaxEpochs},
		{"training.batch_size", c.Training.BatchSize, MaxBatchSize},
		{"training.threads", threads, MaxThreads},
		{"checkpoint.keep", c.Checkpoint.Keep, MaxCheckpointKeep},
		{"compare.grid_points", c.Compare.GridPoints, MaxGridPoints},
		{"compare.seeds", c.Compare.Seeds, MaxSeeds},
		{"compare.evals_per_epoch", c.Compare.EvalsPerEpoch, MaxEvalsPerEpoch},
	} {
		if k.v > k.max {
			return d.errAt(at(k.key), k.key, "must be at most %d, got %d", k.max, k.v)
		}
	}
	// An explicit grid is one run per learning rate, like grid_points.
	for _, name := range slices.Sorted(maps.Keys(c.Compare.LRGrid)) {
		if n := len(c.Compare.LRGrid[name]); n > MaxGridPoints {
			key := "compare.lr_grid." + name
			return d.errAt(at(key), key, "must list at most %d learning rates, got %d", MaxGridPoints, n)
		}
	}
	return nil
}

// MaxLSTMLayers bounds an lstm layer's stacked layers (PyTorch's
// num_layers): each is four parameter tensors, listed before any size is
// checked, so 10^8 of them exhausted memory while the config was read.
const MaxLSTMLayers = backprop.MaxLSTMLayers
