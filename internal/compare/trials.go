package compare

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"

	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/optim"
)

// Phase is a stage of the protocol: a trial's phase (tune or final), or
// the stages one run covers (also all). It is written as its string in
// trials.jsonl, trials.csv and summary.json.
type Phase string

const (
	PhaseTune  Phase = "tune"  // the learning-rate grid, with the first seed
	PhaseFinal Phase = "final" // the chosen rate, with every seed
	PhaseAll   Phase = "all"   // Options.Phase only: tune, then final
	// PhaseSweep is a trial of a general sweep (nettrain sweep): one
	// setting of the swept config keys, with one seed.
	PhaseSweep Phase = "sweep"
)

// Key identifies a trial.
type Key struct {
	Phase     Phase   `json:"phase"` // PhaseTune or PhaseFinal
	Optimizer string  `json:"optimizer"`
	LR        float64 `json:"lr"`
	Seed      uint64  `json:"seed"`
	// Setting is a sweep trial's config overrides, "key=value" items
	// separated by spaces (PhaseSweep only).
	Setting string `json:"setting,omitempty"`
}

func (k Key) String() string {
	if k.Phase == PhaseSweep {
		return fmt.Sprintf("sweep %s seed=%d", k.Setting, k.Seed)
	}
	return fmt.Sprintf("%s %s lr=%g seed=%d", k.Phase, k.Optimizer, k.LR, k.Seed)
}

// sweepHash identifies the model, data, loss, batch size and budget, so
// that records of a different sweep are never mixed in.
func sweepHash(cfg *model.Config, o *Options) string {
	c := *cfg
	c.Optimizer = model.OptimizerConfig{}
	c.Seed = 0
	// A step budget with model.MaxEpochs epochs (the guide's: the steps
	// are the budget) hashes as math.MaxInt32 epochs, which the guide ran
	// before --epochs was capped at model.MaxEpochs: the records of those
	// runs (docs/guide) stay this sweep's, and a rerun resumes them. Only
	// where the two run the same trials: the steps end every trial first
	// (fewer than MaxEpochs, so before the last epoch), and the rate is
	// constant (a schedule's length is epochs, or epochs times batches).
	epochs := o.Epochs
	if _, constant := cfg.Schedule.Sched.(*optim.ConstantSchedule); epochs == model.MaxEpochs && o.Steps != nil && *o.Steps < model.MaxEpochs && constant {
		epochs = math.MaxInt32
	}
	b, _ := json.Marshal(struct {
		C             *model.Config
		Epochs        int
		Steps         *int
		EvalsPerEpoch int
	}{&c, epochs, o.Steps, o.EvalsPerEpoch})
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}

// tuneKeys lists the tuning trials in their fixed order.
func tuneKeys(o *Options) []Key {
	var ks []Key
	for _, name := range o.Optimizers {
		for _, lr := range o.grid(name) {
			ks = append(ks, Key{Phase: PhaseTune, Optimizer: name, LR: lr, Seed: o.Seed})
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
			ks = append(ks, Key{Phase: PhaseFinal, Optimizer: name, LR: lr, Seed: o.Seed + uint64(s)})
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
		if r.Phase != PhaseTune || r.Diverged || math.IsNaN(r.BestVal) || math.IsInf(r.BestVal, 0) {
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
