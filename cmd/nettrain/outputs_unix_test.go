//go:build unix

package main

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestOutputsOnlyRegularFiles: an output flag naming something that is not
// a regular file (a FIFO, a device, a directory, also behind a symlink) is
// refused with exit code 2 before any work, and left as it was; it was
// replaced by a regular file that took a device's mode 0666. A symlink to
// a regular file is written through, the file keeping its mode; a new
// file is 0644.
func TestOutputsOnlyRegularFiles(t *testing.T) {
	dir := trainSmall(t)
	os.WriteFile(filepath.Join(dir, "in.csv"), []byte("a,b,c,d\n0.1,0.2,0.3,0.4\n"), 0o644)
	if err := syscall.Mkfifo(filepath.Join(dir, "f.csv"), 0o666); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "f.png"), 0o666); err != nil {
		t.Fatal(err)
	}
	for _, l := range [][2]string{{"/dev/zero", "z.csv"}, {"/dev/null", "n.onnx"}, {"run", "d.html"}, {"real.csv", "r.csv"}} {
		if err := os.Symlink(l[0], filepath.Join(dir, l[1])); err != nil {
			t.Fatal(err)
		}
	}
	os.Mkdir(filepath.Join(dir, "dir.onnx"), 0o755)
	os.WriteFile(filepath.Join(dir, "real.csv"), []byte("old"), 0o600)
	predict := func(out string) []string {
		return []string{"predict", "config.yaml", "--checkpoint", "run/last.safetensors", "in.csv", "--out", out}
	}
	export := func(out string) []string {
		return []string{"export", "config.yaml", "--checkpoint", "run/last.safetensors", "--out", out}
	}
	for _, tc := range []struct {
		args []string
		want string // the message; "" when it runs
		file string // the file written
		mode fs.FileMode
	}{
		{args: predict("f.csv"), want: "nettrain: --out: cannot write f.csv: it is a named pipe (FIFO), not a regular file; nettrain writes only regular files"},
		{args: predict("z.csv"), want: "nettrain: --out: cannot write z.csv: it is a symlink to /dev/zero, a character device, not a regular file; nettrain writes only regular files"},
		{args: export("n.onnx"), want: "nettrain: --out: cannot write n.onnx: it is a symlink to /dev/null, a character device, not a regular file; nettrain writes only regular files"},
		{args: export("dir.onnx"), want: "nettrain: --out: cannot write dir.onnx: it is a directory, not a regular file; nettrain writes only regular files"},
		{args: []string{"trace", "config.yaml", "--png", "f.png"}, want: "nettrain: --png: cannot write f.png: it is a named pipe (FIFO), not a regular file; nettrain writes only regular files"},
		{args: []string{"trace", "config.yaml", "--html", "d.html"}, want: "nettrain: --html: cannot write d.html: it is a symlink to run, a directory, not a regular file; nettrain writes only regular files"},
		{args: predict("r.csv"), file: "real.csv", mode: 0o600},
		{args: predict("new.csv"), file: "new.csv", mode: 0o644},
	} {
		var before []fs.FileInfo
		for _, n := range []string{"f.csv", "f.png", "z.csv", "n.onnx", "d.html", "r.csv", "dir.onnx"} {
			fi, _ := os.Lstat(filepath.Join(dir, n))
			before = append(before, fi)
		}
		out, err := nettrainCmd(t, dir, tc.args...).CombinedOutput()
		if tc.want != "" {
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != exitUsage || strings.TrimSpace(string(out)) != tc.want {
				t.Errorf("%v: %v\n%s\nwant exit %d and %q", tc.args, err, out, exitUsage, tc.want)
			}
		} else if err != nil {
			t.Errorf("%v: %v\n%s", tc.args, err, out)
		} else if fi, err := os.Lstat(filepath.Join(dir, tc.file)); err != nil || fi.Mode() != tc.mode {
			t.Errorf("%v: %s is %v, want a regular file of mode %v", tc.args, tc.file, fi.Mode(), tc.mode)
		}
		for i, n := range []string{"f.csv", "f.png", "z.csv", "n.onnx", "d.html", "r.csv", "dir.onnx"} {
			if fi, _ := os.Lstat(filepath.Join(dir, n)); fi == nil || fi.Mode() != before[i].Mode() {
				t.Errorf("%v: %s changed from %v to %v", tc.args, n, before[i].Mode(), fi)
			}
		}
	}
}
