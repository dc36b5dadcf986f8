package compare

import (
	"encoding/json"
	"math"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/nettrain/nettrain/internal/train"
)

// TestMotionFindingIsMeasured: the finding that an optimizer "barely left
// the initial weights" names an optimizer only when its weights really
// ended within 10% of their initial norm of where they started
// (|w_end - w_0| / |w_0|, measured here by training the same trial), and
// states that distance; one step's size times the number of steps is no
// such measurement (adagrad's steps shrink as its sums grow). Records
// without the distance (an older nettrain) get no such finding.
func TestMotionFindingIsMeasured(t *testing.T) {
	tests := []struct {
		name      string
		opt       string
		lr        float64
		steps     int
		separated bool // classes far apart: the loss soon nears 0, and so do the gradients
	}{
		{"adagrad at lr 1 on separated classes: large first steps, then tiny ones", "adagrad", 1, 24, true},
		{"adagrad at lr 1", "adagrad", 1, 24, false},
		{"sgd at lr 1e-4: barely moves", "sgd", 1e-4, 24, false},
		{"adam at its default", "adam", 1e-3, 40, false},
		{"adadelta at lr 0.1", "adadelta", 0.1, 40, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeBlobs(t, dir)
			if tc.separated {
				writeSeparated(t, dir)
			}
			cfg := config(t, dir)
			o := options(cfg, filepath.Join(dir, "out"))
			o.Optimizers, o.LRs, o.Seeds, o.Epochs = []string{tc.opt}, map[string][]float64{tc.opt: {tc.lr}}, 1, 100
			o.Steps = &tc.steps
			sum, err := Run(cfg, o)
			if err != nil {
				t.Fatal(err)
			}
			// The distance, measured: the same trial trained again, its
			// last weights against its first.
			data := &dataCache[float32]{cfg: cfg, bySeed: map[uint64]*dataEntry[float32]{}}
			m, err := optimizerTrial(data, Key{Phase: PhaseFinal, Optimizer: tc.opt, LR: tc.lr, Seed: cfg.Seed})
			if err != nil {
				t.Fatal(err)
			}
			init, err := m.InitNetwork(cfg.Training.BatchSize)
			if err != nil {
				t.Fatal(err)
			}
			pool := train.NewPool(1)
			defer pool.Close()
			_, net, err := trainTrial(m, pool, TrialOptions{Epochs: 100, Steps: &tc.steps, EvalsPerEpoch: 3, DivergeFactor: 10})
			if err != nil {
				t.Fatal(err)
			}
			var d2, w2 float64
			for i, w := range net.W {
				d := float64(w) - float64(init.W[i])
				d2 += d * d
				w2 += float64(init.W[i]) * float64(init.W[i])
			}
			moved := math.Sqrt(d2 / w2)
			f := strings.Join(sum.Findings, "\n")
			claim := regexp.MustCompile(`barely left the initial weights[^:]*: (.*)\.`).FindStringSubmatch(f)
			named := claim != nil && strings.Contains(claim[1], tc.opt+" (")
			switch {
			case moved < stalledMotion && !named:
				t.Errorf("the weights moved %.3g of their norm, but the findings do not say so:\n%s", moved, f)
			case moved >= stalledMotion && named:
				t.Errorf("the weights moved %.3g of their norm, but the findings say %s barely left them:\n%s", moved, tc.opt, f)
			case named:
				got := regexp.MustCompile(regexp.QuoteMeta(tc.opt) + ` \(([0-9.e+-]+)%`).FindStringSubmatch(claim[1])
				if got == nil {
					t.Fatalf("no figure for %s in %q", tc.opt, claim[1])
				}
				v, _ := strconv.ParseFloat(got[1], 64)
				if want := pct(moved); got[1]+"%" != want {
					t.Errorf("the findings say %s moved %g%%, measured %s", tc.opt, v, want)
				}
			}
			// The same records without the measured distance (as an older
			// nettrain wrote them): no finding on how far the weights moved.
			recs, err := readRecords(o.OutDir)
			if err != nil {
				t.Fatal(err)
			}
			old := stripped(t, recs)
			osum, err := Report([][]Record{old}, ReportOptions{Out: filepath.Join(dir, "old")})
			if err != nil {
				t.Fatal(err)
			}
			if f := strings.Join(osum.Findings, "\n"); strings.Contains(f, "barely left") {
				t.Errorf("records without the distance moved still get a finding on it:\n%s", f)
			}
		})
	}
}

// stripped is recs as a nettrain without some measurements wrote them:
// the records through JSON without those keys (by default the distance
// from the initial weights).
func stripped(t *testing.T, recs []Record, keys ...string) []Record {
	t.Helper()
	var out []Record
	for _, r := range recs {
		b, err := json.Marshal(recordJSON(r))
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		if len(keys) == 0 {
			keys = []string{"displacement"}
		}
		for _, k := range keys {
			delete(m, k)
		}
		b, _ = json.Marshal(m)
		var o Record
		if err := json.Unmarshal(b, &o); err != nil {
			t.Fatal(err)
		}
		out = append(out, o)
	}
	return out
}

// writeSeparated writes blobs.csv as three classes far apart (centres 8
// apart, noise 0.3), which a network soon classifies with a loss near 0.
func writeSeparated(t *testing.T, dir string) { writeBlobsApart(t, dir, 8, 0.3) }
