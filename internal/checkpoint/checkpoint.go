package checkpoint

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/optim"
	"github.com/nettrain/nettrain/internal/safetensors"
)

const (
	// checkpointFormat is the "format" Save writes: format 2 carries a
	// checksum of its metadata (metadataChecksumKey).
	checkpointFormat = "nettrain-checkpoint/2"
	// formatV1 is the format before the metadata checksum; it still reads.
	formatV1            = "nettrain-checkpoint/1"
	metadataChecksumKey = "metadata_checksum"
	optimPrefix         = "optimizer."
)

// State is the training progress stored in a checkpoint's metadata.
type State struct {
	Epoch        int     // completed epochs
	BatchInEpoch int     // batches done in the current (unfinished) epoch
	Step         int64   // optimizer steps so far
	BestValLoss  float64 // best validation loss so far (+Inf if none)
	MetricsRows  int     // rows written to metrics.csv
	RNG          []byte  // dropout RNG state
	LR           float64 // learning rate in effect
	OptimSteps   int64   // the optimizer's own step count
	Optimizer    string  // optimizer name
	ConfigHash   string
	ModelHash    string
	DType        string
	Config       string // the resolved config, as YAML
	// The unfinished epoch's running sums, so that a resumed epoch reports
	// the same training loss as an uninterrupted one.
	EpochLossSum float64
	EpochSamples int
	EpochNormSum float64
	EpochSteps   int
	ElapsedS     float64 // training seconds before this checkpoint
	// Sched is the learning-rate scheduler's state (plateau).
	Sched map[string]string
	// LRScale multiplies the scheduled learning rate: halved by each
	// rollback after a non-finite loss (training.on_nan: rollback).
	LRScale float64
	// Skipped counts batches skipped for non-finite values (skip_batch).
	Skipped int
	// EarlyStop is training.early_stopping's progress (nil before its
	// first evaluation).
	EarlyStop *EarlyStop
	// Sections are the config's resume sections (model.Config.
	// ResumeSections): a resume must match them.
	Sections map[string]string
	// Data fingerprints the data files the run read (train.Data.
	// Fingerprints); nil in checkpoints of format 1 and plain files.
	Data []DataFingerprint
	// Preprocess is the preprocessing fitted on the training data, which
	// eval, predict and export apply to new inputs; nil in checkpoints
	// written before it was stored, and in plain files.
	Preprocess *Preprocess
	// Format is the metadata's "format" as read ("" when the file has
	// none); Save ignores it.
	Format string
	// Plain is set by Read for a file without nettrain's training state: no
	// metadata (weights exported from PyTorch, or stripped) or a format
	// this version does not know. Its weights load (model.init_from,
	// eval), but it records no position in a run and cannot be resumed.
	// The zero value is a nettrain checkpoint.
	Plain bool
}

// EarlyStop is what early stopping has seen: the best value of the
// monitored metric, the step it was measured at, and the evaluations
// since then without an improvement.
type EarlyStop struct {
	Best     float64 // >= 0 and finite (a loss or an accuracy)
	BestStep int64
	Bad      int
}

// Save writes net's parameters, the optimizer's state (when opt is
// not nil) and st to path, atomically.
func Save[T backprop.Float](path string, net *backprop.Network[T], opt optim.Optimizer[T], st State) error {
	ts := WeightTensors(net)
	meta := map[string]string{
		"format":         checkpointFormat,
		"epoch":          strconv.Itoa(st.Epoch),
		"batch_in_epoch": strconv.Itoa(st.BatchInEpoch),
		"step":           strconv.FormatInt(st.Step, 10),
		"best_val_loss":  strconv.FormatFloat(st.BestValLoss, 'g', -1, 64),
		"metrics_rows":   strconv.Itoa(st.MetricsRows),
		"rng":            base64.StdEncoding.EncodeToString(st.RNG),
		"config_hash":    st.ConfigHash,
		"model_hash":     st.ModelHash,
		"dtype":          backprop.DTypeName[T](),
		"config":         st.Config,
		"epoch_loss_sum": strconv.FormatFloat(st.EpochLossSum, 'g', -1, 64),
		"epoch_samples":  strconv.Itoa(st.EpochSamples),
		"epoch_norm_sum": strconv.FormatFloat(st.EpochNormSum, 'g', -1, 64),
		"epoch_steps":    strconv.Itoa(st.EpochSteps),
		"elapsed_s":      strconv.FormatFloat(st.ElapsedS, 'g', -1, 64),
		"lr_scale":       strconv.FormatFloat(st.LRScale, 'g', -1, 64),
		"skipped":        strconv.Itoa(st.Skipped),
	}
	for k, v := range st.Sched {
		meta[k] = v
	}
	if es := st.EarlyStop; es != nil {
		meta["early_stop_best"] = strconv.FormatFloat(es.Best, 'g', -1, 64)
		meta["early_stop_best_step"] = strconv.FormatInt(es.BestStep, 10)
		meta["early_stop_bad"] = strconv.Itoa(es.Bad)
	}
	if st.Sections != nil {
		js, _ := json.Marshal(st.Sections)
		meta["resume_sections"] = string(js)
	}
	if st.Data != nil {
		js, _ := json.Marshal(st.Data)
		meta["data_fingerprint"] = string(js)
	}
	if st.Preprocess != nil {
		js, _ := json.Marshal(st.Preprocess)
		meta["preprocess"] = string(js)
	}
	if opt != nil {
		meta["optimizer"] = st.Optimizer
		meta["optimizer_steps"] = strconv.FormatInt(opt.Steps(), 10)
		meta["lr"] = strconv.FormatFloat(opt.LR(), 'g', -1, 64)
		for _, s := range opt.Slots() {
			for _, p := range net.Params {
				ts = append(ts, safetensors.Tensor{
					Name:  optimPrefix + s.Name + "." + p.Name,
					Shape: p.Shape,
					Data:  s.Data[p.Offset : p.Offset+len(p.W)],
				})
			}
		}
	}
	sums := map[string]string{}
	for _, t := range ts {
		sums[t.Name] = fmt.Sprintf("%08x", crc32.Checksum(rawBytes(t.Data), castagnoli))
	}
	js, _ := json.Marshal(sums)
	meta["checksums"] = string(js)
	meta[metadataChecksumKey] = MetadataChecksum(meta)
	return safetensors.Write(path, ts, meta)
}

// WeightTensors are net's parameters and then its buffers (batchnorm's
// running statistics) as safetensors tensors under their state_dict names:
// what torch's state_dict holds. A buffer torch keeps as int64
// (num_batches_tracked) is written as I64.
func WeightTensors[T backprop.Float](net *backprop.Network[T]) []safetensors.Tensor {
	var ts []safetensors.Tensor
	for _, p := range net.Params {
		ts = append(ts, safetensors.Tensor{Name: p.Name, Shape: p.Shape, Data: p.W})
	}
	for _, b := range net.Buffers {
		var data any = b.W
		if b.Int {
			v := make([]int64, len(b.W))
			for i, x := range b.W {
				v[i] = int64(x)
			}
			data = v
		}
		ts = append(ts, safetensors.Tensor{Name: b.Name, Shape: b.Shape, Data: data})
	}
	return ts
}

// MetadataChecksum is the CRC-32C, as 8 lower-case hex digits, of the
// canonical encoding of meta: every entry but "metadata_checksum" itself,
// sorted by key (bytewise), each as "<len(key)>:<key><len(value)>:<value>"
// with the lengths in bytes, in decimal. Save stores it under
// "metadata_checksum"; Read verifies it.
func MetadataChecksum(meta map[string]string) string {
	keys := make([]string, 0, len(meta))
	for k := range meta {
		if k != metadataChecksumKey {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var b []byte
	for _, k := range keys {
		b = strconv.AppendInt(b, int64(len(k)), 10)
		b = append(b, ':')
		b = append(b, k...)
		b = strconv.AppendInt(b, int64(len(meta[k])), 10)
		b = append(b, ':')
		b = append(b, meta[k]...)
	}
	return fmt.Sprintf("%08x", crc32.Checksum(b, castagnoli))
}

// verifyMetadata checks the metadata against its checksum: whenever the
// file carries one, and a format-2 checkpoint must (files of format 1 and
// plain weights files have none).
func verifyMetadata(f *safetensors.File) error {
	want, ok := f.Metadata[metadataChecksumKey]
	if !ok {
		if f.Metadata["format"] == checkpointFormat {
			return fmt.Errorf("%s: the metadata has no %q, which a %s file must have: the file was altered after nettrain wrote it", f.Path, metadataChecksumKey, checkpointFormat)
		}
		return nil
	}
	if got := MetadataChecksum(f.Metadata); got != want {
		return fmt.Errorf("%s: the metadata fails its checksum (crc32c %s, expected %s): the file is corrupt or was edited", f.Path, got, want)
	}
	return nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// rawBytes views a float slice as its little-endian bytes (the machine's
// order on every platform nettrain builds for, as safetensors stores).
func rawBytes(data any) []byte {
	switch v := data.(type) {
	case []float32:
		return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), 4*len(v))
	case []float64:
		return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), 8*len(v))
	case []int64:
		return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), 8*len(v))
	}
	panic(fmt.Sprintf("checkpoint: no raw bytes for %T", data))
}

// verifyChecksums checks every tensor against the CRC-32C values a
// checkpoint carries (files without them, e.g. from PyTorch, pass).
func verifyChecksums(f *safetensors.File) error {
	js, ok := f.Metadata["checksums"]
	if !ok {
		return nil
	}
	var sums map[string]string
	if err := json.Unmarshal([]byte(js), &sums); err != nil {
		return fmt.Errorf("%s: the checksums in the header are unreadable: %v", f.Path, err)
	}
	for _, name := range f.Names() {
		want, ok := sums[name]
		if !ok {
			return fmt.Errorf("%s: tensor %q has no checksum; the file was altered after nettrain wrote it", f.Path, name)
		}
		raw, _, err := f.Raw(name)
		if err != nil {
			return err
		}
		if got := fmt.Sprintf("%08x", crc32.Checksum(raw, castagnoli)); got != want {
			return fmt.Errorf("%s: tensor %q fails its checksum (crc32c %s, expected %s): the file is corrupt", f.Path, name, got, want)
		}
	}
	for name := range sums {
		if _, ok := f.Info(name); !ok {
			return fmt.Errorf("%s: tensor %q is missing; the file was altered after nettrain wrote it", f.Path, name)
		}
	}
	return nil
}

// Read opens and validates a checkpoint file.
func Read(path string) (*safetensors.File, State, error) { return ReadLimit(path, 0, "") }

// ReadLimit is Read refusing a file larger than limit bytes (0: no limit)
// before reading it; what names the limit in the message.
func ReadLimit(path string, limit int64, what string) (*safetensors.File, State, error) {
	f, err := safetensors.ReadLimit(path, limit, what)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return nil, State{}, fmt.Errorf("%s: cannot read checkpoint: %v", path, pe.Err)
		}
		return nil, State{}, err
	}
	if err := verifyMetadata(f); err != nil {
		return nil, State{}, err
	}
	if err := verifyChecksums(f); err != nil {
		return nil, State{}, err
	}
	st, err := parseState(path, f.Metadata)
	if err != nil {
		return nil, State{}, err
	}
	return f, st, nil
}

// maxCount bounds every count in the metadata (2^53: exact in a float64,
// and far beyond any real run), so that arithmetic on them cannot
// overflow.
const maxCount = 1 << 53

// parseState reads and range-checks the training state in a checkpoint's
// metadata. Every field is checked on its own (counts are whole numbers
// from 0 to maxCount, sums and rates finite and non-negative: every loss
// nettrain has is >= 0) and against the others; the checks against the
// config and the data are the resume's (package session).
func parseState(path string, m map[string]string) (State, error) {
	st := State{BestValLoss: math.Inf(1), Format: m["format"]}
	if st.Format != checkpointFormat && st.Format != formatV1 {
		// A plain weights file (e.g. exported from PyTorch): no state.
		st.Plain = true
		return st, nil
	}
	r := &metaReader{path: path, m: m}
	st.Epoch = int(r.count("epoch", true))
	st.BatchInEpoch = int(r.count("batch_in_epoch", true))
	st.Step = r.count("step", true)
	st.MetricsRows = int(r.count("metrics_rows", true))
	st.BestValLoss = r.number("best_val_loss", true, true) // +Inf: no validation loss yet
	st.LR = r.number("lr", false, false)
	st.EpochLossSum = r.number("epoch_loss_sum", false, false)
	st.EpochNormSum = r.number("epoch_norm_sum", false, false)
	st.ElapsedS = r.number("elapsed_s", false, false)
	if m["lr_scale"] != "" {
		// Rollbacks halve it from 1; 0 (absent) means 1.
		if st.LRScale = r.number("lr_scale", false, false); r.err == nil && !(st.LRScale > 0 && st.LRScale <= 1) {
			r.fail("lr_scale", "must be in (0, 1]")
		}
	}
	st.Skipped = int(r.count("skipped", false))
	st.EpochSamples = int(r.count("epoch_samples", false))
	st.EpochSteps = int(r.count("epoch_steps", false))
	st.OptimSteps = r.count("optimizer_steps", false)
	st.Optimizer = m["optimizer"]
	st.ConfigHash, st.ModelHash, st.DType, st.Config = m["config_hash"], m["model_hash"], m["dtype"], m["config"]
	if r.err == nil && st.DType != "" && st.DType != "float32" && st.DType != "float64" {
		r.fail("dtype", "must be float32 or float64")
	}
	st.Sched = map[string]string{}
	for k, v := range m {
		if strings.HasPrefix(k, "sched_") {
			st.Sched[k] = v
		}
	}
	// The learning-rate scheduler's state (optim.Scheduler.State); its
	// best loss starts at +Inf.
	r.number("sched_lr", false, false)
	r.number("sched_best", false, true)
	r.count("sched_bad", false)
	r.count("sched_cooldown", false)
	// The fields against each other.
	r.atMost("optimizer_steps", st.OptimSteps, "step", st.Step)
	r.atMost("skipped", int64(st.Skipped), "step", st.Step)
	// A row per finished epoch and per measurement inside one at most.
	r.atMost("metrics_rows", int64(st.MetricsRows), "epoch + step", int64(st.Epoch)+st.Step)
	if _, ok := m["early_stop_best"]; ok && r.err == nil {
		es := &EarlyStop{Best: r.number("early_stop_best", true, false), BestStep: r.count("early_stop_best_step", true),
			Bad: int(r.count("early_stop_bad", true))}
		r.atMost("early_stop_best_step", es.BestStep, "step", st.Step)
		// An evaluation per finished epoch and per step at most.
		r.atMost("early_stop_bad", int64(es.Bad), "epoch + step", int64(st.Epoch)+st.Step)
		st.EarlyStop = es
	}
	r.atMost("epoch_steps", int64(st.EpochSteps), "batch_in_epoch", int64(st.BatchInEpoch))
	r.atMost("epoch_steps", int64(st.EpochSteps), "epoch_samples", int64(st.EpochSamples))
	if r.err == nil && st.Step < int64(st.BatchInEpoch) {
		r.err = fmt.Errorf("%s: metadata \"step\" is %d, less than \"batch_in_epoch\" (%d)", path, st.Step, st.BatchInEpoch)
	}
	if js := m["resume_sections"]; js != "" && r.err == nil {
		if e := json.Unmarshal([]byte(js), &st.Sections); e != nil {
			r.err = fmt.Errorf("%s: metadata \"resume_sections\" is unreadable: %v", path, e)
		}
	}
	if js, ok := m["data_fingerprint"]; ok && r.err == nil {
		st.Data, r.err = parseFingerprints(path, js)
	}
	if js, ok := m["preprocess"]; ok && r.err == nil {
		st.Preprocess, r.err = parsePreprocess(path, js, st.DType)
	}
	if r.err == nil {
		var e error
		if st.RNG, e = base64.StdEncoding.DecodeString(m["rng"]); e != nil {
			r.err = fmt.Errorf("%s: metadata \"rng\" is not base64: %v", path, e)
		}
	}
	return st, r.err
}

// metaReader parses metadata fields, keeping the first error.
type metaReader struct {
	path string
	m    map[string]string
	err  error
}

func (r *metaReader) fail(k, why string) {
	if r.err == nil {
		r.err = fmt.Errorf("%s: metadata %q is %q: %s", r.path, k, r.m[k], why)
	}
}

// count reads a whole number from 0 to maxCount (0 when the key is
// absent and not required).
func (r *metaReader) count(k string, required bool) int64 {
	s, ok := r.m[k]
	if r.err != nil || !ok && !required {
		return 0
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 || v > maxCount {
		r.fail(k, fmt.Sprintf("must be a whole number from 0 to %d", int64(maxCount)))
		return 0
	}
	return v
}

// number reads a number >= 0, finite or, when inf, +Inf (0 when the key
// is absent or empty and not required).
func (r *metaReader) number(k string, required, inf bool) float64 {
	s, ok := r.m[k]
	if r.err != nil || (!ok || s == "") && !required {
		return 0
	}
	v, err := strconv.ParseFloat(s, 64) // out of range: ±Inf with an error
	switch {
	case err != nil && !errors.Is(err, strconv.ErrRange), math.IsNaN(v):
		r.fail(k, "must be a number")
	case v < 0:
		r.fail(k, "must be >= 0")
	case math.IsInf(v, 1) && !inf:
		r.fail(k, "must be finite")
	}
	return v
}

// atMost checks that field a is at most field b.
func (r *metaReader) atMost(a string, va int64, b string, vb int64) {
	if r.err == nil && va > vb {
		r.err = fmt.Errorf("%s: metadata %q is %d, more than %q (%d)", r.path, a, va, b, vb)
	}
}

// ShapeError is LoadWeights' error for a tensor whose shape is not the
// network's: Layer is the index of the network's layer that needs it.
type ShapeError struct {
	Layer int
	msg   string
}

func (e *ShapeError) Error() string { return e.msg }

// LoadWeights copies the parameters and buffers stored in f into net,
// converting the element type if needed. Every parameter and buffer of net
// must be present with the right shape and finite values (an int64 buffer,
// num_batches_tracked, a whole number >= 0), and f must hold no tensor net
// lacks (optimizer tensors aside); errors name the tensor (and the index of
// a value that is not finite) and, through layerOf, the layer.
func LoadWeights[T backprop.Float](f *safetensors.File, net *backprop.Network[T], layerOf func(i int) string) error {
	want := map[string]bool{}
	for li := range net.ByLayer {
		for _, p := range append(net.ByLayer[li][:len(net.ByLayer[li]):len(net.ByLayer[li])], net.BufByLayer[li]...) {
			want[p.Name] = true
			info, ok := f.Info(p.Name)
			if !ok {
				return fmt.Errorf("%s: no tensor %q for %s (shape %v); is it a checkpoint of this model?", f.Path, p.Name, layerOf(li), p.Shape)
			}
			if !slices.Equal(info.Shape, p.Shape) {
				return &ShapeError{Layer: li, msg: fmt.Sprintf("%s: tensor %q has shape %v, but %s needs %v", f.Path, p.Name, info.Shape, layerOf(li), p.Shape)}
			}
			if p.Int {
				if err := readCount(f, p.Name, p.W); err != nil {
					return err
				}
				continue
			}
			if err := readInto(f, "tensor", p.Name, p.Shape, p.W, ""); err != nil {
				return err
			}
		}
	}
	for _, name := range f.Names() {
		if !want[name] && !strings.HasPrefix(name, optimPrefix) {
			return fmt.Errorf("%s: tensor %q does not belong to any layer of the config's model (a checkpoint of a different architecture?)", f.Path, name)
		}
	}
	return nil
}

// readCount reads an integer buffer (num_batches_tracked: I64 in torch's
// files, any integer or float type accepted) into dst, refusing a value
// that is negative or not a whole number.
func readCount[T backprop.Float](f *safetensors.File, name string, dst []T) error {
	info, _ := f.Info(name)
	var v []float64
	if info.DType.IsInt() {
		iv, _, err := f.Int64(name)
		if err != nil {
			return err
		}
		for _, x := range iv {
			v = append(v, float64(x))
		}
	} else {
		var err error
		if v, _, err = f.Float64(name); err != nil {
			return err
		}
	}
	for i, x := range v {
		if !(x >= 0 && x <= maxCount && x == math.Trunc(x)) {
			return fmt.Errorf("%s: tensor %q holds %v at index %d; it counts batches, a whole number >= 0", f.Path, name, x, i)
		}
		dst[i] = T(x)
	}
	return nil
}

// LoadOptimizer restores the optimizer's slots and step count from f. Every
// value must be finite, and those of the slots that accumulate squares
// (exp_avg_sq, max_exp_avg_sq, square_avg, acc_delta, sum) >= 0; errors
// name the tensor and the index.
func LoadOptimizer[T backprop.Float](f *safetensors.File, st State, net *backprop.Network[T], opt optim.Optimizer[T], name string) error {
	if st.Optimizer != "" && st.Optimizer != name {
		return fmt.Errorf("%s: the checkpoint was trained with optimizer %s, the config asks for %s; resume with the same optimizer or start from these weights with model.init_from", f.Path, st.Optimizer, name)
	}
	for _, s := range opt.Slots() {
		for _, p := range net.Params {
			tn := optimPrefix + s.Name + "." + p.Name
			info, ok := f.Info(tn)
			if !ok {
				return fmt.Errorf("%s: no optimizer state %q; the checkpoint cannot resume %s training", f.Path, tn, name)
			}
			if !slices.Equal(info.Shape, p.Shape) {
				return fmt.Errorf("%s: optimizer state %q has shape %v, want %v", f.Path, tn, info.Shape, p.Shape)
			}
			if err := readInto(f, "optimizer state", tn, p.Shape, s.Data[p.Offset:p.Offset+len(p.W)], s.Name); err != nil {
				return err
			}
		}
	}
	opt.SetSteps(st.OptimSteps)
	if st.LR > 0 {
		opt.SetLR(st.LR)
	}
	return nil
}

// nonNegativeSlots are the optimizer state vectors that hold sums or
// averages of squares: a negative value in one is a corrupt file (it
// would put NaN into the update's square root).
var nonNegativeSlots = map[string]bool{
	"exp_avg_sq":     true, // adam, adamw, nadam
	"max_exp_avg_sq": true, // adam and adamw with amsgrad
	"square_avg":     true, // rmsprop, adadelta
	"acc_delta":      true, // adadelta
	"sum":            true, // adagrad
}

// readInto copies tensor name (shaped shape) into dst, converting the
// element type, and refuses a value that is not finite (also after the
// conversion: a float64 beyond float32's range) or, for a slot in
// nonNegativeSlots, negative; the error names the tensor and the index.
// what is "tensor" or "optimizer state"; slot is the optimizer slot's
// name ("" for a parameter).
func readInto[T backprop.Float](f *safetensors.File, what, name string, shape []int, dst []T, slot string) error {
	info, _ := f.Info(name)
	nonNeg := nonNegativeSlots[slot]
	if backprop.Is32[T]() && info.DType != safetensors.F64 {
		v, _, err := f.Float32(name)
		if err != nil {
			return err
		}
		if i, ok := checkValues(v, nonNeg); !ok {
			return badValue(f.Path, what, name, slot, float64(v[i]), 32, shape, i)
		}
		for i := range dst {
			dst[i] = T(v[i])
		}
		return nil
	}
	v, _, err := f.Float64(name)
	if err != nil {
		return err
	}
	bits := 32
	if info.DType == safetensors.F64 {
		bits = 64
	}
	if i, ok := checkValues(v, nonNeg); !ok {
		return badValue(f.Path, what, name, slot, v[i], bits, shape, i)
	}
	for i := range dst {
		dst[i] = T(v[i])
		if math.IsInf(float64(dst[i]), 0) {
			return fmt.Errorf("%s: %s %q holds %g at index %v, beyond the range of %s", f.Path, what, name, v[i], index(shape, i), backprop.DTypeName[T]())
		}
	}
	return nil
}

// checkValues returns the index of the first value that is not finite, or
// negative when nonNeg, and false; else true.
func checkValues[S float32 | float64](v []S, nonNeg bool) (int, bool) {
	for i, x := range v {
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) || nonNeg && f < 0 {
			return i, false
		}
	}
	return 0, true
}

// badValue describes value x (printed with bits of precision, as stored)
// at flat index i of a tensor that checkValues refused.
func badValue(path, what, name, slot string, x float64, bits int, shape []int, i int) error {
	v := strconv.FormatFloat(x, 'g', -1, bits)
	if !math.IsNaN(x) && !math.IsInf(x, 0) {
		return fmt.Errorf("%s: %s %q holds %s at index %v; %s must be >= 0 (it accumulates squares): the file is corrupt", path, what, name, v, index(shape, i), slot)
	}
	return fmt.Errorf("%s: %s %q holds %s at index %v; a checkpoint's values must be finite (was it saved from a run that diverged?)", path, what, name, v, index(shape, i))
}

// index is the position of flat element i in a row-major tensor of the
// given shape.
func index(shape []int, i int) []int {
	idx := make([]int, len(shape))
	for k := len(shape) - 1; k >= 0; k-- {
		if shape[k] > 0 {
			idx[k] = i % shape[k]
			i /= shape[k]
		}
	}
	return idx
}

// SectionsDiffer lists the resume sections in which cfg differs from the
// checkpoint's (none when the checkpoint does not record them).
func SectionsDiffer(st State, cfg map[string]string) []string {
	var d []string
	for _, k := range []string{"seed", "dtype", "data", "model", "optimizer", "schedule", "training"} {
		if v, ok := st.Sections[k]; ok && v != cfg[k] {
			d = append(d, k)
		}
	}
	return d
}
