package compare

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/optim"
)

// Variant is an optimizer as the comparison names it: a torch.optim
// optimizer with torch's defaults, plus settings for the classic variants
// (SGD with momentum, with Nesterov momentum).
type Variant struct {
	Name      string
	Optimizer string
	Momentum  float64
	Nesterov  bool
	About     string
}

// Variants are the optimizers compared by default, in report order.
var Variants = []Variant{
	{Name: "sgd", Optimizer: "sgd", About: "plain stochastic gradient descent"},
	{Name: "momentum", Optimizer: "sgd", Momentum: 0.9, About: "SGD with momentum 0.9"},
	{Name: "nesterov", Optimizer: "sgd", Momentum: 0.9, Nesterov: true, About: "SGD with Nesterov momentum 0.9"},
	{Name: "adagrad", Optimizer: "adagrad", About: "AdaGrad"},
	{Name: "adadelta", Optimizer: "adadelta", About: "AdaDelta"},
	{Name: "rmsprop", Optimizer: "rmsprop", About: "RMSProp"},
	{Name: "adam", Optimizer: "adam", About: "Adam"},
	{Name: "adamw", Optimizer: "adamw", About: "AdamW (decoupled weight decay 0.01)"},
	{Name: "nadam", Optimizer: "nadam", About: "NAdam"},
}

// VariantNames lists the variant names.
func VariantNames() []string {
	var n []string
	for _, v := range Variants {
		n = append(n, v.Name)
	}
	return n
}

func variant(name string) (Variant, bool) {
	for _, v := range Variants {
		if v.Name == name {
			return v, true
		}
	}
	return Variant{}, false
}

// config returns the variant's optimizer config at learning rate lr.
func (v Variant) config(lr float64) optim.Config {
	c, _ := optim.Defaults(v.Optimizer)
	c.SetLearningRate(lr)
	if s, ok := c.(*optim.SGDConfig); ok {
		s.Momentum, s.Nesterov = v.Momentum, v.Nesterov
	}
	return c
}

// DefaultLR is the variant's torch default learning rate.
func (v Variant) DefaultLR() float64 {
	c, _ := optim.Defaults(v.Optimizer)
	return c.LearningRate()
}

// Grid is n learning rates log-spaced over two decades either side of
// center: center * 10^(-2 + 4k/(n-1)), k = 0..n-1 (just center when n = 1).
func Grid(center float64, n int) []float64 {
	if n == 1 {
		return []float64{center}
	}
	g := make([]float64, n)
	for k := range g {
		g[k] = roundSig(center * math.Pow(10, -2+4*float64(k)/float64(n-1)))
	}
	return g
}

// roundSig rounds to 6 significant digits, so grid points print and
// compare cleanly.
func roundSig(v float64) float64 {
	if v == 0 {
		return 0
	}
	e := math.Pow(10, 5-math.Floor(math.Log10(math.Abs(v))))
	return math.Round(v*e) / e
}

// Key identifies a trial.
type Key struct {
	Phase     string  `json:"phase"` // tune or final
	Optimizer string  `json:"optimizer"`
	LR        float64 `json:"lr"`
	Seed      uint64  `json:"seed"`
}

func (k Key) String() string {
	return fmt.Sprintf("%s %s lr=%g seed=%d", k.Phase, k.Optimizer, k.LR, k.Seed)
}

// Record is one finished trial in trials.jsonl.
type Record struct {
	Key
	Sweep string `json:"sweep"` // hash of everything else that shapes the trial
	// Plan is what the sweep that ran the trial expects, so that a report
	// of merged shards can tell which trials are missing. Records written
	// before it existed have none.
	Plan *Plan `json:"plan,omitempty"`
	TrialResult
}

// Plan is what a sweep expects: every rate of each optimizer's grid tuned
// with the first seed, then Seeds final runs (seeds Seed, Seed+1, ...) of
// each optimizer that has a chosen rate.
type Plan struct {
	Config     string               `json:"config"` // the config's name
	Optimizers []string             `json:"optimizers"`
	Grids      map[string][]float64 `json:"lr_grids"` // per optimizer, ascending
	Seed       uint64               `json:"seed"`     // first seed
	Seeds      int                  `json:"seeds"`    // seeds of the final runs
}

// plan is the options' plan for the config named name.
func (o *Options) plan(name string) *Plan {
	p := &Plan{Config: name, Optimizers: slices.Clone(o.Optimizers), Grids: map[string][]float64{}, Seed: o.Seed, Seeds: o.Seeds}
	for _, n := range o.Optimizers {
		p.Grids[n] = o.grid(n)
	}
	return p
}

// didYouMean is model.DidYouMean: one wording of suggestions everywhere.
func didYouMean(word string, candidates []string) string { return model.DidYouMean(word, candidates) }

// sweepHash identifies the model, data, loss, batch size and budget, so
// that records of a different sweep are never mixed in.
func sweepHash(cfg *model.Config, o *Options) string {
	c := *cfg
	c.Optimizer = model.OptimizerConfig{}
	c.Seed = 0
	b, _ := json.Marshal(struct {
		C             *model.Config
		Epochs        int
		Steps         *int
		EvalsPerEpoch int
	}{&c, o.Epochs, o.Steps, o.EvalsPerEpoch})
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}

// tuneKeys lists the tuning trials in their fixed order.
func tuneKeys(o *Options) []Key {
	var ks []Key
	for _, name := range o.Optimizers {
		for _, lr := range o.grid(name) {
			ks = append(ks, Key{Phase: "tune", Optimizer: name, LR: lr, Seed: o.Seed})
		}
	}
	return ks
}

// finalKeys lists the final trials given each optimizer's chosen rate
// (optimizers without one, all of whose tuning runs diverged, have none).
func finalKeys(o *Options, chosen map[string]float64) []Key {
	var ks []Key
	for _, name := range o.Optimizers {
		lr, ok := chosen[name]
		if !ok {
			continue
		}
		for s := 0; s < o.Seeds; s++ {
			ks = append(ks, Key{Phase: "final", Optimizer: name, LR: lr, Seed: o.Seed + uint64(s)})
		}
	}
	return ks
}

// shardOf keeps the trials of shard i (1-based) of n: every n-th trial
// starting at the i-th.
func shardOf(ks []Key, i, n int) []Key {
	if n <= 1 {
		return ks
	}
	var out []Key
	for j, k := range ks {
		if j%n == i-1 {
			out = append(out, k)
		}
	}
	return out
}

// choose picks each optimizer's learning rate: the tuning run with the
// lowest best validation loss among those that did not diverge (ties: the
// smaller rate).
func choose(recs []Record) map[string]float64 {
	best := map[string]Record{}
	for _, r := range recs {
		if r.Phase != "tune" || r.Diverged || math.IsNaN(r.BestVal) || math.IsInf(r.BestVal, 0) {
			continue
		}
		b, ok := best[r.Optimizer]
		if !ok || r.BestVal < b.BestVal || r.BestVal == b.BestVal && r.LR < b.LR {
			best[r.Optimizer] = r
		}
	}
	out := map[string]float64{}
	for name, r := range best {
		out[name] = r.LR
	}
	return out
}

const recordsFile = "trials.jsonl"

// repairRecords drops a last line that a killed process left incomplete,
// so that records appended later start on a line of their own.
func repairRecords(dir string) error {
	path := filepath.Join(dir, recordsFile)
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) || len(b) == 0 {
		return nil
	}
	if err != nil {
		return err
	}
	end := len(b)
	if b[end-1] == '\n' {
		end--
	}
	start := strings.LastIndexByte(string(b[:end]), '\n') + 1
	var r Record
	if json.Unmarshal(b[start:end], &r) == nil {
		return nil
	}
	if err := os.Truncate(path, int64(start)); err != nil {
		return fmt.Errorf("cannot repair %s: %w", path, err)
	}
	return nil
}

// readRecords reads dir/trials.jsonl (missing: none). A truncated last line
// (a process killed while writing) is ignored.
func readRecords(dir string) ([]Record, error) {
	f, err := os.Open(filepath.Join(dir, recordsFile))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<28)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	var recs []Record
	for i, text := range lines {
		if strings.TrimSpace(text) == "" {
			continue
		}
		var r Record
		if err := json.Unmarshal([]byte(text), &r); err != nil {
			if i == len(lines)-1 {
				break // cut short by a killed process: that trial reruns
			}
			return nil, fmt.Errorf("%s:%d: not a trial record: %v", filepath.Join(dir, recordsFile), i+1, err)
		}
		if r.BestVal < 0 { // written as -1: no finite value (diverged)
			r.BestVal = math.NaN()
		}
		if r.FinalVal < 0 {
			r.FinalVal = math.NaN()
		}
		recs = append(recs, r)
	}
	return recs, nil
}

// merge combines records, keeping one per key and sweep, and sorts them in
// the fixed trial order (phase, optimizer order, rate, seed).
func merge(order []string, sets ...[]Record) []Record {
	seen := map[Key]bool{}
	var out []Record
	for _, recs := range sets {
		for _, r := range recs {
			if !seen[r.Key] {
				seen[r.Key] = true
				out = append(out, r)
			}
		}
	}
	rank := func(name string) int {
		if i := slices.Index(order, name); i >= 0 {
			return i
		}
		return len(order)
	}
	slices.SortStableFunc(out, func(a, b Record) int {
		switch {
		case a.Phase != b.Phase:
			return strings.Compare(b.Phase, a.Phase) // tune before final
		case a.Optimizer != b.Optimizer:
			if d := rank(a.Optimizer) - rank(b.Optimizer); d != 0 {
				return d
			}
			return strings.Compare(a.Optimizer, b.Optimizer)
		case a.LR != b.LR:
			if a.LR < b.LR {
				return -1
			}
			return 1
		}
		return int(a.Seed) - int(b.Seed)
	})
	return out
}
