package train

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nettrain/nettrain/internal/checkpoint"
	"github.com/nettrain/nettrain/internal/safeio"
	"github.com/nettrain/nettrain/internal/testutil"
)

// classesCSV is 40 rows of two features and a label column, labels
// 0, 1, 2 in turn, the last one replaced by last when it is not "".
func classesCSV(last string) string {
	var b strings.Builder
	b.WriteString("a,b,label\n")
	for i := 0; i < 40; i++ {
		l := fmt.Sprint(i % 3)
		if i == 39 && last != "" {
			l = last
		}
		fmt.Fprintf(&b, "%d,%d,%s\n", i%5, i%7, l)
	}
	return b.String()
}

const classesConfig = `name: cls
data: {train: d.csv, validation_split: 0}
model:
  layers:
    - dense: {units: classes}
loss: cross_entropy
training: {batch_size: 8, memory_limit: 64MiB}
`

// imagesConfig is classesConfig on an image folder.
const imagesConfig = `name: cls
data: {train: images, validation_split: 0}
model:
  layers:
    - flatten
    - dense: {units: classes}
loss: cross_entropy
training: {batch_size: 8, memory_limit: 64MiB}
`

// TestEvaluateManyClasses: Evaluate keeps the confusion matrix for up to
// 1000 classes and says why it has none above, with the same per-class
// scores; its memory grows with the classes, not their square. Before,
// 20000 outputs made every evaluation allocate a 3.2 GB matrix (Go's
// "fatal error: out of memory" at the first epoch's end).
func TestEvaluateManyClasses(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		units  int
		matrix bool
	}{{3, true}, {1000, true}, {1001, false}, {4000, false}} {
		t.Run(fmt.Sprint(tc.units), func(t *testing.T) {
			// The last label is the largest class id, the others 0, 1, 2 in
			// turn: the ids between have no rows (data.csv.classes: ids).
			os.WriteFile(filepath.Join(dir, "d.csv"), []byte(classesCSV(fmt.Sprint(tc.units-1))), 0o644)
			m, err := Load[float32](testutil.LoadConfig(t, dir, classesConfig, fmt.Sprintf("model.layers.0.dense.units=%d", tc.units), "data.csv.classes=ids"))
			if err != nil {
				t.Fatal(err)
			}
			net, err := m.InitNetwork(8)
			if err != nil {
				t.Fatal(err)
			}
			pool := NewPool(1)
			defer pool.Close()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			r := Evaluate(pool.Ctx(), net, m.Data.Train, m.Data.Classes)
			runtime.ReadMemStats(&after)
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20+uint64(8*tc.units*min(tc.units, 1000)) {
				t.Errorf("Evaluate allocated %d bytes for %d classes", alloc, tc.units)
			}
			js, _ := json.Marshal(r)
			var fields map[string]any
			json.Unmarshal(js, &fields)
			_, hasMatrix := fields["confusion"]
			omitted, _ := fields["confusion_omitted"].(string)
			if hasMatrix != tc.matrix || (omitted == "") != tc.matrix {
				t.Errorf("confusion matrix %v, confusion_omitted %q; want the matrix: %v", hasMatrix, omitted, tc.matrix)
			}
			if want := fmt.Sprintf("%d classes: a confusion matrix is kept for up to 1000", tc.units); !tc.matrix && omitted != want {
				t.Errorf("confusion_omitted %q, want %q", omitted, want)
			}
			if r.Classes != tc.units || len(r.Support) != tc.units || len(r.Precision) != tc.units || len(r.Recall) != tc.units || len(r.F1) != tc.units {
				t.Fatalf("%d classes, %d supports, %d precisions, %d recalls, %d F1s; want %d each",
					r.Classes, len(r.Support), len(r.Precision), len(r.Recall), len(r.F1), tc.units)
			}
			want := make([]int, tc.units)
			want[0], want[1], want[2] = 13, 13, 13
			want[tc.units-1]++
			if !slices.Equal(r.Support, want) || r.Count != 40 {
				t.Errorf("support %v... of %d samples, want %v... of 40", r.Support[:3], r.Count, want[:3])
			}
			// The scores agree with the matrix when there is one.
			for c := 0; c < len(r.Confusion); c++ {
				row, col := 0, 0
				for k := range r.Confusion {
					row += r.Confusion[c][k]
					col += r.Confusion[k][c]
				}
				if row != r.Support[c] || r.Recall[c] != ratio(r.Confusion[c][c], row) || r.Precision[c] != ratio(r.Confusion[c][c], col) {
					t.Errorf("class %d: support %d, recall %g, precision %g disagree with the matrix", c, r.Support[c], r.Recall[c], r.Precision[c])
				}
			}
		})
	}
}

// stLabels writes a safetensors file of n samples of two float features
// (x) and int32 labels (y), with metadata when not nil.
func stLabels(t *testing.T, path string, labels []int32, meta map[string]string) {
	t.Helper()
	n := len(labels)
	x := make([]byte, 4*2*n)
	y := make([]byte, 4*n)
	for i, l := range labels {
		binary.LittleEndian.PutUint32(y[4*i:], uint32(l))
	}
	h := map[string]any{
		"x": map[string]any{"dtype": "F32", "shape": []int{n, 2}, "data_offsets": []int{0, len(x)}},
		"y": map[string]any{"dtype": "I32", "shape": []int{n}, "data_offsets": []int{len(x), len(x) + len(y)}},
	}
	if meta != nil {
		h["__metadata__"] = meta
	}
	hb, _ := json.Marshal(h)
	for len(hb)%8 != 0 {
		hb = append(hb, ' ')
	}
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(hb)))
	b = append(append(append(b, hb...), x...), y...)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestLoadRefusesArraysBeyondTheLimit: Load checks the arrays it
// allocates for the data beyond the samples (the normaliser, per feature;
// the class counts and Evaluate's per-class arrays) against the memory
// limit before allocating them: a class id that makes too many classes
// is named where the file gives it, other data gets the memory estimate's
// message. Before, a CSV label of 1000000000 allocated an 8 GB array of
// class counts (Go's "fatal error: out of memory"), and a [3, 5000, 5000]
// image input a 1.8 GB normaliser, with no check.
func TestLoadRefusesArraysBeyondTheLimit(t *testing.T) {
	wide := func() string { // 1 row of 50000 features: 1.2 MB of normaliser
		var b strings.Builder
		for j := 0; j < 50000; j++ {
			fmt.Fprintf(&b, "f%d,", j)
		}
		b.WriteString("label\n")
		for range 2 {
			b.WriteString(strings.Repeat("1,", 50000) + "0\n")
		}
		return b.String()
	}
	many := make([]int32, 10)
	many[3] = 20_000_000
	ids := "data.csv.classes=ids" // the ids between have no rows
	for _, tc := range []struct {
		name string
		file string // d.csv, d.safetensors or images
		data func(t *testing.T, path string)
		sets []string
		want string // "" for no error; the test's directory is left out
	}{
		{"a CSV class id of 20000000", "d.csv", writeText(classesCSV("20000000")), []string{ids},
			`c.yaml:2:15: data.train: d.csv:41: column "label" (index 2): class id 20000000 makes 20000001 classes, whose per-class counts and scores alone need about 1.0 GiB, more than training.memory_limit 64MiB (64.0 MiB); class ids run from 0 to the number of classes minus 1`},
		{"the same beyond a model's 3 outputs", "d.csv", writeText(classesCSV("20000000")), []string{ids, "model.layers.0.dense.units=3"},
			`--set model.layers.0.dense.units=3 (c.yaml:5:7): model.layers.0: d.csv has 20000001 classes (d.csv:41: column "label" (index 2): class id 20000000), but layer 0 (dense) outputs 3 values; it needs one per class`},
		{"a CSV class id of 60000 fits", "d.csv", writeText(classesCSV("60000")), []string{ids}, ""},
		{"without data.csv.classes, a CSV class id of 20000000 leaves ids without rows", "d.csv", writeText(classesCSV("20000000")), nil,
			`c.yaml:2:15: data.train: d.csv:41: column "label" (index 2): the labels are numbers, read as class ids 0 to 20000000, but no row has classes 3 to 19999999; set data.csv.classes: names`},
		{"a safetensors class id of 20000000", "d.safetensors", func(t *testing.T, p string) { stLabels(t, p, many, nil) }, nil,
			`d.safetensors: tensor "y": class id 20000000 of sample 3 makes 20000001 classes, whose per-class counts and scores alone need about 1.0 GiB, more than training.memory_limit 64MiB (64.0 MiB)`},
		{"a safetensors num_classes of 20000000", "d.safetensors", func(t *testing.T, p string) {
			stLabels(t, p, make([]int32, 10), map[string]string{"num_classes": "20000000"})
		}, nil,
			`d.safetensors: metadata num_classes = "20000000" makes 20000000 classes, whose per-class counts and scores alone need about 1.0 GiB`},
		{"50000 CSV features", "d.csv", writeText(wide()), []string{"training.memory_limit=1MiB"},
			"c.yaml: the model with batch size 1 needs about"},
		{"[3, 300, 300] images", "images", func(t *testing.T, p string) { testutil.WriteImageFolder(t, p, 2, 2, 8, 8, true) },
			[]string{"training.memory_limit=4MiB", "data.image.size=[300,300]", "model.input=[3,300,300]"},
			"c.yaml: the model with batch size 1 needs about"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.data(t, filepath.Join(dir, tc.file))
			src := strings.Replace(classesConfig, "d.csv", tc.file, 1)
			if tc.file == "images" {
				src = imagesConfig
			}
			cfg := testutil.LoadConfig(t, dir, src, tc.sets...)
			var err error
			testutil.Bounded(t, 30*time.Second, 256<<20, func() { _, err = Load[float32](cfg) })
			if err != nil {
				err = errors.New(strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), ""))
			}
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Load: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Load: %v\nwant an error with %s", err, tc.want)
			}
			if tc.want != "" && err != nil && strings.HasPrefix(tc.want, "c.yaml: the model") && !strings.Contains(err.Error(), "per-feature and per-class arrays, more than training.memory_limit") {
				t.Errorf("Load: %v\nwant the estimate's message", err)
			}
		})
	}
}

func writeText(s string) func(*testing.T, string) {
	return func(t *testing.T, path string) {
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFromPreprocessChecksTheNormaliser: a checkpoint's input shape sizes
// the normaliser FromPreprocess allocates; one beyond the memory limit is
// refused with the estimate's message first. Before, it was allocated.
func TestFromPreprocessChecksTheNormaliser(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		input []int
		want  string
	}{
		{[]int{2}, ""},
		{[]int{1 << 22}, "c.yaml: the model with batch size 1 needs about"},
	} {
		cfg := testutil.LoadConfig(t, dir, `name: p
model: {input: [`+fmt.Sprint(tc.input[0])+`], layers: [{dense: {units: 3}}]}
loss: cross_entropy
training: {memory_limit: 16MiB}
`)
		cfg.File = "c.yaml"
		p := &checkpoint.Preprocess{Kind: checkpoint.KindTabular, Input: tc.input, Normalize: "standardize", Offset: []float64{0}, Scale: []float64{1}, Classes: 3}
		_, err := FromPreprocess[float32](cfg, p, "ck.safetensors")
		if (tc.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("input %v: %v, want %q", tc.input, err, tc.want)
		}
	}
}

// TestPredictNetworkLeavesOutTheOptimizer: evaluation, prediction and
// export hold no optimizer state, so their memory check leaves it out: a
// model whose Adam state would pass the limit is refused for training
// (NewNetwork) and built for predictions (NewPredictNetwork), whose
// message, when it is refused too, does not mention optimizer state.
func TestPredictNetworkLeavesOutTheOptimizer(t *testing.T) {
	dir := t.TempDir()
	src := "name: p\nmodel: {input: [784], layers: [{dense: {units: 4096}}, {dense: {units: 10}}]}\nloss: cross_entropy\noptimizer: {name: adam}\ntraining: {batch_size: 1}\n"
	base := testutil.LoadConfig(t, dir, src)
	m, err := Load[float32](base)
	if err != nil {
		t.Fatal(err)
	}
	train, predict := needBytes[float32](base, m.Graph, 1, 0, 0, true), needBytes[float32](base, m.Graph, 1, 0, 0, false)
	if train <= predict {
		t.Fatalf("training's estimate %d is not above prediction's %d", train, predict)
	}
	for _, tc := range []struct {
		limit           int64
		trainOK, predOK bool
	}{
		{predict + 1<<20, false, true}, // the per-class arrays take a few KiB beside the network
		{train + 1<<20, true, true},
		{predict - 1<<20, false, false},
	} {
		cfg := testutil.LoadConfig(t, dir, src, fmt.Sprintf("training.memory_limit=%d", tc.limit))
		m, err := Load[float32](cfg)
		if err != nil {
			t.Fatal(err)
		}
		_, terr := m.NewNetwork(1)
		_, perr := m.NewPredictNetwork(1)
		if (terr == nil) != tc.trainOK || (perr == nil) != tc.predOK {
			t.Errorf("limit %d: training %v, predictions %v", tc.limit, terr, perr)
		}
		if perr != nil && strings.Contains(perr.Error(), "optimizer state") {
			t.Errorf("the prediction network's message counts optimizer state: %v", perr)
		}
	}
}

// TestCheckMemoryCountsTheData: the data sets read count with the network:
// each was checked against the limit on its own when it was read, and a
// limit that holds either but not both refuses the network, naming the
// data's share.
func TestCheckMemoryCountsTheData(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("a,b,c,d,e,f,g,h,label\n")
	for i := range 40000 {
		fmt.Fprintf(&b, "%d,1,2,3,4,5,6,7,%d\n", i%7, i%3)
	}
	os.WriteFile(filepath.Join(dir, "d.csv"), []byte(b.String()), 0o644)
	src := "name: m\ndata: {train: d.csv, validation_split: 0.1}\nmodel: {layers: [{dense: {units: 512}}, relu, {dense: {units: 512}}, relu, {dense: {units: classes}}]}\nloss: cross_entropy\ntraining: {batch_size: 8}\n"
	m, err := Load[float32](testutil.LoadConfig(t, dir, src))
	if err != nil {
		t.Fatal(err)
	}
	held := m.Data.held
	classes := max(m.Classes(), m.Graph.OutShape()[0])
	net := needBytes[float32](m.Config, m.Graph, 8, len(m.Data.Norm.Offset), classes, true)
	if held < 1<<20 || net < held {
		t.Fatalf("the data holds %d bytes and the network %d: the test wants about 1.4 MiB and more", held, net)
	}
	for _, tc := range []struct {
		limit int64
		ok    bool
	}{
		{net + held/2, false},
		{net + held + 64<<10, true},
	} {
		m, err := Load[float32](testutil.LoadConfig(t, dir, src, fmt.Sprintf("training.memory_limit=%d", tc.limit)))
		if err != nil {
			t.Fatal(err) // the data alone fits
		}
		_, err = m.NewNetwork(8)
		if (err == nil) != tc.ok || err != nil && !strings.Contains(err.Error(), "the data read ("+safeio.Bytes(held)+")") {
			t.Errorf("limit %d: %v", tc.limit, err)
		}
	}
}
