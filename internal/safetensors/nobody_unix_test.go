//go:build unix

package safetensors

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// rerunAsNobody runs the tests matching run in a copy of this test binary
// as uid/gid 65534, and fails if they fail.
func rerunAsNobody(t *testing.T, run string) {
	exe, err := os.Executable()
	if err != nil {
		t.Skipf("cannot find the test binary: %v", err)
	}
	bin, err := os.ReadFile(exe)
	if err != nil {
		t.Skipf("cannot read the test binary: %v", err)
	}
	// t.TempDir's parent is private to root; make a directory nobody can
	// enter.
	dir, err := os.MkdirTemp("", "safetensors-nobody")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(dir, "child.test")
	if err := os.WriteFile(copyPath, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(copyPath, "-test.run="+run, "-test.v")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SAFETENSORS_TEST_CHILD=1", "TMPDIR="+os.TempDir())
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Skipf("cannot run the test as user nobody: %v", err)
		}
		t.Fatalf("as user nobody: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "--- SKIP") {
		t.Skipf("skipped as user nobody:\n%s", out)
	}
	t.Logf("as user nobody:\n%s", out)
}
