package compare

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPlotStyleFollowsTheOptimizer: an optimizer has the same colour, dash
// pattern and marker in every report's plots, whatever its rank, so that
// the guide's problems can be read side by side (it was by rank: nadam in
// one problem's plots had the style of nesterov in another's).
func TestPlotStyleFollowsTheOptimizer(t *testing.T) {
	rankings := []struct {
		name string
		best map[string]float64 // best validation loss: the ranking
	}{
		{"nadam first", map[string]float64{"nadam": 0.1, "nesterov": 0.2, "adam": 0.3, "sgd": 0.4}},
		{"nesterov first", map[string]float64{"nesterov": 0.1, "sgd": 0.2, "adam": 0.3, "nadam": 0.4}},
		{"two of them", map[string]float64{"adam": 0.1, "nadam": 0.2}},
	}
	seen := map[string]string{} // file and optimizer: its legend's style
	for _, rk := range rankings {
		t.Run(rk.name, func(t *testing.T) {
			plan := &Plan{Config: "t", Grids: map[string][]float64{}, Seed: 1, Seeds: 2}
			var recs []Record
			for _, n := range VariantNames() {
				b, ok := rk.best[n]
				if !ok {
					continue
				}
				plan.Optimizers = append(plan.Optimizers, n)
				plan.Grids[n] = []float64{0.01}
				for _, k := range []Key{{Phase: PhaseTune, Optimizer: n, LR: 0.01, Seed: 1}, {Phase: PhaseFinal, Optimizer: n, LR: 0.01, Seed: 1}, {Phase: PhaseFinal, Optimizer: n, LR: 0.01, Seed: 2}} {
					r := Record{Key: k, Sweep: "s", Plan: plan}
					r.Steps, r.BestVal, r.FinalVal = 20, b, b
					for s := int64(1); s <= 4; s++ {
						r.Curve = append(r.Curve, CurvePoint{Step: 5 * s, Epoch: float64(s), ValLoss: b + 1/float64(s)})
					}
					recs = append(recs, r)
				}
			}
			out := filepath.Join(t.TempDir(), "report")
			if _, err := Report([][]Record{recs}, ReportOptions{Out: out}); err != nil {
				t.Fatal(err)
			}
			for _, file := range []string{"curves.svg", "lr-sensitivity.svg"} {
				svg, err := os.ReadFile(filepath.Join(out, file))
				if err != nil {
					t.Fatal(err)
				}
				styles := legendStyles(string(svg))
				for n := range rk.best {
					st, ok := styles[n]
					if !ok {
						t.Fatalf("%s: no legend entry %s", file, n)
					}
					if was, ok := seen[file+" "+n]; ok && was != st {
						t.Errorf("%s: %s drawn as\n  %s\nand in another report as\n  %s", file, n, st, was)
					}
					seen[file+" "+n] = st
				}
			}
		})
	}
}

// legendStyles reads the legend of an SVG plot: for each entry's label
// (the optimizer's name, before " (lr ...)"), the styles of its
// thumbnail drawn just before it: its line and its marker.
func legendStyles(svg string) map[string]string {
	out := map[string]string{}
	var paths []string
	for _, l := range strings.Split(svg, "\n") {
		switch {
		case strings.HasPrefix(l, "<path "):
			i := strings.Index(l, `style="`)
			switch {
			case i < 0:
			case strings.Contains(l, "stroke-width:1.5"): // a line: a thumbnail starts
				paths = []string{l[i:]}
			default:
				paths = append(paths, l[i:])
			}
		case strings.HasSuffix(l, "</text>"):
			l = strings.TrimSuffix(l, "</text>")
			label := l[strings.LastIndex(l, ">")+1:]
			label, _, _ = strings.Cut(label, " (")
			out[label] = strings.Join(paths[:min(2, len(paths))], " ") // the line and its marker
			paths = nil
		}
	}
	return out
}
