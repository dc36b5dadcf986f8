package main

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/nettrain/nettrain/internal/guide"
	"github.com/nettrain/nettrain/internal/model"
)

// TestGuideSmall runs the guide on two cheap problems with a tiny budget,
// then rebuilds its page from the records with --report: the same page.
func TestGuideSmall(t *testing.T) {
	if _, err := os.Stat("/usr/share/common-licenses/GPL-3"); err != nil {
		t.Skip("no licence texts")
	}
	dir := t.TempDir()
	// A copy of the two problems' configs: the guide writes the licence
	// data set into the configs' data directory.
	configs := filepath.Join(dir, "configs")
	os.MkdirAll(filepath.Join(configs, "data"), 0o755)
	for _, f := range []string{"regression-mlp.yaml", "licences-bow.yaml", "data/diabetes.csv"} {
		b, err := os.ReadFile(filepath.Join("../../configs", f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(configs, f), b, 0o644)
	}
	args := []string{"guide", "--configs", configs, "--out", "g", "--problems", "regression-mlp,licences-bow",
		"--scale", "0.05", "--lr-grid", "1", "--seeds", "1", "--workers", "2"}
	out := runNettrain(t, dir, args...)
	if !strings.Contains(out, "licence data set: ") || !strings.Contains(out, "The guide is in g/README.md") {
		t.Errorf("guide printed:\n%s", out)
	}
	page, err := os.ReadFile(filepath.Join(dir, "g/README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Where to start", "[regression with unscaled targets, MLP (diabetes)](regression-mlp/summary.md)",
		"[sparse bag-of-words features, MLP (licence paragraphs)](licences-bow/summary.md)", "**Across problems.**",
		"nettrain guide --out g --lr-grid 1 --seeds 1 --scale 0.05 --problems regression-mlp,licences-bow"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("page lacks %q:\n%s", want, page)
		}
	}
	if _, err := os.Stat(filepath.Join(configs, "data/licences-bow.csv")); err != nil {
		t.Errorf("the licence data set is not where its config points: %v", err)
	}
	runNettrain(t, dir, append(args, "--report")...)
	again, _ := os.ReadFile(filepath.Join(dir, "g/README.md"))
	if string(again) != string(page) {
		t.Errorf("--report rebuilt another page:\n%s\n---\n%s", page, again)
	}
	// --report with other flags than the records ran with would describe
	// them wrongly: refused.
	cmd := nettrainCmd(t, dir, "guide", "--configs", configs, "--out", "g", "--problems", "regression-mlp,licences-bow", "--report")
	if b, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(b), "the records were run with 1 rates, 1 seeds and") {
		t.Errorf("--report without the run's flags: %v\n%s", err, b)
	}
	cmd = nettrainCmd(t, dir, "guide", "--problems", "mnist", "--out", "x")
	if b, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(b), `unknown problem "mnist"`) {
		t.Errorf("unknown problem: %v\n%s", err, b)
	}
}

// TestGuideProblemCommands: the compare-optimizers command the guide's
// page gives for each problem is one compare-optimizers accepts (its
// --epochs within the cap), and run on the committed records of
// docs/guide it resumes them: the guide's trials are those trials.
func TestGuideProblemCommands(t *testing.T) {
	o := &guide.Options{ConfigsDir: "../../configs", LRGrid: 5, Seeds: 3}
	for _, p := range guide.Suite {
		args := strings.Fields(strings.Join(guide.ProblemCommand(p, p.Steps, o), " "))[1:] // without "nettrain"
		if i := slices.Index(args, "--epochs"); i < 0 {
			t.Errorf("%s: no --epochs in %v", p.Name, args)
		} else if n, err := strconv.Atoi(args[i+1]); err != nil || n < 1 || n > model.MaxEpochs {
			t.Errorf("%s: --epochs %s, want 1 to %d", p.Name, args[i+1], model.MaxEpochs)
		}
		s, _, errOut := streams()
		if code := Main(append(args, "--check"), s); code != 0 {
			t.Errorf("%s: %v --check: exit %d: %s", p.Name, args, code, errOut)
		}
		if p.Name != "regression-mlp" {
			continue
		}
		out := filepath.Join(t.TempDir(), p.Name)
		if err := os.CopyFS(out, os.DirFS(filepath.Join("../../docs/guide", p.Name))); err != nil {
			t.Fatal(err)
		}
		s, stdout, errOut := streams()
		if code := Main(append(args, "--out", out, "--workers", "1"), s); code != 0 ||
			!strings.Contains(stdout.String(), "tuning: 45 of 45 trials already done") || !strings.Contains(stdout.String(), "final runs: 18 of 18 trials already done") {
			t.Errorf("%s on the committed records: exit %d: %s\n%s", p.Name, code, errOut, stdout)
		}
	}
}
