package model

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/spf13/viper"
	"gopkg.in/yaml.v3"

	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/optim"
)

// Config is a whole nettrain config file. Every field documents its default;
// Default returns a Config holding them.
type Config struct {
	// Name names the run; the run directory is runs/<name>. Default: the
	// config file's base name.
	Name string `yaml:"name"`
	// Seed fixes initialisation, the validation split, shuffling and
	// dropout. Default 1.
	Seed uint64 `yaml:"seed"`
	// DType is float32 (default) or float64.
	DType     string          `yaml:"dtype"`
	Data      DataConfig      `yaml:"data"`
	Model     ModelConfig     `yaml:"model"`
	Loss      string          `yaml:"loss"` // cross_entropy (default), mse or half_sse
	Optimizer OptimizerConfig `yaml:"optimizer"`
	// Schedule is the learning-rate schedule (default constant).
	Schedule   ScheduleSpec     `yaml:"schedule"`
	Training   TrainingConfig   `yaml:"training"`
	Checkpoint CheckpointConfig `yaml:"checkpoint"`
	Compare    CompareConfig    `yaml:"compare"`
	// Trace is what `nettrain trace` follows when its flags do not say;
	// nil (default): the first training samples.
	Trace *TraceConfig `yaml:"trace" json:"trace,omitempty"`

	// File is the path the config was read from; Dir its directory, against
	// which relative data paths are resolved.
	File string `yaml:"-" json:"-"`
	Dir  string `yaml:"-" json:"-"`
	// Resolved is the config after overrides, as YAML (comments kept).
	Resolved []byte `yaml:"-" json:"-"`
	// dec and modelNode locate the model's errors for Build; set by
	// Parse, never changed afterwards.
	dec                 *decoder
	modelNode, dataNode *yaml.Node
	root                *yaml.Node // the config's mapping, for KeyError
}

// DataConfig says where the data comes from.
type DataConfig struct {
	// Train is required: an alias (mnist:train, fashion-mnist:train) or a
	// path to an IDX images file, a CSV file or a safetensors file.
	Train string `yaml:"train"`
	// Test is optional, same forms; used by eval --split test.
	Test string `yaml:"test"`
	// Validation is an optional separate validation set. Without it,
	// ValidationSplit of the training set (seeded) is held out.
	Validation string `yaml:"validation"`
	// ValidationSplit is the held-out fraction of Train, in [0, 1). Default 0.1.
	ValidationSplit float64 `yaml:"validation_split"`
	// Normalize is unit (default: bytes scaled to [0, 1], floats unchanged),
	// none, standardize or minmax (per feature, fitted on the training part).
	Normalize string    `yaml:"normalize"`
	CSV       CSVConfig `yaml:"csv"`
	// Sequence, when set, reads data.train as one long sequence (a text or
	// a numeric series) cut into sliding windows; the validation part is
	// the last validation_split of the sequence.
	Sequence *SequenceConfig `yaml:"sequence"`
	// Image says how the images of image folders (data.train, test and
	// validation given as folders of class folders) become samples; null:
	// the defaults of ImageConfig. An error for other data.
	Image *ImageConfig `yaml:"image"`
	// Augment randomly transforms the training images (never validation,
	// test or prediction inputs); null: none. An error for data that is
	// not images.
	Augment *AugmentConfig `yaml:"augment"`
}

// ImageConfig says how images become samples of shape [channels, height,
// width].
type ImageConfig struct {
	// Channels is 1 (grayscale luminance) or 3 (RGB, alpha dropped).
	// null (default): model.input's first dimension when model.input is
	// [1 or 3, H, W], else 1 when every image is grayscale and 3 otherwise.
	Channels *int `yaml:"channels"`
	// Size is [height, width]; images of another size are resized. null
	// (default): model.input's [H, W] when it is [C, H, W], else the
	// images' own size, which must then be the same for all.
	Size []int `yaml:"size"`
	// Resize is bilinear (default) or nearest.
	Resize string `yaml:"resize"`
	// SkipBad skips files of a class folder that cannot be read as images
	// (train warns with their count) instead of stopping. Default false.
	SkipBad bool `yaml:"skip_bad"`
}

// decodeNode fills the defaults before decoding the keys given.
func (c *ImageConfig) decodeNode(d *decoder, n *yaml.Node, path string) error {
	*c = ImageConfig{Resize: "bilinear"}
	return d.decodeStruct(n, reflect.ValueOf(c).Elem(), path)
}

// AugmentConfig is the random transformation of training images, drawn
// per sample from the seed, the epoch and the sample (so a resumed run
// sees the same batches). Each is off by default.
type AugmentConfig struct {
	// FlipHorizontal flips half the samples left to right.
	FlipHorizontal bool `yaml:"flip_horizontal"`
	// RandomCrop pads with zeros and crops the original size at a random
	// place: a shift of up to padding pixels each way.
	RandomCrop *RandomCropConfig `yaml:"random_crop"`
	// Rotate is the largest rotation in degrees (uniform in [-r, r]).
	Rotate float64 `yaml:"rotate"`
	// Translate is the largest shift as a fraction of the width and the
	// height (uniform in [-t, t]).
	Translate float64 `yaml:"translate"`
}

// RandomCropConfig is data.augment.random_crop.
type RandomCropConfig struct {
	// Padding is the zero padding on each side, at least 1. Required.
	Padding int `yaml:"padding"`
}

// KeyError is an error about the config key at a dotted path (e.g.
// "data.augment") found only once the data is read: located at the key's
// line:column, or the override that set it.
func (c *Config) KeyError(path, format string, args ...any) error {
	if c.dec == nil {
		return fmt.Errorf("%s: %s: %s", c.File, path, fmt.Sprintf(format, args...))
	}
	n := c.root
	for _, p := range strings.Split(path, ".") {
		_, next := keyNode(n, p)
		if i, err := strconv.Atoi(p); err == nil && next == nil {
			if s := resolve(n); s != nil && s.Kind == yaml.SequenceNode && i >= 0 && i < len(s.Content) {
				next = s.Content[i] // a list entry: model.layers.3
			}
		}
		if next == nil {
			break
		}
		n = next
	}
	// An error about a key that an override set, or under which one set
	// something, names the override(s) beside the file's position.
	return c.dec.withOverrides(c.dec.errAt(n, path, format, args...), path)
}

// KeyCause is KeyError for a failure of what the key names (a data file
// that cannot be read): msg is the message, and errors.Is and errors.As
// see cause.
func (c *Config) KeyCause(path, msg string, cause error) error {
	if e, ok := c.KeyError(path, "%s", msg).(*Error); ok {
		e.cause = cause
		return e
	}
	return &Error{File: c.File, Path: path, Msg: msg, cause: cause}
}

// decodeNode fills the defaults before decoding the keys given.
func (s *SequenceConfig) decodeNode(d *decoder, n *yaml.Node, path string) error {
	*s = SequenceConfig{Kind: "text", Stride: 1, Horizon: 1, Target: "next"}
	return d.decodeStruct(n, reflect.ValueOf(s).Elem(), path)
}

// SequenceConfig cuts a long sequence into sliding windows.
type SequenceConfig struct {
	// Kind is text (characters of a UTF-8 file; the samples are token ids
	// for an embedding or onehot layer) or series (numeric CSV columns).
	Kind string `yaml:"kind"`
	// Window is the number of steps each sample sees. Required.
	Window int `yaml:"window"`
	// Stride is the step between window starts. Default 1.
	Stride int `yaml:"stride"`
	// Horizon is how far ahead the target is. Default 1.
	Horizon int `yaml:"horizon"`
	// Target is next (default: the value Horizon steps after the window,
	// many-to-one) or sequence (the window shifted by Horizon, many-to-many).
	Target string `yaml:"target"`
	// Inputs and Targets are the series' input and target columns by name.
	// Default: every column as input; targets the same as inputs.
	Inputs  []string `yaml:"inputs"`
	Targets []string `yaml:"targets"`
	// Difference models a series' changes from one step to the next
	// instead of its levels (horizon 1 only); eval and predict report
	// errors of the level forecast (last level + predicted change).
	Difference bool `yaml:"difference"`
}

// CSVConfig selects columns of CSV data files.
type CSVConfig struct {
	// Header: null (default) detects a header row (data.HeaderAuto: line
	// 1 has a word and no number, or a word above a number on line 2;
	// empty cells and missing-value markers such as NA are neither); true
	// or false forces it.
	Header *bool `yaml:"header"`
	// Label is the label or target column, by name or 0-based index.
	// Default: the last column.
	Label string `yaml:"label"`
	// Targets are several regression target columns (instead of Label).
	Targets []string `yaml:"targets"`
	// Features are the input columns by name or index. Default: all others.
	Features []string `yaml:"features"`
	// Classes says what a class label column holds: ids (whole numbers
	// from 0, each id up to the largest a class) or names (every label a
	// class name, numbers too). null (default): ids when every label is a
	// number and every id from 0 to the largest has a row, names when a
	// label is not a number, and an error otherwise (labels 1 to 3, codes
	// 100, 200, 300), which asks for one of the two. Only with loss
	// cross_entropy.
	// Omitted from the JSON of hashes when null, so that the hashes of
	// configs without it (sweep records, checkpoints) stay as they were.
	Classes *string `yaml:"classes" json:"Classes,omitempty"`
}

// ModelConfig is the network.
type ModelConfig struct {
	// Input is the per-sample input shape, e.g. [784] or [1, 28, 28].
	// Data whose samples have the same number of values is viewed in this
	// shape (a 28x28 image as 784 values).
	Input []int `yaml:"input"`
	// InitFrom is an optional safetensors file with initial weights
	// (PyTorch state_dict names).
	InitFrom *string       `yaml:"init_from"`
	Layers   []LayerConfig `yaml:"layers"`
}

// TrainingConfig is the training loop.
type TrainingConfig struct {
	Epochs int `yaml:"epochs"` // default 1
	// Steps, when set, stops training after this many optimizer steps.
	Steps     *int `yaml:"steps"`
	BatchSize int  `yaml:"batch_size"` // default 64
	Shuffle   bool `yaml:"shuffle"`    // default true
	// Threads is the number of threads; null (default) uses every core the
	// process may use (GOMAXPROCS: its CPU affinity mask, a container's CPU
	// limit).
	Threads *int `yaml:"threads"`
	// ClipNorm rescales the gradient when its global L2 norm exceeds it
	// (torch.nn.utils.clip_grad_norm_); null: off.
	ClipNorm *float64 `yaml:"clip_norm"`
	// ClipValue clamps every gradient entry to [-v, v]; null: off.
	ClipValue *float64 `yaml:"clip_value"`
	// OnNaN says what a non-finite loss or gradient does: stop (default:
	// stop with a diagnosis), skip_batch (drop that batch's update) or
	// rollback (reload the last good checkpoint and halve the learning
	// rate).
	OnNaN OnNaN `yaml:"on_nan"`
	// MemoryLimit refuses a model and batch whose buffers would need more
	// memory, e.g. "4GiB"; null (default): train.MemoryLimit's bound (the
	// machine, the memory cgroup, ulimit -v and -d).
	MemoryLimit *string `yaml:"memory_limit"`
	// EvalEverySteps also evaluates the validation data every N steps
	// (besides each epoch's end); null (default): at epoch ends only.
	EvalEverySteps *int `yaml:"eval_every_steps"`
	// EarlyStopping stops training when the monitored validation metric
	// stops improving; null (default): off.
	EarlyStopping *EarlyStopping `yaml:"early_stopping"`
	// TensorBoard writes TensorBoard event files into the run directory.
	// Default false.
	TensorBoard bool `yaml:"tensorboard"`
}

// EarlyStopping is training.early_stopping: stop when Monitor has not
// improved by more than MinDelta for Patience evaluations in a row.
type EarlyStopping struct {
	// Monitor is val_loss (default) or val_accuracy.
	Monitor string `yaml:"monitor"`
	// Patience is the number of evaluations without improvement that
	// stop the run. Default 5.
	Patience int `yaml:"patience"`
	// MinDelta is the least change that counts as an improvement.
	// Default 0.
	MinDelta float64 `yaml:"min_delta"`
	// Mode is min (lower is better) or max; "" (default): min for
	// val_loss, max for val_accuracy.
	Mode string `yaml:"mode"`
}

// decodeNode fills the defaults before decoding the keys given (mode's
// default depends on monitor: validate sets it).
func (e *EarlyStopping) decodeNode(d *decoder, n *yaml.Node, path string) error {
	*e = EarlyStopping{Monitor: MonitorValLoss, Patience: 5}
	return d.decodeStruct(n, reflect.ValueOf(e).Elem(), path)
}

// Early-stopping monitors and modes.
const (
	MonitorValLoss     = "val_loss"
	MonitorValAccuracy = "val_accuracy"
	ModeMin            = "min"
	ModeMax            = "max"
)

// OnNaN is what training does when a step's loss or gradient is not
// finite (training.on_nan).
type OnNaN string

const (
	OnNaNStop      OnNaN = "stop"       // stop with a diagnosis
	OnNaNSkipBatch OnNaN = "skip_batch" // drop the batch's update
	OnNaNRollback  OnNaN = "rollback"   // reload the last checkpoint, halve the rate
)

// CompareConfig sets up `nettrain compare-optimizers` (flags override it).
type CompareConfig struct {
	// Optimizers to compare; default every one (sgd, momentum, nesterov,
	// adagrad, adadelta, rmsprop, adam, adamw, nadam).
	Optimizers []string `yaml:"optimizers"`
	// GridPoints is the size of the default learning-rate grid: log-spaced
	// over two decades either side of each optimizer's default. Default 7.
	GridPoints int `yaml:"grid_points"`
	// LRGrid gives explicit learning rates for some optimizers.
	LRGrid map[string][]float64 `yaml:"lr_grid"`
	// Seeds is the number of seeds of the final runs. Default 3.
	Seeds int `yaml:"seeds"`
	// EvalsPerEpoch is how often per epoch the validation loss is measured
	// for the learning curves. Default 10.
	EvalsPerEpoch int `yaml:"evals_per_epoch"`
	// TargetLoss is the validation loss "steps to target" counts to;
	// null (default): 1.25 times the lowest mean best validation loss.
	TargetLoss *float64 `yaml:"target_loss"`
}

// TraceConfig sets up `nettrain trace` (its flags override it): a hand
// example's input, target or output gradient typed in the config.
type TraceConfig struct {
	// Input is one sample, shaped as model.input (or a list of samples),
	// given to the network as it is (no normalisation). Null (default):
	// the first training samples, or random ones without data.
	Input *Tensor `yaml:"input"`
	// Target is the target of the sample: a class id for cross_entropy
	// (or a list, one per sample or position), else the output values.
	Target *Tensor `yaml:"target"`
	// OutputGrad starts backprop from this gradient dL/dy at the
	// network's output (shaped as the output) instead of a loss's.
	OutputGrad *Tensor `yaml:"output_grad"`
	// Digits is the number of significant digits trace prints. Null
	// (default): 6.
	Digits *int `yaml:"digits"`
}

// CheckpointConfig controls checkpoint files.
type CheckpointConfig struct {
	// EveryEpochs writes last.safetensors every N epochs. Default 1.
	EveryEpochs int `yaml:"every_epochs"`
	// EverySteps also writes step-<N>.safetensors every N steps; null
	// (default): none.
	EverySteps *int `yaml:"every_steps"`
	// Keep is how many step checkpoints to keep (the newest); best and
	// last are always kept. Default 3.
	Keep int `yaml:"keep"`
}

// Default returns a config with every default set.
func Default() *Config {
	c := &Config{
		Seed:  1,
		DType: "float32",
		Data:  DataConfig{ValidationSplit: 0.1, Normalize: "unit"},
		Loss:  backprop.CrossEntropy,
		Training: TrainingConfig{
			Epochs: 1, BatchSize: 64, Shuffle: true, OnNaN: OnNaNStop,
		},
		Checkpoint: CheckpointConfig{EveryEpochs: 1, Keep: 3},
		Compare:    CompareConfig{GridPoints: 7, Seeds: 3, EvalsPerEpoch: 10},
	}
	c.Optimizer.Name = "adam"
	c.Optimizer.Optim, _ = optim.Defaults("adam")
	c.Schedule.Name = "constant"
	c.Schedule.Sched, _ = optim.ScheduleDefaults("constant")
	return c
}

// Load reads, overrides, decodes and validates the config at path. sets are
// --set key=value overrides; NETTRAIN_* environment variables apply too
// (--set wins over the environment, both over the file).
func Load(path string, sets []string) (*Config, error) {
	src, err := readConfig(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, src, sets, viper.New())
}

func osErr(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

var yamlLineRe = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// Parse is Load on config text; v is the viper instance that layers
// overrides (a fresh viper.New() in normal use; nil reads the text alone,
// without the NETTRAIN_* environment, as for a checkpoint's own config).
func Parse(file string, src []byte, sets []string, v *viper.Viper) (*Config, error) {
	d := &decoder{file: file, origins: map[*yaml.Node]string{}}
	var doc yaml.Node
	if err := unmarshalOne(file, src, &doc); err != nil {
		var e *Error
		if errors.As(err, &e) {
			return nil, e
		}
		msg := err.Error()
		if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
			reported, _ := strconv.Atoi(m[1])
			line := syntaxErrorLine(src, err, reported)
			text := m[2]
			if ends := yamlLines(src); line >= 1 && line <= len(ends) {
				start := 0
				if line > 1 {
					start = ends[line-2]
				}
				if bytes.Contains(src[start:ends[line-1]], []byte("\t")) {
					text += " (this line has a tab: YAML indents with spaces only)"
				}
				if endOfStream(err) {
					text += " (a quoted string opened on this line is not closed)"
				}
			}
			// yaml.v3 does not tell the column: the message does not invent one.
			return nil, &Error{File: file, Line: line, Msg: "invalid YAML: " + text}
		}
		return nil, &Error{File: file, Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
	}
	if len(doc.Content) == 0 {
		return nil, &Error{File: file, Msg: "the config is empty; see configs/mnist-mlp.yaml for an example"}
	}
	root := resolve(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		return nil, d.errAt(root, "", "a config is a mapping of keys (name, data, model, ...), got %s", describe(root))
	}
	if v != nil || len(sets) > 0 {
		if v == nil {
			v = viper.New()
		}
		if err := d.applyOverrides(root, sets, v); err != nil {
			return nil, err
		}
	}
	c := Default()
	c.File = file
	c.Dir = filepath.Dir(file)
	if err := d.decodeStruct(root, reflect.ValueOf(c).Elem(), ""); err != nil {
		return nil, err
	}
	if c.Name == "" {
		base := filepath.Base(file)
		c.Name = strings.TrimSuffix(base, filepath.Ext(base))
	}
	if err := c.validate(d, root); err != nil {
		return nil, err
	}
	absolutePaths(root, c.Dir)
	resolved, err := yaml.Marshal(&doc)
	if err != nil {
		return nil, &Error{File: file, Msg: "cannot encode the resolved config: " + err.Error()}
	}
	c.Resolved = resolved
	return c, nil
}

// Hash is a SHA-256 of the decoded config (comments and formatting do not
// count), identifying the config a checkpoint came from.
func (c *Config) Hash() string {
	b, _ := json.Marshal(c)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// ModelHash is a SHA-256 of the model section alone: two configs with the
// same ModelHash have interchangeable checkpoints.
func (c *Config) ModelHash() string {
	b, _ := json.Marshal(struct {
		M ModelConfig
		L string
	}{c.Model, c.Loss})
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// ResumeSections hashes the parts of a config that a resumed run must share
// with the run that wrote its checkpoint: everything that shapes the
// trajectory: seed, dtype, data, model and loss, optimizer, schedule,
// and training's batch_size, shuffle, clip_norm and clip_value. The rest
// (training.epochs, steps, threads, on_nan, memory_limit, early_stopping,
// eval_every_steps, tensorboard; checkpoint, compare, trace, name) may
// change between the two.
func (c *Config) ResumeSections() map[string]string {
	h := func(v any) string {
		b, _ := json.Marshal(v)
		s := sha256.Sum256(b)
		return hex.EncodeToString(s[:8])
	}
	data := c.Data // with its paths made absolute, however the config named them
	for _, p := range []*string{&data.Train, &data.Test, &data.Validation} {
		if *p != "" && !filepath.IsAbs(*p) && !aliasRe.MatchString(*p) {
			if a, err := filepath.Abs(filepath.Join(c.Dir, *p)); err == nil {
				*p = a
			}
		}
	}
	mdl := c.Model
	if p := mdl.InitFrom; p != nil && *p != "" && !filepath.IsAbs(*p) {
		if a, err := filepath.Abs(filepath.Join(c.Dir, *p)); err == nil {
			mdl.InitFrom = &a
		}
	}
	return map[string]string{
		"seed":  h(c.Seed),
		"dtype": h(c.DType),
		"data":  h(data),
		"model": h(struct {
			M ModelConfig
			L string
		}{mdl, c.Loss}),
		"optimizer": h(c.Optimizer),
		"schedule":  h(c.Schedule),
		"training": h(struct {
			B      int
			S      bool
			CN, CV *float64
		}{c.Training.BatchSize, c.Training.Shuffle, c.Training.ClipNorm, c.Training.ClipValue}),
	}
}

// resumeKeys are the config keys each of ResumeSections' sections hashes.
var resumeKeys = map[string][]string{
	"seed": {"seed"}, "dtype": {"dtype"}, "data": {"data"}, "model": {"model", "loss"},
	"optimizer": {"optimizer"}, "schedule": {"schedule"},
	"training": {"training.batch_size", "training.shuffle", "training.clip_norm", "training.clip_value"},
}

// ResumeOverrides names this load's overrides of the keys that the given
// ResumeSections sections hash: the likely cause when a checkpoint was
// trained with other settings of them. Empty when no override touched
// them.
func (c *Config) ResumeOverrides(sections []string) string {
	var keys []string
	for _, s := range sections {
		keys = append(keys, resumeKeys[s]...)
	}
	o := c.OverridesOf(keys...)
	if len(o) == 0 {
		return ""
	}
	return " (this command sets " + strings.Join(o, ", ") + ")"
}

// Path resolves a path from the config against the config's directory.
func (c *Config) Path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.Dir, p)
}

// Describe is a one-line description of the config for logs.
func (c *Config) Describe() string {
	return fmt.Sprintf("%s (%s, %d layers, loss %s, optimizer %s)", c.Name, c.DType, len(c.Model.Layers), c.Loss, c.Optimizer.Name)
}

// ParseBytes reads a size such as "512MiB", "4GiB", "2GB" or "1000000".
func ParseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   float64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1}}
	mult := 1.0
	for _, u := range units {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || !(v > 0) {
		return 0, fmt.Errorf("expected a positive size such as 512MiB or 4GiB, got %q", s)
	}
	// A fraction of a byte would be 0, which is no limit at all; 2^62
	// bytes and more would wrap in int64 (or be no bound any machine has).
	switch b := v * mult; {
	case b < 1:
		return 0, fmt.Errorf("expected a size of at least 1 byte such as 512MiB or 4GiB, got %q (%g bytes)", s, b)
	case b >= 1<<62:
		return 0, fmt.Errorf("expected a size below 4EiB such as 512MiB or 4GiB, got %q", s)
	default:
		return int64(b), nil
	}
}

// aliasRe matches the built-in data sets (mnist:train), which are not paths.
var aliasRe = regexp.MustCompile(`^[a-z0-9-]+:[a-z]+$`)

// absolutePaths rewrites the relative paths of the resolved config (data
// files, init_from) as absolute ones, so that the copy saved in a run
// directory (and in checkpoints) loads from anywhere.
func absolutePaths(root *yaml.Node, dir string) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return
	}
	for _, path := range [][]string{{"data", "train"}, {"data", "test"}, {"data", "validation"}, {"model", "init_from"}} {
		_, n := keyNode(root, path[0])
		_, v := keyNode(n, path[1])
		if v == nil || v.Kind != yaml.ScalarNode || isNull(v) || v.Value == "" || filepath.IsAbs(v.Value) || aliasRe.MatchString(v.Value) {
			continue
		}
		v.Value = filepath.Join(abs, v.Value)
		v.Style = 0
	}
}
