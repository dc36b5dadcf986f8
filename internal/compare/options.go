package compare

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/nettrain/nettrain/internal/model"
)

// Options are the choices of one comparison.
type Options struct {
	Optimizers []string             // variant names, in report order
	LRGrid     int                  // grid points per optimizer
	LRs        map[string][]float64 // explicit grids, overriding LRGrid
	Seeds      int                  // seeds of the final phase
	Seed       uint64               // first seed (the config's)
	Epochs     int                  // budget, the same for every trial
	Steps      *int                 // optional step cap
	Workers    int                  // trials in parallel
	// EvalsPerEpoch is how often per epoch the validation loss is measured.
	EvalsPerEpoch int
	Phase         Phase    // PhaseAll, PhaseTune or PhaseFinal
	Shard, Shards int      // 1-based shard index and count; 0 count: no sharding
	Tuned         []string // directories with tuning records (phase final)
	OutDir        string
	TargetLoss    *float64
	Log           io.Writer // notes and the summary
	Progress      io.Writer // progress bar (a terminal), or nil
	// Interrupt delivers SIGINT/SIGTERM: running trials stop after their
	// current step (unrecorded, to be rerun), finished ones stay recorded,
	// and Run returns an *Interrupted.
	Interrupt <-chan os.Signal
}

// grid is the named optimizer's learning rates, ascending: its explicit
// grid (LRs), else LRGrid points around its default.
func (o *Options) grid(name string) []float64 {
	if g, ok := o.LRs[name]; ok {
		g = append([]float64(nil), g...)
		sort.Float64s(g)
		return g
	}
	v, _ := variant(name)
	return Grid(v.DefaultLR(), o.LRGrid)
}

// FlagError is a Validate error in a value the command line gives (or
// overrides): the command reports it as a usage error.
type FlagError = model.FlagError

// CheckOptimizerNames refuses, naming where the list came from (source),
// an unknown optimizer variant in names (with the closest known name) or
// one listed twice (model.CheckOptimizerList).
func CheckOptimizerNames(names []string, source string) error {
	if err := model.CheckOptimizerList(names); err != nil {
		return fmt.Errorf("%s: %v", source, err)
	}
	return nil
}

// Validate checks the options against the known variants; errors in the
// counts, phase, shard and --tuned are FlagErrors.
func (o *Options) Validate() error {
	if len(o.Optimizers) == 0 {
		return errors.New("no optimizers to compare")
	}
	if err := CheckOptimizerNames(o.Optimizers, "compare.optimizers"); err != nil {
		return err
	}
	for _, n := range slices.Sorted(maps.Keys(o.LRs)) {
		if err := CheckOptimizerNames([]string{n}, "compare.lr_grid"); err != nil {
			return err
		}
		if !slices.Contains(o.Optimizers, n) {
			return fmt.Errorf("compare.lr_grid names %q, which is not compared (optimizers: %s)", n, strings.Join(o.Optimizers, ", "))
		}
		if err := model.CheckRateGrid(o.LRs[n]); err != nil {
			return fmt.Errorf("compare.lr_grid.%s: %v", n, err)
		}
	}
	if t := o.TargetLoss; t != nil && !validTarget(*t) {
		return fmt.Errorf("compare.target_loss or --target-loss must be a finite validation loss > 0, got %g", *t)
	}
	flag := func(format string, args ...any) error { return FlagError{Err: fmt.Errorf(format, args...)} }
	switch {
	case o.LRGrid < 1:
		return flag("--lr-grid must be at least 1, got %d", o.LRGrid)
	case o.Seeds < 1:
		return flag("--seeds must be at least 1, got %d", o.Seeds)
	case o.Epochs < 1:
		return flag("--epochs must be at least 1, got %d", o.Epochs)
	case o.Steps != nil && *o.Steps < 1:
		return flag("--steps must be at least 1, got %d", *o.Steps)
	case o.Workers < 1:
		return flag("--workers must be at least 1, got %d", o.Workers)
	case o.Phase != PhaseAll && o.Phase != PhaseTune && o.Phase != PhaseFinal:
		return flag("--phase must be all, tune or final, got %q", o.Phase)
	case o.Shards > 0 && (o.Shard < 1 || o.Shard > o.Shards):
		return flag("--shard %d/%d: the index must be between 1 and %d", o.Shard, o.Shards, o.Shards)
	case o.Shards > 1 && o.Phase == PhaseAll:
		return FlagError{Err: errors.New("a sharded sweep runs in two stages: --phase tune on every shard, then --phase final --tuned DIR... (the tuning output directories) on every shard, then `compare-optimizers report DIR...`")}
	case len(o.Tuned) > 0 && o.Phase != PhaseFinal:
		return flag("--tuned gives the tuning shards' directories to --phase final; this is --phase %s", o.Phase)
	}
	return nil
}
