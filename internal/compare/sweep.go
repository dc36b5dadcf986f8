package compare

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/train"
)

// A general sweep (`nettrain sweep`) trains the config at every setting of
// some config keys, each with several seeds, through the same runner as
// compare-optimizers: trial records in trials.jsonl, resumption, parallel
// workers, shards merged by a report. Its trials are keys of PhaseSweep
// whose Setting holds the overrides, applied with the --set machinery, so
// any config key can be swept.

// Axis is one swept key: its values, given (a grid) or drawn (random).
type Axis struct {
	Key    string
	Values []string // a grid axis
	// Dist, Lo and Hi describe a random axis: Dist is "log-uniform" or
	// "uniform" over [Lo, Hi].
	Dist   string
	Lo, Hi float64
	// Int draws whole numbers (the key takes an integer, as
	// training.batch_size or a layer's units): uniform over the integers
	// in [Lo, Hi], or log-uniform rounded to the nearest.
	Int bool
}

var randomRe = regexp.MustCompile(`^(log-uniform|uniform)\(\s*([^,\s]+)\s*,\s*([^)\s]+)\s*\)$`)

// ParseGrid parses --grid key=v1,v2,...
func ParseGrid(s string) (Axis, error) {
	k, v, ok := strings.Cut(s, "=")
	k = strings.TrimSpace(k)
	if !ok || k == "" || strings.TrimSpace(v) == "" {
		return Axis{}, fmt.Errorf("--grid %q: want key=v1,v2,...", s)
	}
	if err := model.CheckKeyPath(k); err != nil {
		return Axis{}, fmt.Errorf("--grid %q: %w", s, err)
	}
	a := Axis{Key: k}
	for _, x := range splitTop(v) {
		x = strings.TrimSpace(x)
		if x == "" || strings.ContainsAny(x, " \t") {
			return Axis{}, fmt.Errorf("--grid %q: empty value or a value with spaces", s)
		}
		for _, y := range a.Values {
			if y == x {
				return Axis{}, fmt.Errorf("--grid %q lists %s twice", s, x)
			}
		}
		a.Values = append(a.Values, x)
	}
	return a, nil
}

// splitTop splits a --grid list at the commas outside brackets and braces,
// so that a value may be a YAML list or mapping ([0.9,0.99]).
func splitTop(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, r := range s {
		switch r {
		case '[', '{':
			depth++
		case ']', '}':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// ParseRandom parses --random key=log-uniform(a,b) or key=uniform(a,b).
func ParseRandom(s string) (Axis, error) {
	k, v, ok := strings.Cut(s, "=")
	k = strings.TrimSpace(k)
	m := randomRe.FindStringSubmatch(strings.TrimSpace(v))
	if !ok || k == "" || m == nil {
		return Axis{}, fmt.Errorf("--random %q: want key=log-uniform(a,b) or key=uniform(a,b)", s)
	}
	if err := model.CheckKeyPath(k); err != nil {
		return Axis{}, fmt.Errorf("--random %q: %w", s, err)
	}
	lo, err1 := strconv.ParseFloat(m[2], 64)
	hi, err2 := strconv.ParseFloat(m[3], 64)
	switch {
	case err1 != nil || err2 != nil || math.IsInf(lo, 0) || math.IsInf(hi, 0) || math.IsNaN(lo) || math.IsNaN(hi):
		return Axis{}, fmt.Errorf("--random %q: the bounds must be finite numbers", s)
	case !(lo < hi):
		return Axis{}, fmt.Errorf("--random %q: the lower bound must be below the upper", s)
	case m[1] == "log-uniform" && !(lo > 0):
		return Axis{}, fmt.Errorf("--random %q: log-uniform needs bounds > 0", s)
	}
	return Axis{Key: k, Dist: m[1], Lo: lo, Hi: hi}, nil
}

// SweepOptions are the choices of a general sweep.
type SweepOptions struct {
	Grid   []Axis // every combination of their values
	Random []Axis // drawn Trials times, each draw with every grid combination
	Trials int    // random draws (with Random)
	Seeds  int    // seeds per setting: Seed, Seed+1, ...
	// Load loads the config with extra overrides (the --set machinery):
	// Load(nil) is the base config.
	Load          func(sets []string) (*model.Config, error)
	Workers       int
	EvalsPerEpoch int
	Shard, Shards int
	OutDir        string
	Log, Progress io.Writer
	Interrupt     <-chan os.Signal
}

// Settings lists the sweep's settings in trial order: for each random draw
// (one, without random axes), every combination of the grid values, the
// last axis fastest. Draws come from a stream seeded by seed, so every
// shard draws the same settings; values keep 4 significant digits.
func Settings(grid, random []Axis, trials int, seed uint64) []string {
	combos := []string{""}
	for _, a := range grid {
		var next []string
		for _, c := range combos {
			for _, v := range a.Values {
				next = append(next, strings.TrimSpace(c+" "+a.Key+"="+v))
			}
		}
		combos = next
	}
	if len(random) == 0 {
		return combos
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	var out []string
	for range trials {
		var draw []string
		for _, a := range random {
			u := rng.Float64()
			v := a.Lo + u*(a.Hi-a.Lo)
			if a.Dist == "log-uniform" {
				v = math.Exp(math.Log(a.Lo) + u*(math.Log(a.Hi)-math.Log(a.Lo)))
			}
			if a.Int {
				lo, hi := math.Ceil(a.Lo), math.Floor(a.Hi)
				if a.Dist == "log-uniform" {
					v = min(max(math.Round(v), lo), hi)
				} else {
					v = min(lo+math.Floor(u*(hi-lo+1)), hi)
				}
				draw = append(draw, a.Key+"="+strconv.FormatFloat(v, 'f', 0, 64))
				continue
			}
			draw = append(draw, a.Key+"="+strconv.FormatFloat(v, 'g', 4, 64))
		}
		for _, c := range combos {
			out = append(out, strings.TrimSpace(c+" "+strings.Join(draw, " ")))
		}
	}
	// Draws that repeat a setting (likely on integer axes) are dropped:
	// each setting is trained once per seed.
	seen := map[string]bool{}
	return slices.DeleteFunc(out, func(s string) bool {
		dup := seen[s]
		seen[s] = true
		return dup
	})
}

// sets is a setting's overrides.
func sets(setting string) []string { return strings.Fields(setting) }

// Validate checks the options that do not need the config: the axes,
// the counts, the shard.
func (o *SweepOptions) Validate() error {
	keys := map[string]bool{}
	for _, a := range append(append([]Axis(nil), o.Grid...), o.Random...) {
		if keys[a.Key] {
			return fmt.Errorf("%s is swept twice", a.Key)
		}
		if a.Key == "seed" {
			return errors.New("sweep seeds with --seeds, not as a key")
		}
		keys[a.Key] = true
	}
	switch {
	case len(o.Grid) == 0 && len(o.Random) == 0:
		return errors.New("nothing to sweep: give --grid key=v1,v2,... or --random key=log-uniform(a,b)")
	case len(o.Random) > 0 && o.Trials < 1:
		return fmt.Errorf("--random needs --trials N >= 1, got %d", o.Trials)
	case len(o.Random) == 0 && o.Trials > 0:
		return errors.New("--trials counts random draws: give --random key=log-uniform(a,b) too")
	case o.Seeds < 1:
		return fmt.Errorf("--seeds must be at least 1, got %d", o.Seeds)
	case o.Workers < 1:
		return fmt.Errorf("--workers must be at least 1, got %d", o.Workers)
	case o.Shards > 0 && (o.Shard < 1 || o.Shard > o.Shards):
		return fmt.Errorf("--shard %d/%d: the index must be between 1 and %d", o.Shard, o.Shards, o.Shards)
	}
	// The settings are listed, and each one's config loaded, before any
	// trial runs: count them first (300 x 300 grid values took 3 GB to
	// check; a million random draws crashed out of memory).
	n, counts := 1, []string{}
	for _, a := range o.Grid {
		n = min(n*len(a.Values), MaxSweepSettings+1) // no overflow: both factors are bounded
		counts = append(counts, fmt.Sprint(len(a.Values)))
	}
	if len(o.Random) > 0 {
		n = min(n*o.Trials, MaxSweepSettings+1)
		counts = append(counts, fmt.Sprintf("%d draws", o.Trials))
	}
	if n > MaxSweepSettings {
		return fmt.Errorf("the sweep has more than %d settings (%s): narrow the grid or draw fewer (--trials)",
			MaxSweepSettings, strings.Join(counts, " x "))
	}
	return nil
}

// MaxSweepSettings bounds a sweep's settings (grid combinations times
// random draws): each is listed and its config loaded before training.
const MaxSweepSettings = 10_000

// integerAxes marks the random axes whose key takes an integer (the config
// refuses a fraction there), which then draw whole numbers.
func (o *SweepOptions) integerAxes() error {
	for i := range o.Random {
		a := &o.Random[i]
		_, err := o.Load([]string{a.Key + "=0.5"})
		if err == nil || !strings.Contains(err.Error(), "expected an integer") {
			continue
		}
		a.Int = true
		if math.Ceil(a.Lo) > math.Floor(a.Hi) {
			return fmt.Errorf("--random %s=%s(%g,%g): %s takes an integer, and there is none between the bounds", a.Key, a.Dist, a.Lo, a.Hi, a.Key)
		}
	}
	return nil
}

// sweepKeys lists the sweep's trials in their fixed order: each setting
// with each seed.
func sweepKeys(settings []string, seed uint64, seeds int) []Key {
	var ks []Key
	for _, st := range settings {
		for s := range uint64(seeds) {
			ks = append(ks, Key{Phase: PhaseSweep, Setting: st, Seed: seed + s})
		}
	}
	return ks
}

// generalHash identifies a general sweep's base config and measurement,
// so that records of another sweep are never mixed in.
func generalHash(cfg *model.Config, evals int) string {
	c := *cfg
	c.Seed = 0
	b, _ := json.Marshal(struct {
		C             *model.Config
		EvalsPerEpoch int
	}{&c, evals})
	h := sha256.Sum256(b)
	return "sweep-" + hex.EncodeToString(h[:8])
}

// CheckSweep checks a sweep without running it: the options, that every
// setting's config loads (a bad key or value in --grid or --random fails
// here) and OutDir (not a directory of other files, nor one with another
// sweep's records); the data is not read. It returns the number of trials.
func CheckSweep(o SweepOptions) (int, error) {
	base, settings, _, err := o.prepare()
	if err == nil {
		_, err = checkOutRecords(o.OutDir, generalHash(base, o.EvalsPerEpoch))
	}
	return len(settings) * o.Seeds, err
}

// prepare validates o, loads the base config and every setting's.
func (o *SweepOptions) prepare() (*model.Config, []string, map[string]*model.Config, error) {
	if err := o.Validate(); err != nil {
		return nil, nil, nil, err
	}
	base, err := o.Load(nil)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := o.integerAxes(); err != nil {
		return nil, nil, nil, err
	}
	settings := Settings(o.Grid, o.Random, o.Trials, base.Seed)
	// Every setting must load: a bad key or value fails before training.
	cfgs := map[string]*model.Config{}
	for _, st := range settings {
		c, err := o.Load(sets(st))
		if err != nil {
			return nil, nil, nil, fmt.Errorf("setting %s: %w", st, err)
		}
		if c.Seed != base.Seed {
			return nil, nil, nil, fmt.Errorf("setting %s changes the seed: sweep seeds with --seeds", st)
		}
		cfgs[st] = c
	}
	return base, settings, cfgs, nil
}

// Sweep runs the general sweep the options describe (resuming from the
// records in OutDir) and, unless sharded, writes its report.
func Sweep(o SweepOptions) (*SweepSummary, error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	base, settings, cfgs, err := o.prepare()
	if err != nil {
		return nil, err
	}
	if len(o.Random) > 0 {
		drawn := o.Trials
		for _, a := range o.Grid {
			drawn *= len(a.Values)
		}
		if len(settings) < drawn {
			fmt.Fprintf(o.Log, "note: %d of the %d settings drawn repeat another (whole numbers repeat often); each distinct setting is trained once per seed\n", drawn-len(settings), drawn)
		}
	}
	var axes []string
	for _, a := range append(append([]Axis(nil), o.Grid...), o.Random...) {
		axes = append(axes, a.Key)
	}
	plan := &Plan{Config: base.Name, Loss: base.Loss, Seed: base.Seed, Seeds: o.Seeds, Settings: settings, Axes: axes,
		StepBudget: base.Training.Steps != nil, Grids: map[string][]float64{}}
	ro := Options{Workers: o.Workers, EvalsPerEpoch: o.EvalsPerEpoch, OutDir: o.OutDir, Log: o.Log,
		Progress: o.Progress, Interrupt: o.Interrupt}
	r, err := openRunner(&ro, generalHash(base, o.EvalsPerEpoch), plan, "sweep's output directory")
	if err != nil {
		return nil, err
	}
	defer r.close()
	keys := shardOf(sweepKeys(settings, base.Seed, o.Seeds), o.Shard, o.Shards)
	if base.DType == "float64" {
		err = runKeys(r, keys, "sweep", settingTrial[float64](cfgs))
	} else {
		err = runKeys(r, keys, "sweep", settingTrial[float32](cfgs))
	}
	if err != nil {
		return nil, r.closeWith(err)
	}
	if o.Shards > 1 {
		if err := touchRecords(o.OutDir); err != nil {
			return nil, err
		}
		recs, err := readRecords(o.OutDir)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(o.Log, "shard %d/%d done: %d trial records in %s; merge the shards with `nettrain sweep report DIR...`\n",
			o.Shard, o.Shards, len(recs), filepath.Join(o.OutDir, RecordsFile))
		return nil, nil
	}
	recs, err := readRecords(o.OutDir)
	if err != nil {
		return nil, err
	}
	return SweepReport([][]Record{recs}, ReportOptions{Plan: plan, Out: o.OutDir, Log: o.Log})
}

// settingTrial builds a sweep trial's model: the setting's config with
// the key's seed, on data loaded once per seed and per everything that
// shapes the data and the graph (settings that change only the optimizer
// or the training share it; batches only read it).
func settingTrial[T backprop.Float](cfgs map[string]*model.Config) func(Key) (*train.Model[T], error) {
	var mu sync.Mutex
	cache := map[string]*dataEntry[T]{}
	return func(k Key) (*train.Model[T], error) {
		c := *cfgs[k.Setting]
		c.Seed = k.Seed
		b, _ := json.Marshal(struct {
			D    model.DataConfig
			M    model.ModelConfig
			L, T string
			S    uint64
		}{c.Data, c.Model, c.Loss, c.DType, c.Seed})
		mu.Lock()
		e, ok := cache[string(b)]
		if !ok {
			e = &dataEntry[T]{}
			cache[string(b)] = e
		}
		mu.Unlock()
		e.once.Do(func() {
			cc := c
			e.m, e.err = train.LoadWithData[T](&cc, "to sweep")
		})
		if e.err != nil {
			return nil, e.err
		}
		m := *e.m
		m.Config = &c
		return &m, nil
	}
}
