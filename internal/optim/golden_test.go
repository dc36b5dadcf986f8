package optim_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/optim"
)

// Optimizer trajectories from PyTorch: testdata/<name>.json, written by
// scripts/golden/gen.py (see scripts/golden/README.md). Each file holds one
// start vector w0, a fixed sequence of gradients, and for every option
// combination the parameters torch.optim reaches after each step and its
// final state. The test replays the gradients through optim.New and
// compares after every step, then resumes from every intermediate step (a
// fresh optimizer given the slots and SetSteps, as a checkpoint restores
// it) and compares the rest of the trajectory again.

// notSlots are the entries of torch's optimizer state that nettrain keeps
// no slot for, by optimizer, each with a check of torch's final value
// against the rule nettrain derives it by.
var notSlots = map[string]map[string]func(cfg optim.Config, steps int, torch float64) (want float64, ok bool){
	// NAdam's mu_product M_t = mu_1 ... mu_t is a function of the step
	// count, which nettrain recomputes (SetSteps) instead of storing; the
	// resume check of replay shows the recomputation continues torch's
	// trajectory. Here: torch's M_t is the product of the documented
	// mu_t = b1 (1 - 0.5 0.96^(t psi)).
	"nadam": {"mu_product": func(cfg optim.Config, steps int, torch float64) (float64, bool) {
		c := cfg.(*optim.NAdamConfig)
		prod := 1.0
		for t := 1; t <= steps; t++ {
			prod *= c.Betas[0] * (1 - 0.5*math.Pow(0.96, float64(t)*c.MomentumDecay))
		}
		return prod, math.Abs(prod-torch) <= 1e-12*math.Abs(torch)
	}},
}

// Tolerances on the max-norm relative error (see relErr) after every step.
// float64 is the tight check against torch; float32 shows the float32
// instantiation follows the same math (its params and gradients are the
// float64 values rounded, so it cannot be tighter than about 1e-7 per step).
//
// In float64 the update w_k - w0 is also held to the tolerance, relative to
// torch's (so a small learning rate cannot hide a wrong update behind the
// size of w). float32 cannot do this: rounding w0 to float32 alone is a few
// 1e-8 of w, which is more than 1e-5 of a small update.
var goldenPrecisions = []struct {
	name    string
	tol     float64
	checkDW bool
	run     func(t *testing.T, g *goldenFile, c *goldenTrajectory, tol float64, checkDW bool) float64
}{
	{"float64", 1e-12, true, replay[float64]}, // observed ~4e-14 after 10 steps
	{"float32", 1e-5, false, replay[float32]},
}

type goldenTensor struct {
	Shape []int     `json:"shape"`
	Data  []float64 `json:"data"`
}

type goldenFile struct {
	Generator          string `json:"generator"`
	Torch              string `json:"torch"`
	ATenCPUCapability  string `json:"aten_cpu_capability"`
	CPUCapabilityUsage string `json:"cpu_capability_usage"`
	DType              string `json:"dtype"`
	Optimizer          string `json:"optimizer"`
	// TorchKwargs are the arguments given to the torch class besides the
	// options, when there are any (see gen.py's TORCH_KWARGS).
	TorchKwargs map[string]any     `json:"torch_kwargs"`
	W0          []float64          `json:"w0"`
	Grads       [][]float64        `json:"grads"`
	Cases       []goldenTrajectory `json:"cases"`
}

type goldenTrajectory struct {
	Name string `json:"name"`
	// Options are the hyperparameters under nettrain's YAML names (which
	// are torch.optim's keyword names); unset ones take optim.Defaults.
	Options json.RawMessage `json:"options"`
	// Params[k] is the parameter vector after step k+1.
	Params [][]float64 `json:"params"`
	// State is torch's optimizer state after the last step: its tensors
	// by name (they must be nettrain's slots of the same name) and "step".
	State map[string]json.RawMessage `json:"state"`
}

// TestGoldenOptimizers replays every registered optimizer's trajectories:
// an optimizer without testdata/<name>.json (a row in gen.py's OPTIMIZERS,
// regenerated) fails here.
func TestGoldenOptimizers(t *testing.T) {
	for _, name := range optim.Names() {
		t.Run(name, func(t *testing.T) {
			g := loadGolden(t, filepath.Join("testdata", name+".json"))
			if g.Optimizer != name {
				t.Fatalf("file is for optimizer %q", g.Optimizer)
			}
			if len(g.Cases) == 0 || len(g.Grads) == 0 {
				t.Fatal("no cases or no gradients")
			}
			for _, c := range g.Cases {
				for _, p := range goldenPrecisions {
					t.Run(c.Name+"/"+p.name, func(t *testing.T) {
						worst := p.run(t, g, &c, p.tol, p.checkDW)
						t.Logf("max relative error %.3g (tolerance %g)", worst, p.tol)
					})
				}
			}
		})
	}
}

func loadGolden(t *testing.T, path string) *goldenFile {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var g goldenFile
	if err := dec.Decode(&g); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if g.DType != "float64" {
		t.Fatalf("%s: references in %s, want float64", path, g.DType)
	}
	return &g
}

// goldenConfig is optim.Defaults(name) with the case's options decoded into
// it strictly (an option nettrain does not know is an error, not ignored).
func goldenConfig(name string, options []byte) (optim.Config, error) {
	cfg, ok := optim.Defaults(name)
	if !ok {
		return nil, fmt.Errorf("unknown optimizer %q", name)
	}
	dec := yaml.NewDecoder(bytes.NewReader(options))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil {
		return nil, fmt.Errorf("options %s: %v", options, err)
	}
	return cfg, cfg.Validate()
}

// replay runs the case's gradients through a T optimizer and checks the
// parameters after every step (and, with checkDW, the update w - w0), the
// final state, and the runs resumed after every step; it returns the
// largest relative error seen.
func replay[T backprop.Float](t *testing.T, g *goldenFile, c *goldenTrajectory, tol float64, checkDW bool) float64 {
	cfg, err := goldenConfig(g.Optimizer, c.Options)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Params) != len(g.Grads) {
		t.Fatalf("%d parameter vectors for %d gradients", len(c.Params), len(g.Grads))
	}
	n := len(g.W0)
	w, grad := convert[T](g.W0), make([]T, n)
	opt := optim.New[T](cfg, n)
	worst := 0.0
	// The parameters and slots after every step, for the resume check.
	ws, slots := make([][]T, len(g.Grads)), make([][]optim.Slot[T], len(g.Grads))
	for k, gk := range g.Grads {
		copy(grad, convert[T](gk))
		before := slices.Clone(grad)
		optim.Step(opt, w, grad)
		if !slices.Equal(grad, before) {
			t.Errorf("step %d modified the gradient", k+1)
		}
		e, i := relErr(w, c.Params[k])
		worst = max(worst, e)
		if !(e <= tol) {
			// Later steps only compound the first disagreement.
			t.Fatalf("after step %d: relative error %.3g > %g at [%d]: got %.17g, torch %.17g",
				k+1, e, tol, i, w[i], c.Params[k][i])
		}
		if checkDW {
			dw, want := make([]float64, n), make([]float64, n)
			for i := range dw {
				dw[i], want[i] = float64(w[i])-g.W0[i], c.Params[k][i]-g.W0[i]
			}
			e, i := relErr(dw, want)
			worst = max(worst, e)
			if !(e <= tol) {
				t.Fatalf("after step %d: relative error of the update w - w0 %.3g > %g at [%d]: got %.17g, torch %.17g",
					k+1, e, tol, i, dw[i], want[i])
			}
		}
		ws[k] = slices.Clone(w)
		for _, s := range opt.Slots() {
			slots[k] = append(slots[k], optim.Slot[T]{Name: s.Name, Data: slices.Clone(s.Data)})
		}
	}
	worst = max(worst, checkState(t, opt, g.Optimizer, cfg, c.State, len(g.Grads), tol))

	// Resume after every step k: a fresh optimizer given the slots and the
	// step count, as a checkpoint restores it, must continue exactly as
	// the uninterrupted run (bit for bit) and so as torch.
	for k := 1; k < len(g.Grads); k++ {
		w := slices.Clone(ws[k-1])
		opt := optim.New[T](cfg, n)
		fresh := opt.Slots()
		if len(fresh) != len(slots[k-1]) {
			t.Fatalf("resume after step %d: %d slots, the run had %d", k, len(fresh), len(slots[k-1]))
		}
		for i, s := range fresh {
			if s.Name != slots[k-1][i].Name {
				t.Fatalf("resume after step %d: slot %d is %q, the run had %q", k, i, s.Name, slots[k-1][i].Name)
			}
			copy(s.Data, slots[k-1][i].Data)
		}
		opt.SetSteps(int64(k))
		for j := k; j < len(g.Grads); j++ {
			optim.Step(opt, w, convert[T](g.Grads[j]))
			e, i := relErr(w, c.Params[j])
			worst = max(worst, e)
			if !(e <= tol) {
				t.Fatalf("resumed after step %d, after step %d: relative error %.3g > %g at [%d]: got %.17g, torch %.17g",
					k, j+1, e, tol, i, w[i], c.Params[j][i])
			}
			if !slices.Equal(w, ws[j]) {
				t.Fatalf("resumed after step %d, after step %d: differs from the uninterrupted run", k, j+1)
			}
		}
	}
	return worst
}

// checkState compares the optimizer's slots with torch's state tensors of
// the same names (both ways) and its step count with torch's "step".
func checkState[T backprop.Float](t *testing.T, opt optim.Optimizer[T], optimizer string, cfg optim.Config, state map[string]json.RawMessage, steps int, tol float64) float64 {
	t.Helper()
	if got := opt.Steps(); got != int64(steps) {
		t.Errorf("Steps() = %d after %d steps", got, steps)
	}
	worst := 0.0
	slots := map[string]bool{}
	for _, s := range opt.Slots() {
		slots[s.Name] = true
		raw, ok := state[s.Name]
		if !ok {
			t.Errorf("slot %q is not in torch's state (%s)", s.Name, keys(state))
			continue
		}
		var want goldenTensor
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatalf("state %q: %v", s.Name, err)
		}
		e, i := relErr(s.Data, want.Data)
		worst = max(worst, e)
		if !(e <= tol) {
			t.Errorf("state %q: relative error %.3g > %g at [%d]", s.Name, e, tol, i)
		}
	}
	for name, raw := range state {
		if name == "step" {
			var step float64
			if err := json.Unmarshal(raw, &step); err != nil || step != float64(steps) {
				t.Errorf("torch state step = %s, want %d", raw, steps)
			}
			continue
		}
		if check, ok := notSlots[optimizer][name]; ok {
			if slots[name] {
				t.Errorf("torch state %q is listed as not a slot, but nettrain has a slot of that name", name)
			}
			var v float64
			if err := json.Unmarshal(raw, &v); err != nil {
				t.Fatalf("state %q: %v", name, err)
			}
			if want, ok := check(cfg, steps, v); !ok {
				t.Errorf("torch state %s = %.17g, nettrain's rule gives %.17g", name, v, want)
			}
			continue
		}
		if !slots[name] {
			t.Errorf("torch state %q has no slot of that name (slots: %v)", name, slotNames(opt))
		}
	}
	return worst
}

func keys(m map[string]json.RawMessage) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return strings.Join(ks, ", ")
}

func slotNames[T backprop.Float](opt optim.Optimizer[T]) []string {
	var names []string
	for _, s := range opt.Slots() {
		names = append(names, s.Name)
	}
	return names
}

func convert[T backprop.Float](v []float64) []T {
	out := make([]T, len(v))
	for i, x := range v {
		out[i] = T(x)
	}
	return out
}

// relErr is the max-norm relative error of got against the reference want,
//
//	max_i |got_i - want_i| / max(max_i |want_i|, 1e-12),
//
// one number per vector, so every entry is held to the scale of the
// vector's largest (the floor only keeps an all-zero reference finite). It
// also returns the index of the largest difference. A length mismatch or a
// NaN gives +Inf.
func relErr[T backprop.Float](got []T, want []float64) (float64, int) {
	if len(got) != len(want) {
		return math.Inf(1), 0
	}
	var diff, scale float64
	worst := 0
	for i, w := range want {
		d := math.Abs(float64(got[i]) - w)
		if math.IsNaN(d) {
			return math.Inf(1), i
		}
		if d > diff {
			diff, worst = d, i
		}
		scale = max(scale, math.Abs(w))
	}
	return diff / max(scale, 1e-12), worst
}

// TestEveryOptimizerIsDocumented: each registered optimizer has a row in the
// README's optimizer table, and each comparison variant names a registered
// optimizer.
func TestEveryOptimizerIsDocumented(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	start := strings.Index(readme, "### Optimizers and schedules")
	if start < 0 {
		t.Fatal("no Optimizers section in the README")
	}
	section := readme[start:]
	if end := strings.Index(section[1:], "\n### "); end > 0 {
		section = section[:end+1]
	}
	for _, name := range optim.Names() {
		if !strings.Contains(section, "| `"+name+"` |") {
			t.Errorf("optimizer %s has no row in the README's optimizer table", name)
		}
	}
	for _, v := range optim.Variants() {
		if _, ok := optim.Defaults(v.Optimizer); !ok || v.Name == "" || v.About == "" {
			t.Errorf("variant %+v", v)
		}
	}
}
