package main

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the expected messages of testdata/badinput")

// TestBadInput runs every case of testdata/badinput: a directory holding
// the files of one broken setup, `args` (the command line), `want` (the
// one-line message, after "nettrain: ") and `exitcode`. Every case must exit
// non-zero with exactly that one line: no panic, no stack trace, and no
// file written, changed or removed in its directory.
func TestBadInput(t *testing.T) {
	cases, err := filepath.Glob("testdata/badinput/*")
	if err != nil || len(cases) < 30 {
		t.Fatalf("%d cases: %v", len(cases), err)
	}
	for _, dir := range cases {
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			abs, _ := filepath.Abs(dir)
			work := t.TempDir()
			if err := os.CopyFS(work, os.DirFS(abs)); err != nil {
				t.Fatal(err)
			}
			args, _ := os.ReadFile(filepath.Join(abs, "args"))
			t.Chdir(work)
			before := tree(t, work)
			s, _, errOut := streams()
			code := Main(strings.Fields(string(args)), s)
			msg := errOut.String()
			if d := treeDiff(before, tree(t, work)); d != "" {
				t.Errorf("the command changed its directory: %s", d)
			}
			if code == 0 {
				t.Fatalf("exit 0; stderr %q", msg)
			}
			if strings.Count(msg, "\n") != 1 || !strings.HasPrefix(msg, "nettrain: ") || strings.Contains(msg, "goroutine ") || strings.Contains(msg, "panic") {
				t.Errorf("want one line starting \"nettrain: \", got %q", msg)
			}
			got := strings.TrimSuffix(strings.TrimPrefix(msg, "nettrain: "), "\n")
			if *update {
				os.WriteFile(filepath.Join(abs, "want"), []byte(got+"\n"), 0o644)
				os.WriteFile(filepath.Join(abs, "exitcode"), []byte(strconv.Itoa(code)+"\n"), 0o644)
				return
			}
			want, _ := os.ReadFile(filepath.Join(abs, "want"))
			if got != strings.TrimSpace(string(want)) {
				t.Errorf("message\n  %s\nwant\n  %s", got, strings.TrimSpace(string(want)))
			}
			wantCode, _ := os.ReadFile(filepath.Join(abs, "exitcode"))
			if c, _ := strconv.Atoi(strings.TrimSpace(string(wantCode))); c != code {
				t.Errorf("exit %d, want %d", code, c)
			}
		})
	}
}

// tree maps every file under dir (and every directory, to "") to its
// content.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if d.IsDir() {
			m[rel+"/"] = ""
			return nil
		}
		b, err := os.ReadFile(path)
		m[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// treeDiff names the first difference between two trees.
func treeDiff(a, b map[string]string) string {
	for name, v := range a {
		if w, ok := b[name]; !ok {
			return name + " was removed"
		} else if v != w {
			return name + " was changed"
		}
	}
	for name := range b {
		if _, ok := a[name]; !ok {
			return name + " was created"
		}
	}
	return ""
}
