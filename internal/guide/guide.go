package guide

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/nettrain/nettrain/internal/compare"
	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/safeio"
	"github.com/nettrain/nettrain/internal/session"
)

// Options are the choices of a guide run.
type Options struct {
	ConfigsDir string   // where the suite's configs are (the repository's configs/)
	Out        string   // one directory per problem, and README.md
	Problems   []string // names from Suite; empty: all
	LRGrid     int      // grid points per optimizer (each grid holds the default)
	Seeds      int      // seeds of the final runs
	Workers    int
	Scale      float64 // multiplies every problem's step budget
	// ReportOnly rebuilds the page from the problems' records in Out (for
	// example after running each problem's comparison sharded).
	ReportOnly bool
	// Command is the command line that regenerates the page, quoted in it.
	Command   string
	Log       io.Writer
	Progress  io.Writer
	Interrupt <-chan os.Signal
}

// Result is one problem's comparison.
type Result struct {
	Problem Problem
	Steps   int
	Summary *compare.Summary
}

// CheckProblems refuses a name in names that is no problem of the suite,
// as Run would.
func CheckProblems(names []string) error {
	_, err := (&Options{Problems: names}).problems()
	return err
}

// problems is the selected part of the suite, in suite order.
func (o *Options) problems() ([]Problem, error) {
	if len(o.Problems) == 0 {
		return Suite, nil
	}
	var names []string
	for _, p := range Suite {
		names = append(names, p.Name)
	}
	var out []Problem
	for _, n := range o.Problems {
		i := slices.Index(names, n)
		if i < 0 {
			return nil, fmt.Errorf("unknown problem %q%s; known: %s", n, model.DidYouMean(n, names), strings.Join(names, ", "))
		}
		out = append(out, Suite[i])
	}
	return out, nil
}

// Run runs (or with ReportOnly, reads) every selected problem's comparison
// and writes Out/README.md, the guide's page.
func Run(o Options) ([]Result, error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	switch {
	case o.LRGrid < 1 || o.Seeds < 1 || o.Workers < 1:
		return nil, errors.New("--lr-grid, --seeds and --workers must be at least 1")
	case !(o.Scale > 0) || math.IsInf(o.Scale, 0):
		return nil, fmt.Errorf("--scale must be a finite number > 0, got %g", o.Scale)
	}
	probs, err := o.problems()
	if err != nil {
		return nil, err
	}
	if err := checkOut(o.Out); err != nil {
		return nil, err
	}
	if !o.ReportOnly {
		if err := checkConfigs(o.ConfigsDir, probs); err != nil {
			return nil, err
		}
	}
	var results []Result
	for _, p := range probs {
		dir := filepath.Join(o.Out, p.Name)
		steps := max(1, int(math.Round(float64(p.Steps)*o.Scale)))
		var sum *compare.Summary
		if o.ReportOnly {
			sum, err = compare.ReportDirs([]string{dir}, compare.ReportOptions{Out: dir, Log: io.Discard})
			if err == nil {
				err = sameRun(sum, steps, &o)
			}
		} else {
			fmt.Fprintf(o.Log, "== %s: %s, %d steps per trial\n", p.Name, p.Kind, steps)
			sum, err = runProblem(p, steps, dir, &o)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w%s", p.Name, err, notRebuilt(results, &o))
		}
		results = append(results, Result{Problem: p, Steps: steps, Summary: sum})
	}
	page := Page(results, &o)
	if err := safeio.WriteFile(filepath.Join(o.Out, "README.md"), []byte(page)); err != nil {
		return nil, err
	}
	fmt.Fprintf(o.Log, "\nThe guide is in %s\n", filepath.Join(o.Out, "README.md"))
	return results, nil
}

// checkConfigs refuses, before any work, a configs directory without the
// problems' configs: the guide run from another directory than the
// repository's root finds none in ./configs.
func checkConfigs(dir string, probs []Problem) error {
	for _, p := range probs {
		path := filepath.Join(dir, p.Config)
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("--configs %s: no %s there (%v): the suite's configs are the repository's configs/ directory; run from the repository's root or give --configs that directory", dir, p.Config, errors.Unwrap(err))
		}
	}
	return nil
}

// notRebuilt is what a failure leaves, added to its message when some
// problems' reports were already written: the page is written last, so
// it still describes the runs before (or is missing), and rerunning the
// command goes on from the records.
func notRebuilt(done []Result, o *Options) string {
	if len(done) == 0 {
		return ""
	}
	var names []string
	for _, r := range done {
		names = append(names, r.Problem.Name)
	}
	page := filepath.Join(o.Out, "README.md")
	state := "was not written"
	if _, err := os.Stat(page); err == nil {
		state = "was not rebuilt and still describes the earlier records"
	}
	again := "run the same command again: the trials done are kept"
	if o.ReportOnly {
		again = "rebuild it with the same command once the records are there"
	}
	return fmt.Sprintf(" (the reports of %s are new, but the page %s %s; %s)", strings.Join(names, ", "), page, state, again)
}

// checkOut refuses an output directory that is not a guide's but holds
// other files: the guide would scatter its problem directories among
// them, and replace a README.md that is not its page. A missing or empty
// directory is fine, and so is a guide's: its page, or a problem's
// records.
func checkOut(out string) error {
	readme := filepath.Join(out, "README.md")
	page := isPage(readme)
	if _, err := os.Stat(readme); err == nil && !page {
		return fmt.Errorf("output directory %s holds a README.md that is not a guide's page, which the guide would replace: give --out a new or empty directory", out)
	}
	problem := func(name string) bool {
		return slices.ContainsFunc(Suite, func(p Problem) bool { return p.Name == name })
	}
	foreign := session.ForeignFiles(out, func(n string) bool { return n == "README.md" || problem(n) })
	if len(foreign) == 0 || page {
		return nil
	}
	for _, p := range Suite {
		if _, err := os.Stat(filepath.Join(out, p.Name, compare.RecordsFile)); err == nil {
			return nil
		}
	}
	return session.ForeignDirError("output directory", out, "guide", "guide page README.md or problem directory with "+compare.RecordsFile, foreign)
}

// isPage tells whether path is a page the guide wrote: its first line is
// the page's title.
func isPage(path string) bool {
	f, _, err := safeio.Open(path) // a FIFO would block a plain open
	if err != nil {
		return false
	}
	defer f.Close()
	b := make([]byte, len(pageTitle)+1)
	n, _ := io.ReadFull(f, b)
	return string(b[:n]) == pageTitle+"\n"
}

// sameRun refuses to describe records (--report) as run with other
// settings than they were: the page states the grid, the seeds and the
// steps per trial.
func sameRun(sum *compare.Summary, steps int, o *Options) error {
	grid := 0
	for _, s := range sum.Optimizers {
		grid = max(grid, len(s.Grid))
	}
	if grid != o.LRGrid || sum.Seeds != o.Seeds || sum.Steps > 0 && sum.Steps != int64(steps) {
		return fmt.Errorf("the records were run with %d rates, %d seeds and %d steps per trial, not the %d, %d and %d these flags give: rebuild the page with the flags they ran with (--lr-grid, --seeds, --scale)",
			grid, sum.Seeds, sum.Steps, o.LRGrid, o.Seeds, steps)
	}
	return nil
}

// runProblem runs one problem's comparison in dir (resuming from the
// records there).
func runProblem(p Problem, steps int, dir string, o *Options) (*compare.Summary, error) {
	if p.Licences {
		// Where the config's data.train points (configs/data), so that
		// the config needs no override and its records are the same from
		// any checkout.
		d, err := WriteLicenceBOW(LicencesDir, filepath.Join(o.ConfigsDir, "data"))
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(o.Log, "licence data set: %d paragraphs of %d licences, %d words, %.1f%% of the features non-zero: %s\n",
			d.Paragraphs, len(d.Classes), d.Vocab, 100*d.Density, d.CSV)
	}
	cfg, err := model.Load(filepath.Join(o.ConfigsDir, p.Config), problemSets(p, steps))
	if err != nil {
		return nil, err
	}
	co := compare.Options{
		Optimizers: compare.VariantNames(), LRGrid: o.LRGrid, Seeds: o.Seeds, Seed: cfg.Seed,
		// The budget is the steps: epochs (as many as --epochs allows)
		// never end a trial first.
		Epochs: model.MaxEpochs, Steps: &steps, Workers: o.Workers,
		EvalsPerEpoch: 1,
		Phase:         compare.PhaseAll, OutDir: dir, Log: o.Log, Progress: o.Progress, Interrupt: o.Interrupt,
	}
	return compare.Run(cfg, co)
}

// problemSets are the overrides of problem p's config: its own, and
// eight validation measurements per trial.
func problemSets(p Problem, steps int) []string {
	return append(slices.Clone(p.Sets), fmt.Sprintf("training.eval_every_steps=%d", max(1, steps/8)))
}
