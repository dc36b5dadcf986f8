package compare

import (
	"math"

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

func variant(name string) (Variant, bool) {
	for _, v := range optim.Variants() {
		if v.Name == name {
			return v, true
		}
	}
	return Variant{}, false
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
