package session

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/nettrain/nettrain/internal/model"
)

// runFiles are the files a run writes into its directory.
var runFiles = []string{"config.yaml", "metrics.csv", "metrics.jsonl", "last.safetensors", "best.safetensors", "curves.png", "curves.svg", "status.json"}

// RunDir is the run directory for cfg under o: --out, else the resumed
// checkpoint's directory, else runs/<name>.
func (o Options) RunDir(cfg *model.Config) string {
	switch {
	case o.OutDir != "":
		return o.OutDir
	case o.Resume != "":
		return filepath.Dir(o.Resume)
	}
	return filepath.Join("runs", cfg.Name)
}

// prepareDir creates the run directory, refusing to clobber an earlier run
// unless asked to, and removes what an interrupted write left behind. With
// --overwrite, the old run's files are set aside (returned), not removed.
func prepareDir(dir string, o Options) (set *aside, err error) {
	sameRun := o.Resume != "" && sameDir(dir, filepath.Dir(o.Resume))
	if !sameRun {
		for _, f := range runFiles {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				continue
			}
			if !o.Overwrite {
				if o.Resume != "" {
					return nil, fmt.Errorf("run directory %s already holds another run (%s); resume into the checkpoint's own directory (leave out --out), choose an empty --out, or pass --overwrite", dir, f)
				}
				last := filepath.Join(dir, "last.safetensors")
				if _, err := os.Stat(last); err != nil {
					// Nothing to resume from (a run that failed before its
					// first checkpoint, by an earlier nettrain).
					return nil, fmt.Errorf("run directory %s already holds a run (%s) but no last.safetensors to resume it from; pass --overwrite to start over, or --out DIR for a new directory",
						dir, f)
				}
				return nil, fmt.Errorf("run directory %s already holds a run (%s); pass --resume %s to continue it, --overwrite to start over, or --out DIR for a new directory",
					dir, f, last)
			}
			// The old run is set aside, not removed: until the new one has
			// its first last.safetensors, a failure puts it back.
			a, err := setAside(dir)
			if err != nil {
				return nil, err
			}
			set = a
			break
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		if set != nil {
			return nil, set.failed(fmt.Errorf("cannot create run directory: %w", err))
		}
		return nil, fmt.Errorf("cannot create run directory: %w", err)
	}
	// Temporary files of writes a killed process never finished.
	stale, _ := filepath.Glob(filepath.Join(dir, ".*.tmp*"))
	more, _ := filepath.Glob(filepath.Join(dir, ".tmp-*"))
	for _, f := range append(stale, more...) {
		os.Remove(f)
	}
	return set, nil
}

func sameDir(a, b string) bool {
	x, err1 := filepath.Abs(a)
	y, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && x == y
}
