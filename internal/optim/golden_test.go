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
// compares after every step.

// goldenOptimizers has one row per optimizer with a PyTorch trajectory file.
// Adding an optimizer: a row here, a row in gen.py's OPTIMIZERS, regenerate.
var goldenOptimizers = []string{
	"sgd",
	"adam",
}

// Tolerances on the max-norm relative error (see relErr) after every step.
// float64 is the tight check against torch; float32 shows the float32
// instantiation follows the same math (its params and gradients are the
// float64 values rounded, so it cannot be tighter than about 1e-7 per step).
var goldenPrecisions = []struct {
	name string
	tol  float64
	run  func(t *testing.T, g *goldenFile, c *goldenTrajectory, tol float64) float64
}{
	{"float64", 1e-6, replay[float64]},
	{"float32", 1e-5, replay[float32]},
}

type goldenTensor struct {
	Shape []int     `json:"shape"`
	Data  []float64 `json:"data"`
}

type goldenFile struct {
	Generator          string             `json:"generator"`
	Torch              string             `json:"torch"`
	ATenCPUCapability  string             `json:"aten_cpu_capability"`
	CPUCapabilityUsage string             `json:"cpu_capability_usage"`
	DType              string             `json:"dtype"`
	Optimizer          string             `json:"optimizer"`
	W0                 []float64          `json:"w0"`
	Grads              [][]float64        `json:"grads"`
	Cases              []goldenTrajectory `json:"cases"`
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

func TestGoldenOptimizers(t *testing.T) {
	for _, name := range goldenOptimizers {
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
						worst := p.run(t, g, &c, p.tol)
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
// parameters after every step and the final state; it returns the largest
// relative error seen.
func replay[T backprop.Float](t *testing.T, g *goldenFile, c *goldenTrajectory, tol float64) float64 {
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
	for k, gk := range g.Grads {
		copy(grad, convert[T](gk))
		before := slices.Clone(grad)
		opt.Step(w, grad)
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
	}
	return max(worst, checkState(t, opt, c.State, len(g.Grads), tol))
}

// checkState compares the optimizer's slots with torch's state tensors of
// the same names (both ways) and its step count with torch's "step".
func checkState[T backprop.Float](t *testing.T, opt optim.Optimizer[T], state map[string]json.RawMessage, steps int, tol float64) float64 {
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
