package compare

import (
	"fmt"

	"github.com/nettrain/nettrain/internal/model"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Plan is what a sweep expects: every rate of each optimizer's grid tuned
// with the first seed, then Seeds final runs (seeds Seed, Seed+1, ...) of
// each optimizer that has a chosen rate.
type Plan struct {
	Config     string               `json:"config"` // the config's name
	Optimizers []string             `json:"optimizers"`
	Grids      map[string][]float64 `json:"lr_grids"`       // per optimizer, ascending
	Seed       uint64               `json:"seed"`           // first seed
	Seeds      int                  `json:"seeds"`          // seeds of the final runs
	Loss       string               `json:"loss,omitempty"` // the config's loss, for the findings
	// StepBudget is set when the budget is a number of steps: the plots'
	// x axis is then in steps.
	StepBudget bool `json:"step_budget,omitempty"`
	// Settings are a general sweep's settings, in trial order (each with
	// Seeds seeds from Seed); a sweep has no optimizers or grids.
	Settings []string `json:"settings,omitempty"`
	// Axes name the swept keys, in order.
	Axes []string `json:"axes,omitempty"`
}

// plan is the options' plan for the config.
func (o *Options) plan(cfg *model.Config) *Plan {
	p := &Plan{Config: cfg.Name, Loss: cfg.Loss, StepBudget: o.Steps != nil, Optimizers: slices.Clone(o.Optimizers), Grids: map[string][]float64{}, Seed: o.Seed, Seeds: o.Seeds}
	for _, n := range o.Optimizers {
		p.Grids[n] = o.grid(n)
	}
	return p
}

// IncompleteError reports records that lack trials their sweep expects.
type IncompleteError struct {
	Missing []string // what is missing, one item per optimizer or phase
}

func (e *IncompleteError) Error() string {
	return "incomplete: " + strings.Join(e.Missing, "; ") +
		": merge every shard's directory (tuning and final phases) into one report, or pass --partial to report what there is"
}

// planOf is the plan the records carry: the union of their optimizers and
// grids, and the most seeds of the final runs (shards run with the same
// settings carry the same plan; a directory reused with more seeds, more).
// Records without a plan (an older nettrain) give one inferred from the
// records themselves.
func planOf(recs []Record) (*Plan, error) {
	var p *Plan
	finalSeeds, anySeeds := 0, 0
	for _, r := range recs {
		q := r.Plan
		if q == nil {
			continue
		}
		if p == nil {
			p = &Plan{Config: q.Config, Loss: q.Loss, StepBudget: q.StepBudget, Grids: map[string][]float64{}, Seed: q.Seed}
		}
		if q.Seed != p.Seed {
			return nil, fmt.Errorf("the records come from sweeps with different seeds (%d and %d): report them separately", p.Seed, q.Seed)
		}
		for _, n := range q.Optimizers {
			if !slices.Contains(p.Optimizers, n) {
				p.Optimizers = append(p.Optimizers, n)
			}
			for _, lr := range q.Grids[n] {
				if !slices.Contains(p.Grids[n], lr) {
					p.Grids[n] = append(p.Grids[n], lr)
				}
			}
		}
		anySeeds = max(anySeeds, q.Seeds)
		if r.Phase == PhaseFinal {
			finalSeeds = max(finalSeeds, q.Seeds)
		}
	}
	if p != nil {
		// The tuning phase does not use the number of seeds: the final
		// runs' plans say it.
		p.Seeds = anySeeds
		if finalSeeds > 0 {
			p.Seeds = finalSeeds
		}
		for _, g := range p.Grids {
			sort.Float64s(g)
		}
		return p, nil
	}
	// Inferred: what the records show.
	p = &Plan{Grids: map[string][]float64{}}
	first := true
	for _, r := range recs {
		if !slices.Contains(p.Optimizers, r.Optimizer) {
			p.Optimizers = append(p.Optimizers, r.Optimizer)
		}
		if r.Phase == PhaseTune {
			if !slices.Contains(p.Grids[r.Optimizer], r.LR) {
				p.Grids[r.Optimizer] = append(p.Grids[r.Optimizer], r.LR)
			}
			if first || r.Seed < p.Seed {
				p.Seed, first = r.Seed, false
			}
		}
	}
	for _, r := range recs {
		if first || r.Seed < p.Seed {
			p.Seed, first = r.Seed, false
		}
		if r.Phase == PhaseFinal && r.Seed >= p.Seed {
			p.Seeds = max(p.Seeds, int(r.Seed-p.Seed)+1)
		}
	}
	for _, g := range p.Grids {
		sort.Float64s(g)
	}
	rank := func(n string) int {
		if i := slices.Index(VariantNames(), n); i >= 0 {
			return i
		}
		return 1 << 20
	}
	slices.SortStableFunc(p.Optimizers, func(a, b string) int { return rank(a) - rank(b) })
	return p, nil
}

// check keeps the records the plan expects (dropping the others: other
// optimizers, rates or seeds) and lists the expected trials that are
// missing. tuneMissing counts each optimizer's missing tuning runs.
func check(p *Plan, recs []Record) (kept []Record, dropped int, missing []string, tuneMissing map[string]int) {
	tuned := map[string][]Record{}
	var finals []Record
	for _, r := range recs {
		switch {
		case !slices.Contains(p.Optimizers, r.Optimizer):
		case r.Phase == PhaseTune && r.Seed == p.Seed && slices.Contains(p.Grids[r.Optimizer], r.LR):
			tuned[r.Optimizer] = append(tuned[r.Optimizer], r)
			kept = append(kept, r)
			continue
		case r.Phase == PhaseFinal && r.Seed >= p.Seed && r.Seed < p.Seed+uint64(p.Seeds):
			finals = append(finals, r)
			continue
		}
		dropped++
	}
	tuneMissing = map[string]int{}
	chosen := map[string]float64{}
	anyTuned := len(kept) > 0
	var tuneItems []string
	for _, n := range p.Optimizers {
		var lack []string
		for _, lr := range p.Grids[n] {
			if !slices.ContainsFunc(tuned[n], func(r Record) bool { return r.LR == lr }) {
				lack = append(lack, g4(lr))
			}
		}
		tuneMissing[n] = len(lack)
		if len(lack) > 0 {
			tuneItems = append(tuneItems, fmt.Sprintf("%s has tuning runs for %d of %d learning rates (%s missing)",
				n, len(p.Grids[n])-len(lack), len(p.Grids[n]), plural("lr", lack)))
		} else if lr, ok := choose(tuned[n])[n]; ok {
			chosen[n] = lr
		}
	}
	if anyTuned {
		missing = append(missing, tuneItems...)
	} else {
		missing = append(missing, "no tuning runs (run --phase tune)")
	}
	// Final runs: at the chosen rate, once tuning is complete (before, the
	// rate is not known and every final record is kept).
	seeds := map[string][]uint64{}
	nFinal := 0
	for _, r := range finals {
		if tuneMissing[r.Optimizer] == 0 {
			if lr, ok := chosen[r.Optimizer]; !ok || r.LR != lr {
				dropped++
				continue
			}
		}
		seeds[r.Optimizer] = append(seeds[r.Optimizer], r.Seed)
		kept = append(kept, r)
		nFinal++
	}
	expectFinal := len(chosen) > 0 || len(tuneItems) > 0
	switch {
	case nFinal == 0 && expectFinal && anyTuned:
		missing = append(missing, "no final runs (run --phase final)")
	case nFinal > 0:
		for _, n := range p.Optimizers {
			if _, ok := chosen[n]; !ok {
				continue
			}
			var lack []string
			for s := range uint64(p.Seeds) {
				if !slices.Contains(seeds[n], p.Seed+s) {
					lack = append(lack, strconv.FormatUint(p.Seed+s, 10))
				}
			}
			if len(lack) > 0 {
				missing = append(missing, fmt.Sprintf("%s has final runs for %d of %d seeds (%s missing)",
					n, p.Seeds-len(lack), p.Seeds, plural("seed", lack)))
			}
		}
	}
	return kept, dropped, missing, tuneMissing
}
