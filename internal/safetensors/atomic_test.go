package safetensors

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var sample = []Tensor{{Name: "w", Shape: []int{2, 2}, Data: []float32{1, 2, 3, 4}}}

// leftovers lists the files in dir other than keep.
func leftovers(t *testing.T, dir string, keep ...string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var extra []string
outer:
	for _, e := range entries {
		for _, k := range keep {
			if e.Name() == k {
				continue outer
			}
		}
		extra = append(extra, e.Name())
	}
	return extra
}

func TestWriteReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Write(path, sample, map[string]string{"epoch": "3"}); err != nil {
		t.Fatal(err)
	}
	f, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	w, shape, err := f.Float32("w")
	if err != nil || len(w) != 4 || w[3] != 4 || len(shape) != 2 || f.Metadata["epoch"] != "3" {
		t.Errorf("read back %v %v %v %v", w, shape, f.Metadata, err)
	}
	want, _ := Marshal(sample, map[string]string{"epoch": "3"})
	if got, _ := os.ReadFile(path); !bytes.Equal(got, want) {
		t.Errorf("Write and Marshal differ")
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode of replaced file = %v, want 0600 kept (%v)", fi.Mode(), err)
	}
	if extra := leftovers(t, dir, "model.safetensors"); len(extra) > 0 {
		t.Errorf("temporary files left: %v", extra)
	}

	// A new file gets 0644.
	path2 := filepath.Join(dir, "new.safetensors")
	if err := Write(path2, sample, nil); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path2); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("mode of new file = %v, want 0644 (%v)", fi.Mode(), err)
	}
}

// TestWriteReadOnlyDir writes into a real read-only directory. Root
// ignores directory permissions, so as root the test reruns itself as user
// nobody (uid 65534) from a copy of the test binary, and skips only if
// that is impossible. The injected EACCES and EROFS cases of
// TestWriteInjectedFailures cover the messages in any case.
func TestWriteReadOnlyDir(t *testing.T) {
	if os.Geteuid() == 0 && os.Getenv("SAFETENSORS_TEST_CHILD") == "" {
		rerunAsNobody(t, "^TestWriteReadOnlyDir$")
		return
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	if f, err := os.CreateTemp(dir, "probe"); err == nil {
		f.Close()
		os.Remove(f.Name())
		t.Skip("directory permissions are not enforced for this user")
	}
	err := Write(path, sample, nil)
	want := "cannot write " + path + ": cannot create a temporary file in " + dir + ": permission denied (the directory is not writable by this user)"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant %s", err, want)
	}
	if !errors.Is(err, fs.ErrPermission) {
		t.Errorf("error does not match fs.ErrPermission")
	}
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Errorf("old file changed to %q", got)
	}
	if extra := leftovers(t, dir, "model.safetensors"); len(extra) > 0 {
		t.Errorf("temporary files left: %v", extra)
	}
}

func TestWriteBadPath(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nodir", "m.safetensors")
	err := Write(missing, sample, nil)
	if err == nil || !strings.Contains(err.Error(), "cannot write "+missing+": cannot create a temporary file in "+filepath.Dir(missing)+": no such file or directory (the directory does not exist)") {
		t.Errorf("missing dir: %v", err)
	}
	err = Write(dir, sample, nil)
	if err == nil || err.Error() != "cannot write "+dir+": it is a directory, not a regular file; nettrain writes only regular files" {
		t.Errorf("directory: %v", err)
	}
}
