package compare

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/session"
	"github.com/nettrain/nettrain/internal/train"
)

// Interrupted reports a comparison stopped by a signal.
type Interrupted struct {
	Signal os.Signal
	Dir    string
	Done   int // finished trials recorded in Dir (earlier runs' too)
	// Removed: no trial was recorded and Dir, which the run created, was
	// removed again as it closed.
	Removed bool
}

func (e *Interrupted) Error() string {
	sig := session.SignalName(e.Signal)
	switch {
	case e.Done > 0:
		trials := "trials are"
		if e.Done == 1 {
			trials = "trial is"
		}
		return fmt.Sprintf("interrupted by %s; %d finished %s recorded in %s; run the same command again to continue", sig, e.Done, trials, filepath.Join(e.Dir, RecordsFile))
	case e.Removed:
		return fmt.Sprintf("interrupted by %s before any trial finished: nothing was recorded, and %s, which this run created, was removed; run the same command again to start afresh", sig, e.Dir)
	}
	return fmt.Sprintf("interrupted by %s before any trial finished: nothing was recorded in %s; run the same command again to start afresh", sig, e.Dir)
}

// Run runs the comparison the options describe (resuming from the records
// already in OutDir) and, unless sharded, writes the report.
func Run(cfg *model.Config, o Options) (*Summary, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	sweep := sweepHash(cfg, &o)
	plan := o.plan(cfg)
	r, err := openRunner(&o, sweep, plan, "comparison's output directory")
	if err != nil {
		return nil, err
	}
	defer r.close()
	r.cfg = cfg
	if cfg.DType == "float64" {
		err = runPhases[float64](r)
	} else {
		err = runPhases[float32](r)
	}
	if err != nil {
		return nil, r.closeWith(err)
	}
	if o.Shards > 1 {
		if err := touchRecords(o.OutDir); err != nil {
			return nil, err
		}
	}
	recs, err := readRecords(o.OutDir)
	if err != nil {
		return nil, err
	}
	if o.Shards > 1 {
		fmt.Fprintf(o.Log, "shard %d/%d done: %d trial records in %s; merge the shards with `nettrain compare-optimizers report DIR...`\n",
			o.Shard, o.Shards, len(recs), filepath.Join(o.OutDir, RecordsFile))
		return nil, nil
	}
	sets := [][]Record{recs}
	if o.Phase == PhaseFinal {
		// The tuning records live in the --tuned directories.
		for _, dir := range o.Tuned {
			t, err := readShardRecords(dir)
			if err != nil {
				return nil, err
			}
			sets = append(sets, t)
		}
	}
	// Partial: --phase tune reports the tuning runs, with a warning that
	// the final runs are still to come.
	return Report(sets, ReportOptions{Plan: plan, Out: o.OutDir, Target: o.TargetLoss, Partial: true, Log: o.Log})
}

// checkOutDir refuses an output directory of other files, which holds no
// comparison's or sweep's records.
func checkOutDir(dir string) error {
	if foreign := session.ForeignFiles(dir, isOutputFile); len(foreign) > 0 {
		if _, err := os.Stat(filepath.Join(dir, RecordsFile)); err != nil {
			return session.ForeignDirError("output directory", dir, "comparison or sweep", RecordsFile, foreign)
		}
	}
	return nil
}

// openRunner prepares a runner of o's trials in o.OutDir: it creates the
// directory (what names it in messages: "comparison's output directory"),
// repairs and reads the records already there (the trials done), and
// refuses records of another sweep. Every sweep (compare-optimizers,
// sweep) runs its trials through a runner.
func openRunner(o *Options, sweep string, plan *Plan, what string) (*runner, error) {
	// Refused before anything (the lock) is written into it.
	if err := checkOutDir(o.OutDir); err != nil {
		return nil, err
	}
	_, statErr := os.Stat(filepath.Join(o.OutDir, RecordsFile))
	lock, err := session.LockDir(o.OutDir, what, o.Log)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*runner, error) {
		lock.Unlock()
		return nil, err
	}
	if err := repairRecords(o.OutDir); err != nil {
		return fail(err)
	}
	own, err := ownRecords(o.OutDir, sweep)
	if err != nil {
		return fail(err)
	}
	r := &runner{o: o, sweep: sweep, plan: plan, done: map[Key]Record{}, lock: lock, newRecords: os.IsNotExist(statErr)}
	for _, rec := range own {
		r.done[rec.Key] = rec
	}
	return r, nil
}

// OwnedOutputFile tells whether path names a file a comparison or sweep
// writes into its output directory (trials, summary, plots) inside a
// directory that holds one's records, trials.jsonl; when path is the
// records themselves, one that also holds its report or its lock (a
// user's own trials.jsonl alone makes no comparison).
func OwnedOutputFile(path string) bool {
	dir, base := filepath.Dir(path), filepath.Base(path)
	if !isOutputFile(base) {
		return false
	}
	markers := []string{RecordsFile}
	if base == RecordsFile {
		markers = []string{session.LockFile, "summary.json", "summary.md", "trials.csv"}
	}
	for _, m := range markers {
		if st, err := os.Stat(filepath.Join(dir, m)); err == nil && st.Mode().IsRegular() {
			return true
		}
	}
	return false
}

// isOutputFile tells whether name is a file a comparison or sweep writes
// into its output directory: the records, the report and its plots.
func isOutputFile(name string) bool {
	switch name {
	case RecordsFile, "trials.csv", "summary.md", "summary.json":
		return true
	}
	ext := filepath.Ext(name)
	plot := strings.TrimSuffix(name, ext)
	return (ext == ".png" || ext == ".svg") && (plot == "curves" || plot == "lr-sensitivity" || strings.HasPrefix(plot, "by-"))
}

// ownRecords reads the records already in an output directory, refusing
// records of another sweep.
func ownRecords(dir, sweep string) ([]Record, error) {
	return sweepRecords(dir, sweep, "already holds trials of a different sweep (another model, data or budget); use another --out directory")
}

// sweepRecords reads the records in dir, all of which must be of sweep;
// refusal says what dir is otherwise (after its name).
func sweepRecords(dir, sweep, refusal string) ([]Record, error) {
	recs, err := readRecords(dir)
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		if r.Sweep != sweep {
			return nil, fmt.Errorf("%s %s", dir, refusal)
		}
	}
	return recs, nil
}

// Check checks a comparison without running it (the data is not read):
// the options, OutDir (not a directory of other files, nor one with
// another sweep's records) and, for the final phase, the records it starts
// from, those in OutDir and the Tuned directories, which must be of this
// sweep and hold every tuning result. It fails as Run would before its
// first trial.
func Check(cfg *model.Config, o Options) error {
	if err := o.Validate(); err != nil {
		return err
	}
	sweep := sweepHash(cfg, &o)
	own, err := checkOutRecords(o.OutDir, sweep)
	if err != nil || o.Phase != PhaseFinal {
		return err
	}
	_, err = tuningRecords(own, &o, sweep)
	return err
}

// checkOutRecords is what openRunner refuses in an output directory,
// found without writing to it: other files, or another sweep's records.
// It returns the records of this one.
func checkOutRecords(dir, sweep string) ([]Record, error) {
	if err := checkOutDir(dir); err != nil {
		return nil, err
	}
	return ownRecords(dir, sweep)
}

// tuningRecords are the records the final phase chooses the rates from:
// own (the output directory's) and those of the Tuned directories, which
// must be of the same sweep and hold every tuning trial.
func tuningRecords(own []Record, o *Options, sweep string) ([]Record, error) {
	tuned := own
	for _, dir := range o.Tuned {
		recs, err := sweepRecords(dir, sweep, "holds trials of a different sweep (another model, data or budget)")
		if err != nil {
			return nil, err
		}
		tuned = append(tuned, recs...)
	}
	want := tuneKeys(o)
	have := map[Key]bool{}
	for _, rec := range tuned {
		have[rec.Key] = true
	}
	var missing []string
	for _, k := range want {
		if !have[k] {
			missing = append(missing, k.String())
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("the final phase needs every tuning result; %d are missing (e.g. %s): run --phase tune for every shard first and pass their directories with --tuned", len(missing), missing[0])
	}
	return tuned, nil
}

type runner struct {
	cfg   *model.Config
	o     *Options
	sweep string
	plan  *Plan
	mu    sync.Mutex
	done  map[Key]Record
	logMu sync.Mutex // workers share the log
	// lock is the output directory's, held until close (which also
	// removes the directory when openRunner made it and a failed run left
	// it empty).
	lock *session.DirLock
	// newRecords: the records file did not exist when the runner opened
	// (closeWith removes it again if no trial was recorded in it).
	newRecords bool
}

// close releases the output directory: a failed command leaves no empty
// directory behind. Closing again does nothing.
func (r *runner) close() {
	r.lock.Unlock()
	r.lock = nil
}

// closeWith closes the runner after err ended its trials. When no trial
// is recorded, it leaves the output directory as the run found it,
// whatever ended the run (an interruption, a full disk): the records file
// this run created, empty, is removed, and so is the directory if this run
// created it (close). An interruption then says so, and so does a failure
// that had created the records file (one that wrote nothing needs no word).
func (r *runner) closeWith(err error) error {
	none := len(r.records()) == 0
	wrote := false
	if none && r.newRecords {
		path := filepath.Join(r.o.OutDir, RecordsFile)
		if st, serr := os.Stat(path); serr == nil && st.Size() == 0 {
			wrote = os.Remove(path) == nil
		}
	}
	r.close()
	_, serr := os.Stat(r.o.OutDir)
	removed := none && os.IsNotExist(serr)
	var ie *Interrupted
	switch {
	case errors.As(err, &ie):
		ie.Removed = ie.Done == 0 && removed
	case removed && wrote:
		err = fmt.Errorf("%w; no trial was recorded, and %s, which this run created, was removed", err, r.o.OutDir)
	}
	return err
}

func (r *runner) logf(format string, args ...any) {
	r.logMu.Lock()
	defer r.logMu.Unlock()
	fmt.Fprintf(r.o.Log, format, args...)
}

func runPhases[T backprop.Float](r *runner) error {
	o := r.o
	data := &dataCache[T]{cfg: r.cfg, bySeed: map[uint64]*dataEntry[T]{}}
	build := func(k Key) (*train.Model[T], error) { return optimizerTrial(data, k) }
	if o.Phase == PhaseAll || o.Phase == PhaseTune {
		if err := runKeys(r, shardOf(tuneKeys(o), o.Shard, o.Shards), "tuning", build); err != nil {
			return err
		}
	}
	if o.Phase == PhaseTune {
		return nil
	}
	tuned, err := tuningRecords(r.records(), o, r.sweep)
	if err != nil {
		return err
	}
	chosen := choose(tuned)
	finals := shardOf(finalKeys(o, chosen), o.Shard, o.Shards)
	// The first seed's final run is its tuning run: reuse it.
	byKey := map[Key]Record{}
	for _, rec := range tuned {
		byKey[rec.Key] = rec
	}
	var todo []Key
	for _, k := range finals {
		t := k
		t.Phase = PhaseTune
		if rec, ok := byKey[t]; ok {
			if _, done := r.done[k]; !done {
				rec.Key = k
				rec.Plan = r.plan
				if err := r.append(rec); err != nil {
					return err
				}
			}
			continue
		}
		todo = append(todo, k)
	}
	return runKeys(r, todo, "final runs", build)
}

func (r *runner) records() []Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Record
	for _, rec := range r.done {
		out = append(out, rec)
	}
	return out
}

// append records a finished trial in the output directory and as done.
// writeRecord is appendRecord; tests make it fail.
var writeRecord = appendRecord

func (r *runner) append(rec Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := writeRecord(r.o.OutDir, rec); err != nil {
		return err
	}
	r.done[rec.Key] = rec
	return nil
}

type dataEntry[T backprop.Float] struct {
	once sync.Once
	m    *train.Model[T] // the config with the seed, its data and graph
	err  error
}

// dataCache loads the data once per seed (the validation split depends on
// the seed) and shares it between trials: batches only read it.
type dataCache[T backprop.Float] struct {
	cfg    *model.Config
	mu     sync.Mutex
	bySeed map[uint64]*dataEntry[T]
}

func (c *dataCache[T]) get(seed uint64) (*train.Model[T], error) {
	c.mu.Lock()
	e, ok := c.bySeed[seed]
	if !ok {
		e = &dataEntry[T]{}
		c.bySeed[seed] = e
	}
	c.mu.Unlock()
	e.once.Do(func() {
		cfg := *c.cfg
		cfg.Seed = seed
		e.m, e.err = train.LoadWithData[T](&cfg, "to compare optimizers")
		if e.err == nil {
			e.err = model.CheckLastBatch(&cfg, e.m.Graph, e.m.Data.Train.Len())
		}
	})
	return e.m, e.err
}

// runKeys runs the trials not done yet on o.Workers goroutines, each trial
// single-threaded.
func runKeys[T backprop.Float](r *runner, keys []Key, what string, build func(Key) (*train.Model[T], error)) error {
	var todo []Key
	for _, k := range keys {
		if _, ok := r.done[k]; !ok {
			todo = append(todo, k)
		}
	}
	if skipped := len(keys) - len(todo); skipped > 0 {
		fmt.Fprintf(r.o.Log, "%s: %d of %d trials already done in %s, skipped\n", what, skipped, len(keys), r.o.OutDir)
	}
	if len(todo) == 0 {
		return nil
	}
	var bar *progressbar.ProgressBar
	if r.o.Progress != nil {
		bar = progressbar.NewOptions(len(todo), progressbar.OptionSetWriter(r.o.Progress),
			progressbar.OptionSetDescription(what), progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetWidth(30), progressbar.OptionThrottle(200*time.Millisecond))
	}
	jobs := make(chan Key)
	errs := make(chan error, len(todo))
	// The first failure (a record that cannot be written, data that
	// cannot be read) stops the comparison: no more trials are started,
	// and those running are abandoned, as their records would fail too.
	var abort atomic.Bool
	failed := make(chan struct{})
	var failOnce sync.Once
	var wg sync.WaitGroup
	for range min(r.o.Workers, len(todo)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pool := train.NewPool(1)
			defer pool.Close()
			for k := range jobs {
				rec, err := runTrial(r, pool, k, &abort, build)
				if errors.Is(err, ErrAborted) {
					continue
				}
				if err == nil {
					err = r.append(rec)
				}
				if err != nil {
					errs <- fmt.Errorf("trial %s: %w", k, err)
					failOnce.Do(func() {
						abort.Store(true)
						close(failed)
					})
					continue
				}
				if bar != nil {
					bar.Add(1)
				} else {
					status := fmt.Sprintf("best val loss %.4g", rec.BestVal)
					if rec.Diverged {
						status = fmt.Sprintf("diverged at step %d", rec.DivergedAt)
					}
					r.logf("%s done: %s (%.1fs)\n", k, status, rec.WallS)
				}
			}
		}()
	}
	var sig os.Signal
dispatch:
	for _, k := range todo {
		select {
		case jobs <- k:
		case sig = <-r.o.Interrupt:
			abort.Store(true)
			break dispatch
		case <-failed:
			break dispatch
		}
	}
	close(jobs)
	if sig == nil {
		// Watch for a signal while the last trials run.
		done := make(chan struct{})
		go func() {
			wg.Wait()
			close(done)
		}()
		select {
		case <-done:
		case sig = <-r.o.Interrupt:
			abort.Store(true)
		}
	}
	wg.Wait()
	if sig != nil {
		if bar != nil {
			fmt.Fprintln(r.o.Progress)
		}
		return &Interrupted{Signal: sig, Dir: r.o.OutDir, Done: len(r.records())}
	}
	if bar != nil {
		bar.Finish()
		fmt.Fprintln(r.o.Progress)
	}
	close(errs)
	return <-errs // nil when no trial failed
}

// optimizerTrial is the model of a compare-optimizers trial: the config
// with the key's seed and data, and the key's optimizer at its rate.
func optimizerTrial[T backprop.Float](data *dataCache[T], k Key) (*train.Model[T], error) {
	m, err := data.get(k.Seed)
	if err != nil {
		return nil, err
	}
	v, _ := variant(k.Optimizer)
	cfg := *m.Config // the trial's own optimizer
	cfg.Optimizer = model.OptimizerConfig{Name: v.Optimizer, Optim: v.Config(k.LR)}
	trial := *m
	trial.Config = &cfg
	return &trial, nil
}

// runTrial runs the trial of key k on the model build gives.
func runTrial[T backprop.Float](r *runner, pool *train.Pool, k Key, abort *atomic.Bool, build func(Key) (*train.Model[T], error)) (Record, error) {
	m, err := build(k)
	if err != nil {
		return Record{}, err
	}
	// The budget: the options' (every optimizer the same), else the
	// trial's config's (a sweep may sweep the budget itself).
	epochs, steps := r.o.Epochs, r.o.Steps
	if epochs == 0 {
		epochs, steps = m.Config.Training.Epochs, m.Config.Training.Steps
	}
	res, err := RunTrial(m, pool, TrialOptions{
		Epochs: epochs, Steps: steps, EvalsPerEpoch: r.o.EvalsPerEpoch, DivergeFactor: 10, Abort: abort})
	if err != nil {
		return Record{}, err
	}
	return Record{Key: k, Sweep: r.sweep, Plan: r.plan, TrialResult: res}, nil
}
