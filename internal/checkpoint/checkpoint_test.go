package checkpoint_test

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/checkpoint"
	"github.com/nettrain/nettrain/internal/checkpoint/cktest"
	"github.com/nettrain/nettrain/internal/data"
	"github.com/nettrain/nettrain/internal/optim"
	"github.com/nettrain/nettrain/internal/testutil"
	"github.com/nettrain/nettrain/internal/train"
)

// tiny is a model-only config: 4 -> 5 -> 3, trained with AMSGrad so that
// every non-negative Adam slot (exp_avg_sq, max_exp_avg_sq) is saved.
const tiny = `name: tiny
model:
  input: [4]
  layers: [{dense: {units: 5}}, tanh, {dense: {units: 3}}]
optimizer: {name: adam, lr: 0.01, amsgrad: true}
training: {epochs: 3, batch_size: 8}
`

// fixture is a network, its optimizer and a saved checkpoint of them in
// the middle of epoch 3 (epoch 2 done, 3 batches into the next).
type fixture struct {
	dir  string
	path string // the checkpoint
	net  *backprop.Network[float32]
	opt  optim.Optimizer[float32]
	m    *train.Model[float32]
	name string // the optimizer's name in the config
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	dir := t.TempDir()
	cfg := testutil.LoadConfig(t, dir, tiny)
	m, err := train.Load[float32](cfg)
	if err != nil {
		t.Fatal(err)
	}
	net, err := m.InitNetwork(8)
	if err != nil {
		t.Fatal(err)
	}
	opt := optim.New[float32](cfg.Optimizer.Optim, net.NumParams())
	for _, s := range opt.Slots() {
		for i := range s.Data {
			s.Data[i] = float32(i%7) * 0.01 // every slot >= 0, as after training
		}
	}
	opt.SetSteps(23)
	st := checkpoint.State{Epoch: 2, BatchInEpoch: 3, Step: 23, BestValLoss: 0.5, MetricsRows: 2, RNG: []byte("0123456789abcdef"),
		LR: 0.01, Optimizer: cfg.Optimizer.Name, Config: string(cfg.Resolved), EpochLossSum: 2.5, EpochSamples: 24, EpochNormSum: 1.5,
		EpochSteps: 3, ElapsedS: 1.25, LRScale: 1, Sched: map[string]string{"sched_lr": "0.01", "sched_best": "+Inf", "sched_bad": "0", "sched_cooldown": "0"},
		Sections: cfg.ResumeSections(), Preprocess: fixturePreprocess()}
	path := filepath.Join(dir, "ck.safetensors")
	if err := checkpoint.Save(path, net, opt, st); err != nil {
		t.Fatal(err)
	}
	return &fixture{dir: dir, path: path, net: net, opt: opt, m: m, name: cfg.Optimizer.Name}
}

// edited writes a copy of the fixture's checkpoint changed by edit, with
// valid checksums.
func (fx *fixture) edited(t *testing.T, name string, edit func(meta map[string]string, tensors map[string]any)) string {
	t.Helper()
	p := filepath.Join(fx.dir, name+".safetensors")
	if err := cktest.Edit(fx.path, p, edit); err != nil {
		t.Fatal(err)
	}
	return p
}

// set is an edit that sets metadata entries ("" deletes one).
func set(kv ...string) func(map[string]string, map[string]any) {
	return func(meta map[string]string, _ map[string]any) {
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "" {
				delete(meta, kv[i])
			} else {
				meta[kv[i]] = kv[i+1]
			}
		}
	}
}

// TestReadChecksMetadata: the metadata is checksummed and every field is
// range-checked when a checkpoint is read; errors name the file and the
// field.
func TestReadChecksMetadata(t *testing.T) {
	fx := newFixture(t)
	good, err := os.ReadFile(fx.path)
	if err != nil {
		t.Fatal(err)
	}
	// One bit of batch_in_epoch's value, "3" (0x33) -> "7" (0x37), in the
	// file as written: no checksum of a tensor covers it.
	flipped := bytes.Replace(good, []byte(`"batch_in_epoch":"3"`), []byte(`"batch_in_epoch":"7"`), 1)
	if bytes.Equal(flipped, good) {
		t.Fatal("batch_in_epoch not found in the header")
	}
	flip := filepath.Join(fx.dir, "flip.safetensors")
	os.WriteFile(flip, flipped, 0o644)

	tests := []struct {
		name string
		path string // a prepared file, else the fixture edited by edit
		edit func(map[string]string, map[string]any)
		want string
	}{
		{name: "bit flip in batch_in_epoch", path: flip, want: "metadata fails its checksum"},
		{name: "negative batch_in_epoch", edit: set("batch_in_epoch", "-1"), want: `"batch_in_epoch" is "-1"`},
		{name: "negative step", edit: set("step", "-23"), want: `"step" is "-23"`},
		{name: "negative epoch", edit: set("epoch", "-1"), want: `"epoch" is "-1"`},
		{name: "negative metrics_rows", edit: set("metrics_rows", "-2"), want: `"metrics_rows" is "-2"`},
		{name: "negative optimizer_steps", edit: set("optimizer_steps", "-1"), want: `"optimizer_steps" is "-1"`},
		{name: "negative epoch_samples", edit: set("epoch_samples", "-8"), want: `"epoch_samples" is "-8"`},
		{name: "negative epoch_steps", edit: set("epoch_steps", "-1"), want: `"epoch_steps" is "-1"`},
		{name: "negative skipped", edit: set("skipped", "-1"), want: `"skipped" is "-1"`},
		{name: "huge epoch", edit: set("epoch", "99999999999999999999"), want: `"epoch" is "99999999999999999999"`},
		{name: "epoch beyond 2^53", edit: set("epoch", "9007199254740993"), want: `"epoch" is "9007199254740993"`},
		{name: "fractional step", edit: set("step", "23.5"), want: `"step" is "23.5"`},
		{name: "missing step", edit: set("step", ""), want: `"step"`},
		{name: "preprocess not JSON", edit: set("preprocess", "{"), want: `"preprocess" is unreadable`},
		{name: "preprocess unknown field", edit: set("preprocess", `{"kind":"tabular","input":[4],"bogus":1}`), want: `"preprocess" is unreadable`},
		{name: "preprocess unknown kind", edit: editPre(func(p map[string]any) { p["kind"] = "audio" }), want: `kind "audio"`},
		{name: "preprocess huge input", edit: editPre(func(p map[string]any) { p["input"] = []int{1 << 20, 1 << 20} }), want: "input shape [1048576 1048576] is out of range"},
		{name: "preprocess zero input", edit: editPre(func(p map[string]any) { p["input"] = []int{0} }), want: "input shape [0] is out of range"},
		{name: "preprocess offsets for other features", edit: editPre(func(p map[string]any) { p["offset"] = []float64{1, 2, 3} }), want: "3 normalisation values for 4 features"},
		{name: "preprocess offsets without scales", edit: editPre(func(p map[string]any) { p["offset"] = []float64{1} }), want: "1 offsets but 4 scales"},
		{name: "preprocess class names", edit: editPre(func(p map[string]any) { p["class_names"] = []string{"a"} }), want: "1 class names for 3 classes"},
		{name: "preprocess classes and targets", edit: editPre(func(p map[string]any) { p["target_dim"] = 2 }), want: "3 classes and 2 regression targets"},
		{name: "preprocess feature columns", edit: editPre(func(p map[string]any) { p["features"] = []string{"a"} }), want: "1 feature columns for 4 features"},
		{name: "preprocess bad image", edit: editPre(func(p map[string]any) {
			p["image"] = map[string]any{"channels": 2, "size": []int{2, 2}, "resize": "nearest"}
		}), want: "image spec"},
		{name: "preprocess sample shape", edit: editPre(func(p map[string]any) { p["sample"] = []int{1, 3} }), want: "the sample shape [1 3] does not hold the 4 values"},
		// Forged normalisations (checksums recomputed): what training
		// never fits is refused, naming the entry. A scale of 1e38 made
		// every float32 input overflow (NaN probabilities).
		{name: "preprocess scale beyond float32's", edit: editPre(func(p map[string]any) { p["scale"] = []float64{1e38, 2, 0.25, 1} }),
			want: `metadata "preprocess" is invalid: scale[0] is 1e+38, more than standardize fits for float32 features: 2^126 (8.5e+37), the reciprocal of float32's smallest normal number`},
		{name: "preprocess zero scale", edit: editPre(func(p map[string]any) { p["scale"] = []float64{1, 0, 0.25, 1} }),
			want: `scale[1] is 0; a fitted scale is > 0 (a constant feature gets 1)`},
		{name: "preprocess negative scale", edit: editPre(func(p map[string]any) { p["scale"] = []float64{-1}; p["offset"] = []float64{0} }),
			want: `scale[0] is -1; a fitted scale is > 0`},
		{name: "preprocess offset beyond float32's", edit: editPre(func(p map[string]any) { p["offset"] = []float64{0, 0, 1e300, 0} }),
			want: `offset[2] is 1e+300, outside the range of the float32 training features`},
		{name: "preprocess offset beyond bytes", edit: editPre(func(p map[string]any) { p["bytes"] = true; p["offset"] = []float64{0, 0, 256, 0} }),
			want: `offset[2] is 256, outside the range of the bytes training features`},
		{name: "preprocess unknown method", edit: editPre(func(p map[string]any) { p["normalize"] = "zscore" }),
			want: `normalize "zscore" is not one of [none unit standardize minmax]`},
		{name: "preprocess unit with another scale", edit: editPre(func(p map[string]any) {
			p["normalize"] = "unit"
			p["bytes"] = true
			p["offset"] = []float64{0}
			p["scale"] = []float64{1}
		}),
			want: `offset[0] is 0 and scale[0] 1, but unit normalisation of bytes features is offset 0 and scale 0.00392156862745098`},
		{name: "preprocess none with an offset", edit: editPre(func(p map[string]any) { p["normalize"] = "none" }),
			want: `offset[0] is 0.5 and scale[0] 1, but none normalisation of float32 features is offset 0 and scale 1`},
		{name: "preprocess without a normalisation", edit: editPre(func(p map[string]any) { delete(p, "offset"); delete(p, "scale") }),
			want: `no offsets and scales for the standardize normalisation of a tabular input`},
		{name: "preprocess feature named twice", edit: editPre(func(p map[string]any) { p["features"] = []string{"a", "b", "a", "d"} }),
			want: `column "a" is named twice (as feature 0 and as feature 2)`},
		{name: "preprocess feature named as the label", edit: editPre(func(p map[string]any) { p["features"] = []string{"a", "b", "c", "label"} }),
			want: `column "label" is named twice (as feature 3 and as target 0)`},
		{name: "preprocess sequence on tabular", edit: editPre(func(p map[string]any) {
			p["sequence"] = map[string]any{"window": 2, "horizon": 1, "target": "next"}
		}), want: "kind tabular with a sequence spec"},
		{name: "preprocess range of three values", edit: editPre(func(p map[string]any) { p["range"] = []float64{0, 1, 2} }),
			want: "the range [0 1 2] has 3 values, not 2"},
		{name: "preprocess range largest first", edit: editPre(func(p map[string]any) { p["range"] = []float64{1, 0} }),
			want: "the range [1 0] is not two finite numbers, the smallest first"},
		{name: "preprocess range beyond float32's", edit: editPre(func(p map[string]any) { p["range"] = []float64{0, 1e300} }),
			want: "the range [0 1e+300] is not two finite numbers, the smallest first"},
		{name: "preprocess range of bytes", edit: editPre(func(p map[string]any) { p["bytes"] = true; p["offset"] = []float64{0, 0, 2, 0} }),
			want: "a range [-1.5 255.5] for byte features (0..255), which have none recorded"},
		{name: "NaN best_val_loss", edit: set("best_val_loss", "NaN"), want: `"best_val_loss" is "NaN"`},
		{name: "negative best_val_loss", edit: set("best_val_loss", "-1"), want: `"best_val_loss" is "-1"`},
		{name: "NaN lr", edit: set("lr", "NaN"), want: `"lr" is "NaN"`},
		{name: "negative lr", edit: set("lr", "-0.01"), want: `"lr" is "-0.01"`},
		{name: "infinite lr", edit: set("lr", "+Inf"), want: `"lr" is "+Inf"`},
		{name: "zero lr_scale", edit: set("lr_scale", "0"), want: `"lr_scale" is "0"`},
		{name: "lr_scale above 1", edit: set("lr_scale", "2"), want: `"lr_scale" is "2"`},
		{name: "NaN epoch_loss_sum", edit: set("epoch_loss_sum", "NaN"), want: `"epoch_loss_sum" is "NaN"`},
		{name: "infinite epoch_norm_sum", edit: set("epoch_norm_sum", "Inf"), want: `"epoch_norm_sum" is "Inf"`},
		{name: "negative elapsed_s", edit: set("elapsed_s", "-3"), want: `"elapsed_s" is "-3"`},
		{name: "NaN sched_lr", edit: set("sched_lr", "NaN"), want: `"sched_lr" is "NaN"`},
		{name: "negative sched_bad", edit: set("sched_bad", "-1"), want: `"sched_bad" is "-1"`},
		{name: "unknown dtype", edit: set("dtype", "float16"), want: `"dtype" is "float16"`},
		{name: "optimizer_steps beyond step", edit: set("optimizer_steps", "24"), want: `"optimizer_steps" is 24, more than "step" (23)`},
		{name: "skipped beyond step", edit: set("skipped", "24"), want: `"skipped" is 24, more than "step" (23)`},
		{name: "metrics_rows beyond epoch and step", edit: set("metrics_rows", "26"), want: `"metrics_rows" is 26, more than "epoch + step" (25)`},
		{name: "negative early_stop_bad", edit: set("early_stop_best", "0.5", "early_stop_best_step", "3", "early_stop_bad", "-1"), want: `"early_stop_bad" is "-1"`},
		{name: "early_stop_bad beyond epoch and step", edit: set("early_stop_best", "0.5", "early_stop_best_step", "3", "early_stop_bad", "26"), want: `"early_stop_bad" is 26, more than "epoch + step" (25)`},
		{name: "early_stop_best_step beyond step", edit: set("early_stop_best", "0.5", "early_stop_best_step", "24", "early_stop_bad", "1"), want: `"early_stop_best_step" is 24, more than "step" (23)`},
		{name: "NaN early_stop_best", edit: set("early_stop_best", "NaN", "early_stop_best_step", "3", "early_stop_bad", "1"), want: `"early_stop_best" is "NaN"`},
		{name: "early_stop_best without its step", edit: set("early_stop_best", "0.5"), want: `"early_stop_best_step"`},
		{name: "epoch_steps beyond batch_in_epoch", edit: set("epoch_steps", "4"), want: `"epoch_steps" is 4, more than "batch_in_epoch" (3)`},
		{name: "step short of the batches done", edit: set("step", "2", "optimizer_steps", "2"), want: `"step" is 2, less than "batch_in_epoch" (3)`},
		{name: "format 2 without its checksum", edit: set("metadata_checksum", ""), want: `the metadata has no "metadata_checksum"`},
		{name: "rng not base64", edit: set("rng", "!!"), want: `"rng"`},
		{name: "sections unreadable", edit: set("resume_sections", "{"), want: `"resume_sections"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.path
			if p == "" {
				p = fx.edited(t, strings.ReplaceAll(tc.name, " ", "-"), tc.edit)
			}
			_, _, err := checkpoint.Read(p)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
				t.Fatalf("Read: %v\nwant an error naming %s and containing %s", err, p, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("the message takes more than one line: %q", err)
			}
		})
	}
}

// TestReadsValidMetadata: the fixture, and files edited within the ranges,
// read with the state that was saved.
func TestReadsValidMetadata(t *testing.T) {
	fx := newFixture(t)
	for _, tc := range []struct {
		name  string
		edit  func(map[string]string, map[string]any)
		plain bool
	}{
		{"as saved", nil, false},
		{"no best yet", set("best_val_loss", "+Inf"), false},
		{"halved rate", set("lr_scale", "0.25"), false},
		// Format 1, before the metadata checksum, still reads.
		{"format 1", set("format", "nettrain-checkpoint/1", "metadata_checksum", ""), false},
		// Without nettrain's format the file is plain weights: no state.
		{"no format", set("format", ""), true},
		{"unknown format", set("format", "nettrain-checkpoint/9"), true},
		// float64 features are scaled up to 2^1022, their smallest normal
		// number's reciprocal; a minmax of 0..1 bytes is offset 0, scale 1.
		{"float64 scale", func(meta map[string]string, ts map[string]any) {
			meta["dtype"] = "float64"
			editPre(func(p map[string]any) { p["scale"] = []float64{1, 2, 0.25, data.MaxScale64} })(meta, ts)
		}, false},
		{"bytes", editPre(func(p map[string]any) {
			p["bytes"], p["normalize"], p["offset"], p["scale"] = true, "minmax", []float64{0, 255, 3, 0}, []float64{1, 1, 1.0 / 252, 1.0 / 255}
			delete(p, "range") // bytes are 0..255
		}), false},
		// A checkpoint written before the range of float features was
		// recorded.
		{"no range", editPre(func(p map[string]any) { delete(p, "range") }), false},
		{"no metadata", func(meta map[string]string, _ map[string]any) { clear(meta) }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, st, err := checkpoint.Read(fx.edited(t, strings.ReplaceAll(tc.name, " ", "-"), tc.edit))
			if err != nil {
				t.Fatal(err)
			}
			if st.Plain != tc.plain {
				t.Errorf("Plain is %v", st.Plain)
			}
			if tc.plain {
				if st.Epoch != 0 || st.Step != 0 || st.MetricsRows != 0 {
					t.Errorf("plain state %+v", st)
				}
				return
			}
			if st.Epoch != 2 || st.BatchInEpoch != 3 || st.Step != 23 || st.MetricsRows != 2 || st.OptimSteps != 23 || st.EpochSamples != 24 {
				t.Errorf("state %+v", st)
			}
		})
	}
}

// fixturePreprocess is the fixture's preprocessing: 4 standardised
// float32 features from named CSV columns (offsets and scales up to the
// ends of what training fits for them), 3 named classes.
func fixturePreprocess() *checkpoint.Preprocess {
	return &checkpoint.Preprocess{Kind: checkpoint.KindTabular, Input: []int{4}, Normalize: "standardize",
		Offset: []float64{0.5, -math.MaxFloat32, 2, 1e-300}, Scale: []float64{1, 2, 0x1p-1000, data.MaxScale32},
		Features: []string{"a", "b", "c", "d"}, Targets: []string{"label"}, Classes: 3, ClassNames: []string{"x", "y", "z"},
		ClassFreq: []float64{1, 2, 3}, Range: []float64{-1.5, 255.5}}
}

// editPre edits the fixture's "preprocess" metadata as JSON.
func editPre(fn func(map[string]any)) func(map[string]string, map[string]any) {
	return func(meta map[string]string, _ map[string]any) {
		var p map[string]any
		if err := json.Unmarshal([]byte(meta["preprocess"]), &p); err != nil {
			panic(err)
		}
		fn(p)
		b, _ := json.Marshal(p)
		meta["preprocess"] = string(b)
	}
}

// TestPreprocessRoundTrip: the preprocessing saved is the one read, bit
// for bit (offsets and scales at the ends of their ranges included).
func TestPreprocessRoundTrip(t *testing.T) {
	fx := newFixture(t)
	_, st, err := checkpoint.Read(fx.path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(st.Preprocess, fixturePreprocess()) {
		t.Errorf("read %+v\nwant %+v", st.Preprocess, fixturePreprocess())
	}
}
