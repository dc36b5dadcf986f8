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
	checkpointFormat = "nettrain-checkpoint/1"
	optimPrefix      = "optimizer."
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
	// Sections are the config's resume sections (model.Config.
	// ResumeSections): a resume must match them.
	Sections map[string]string
}

// Save writes net's parameters, the optimizer's state (when opt is
// not nil) and st to path, atomically.
func Save[T backprop.Float](path string, net *backprop.Network[T], opt optim.Optimizer[T], st State) error {
	var ts []safetensors.Tensor
	for _, p := range net.Params {
		ts = append(ts, safetensors.Tensor{Name: p.Name, Shape: p.Shape, Data: p.W})
	}
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
	if st.Sections != nil {
		js, _ := json.Marshal(st.Sections)
		meta["resume_sections"] = string(js)
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
	return safetensors.Write(path, ts, meta)
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
func Read(path string) (*safetensors.File, State, error) {
	f, err := safetensors.Read(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return nil, State{}, fmt.Errorf("%s: cannot read checkpoint: %v", path, pe.Err)
		}
		return nil, State{}, err
	}
	if err := verifyChecksums(f); err != nil {
		return nil, State{}, err
	}
	st, err := parseState(path, f.Metadata)
	return f, st, err
}

func parseState(path string, m map[string]string) (State, error) {
	st := State{BestValLoss: math.Inf(1)}
	if m["format"] != checkpointFormat {
		// A plain weights file (e.g. exported from PyTorch): no state.
		return st, nil
	}
	var err error
	geti := func(k string) int64 {
		if err != nil {
			return 0
		}
		v, e := strconv.ParseInt(m[k], 10, 64)
		if e != nil {
			err = fmt.Errorf("%s: metadata %q is %q, not an integer", path, k, m[k])
		}
		return v
	}
	getf := func(k string) float64 {
		if err != nil || m[k] == "" {
			return 0
		}
		v, e := strconv.ParseFloat(m[k], 64)
		if e != nil {
			err = fmt.Errorf("%s: metadata %q is %q, not a number", path, k, m[k])
		}
		return v
	}
	st.Epoch = int(geti("epoch"))
	st.BatchInEpoch = int(geti("batch_in_epoch"))
	st.Step = geti("step")
	st.MetricsRows = int(geti("metrics_rows"))
	st.BestValLoss = getf("best_val_loss")
	st.LR = getf("lr")
	st.EpochLossSum = getf("epoch_loss_sum")
	st.EpochNormSum = getf("epoch_norm_sum")
	st.ElapsedS = getf("elapsed_s")
	st.LRScale = getf("lr_scale")
	if m["skipped"] != "" {
		st.Skipped = int(geti("skipped"))
	}
	if m["epoch_samples"] != "" {
		st.EpochSamples = int(geti("epoch_samples"))
		st.EpochSteps = int(geti("epoch_steps"))
	}
	if m["optimizer_steps"] != "" {
		st.OptimSteps = geti("optimizer_steps")
	}
	st.Optimizer = m["optimizer"]
	st.ConfigHash, st.ModelHash, st.DType, st.Config = m["config_hash"], m["model_hash"], m["dtype"], m["config"]
	if js := m["resume_sections"]; js != "" {
		if e := json.Unmarshal([]byte(js), &st.Sections); e != nil && err == nil {
			err = fmt.Errorf("%s: metadata \"resume_sections\" is unreadable: %v", path, e)
		}
	}
	st.Sched = map[string]string{}
	for k, v := range m {
		if strings.HasPrefix(k, "sched_") {
			st.Sched[k] = v
		}
	}
	if err == nil {
		st.RNG, err = base64.StdEncoding.DecodeString(m["rng"])
		if err != nil {
			err = fmt.Errorf("%s: metadata \"rng\" is not base64: %v", path, err)
		}
	}
	return st, err
}

// LoadWeights copies the parameters stored in f into net, converting the
// element type if needed. Every parameter of net must be present with the
// right shape, and f must hold no parameter net lacks (optimizer tensors
// aside); errors name the tensor and, through layerOf, the layer.
func LoadWeights[T backprop.Float](f *safetensors.File, net *backprop.Network[T], layerOf func(i int) string) error {
	want := map[string]bool{}
	for li, ps := range net.ByLayer {
		for _, p := range ps {
			want[p.Name] = true
			info, ok := f.Info(p.Name)
			if !ok {
				return fmt.Errorf("%s: no tensor %q for %s (shape %v); is it a checkpoint of this model?", f.Path, p.Name, layerOf(li), p.Shape)
			}
			if !slices.Equal(info.Shape, p.Shape) {
				return fmt.Errorf("%s: tensor %q has shape %v, but %s needs %v", f.Path, p.Name, info.Shape, layerOf(li), p.Shape)
			}
			if err := readInto(f, p.Name, p.W); err != nil {
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

// LoadOptimizer restores the optimizer's slots and step count from f.
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
			if err := readInto(f, tn, s.Data[p.Offset:p.Offset+len(p.W)]); err != nil {
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

func readInto[T backprop.Float](f *safetensors.File, name string, dst []T) error {
	if backprop.Is32[T]() {
		v, _, err := f.Float32(name)
		if err != nil {
			return err
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
	for i := range dst {
		dst[i] = T(v[i])
	}
	return nil
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
