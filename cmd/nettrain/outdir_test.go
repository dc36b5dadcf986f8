package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestOutDirOfOtherFiles: an --out directory that holds other files and
// no output of the command (a typo, --out .) is refused with one line
// naming it, exit 1 (like a directory that holds another run), and left
// as it was; a new or empty directory (hidden files such as .gitkeep
// aside), and the command's own (with a file of the user's added), are
// used as before.
func TestOutDirOfOtherFiles(t *testing.T) {
	dir := t.TempDir()
	writeSmallSweep(t, dir)
	configs, err := filepath.Abs("../../configs")
	if err != nil {
		t.Fatal(err)
	}
	small := []string{"--optimizers", "sgd", "--lr-grid", "1", "--seeds", "1", "--workers", "1"}
	guide := []string{"guide", "--configs", configs, "--problems", "regression-mlp", "--scale", "0.01", "--lr-grid", "1", "--seeds", "1", "--workers", "1"}
	runNettrain(t, dir, "train", "c.yaml", "--out", "run", "--set", "training.steps=2")
	runNettrain(t, dir, append([]string{"compare-optimizers", "c.yaml", "--out", "cmp"}, small...)...)
	for _, d := range []string{"user", "empty", "readme", "lone", "hidden"} {
		os.Mkdir(filepath.Join(dir, d), 0o755)
	}
	for _, f := range []string{"user/notes.txt", "run/notes.txt", "cmp/notes.txt", "hidden/.gitkeep", "hidden/.DS_Store"} {
		os.WriteFile(filepath.Join(dir, f), []byte("mine\n"), 0o644)
	}
	os.WriteFile(filepath.Join(dir, "readme/README.md"), []byte("# My project\n"), 0o644)
	b, _ := os.ReadFile(filepath.Join(dir, "run/last.safetensors"))
	os.WriteFile(filepath.Join(dir, "lone/mine.safetensors"), b, 0o644)

	const other = " is not empty and holds no "
	const tail = "): nettrain does not write its files among others; give --out a new or empty directory\n"
	for _, c := range []struct {
		args []string
		out  string // the directory that must be left as it was, when refused
		code int
		want string // stderr, a prefix when it ends in "("
	}{
		{[]string{"train", "c.yaml", "--set", "training.steps=2", "--out", "user"}, "user", 1,
			"nettrain: run directory user" + other + "nettrain run (it has notes.txt, and no metrics.csv, metrics.jsonl or status.json" + tail},
		{[]string{"train", "c.yaml", "--set", "training.steps=2", "--out", "."}, ".", 1, "nettrain: run directory ." + other + "nettrain run (it has c.yaml, cmp, d.csv and 6 more, and no metrics.csv"},
		{[]string{"train", "c.yaml", "--set", "training.steps=2", "--out", "empty"}, "", 0, ""},
		{[]string{"train", "c.yaml", "--set", "training.steps=2", "--out", "hidden"}, "", 0, ""}, // empty to its user
		{[]string{"train", "c.yaml", "--set", "training.steps=4", "--resume", "run/last.safetensors"}, "", 0, ""},
		{[]string{"train", "c.yaml", "--set", "training.steps=4", "--resume", "lone/mine.safetensors"}, "", 0, ""},
		{append([]string{"compare-optimizers", "c.yaml", "--out", "user"}, small...), "user", 1,
			"nettrain: output directory user" + other + "comparison or sweep (it has notes.txt, and no trials.jsonl" + tail},
		{append([]string{"compare-optimizers", "c.yaml", "--out", "cmp"}, small...), "", 0, ""},
		{[]string{"sweep", "c.yaml", "--grid", "training.batch_size=10,30", "--seeds", "1", "--workers", "1", "--out", "user"}, "user", 1,
			"nettrain: output directory user" + other + "comparison or sweep (it has notes.txt, and no trials.jsonl" + tail},
		{append(guide, "--out", "user"), "user", 1,
			"nettrain: output directory user" + other + "guide (it has notes.txt, and no guide page README.md or problem directory with trials.jsonl" + tail},
		{append(guide, "--out", "readme"), "readme", 1,
			"nettrain: output directory readme holds a README.md that is not a guide's page, which the guide would replace: give --out a new or empty directory\n"},
	} {
		before := listDir(t, filepath.Join(dir, c.out))
		cmd := nettrainCmd(t, dir, c.args...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		got := stderr.String()
		match := got == c.want || strings.HasSuffix(c.want, "metrics.csv") && strings.HasPrefix(got, c.want)
		if code != c.code || c.code != 0 && !match {
			t.Errorf("%v: exit %d, want %d; stderr %q\nwant %q", c.args, code, c.code, got, c.want)
		}
		if c.code != 0 {
			if after := listDir(t, filepath.Join(dir, c.out)); !slices.Equal(before, after) {
				t.Errorf("%v changed %s: %v, was %v", c.args, c.out, after, before)
			}
		}
	}
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
