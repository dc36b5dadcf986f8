package optim

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/nettrain/nettrain/internal/backprop"
)

// Rate is the learning rate every optimizer config has: embedded (inline)
// in each config struct, it is the config's "lr" key and its LearningRate
// and SetLearningRate.
type Rate struct {
	LR float64 `yaml:"lr"`
}

func (r *Rate) LearningRate() float64      { return r.LR }
func (r *Rate) SetLearningRate(lr float64) { r.LR = lr }

// base is what every optimizer keeps besides its slots: the learning rate
// in effect (a schedule changes it) and the number of updates so far. It
// provides LR, SetLR, Steps and SetSteps.
type base struct {
	lr    float64
	steps int64
}

func (b *base) LR() float64      { return b.lr }
func (b *base) SetLR(lr float64) { b.lr = lr }
func (b *base) Steps() int64     { return b.steps }
func (b *base) SetSteps(n int64) { b.steps = n }

// Step applies one update to w from the gradient g (same length) on the
// calling goroutine: Begin, then Update over the whole of w. It never
// modifies g.
func Step[T backprop.Float](o Optimizer[T], w, g []T) {
	o.Begin()
	o.Update(w, g, 0, len(w))
}

// registry maps each optimizer name to a constructor of its config with the
// defaults torch.optim uses.
var registry = map[string]func() Config{}

// register adds an optimizer under its config name (from its own file's
// init), with the named variants compare-optimizers compares.
func register(name string, defaults func() Config, variants ...Variant) {
	if _, dup := registry[name]; dup {
		panic("optim: optimizer " + name + " registered twice")
	}
	registry[name] = defaults
	for _, v := range variants {
		v.Optimizer = name
		allVariants = append(allVariants, v)
	}
}

// Defaults returns the named optimizer's config with torch.optim's defaults,
// or false for an unknown name.
func Defaults(name string) (Config, bool) {
	f, ok := registry[name]
	if !ok {
		return nil, false
	}
	return f(), true
}

// Names lists the known optimizer names, sorted.
func Names() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Variant is an optimizer as compare-optimizers names and compares it: a
// registered optimizer with torch's defaults, or one of its classic
// settings (SGD with momentum, with Nesterov momentum).
type Variant struct {
	Name string // e.g. "momentum"
	// Optimizer is the registered optimizer it configures (set by
	// register).
	Optimizer string
	// Rank orders the variants in reports: from plain SGD up to the
	// adaptive methods, in order of increasing complexity.
	Rank int
	// Set, when not nil, changes the optimizer's defaults into the
	// variant's (e.g. momentum 0.9).
	Set   func(Config)
	About string // a short description for reports
}

// allVariants collects every registered variant.
var allVariants []Variant

// Variants lists every registered optimizer variant in report order.
func Variants() []Variant {
	v := append([]Variant(nil), allVariants...)
	sort.Slice(v, func(i, j int) bool { return v[i].Rank < v[j].Rank })
	return v
}

// VariantNamed is the variant of that name, or false.
func VariantNamed(name string) (Variant, bool) {
	for _, v := range allVariants {
		if v.Name == name {
			return v, true
		}
	}
	return Variant{}, false
}

// Config returns the variant's optimizer config at learning rate lr.
func (v Variant) Config(lr float64) Config {
	c, ok := Defaults(v.Optimizer)
	if !ok {
		panic(fmt.Sprintf("optim: variant %s of unknown optimizer %s", v.Name, v.Optimizer))
	}
	if v.Set != nil {
		v.Set(c)
	}
	c.SetLearningRate(lr)
	return c
}

// DefaultLR is the variant's torch default learning rate.
func (v Variant) DefaultLR() float64 {
	c, _ := Defaults(v.Optimizer)
	return c.LearningRate()
}

// param is a named hyperparameter value, for the shared checks.
type param struct {
	key string
	v   float64
}

// nonNegative checks that every hyperparameter given is >= 0 (NaN is not):
// the error names the first that is not.
func nonNegative(ps ...param) error {
	for _, p := range ps {
		if !(p.v >= 0) {
			return errKey(p.key, "must be >= 0, got %g", p.v)
		}
	}
	return nil
}

// Settings are the config keys in which the variant differs from its
// optimizer's defaults, as "key value" in the config's key order (e.g.
// "momentum 0.9", "nesterov true"); none for a variant that is its
// optimizer with torch's defaults. The learning rate is left out.
func (v Variant) Settings() []string {
	var out []string
	for _, kv := range v.settings() {
		out = append(out, kv[0]+" "+kv[1])
	}
	return out
}

// ConfigForm is the variant written as the config's optimizer mapping,
// e.g. "{name: sgd, momentum: 0.9, nesterov: true}" (without lr).
func (v Variant) ConfigForm() string {
	s := "{name: " + v.Optimizer
	for _, kv := range v.settings() {
		s += ", " + kv[0] + ": " + kv[1]
	}
	return s + "}"
}

// settings are the keys and YAML values (flow style) of the variant's
// config that differ from its optimizer's defaults, lr aside.
func (v Variant) settings() [][2]string {
	d, ok := Defaults(v.Optimizer)
	if !ok {
		panic(fmt.Sprintf("optim: variant %s of unknown optimizer %s", v.Name, v.Optimizer))
	}
	var dn, vn yaml.Node
	if err := dn.Encode(d); err != nil {
		panic(err)
	}
	if err := vn.Encode(v.Config(d.LearningRate())); err != nil {
		panic(err)
	}
	flow := func(n *yaml.Node) string {
		n.Style = yaml.FlowStyle
		b, err := yaml.Marshal(n)
		if err != nil {
			panic(err)
		}
		return strings.TrimSpace(string(b))
	}
	var out [][2]string
	for i := 0; i+1 < len(vn.Content); i += 2 {
		key, val := vn.Content[i].Value, flow(vn.Content[i+1])
		if key == "lr" {
			continue
		}
		if j := slices.IndexFunc(dn.Content, func(n *yaml.Node) bool { return n.Value == key }); j >= 0 && j%2 == 0 && flow(dn.Content[j+1]) == val {
			continue
		}
		out = append(out, [2]string{key, val})
	}
	return out
}
