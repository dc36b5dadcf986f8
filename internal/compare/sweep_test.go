package compare

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/nettrain/nettrain/internal/model"
)

// TestParseGrid: values are split at the commas outside brackets and
// braces, so a list- or mapping-valued key can be swept.
func TestParseGrid(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  string
	}{
		{"optimizer.lr=0.1,0.01", []string{"0.1", "0.01"}, ""},
		{"optimizer.betas=[0.9,0.99],[0.8,0.9]", []string{"[0.9,0.99]", "[0.8,0.9]"}, ""},
		{`model.layers.0={"dense":{"units":8}},{"dense":{"units":16,"bias":false}}`, []string{`{"dense":{"units":8}}`, `{"dense":{"units":16,"bias":false}}`}, ""},
		{"a=1,,2", nil, "empty value"},
		{"a=1,1", nil, "lists 1 twice"},
		{"=1", nil, "want key=v1,v2"},
		{"optimizer..lr=0.1,0.2", nil, `--grid "optimizer..lr=0.1,0.2": key "optimizer..lr" has an empty part`},
		{"training.=1,2", nil, `key "training." has an empty part`},
	} {
		a, err := ParseGrid(tc.in)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: %v, want %q", tc.in, err, tc.err)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.in, err)
		case !slices.Equal(a.Values, tc.want):
			t.Errorf("%s: %q, want %q", tc.in, a.Values, tc.want)
		}
	}
}

// TestIntegerRandomAxes: a random axis over a key that takes an integer
// draws whole numbers within the bounds (both ends reachable); other keys
// keep 4 significant digits; an integer key without an integer between the
// bounds is refused.
func TestIntegerRandomAxes(t *testing.T) {
	load := func(sets []string) (*model.Config, error) {
		for _, s := range sets {
			if strings.HasPrefix(s, "training.batch_size=") && strings.Contains(s, ".") {
				return nil, errors.New(`--set ` + s + `: training.batch_size: expected an integer, got "0.5"`)
			}
		}
		return &model.Config{}, nil
	}
	// integerAxes reads the decoder's refusal of a fraction: pin its words.
	if _, err := model.Parse("c.yaml", []byte("data: {train: d.csv}\nmodel: {layers: [{dense: {units: 2}}]}\n"), []string{"training.batch_size=0.5"}, nil); err == nil || !strings.Contains(err.Error(), "expected an integer") {
		t.Fatalf("the config's refusal of a fractional batch size: %v", err)
	}
	o := SweepOptions{Load: load, Random: []Axis{
		{Key: "training.batch_size", Dist: "uniform", Lo: 16, Hi: 20},
		{Key: "optimizer.lr", Dist: "log-uniform", Lo: 0.001, Hi: 0.1},
	}}
	if err := o.integerAxes(); err != nil {
		t.Fatal(err)
	}
	if !o.Random[0].Int || o.Random[1].Int {
		t.Fatalf("integer axes %+v", o.Random)
	}
	seen := map[int]bool{}
	for _, st := range Settings(nil, o.Random, 200, 1) {
		f := strings.Fields(st)
		b, err := strconv.Atoi(strings.TrimPrefix(f[0], "training.batch_size="))
		if err != nil || b < 16 || b > 20 {
			t.Fatalf("setting %q: batch size not an integer in [16, 20]", st)
		}
		seen[b] = true
		if !strings.HasPrefix(f[1], "optimizer.lr=0.0") {
			t.Fatalf("setting %q: the learning rate", st)
		}
	}
	if len(seen) != 5 {
		t.Errorf("drew %v, want every integer from 16 to 20", seen)
	}
	// 200 draws of 5 batch sizes repeat settings; each is trained once.
	if st := Settings(nil, o.Random[:1], 200, 1); len(st) != 5 {
		t.Errorf("200 draws over 5 integers gave %d settings, want 5 distinct: %q", len(st), st)
	}
	o.Random = []Axis{{Key: "training.batch_size", Dist: "uniform", Lo: 16.2, Hi: 16.8}}
	if err := o.integerAxes(); err == nil || !strings.Contains(err.Error(), "there is none between the bounds") {
		t.Errorf("no integer in [16.2, 16.8]: %v", err)
	}
}

// TestParseRandomForm: --random takes key=uniform(a,b) or
// key=log-uniform(a,b), with a dotted key whose parts are all there.
func TestParseRandomForm(t *testing.T) {
	for _, tc := range []struct{ in, err string }{
		{"optimizer.lr=log-uniform(1e-4,1e-1)", ""},
		{"optimizer.lr=normal(0,1)", "want key=log-uniform(a,b) or key=uniform(a,b)"},
		{"=uniform(0,1)", "want key=log-uniform(a,b) or key=uniform(a,b)"},
		{"optimizer..lr=uniform(0,1)", `--random "optimizer..lr=uniform(0,1)": key "optimizer..lr" has an empty part`},
	} {
		_, err := ParseRandom(tc.in)
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s: %v, want %q", tc.in, err, tc.err)
		}
	}
}

// TestSweepReportDirsOfAComparison: a sweep report over a comparison's
// directory says which directory and which command reports it.
func TestSweepReportDirsOfAComparison(t *testing.T) {
	dir := t.TempDir()
	if err := appendRecord(dir, Record{Key: Key{Phase: PhaseTune, Optimizer: "adam", LR: 0.001}, Sweep: "s"}); err != nil {
		t.Fatal(err)
	}
	_, err := SweepReportDirs([]string{dir}, ReportOptions{Out: t.TempDir()})
	want := dir + " holds the records of an optimizer comparison, not of a sweep: report it with nettrain compare-optimizers report " + dir
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

// TestSweepSettingsBounded: a sweep of more than MaxSweepSettings
// settings (grid combinations times random draws) is refused before any
// is listed; as many is fine.
func TestSweepSettingsBounded(t *testing.T) {
	values := func(n int) []string {
		v := make([]string, n)
		for i := range v {
			v[i] = fmt.Sprint(i + 1)
		}
		return v
	}
	for _, tc := range []struct {
		grid   []int
		trials int
		want   string
	}{
		{[]int{100, 100}, 0, ""},
		{[]int{101, 100}, 0, "the sweep has more than 10000 settings (101 x 100)"},
		{[]int{1000, 1000, 1000}, 0, "(1000 x 1000 x 1000)"},
		{nil, 10000, ""},
		{[]int{2}, 1000000, "the sweep has more than 10000 settings (2 x 1000000 draws)"},
	} {
		o := SweepOptions{Seeds: 1, Workers: 1, Trials: tc.trials}
		for i, n := range tc.grid {
			o.Grid = append(o.Grid, Axis{Key: fmt.Sprintf("k%d", i), Values: values(n)})
		}
		if tc.trials > 0 {
			o.Random = []Axis{{Key: "optimizer.lr", Lo: 1e-5, Hi: 1}}
		}
		err := o.Validate()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("grid %v, %d draws: %v, want %q", tc.grid, tc.trials, err, tc.want)
		}
	}
}

// TestSweepReportOfNoRecords: a report of directories without a record
// names those directories, not the output.
func TestSweepReportOfNoRecords(t *testing.T) {
	in, out := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(in, RecordsFile), nil, 0o644)
	_, err := SweepReportDirs([]string{in}, ReportOptions{Out: out})
	if err == nil || !strings.Contains(err.Error(), "no trial records to report in "+in) || strings.Contains(err.Error(), out) {
		t.Errorf("%v, want the input directory named", err)
	}
}
