package compare

import (
	"fmt"
	"math"
	"strings"

	"github.com/nettrain/nettrain/internal/optim"
)

// Variant is an optimizer as the comparison names it (optim.Variant): a
// registered optimizer with torch's defaults, or one of its classic
// settings. The list comes from the optimizer registry, so a new optimizer
// is compared without a change here.
type Variant = optim.Variant

// VariantNames lists the variant names in report order.
func VariantNames() []string {
	var n []string
	for _, v := range optim.Variants() {
		n = append(n, v.Name)
	}
	return n
}

func variant(name string) (Variant, bool) { return optim.VariantNamed(name) }

// ConfigForms is a sentence giving the config form of each of names that
// is no optimizer name of a config (momentum, nesterov), in their order:
// "In a config, `momentum` is `optimizer: {name: sgd, momentum: 0.9}`,
// with `lr:` the rate ...". "" when there is none.
func ConfigForms(names []string) string {
	var parts []string
	for _, n := range names {
		if v, ok := variant(n); ok && v.Name != v.Optimizer {
			parts = append(parts, fmt.Sprintf("`%s` is `optimizer: %s`", n, v.ConfigForm()))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	list := parts[0]
	if len(parts) > 1 {
		list = strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
	}
	return "In a config, " + list + ", with `lr:` the rate: these are compare-optimizers' names, not optimizer names (`optimizer.name` is one of " + strings.Join(optim.Names(), ", ") + ")."
}

// Grid is n learning rates log-spaced over two decades either side of
// center, always including center (a grid that misses the default rate
// can rank an optimizer by rates nobody would use). For odd n it is
// center * 10^(-2 + 4k/(n-1)), k = 0..n-1; for even n, the odd grid of
// n+1 points without its largest rate (n = 2: center/100 and center); for
// n = 1, center alone.
func Grid(center float64, n int) []float64 {
	if n == 1 {
		return []float64{center}
	}
	odd := n
	if n%2 == 0 {
		odd = n + 1
	}
	g := make([]float64, n)
	for k := range g {
		g[k] = roundSig(center * math.Pow(10, -2+4*float64(k)/float64(odd-1)))
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
