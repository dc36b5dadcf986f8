package main

import (
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/nettrain/nettrain/internal/infer"
	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/parallel"
	"github.com/nettrain/nettrain/internal/train"
)

// maxThreads caps --threads (train, eval, bench): each thread gets its own
// buffers, so 1e6 threads allocate gigabytes. It is the config's cap on
// training.threads.
const maxThreads = model.MaxThreads

// checkThreads validates a --threads value: 0 (the config's setting) or 1
// to maxThreads.
func checkThreads(n int) error {
	switch {
	case n < 0:
		return usageError{fmt.Errorf("--threads must be at least 1 (or 0 for the config's setting), got %d", n)}
	case n > maxThreads:
		return usageError{fmt.Errorf("--threads must be at most %d (the cap of training.threads), got %d", maxThreads, n)}
	}
	return nil
}

// warnThreads prints train.ThreadsWarning for a command that runs threads
// (--threads, else training.threads, else GOMAXPROCS) to w, its standard
// error, so that --json and predictions on standard output stay clean.
func warnThreads(w io.Writer, cfg *model.Config, threads int) {
	if s := train.ThreadsWarning(train.Threads(cfg, threads), parallel.Cores()); s != "" {
		fmt.Fprintln(w, s)
	}
}

// maxBenchSteps caps bench --steps (timed training steps, or with
// --inference forward passes), as infer.MaxForecastSteps caps predict
// --steps: 10^12 steps ran for ever.
const maxBenchSteps = 1_000_000

// checkIntFlag refuses an integer flag (named without its dashes) outside
// lo..hi with a usage error naming it; hi math.MaxInt means no cap.
func checkIntFlag(flag string, v, lo, hi int) error {
	switch {
	case v >= lo && v <= hi:
		return nil
	case hi == math.MaxInt:
		return usageError{fmt.Errorf("--%s must be at least %d, got %d", flag, lo, v)}
	}
	return usageError{fmt.Errorf("--%s must be %d to %d, got %d", flag, lo, hi, v)}
}

// checkFloatFlag refuses a float flag (named without its dashes) that is
// NaN, infinite or not inRange, with a usage error naming it and saying
// what it must be (want).
func checkFloatFlag(flag string, v float64, inRange bool, want string) error {
	if inRange && !math.IsNaN(v) && !math.IsInf(v, 0) {
		return nil
	}
	return usageError{fmt.Errorf("--%s must be %s, got %s", flag, want, strconv.FormatFloat(v, 'g', -1, 64))}
}

// checkGenerate validates generate's --length (0 to
// infer.MaxGenerateLength: the text is held in memory) and --temperature
// (a finite number >= 0).
func checkGenerate(o *GenerateOptions) error {
	switch {
	case o.Length < 0:
		return usageError{fmt.Errorf("--length must be >= 0, got %d", o.Length)}
	case o.Length > infer.MaxGenerateLength:
		return usageError{fmt.Errorf("--length must be at most %d characters, got %d", infer.MaxGenerateLength, o.Length)}
	}
	return checkFloatFlag("temperature", o.Temperature, o.Temperature >= 0, "a finite number >= 0")
}
