package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the expected messages of testdata/badinput")

// Bounds of every bad-input case: a real nettrain process (this test
// binary) whose address space may grow by at most badInputMemoryMiB over
// what the Go runtime reserved at start, killed after badInputTimeout.
const (
	badInputMemoryMiB = 512
	badInputTimeout   = 20 * time.Second
)

// capMemory limits the process's address space to what it uses now plus
// mib MiB (RLIMIT_AS): an allocation beyond it fails, and the process
// dies with "out of memory" instead of taking the machine with it.
func capMemory(mib string) {
	extra, err := strconv.ParseInt(mib, 10, 64)
	if err != nil {
		return
	}
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) >= 2 && fields[0] == "VmSize:" {
			kb, _ := strconv.ParseUint(fields[1], 10, 64)
			lim := kb*1024 + uint64(extra)<<20
			syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: lim, Max: lim})
		}
	}
}

// TestBadInput runs every case of testdata/badinput: a directory holding
// the files of one broken setup (symbolic links included, e.g. to
// /dev/zero), `args` (the command line), `want` (the one-line message,
// after "nettrain: "), `exitcode`, and optionally `fifos` (names of FIFOs
// without a writer to create first). Each case runs as a real process under
// a memory cap and a timeout, and must exit non-zero with exactly that one
// line, nothing on stdout, no panic or stack trace, and no file written.
func TestBadInput(t *testing.T) {
	cases, err := filepath.Glob("testdata/badinput/*")
	if err != nil || len(cases) < 30 {
		t.Fatalf("%d cases: %v", len(cases), err)
	}
	// The README states how many there are.
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	stated := regexp.MustCompile("`cmd/nettrain/testdata/badinput/` holds (\\d+) broken").FindSubmatch(bytes.Join(bytes.Fields(readme), []byte(" ")))
	if stated == nil || string(stated[1]) != strconv.Itoa(len(cases)) {
		t.Errorf("the README states %q cases of testdata/badinput, there are %d", stated, len(cases))
	}
	for _, dir := range cases {
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			abs, _ := filepath.Abs(dir)
			work := t.TempDir()
			copyCase(t, abs, work)
			if b, err := os.ReadFile(filepath.Join(abs, "fifos")); err == nil {
				for _, f := range strings.Fields(string(b)) {
					if err := syscall.Mkfifo(filepath.Join(work, f), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			before := listTree(t, work)
			args, _ := os.ReadFile(filepath.Join(abs, "args"))
			ctx, cancel := context.WithTimeout(context.Background(), badInputTimeout)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], strings.Fields(string(args))...)
			cmd.Dir = work
			cmd.Env = append(os.Environ(), "GO_TEST_AS_NETTRAIN=1", "GO_TEST_MEMORY_MIB="+strconv.Itoa(badInputMemoryMiB))
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			if ctx.Err() != nil {
				t.Fatalf("still running after %v (killed); stderr %q", badInputTimeout, stderr.String())
			}
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			msg := stderr.String()
			if code == 0 {
				t.Fatalf("exit 0; stderr %q", msg)
			}
			if strings.Count(msg, "\n") != 1 || !strings.HasPrefix(msg, "nettrain: ") || strings.Contains(msg, "goroutine ") || strings.Contains(msg, "panic") {
				t.Errorf("want one line starting \"nettrain: \", got %q", msg)
			}
			if stdout.Len() > 0 {
				t.Errorf("wrote to stdout: %q", stdout.String())
			}
			if after := listTree(t, work); after != before {
				t.Errorf("files changed:\nbefore\n%s\nafter\n%s", before, after)
			}
			got := strings.TrimSuffix(strings.TrimPrefix(msg, "nettrain: "), "\n")
			got = strings.ReplaceAll(got, work, "WORK")
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

// copyCase copies a case directory into work, symbolic links as links.
func copyCase(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(target, dst)
		case d.IsDir():
			return os.MkdirAll(dst, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// listTree lists every path under dir, files with their size and
// modification time, one per line.
func listTree(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		fi, err := os.Lstat(p)
		if err == nil {
			rel, _ := filepath.Rel(dir, p)
			if fi.IsDir() { // a lock file taken and released leaves only the directory's time changed
				b.WriteString(rel + "/\n")
			} else {
				b.WriteString(rel + " " + strconv.FormatInt(fi.Size(), 10) + " " + fi.ModTime().String() + "\n")
			}
		}
		return nil
	})
	return b.String()
}
