package data

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"

	"github.com/nettrain/nettrain/internal/safetensors"
)

// ReadSafetensors reads a data set from a safetensors file holding exactly
// two tensors:
//
//	x  (N, ...)  features: U8 (kept as bytes) or any float dtype (as float32;
//	             as float64 when loaded with LoadOptions.Float64)
//	y  (N)       class labels, any integer dtype, 0 <= label
//	   or (N) or (N, D) regression targets, any float dtype
//
// The sample shape is x's shape without N ([1] when x is (N)). The number
// of classes is max label + 1, or the metadata entry "num_classes" when
// present (it must be at least that). Load with LoadOptions.Classes also
// requires every label to be below the training class count, and
// num_classes, when present, to equal it.
//
// Features and regression targets must be finite: a NaN or an infinity,
// or an F64 value beyond float32's range, is an error naming the tensor
// and the element.
func ReadSafetensors(path string) (*Dataset, error) {
	return readSafetensors(path, nil, limit{}, false)
}

// readSafetensors reads a safetensors data set whose integer labels must
// be classes of cm (nil: any class), within the memory limit lim: the
// file, and then the file and the converted tensors together. f64 keeps
// float tensors as float64 (F64, Targets64).
func readSafetensors(path string, cm *ClassMap, lim limit, f64 bool) (*Dataset, error) {
	f, err := safetensors.ReadLimit(path, lim.max, lim.name)
	if err != nil {
		return nil, err
	}
	return fromSafetensors(path, f, cm, lim, true, f64)
}

// ReadSafetensorsInputs reads new inputs for a model: tensor x, and y when
// the file has it (labels of cm's classes, or regression targets), within
// maxBytes (0: no limit; limitName names it in messages); f64 keeps float
// tensors as float64, for a float64 model.
func ReadSafetensorsInputs(path string, cm *ClassMap, maxBytes int64, limitName string, f64 bool) (*Dataset, error) {
	lim := limit{max: maxBytes, name: limitName}
	f, err := safetensors.ReadLimit(path, lim.max, lim.name)
	if err != nil {
		return nil, err
	}
	return fromSafetensors(path, f, cm, lim, false, f64)
}

func fromSafetensors(path string, f *safetensors.File, cm *ClassMap, lim limit, needY, f64 bool) (*Dataset, error) {
	errf := func(format string, args ...any) error {
		return fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...))
	}
	for _, name := range f.Names() {
		if name != "x" && name != "y" {
			return nil, errf("unexpected tensor %q: a data file holds x (features) and y (labels or targets)", name)
		}
	}
	xi, ok := f.Info("x")
	if !ok {
		return nil, errf("no tensor \"x\": a data file holds x (features) and y (labels or targets)")
	}
	if len(xi.Shape) == 0 || xi.Shape[0] == 0 {
		return nil, errf("tensor \"x\" has shape %v; want (N, ...) with N > 0 samples", xi.Shape)
	}
	yi, hasY := f.Info("y")
	if !hasY && !needY {
		yi = safetensors.TensorInfo{DType: safetensors.U8, Shape: []int{xi.Shape[0]}}
	} else if !hasY {
		return nil, errf("no tensor \"y\": a data file holds x (features) and y (labels or targets)")
	}
	n := xi.Shape[0]
	ds := &Dataset{Source: path, N: n, Shape: append([]int{}, xi.Shape[1:]...)}
	if len(ds.Shape) == 0 {
		ds.Shape = []int{1}
	}
	if xi.DType != safetensors.U8 && !xi.DType.IsFloat() {
		return nil, errf("tensor \"x\" has dtype %s; want U8 or a float dtype", xi.DType)
	}
	if len(yi.Shape) == 0 || yi.Shape[0] != n {
		return nil, errf("tensor \"y\" has shape %v but x has %d samples; want (%d) or (%d, D)", yi.Shape, n, n, n)
	}
	// The file's tensors stay in memory while they are converted: x to
	// bytes (U8) or float32, y to int32 labels or float32 targets.
	held := int64(xi.End-xi.Begin) + int64(yi.End-yi.Begin)
	xSize, ySize := int64(4), int64(4)
	if f64 {
		xSize, ySize = 8, 8
	}
	if xi.DType == safetensors.U8 {
		xSize = 1
	}
	need := held + mulBytes(int64(xi.NumElements()), xSize) + mulBytes(int64(yi.NumElements()), ySize)
	content := fmt.Sprintf("the data set (x %s %v and y %s %v, held as read and as converted)", xi.DType, xi.Shape, yi.DType, yi.Shape)
	if err := lim.check(path, content, need); err != nil {
		return nil, err
	}

	var err error
	switch {
	case xi.DType == safetensors.U8:
		ds.U8, _, err = f.Uint8("x")
	case f64:
		ds.F64, err = finiteFloat64(path, f, "x")
	default:
		ds.F32, err = finiteFloat32(path, f, "x")
	}
	if err != nil {
		return nil, err
	}

	switch {
	case !hasY:
	case yi.DType.IsInt():
		if len(yi.Shape) != 1 {
			return nil, errf("tensor \"y\" holds integer labels, so its shape must be (%d), got %v", n, yi.Shape)
		}
		if ds.Labels, _, err = f.Int32("y"); err != nil {
			return nil, err
		}
		for i, l := range ds.Labels {
			if l < 0 {
				return nil, errf("tensor \"y\": label %d of sample %d is negative; class ids run from 0", l, i)
			}
			if l == 1<<31-1 {
				return nil, errf("tensor \"y\": label %d of sample %d is too large", l, i)
			}
			if int(l)+1 > ds.NumClasses {
				ds.NumClasses = int(l) + 1
				ds.ClassesFrom = fmt.Sprintf("%s: tensor \"y\": class id %d of sample %d", path, l, i)
			}
		}
		if s, ok := f.Metadata["num_classes"]; ok {
			k, err := strconv.Atoi(s)
			if err != nil || k < ds.NumClasses {
				return nil, errf("metadata num_classes = %q, but the labels need at least %d classes", s, ds.NumClasses)
			}
			if cm != nil && k != cm.NumClasses {
				return nil, errf("metadata num_classes = %q, but %s", s, cm.describe())
			}
			if k > ds.NumClasses {
				ds.ClassesFrom = fmt.Sprintf("%s: metadata num_classes = %q", path, s)
			}
			ds.NumClasses = k
		}
		if err := ds.useClasses(cm, path+`: tensor "y"`); err != nil {
			return nil, err
		}
	case yi.DType.IsFloat():
		if len(yi.Shape) > 2 {
			return nil, errf("tensor \"y\" holds regression targets, so its shape must be (%d) or (%d, D), got %v", n, n, yi.Shape)
		}
		ds.TargetDim = 1
		if len(yi.Shape) == 2 {
			ds.TargetDim = yi.Shape[1]
		}
		if ds.TargetDim == 0 {
			return nil, errf("tensor \"y\" has shape %v: no targets", yi.Shape)
		}
		if f64 {
			ds.Targets64, err = finiteFloat64(path, f, "y")
		} else {
			ds.Targets, err = finiteFloat32(path, f, "y")
		}
		if err != nil {
			return nil, err
		}
	default:
		return nil, errf("tensor \"y\" has dtype %s; want an integer dtype (labels) or a float dtype (targets)", yi.DType)
	}
	if !hasY {
		return ds, nil // inputs only: Check wants labels or targets
	}
	if err := ds.Check(); err != nil {
		return nil, err
	}
	return ds, nil
}

// finiteFloat32 returns the values of the named float tensor as float32,
// refusing a NaN or an infinity, or an F64 value beyond float32's range
// (which would become an infinity), in the words of the IDX reader.
func finiteFloat32(path string, f *safetensors.File, name string) ([]float32, error) {
	raw, info, err := f.Raw(name)
	if err != nil {
		return nil, err
	}
	if info.DType == safetensors.F64 {
		for i := range len(raw) / 8 {
			d := math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
			if math.IsNaN(d) || math.IsInf(d, 0) || math.Abs(d) > math.MaxFloat32 {
				return nil, fmt.Errorf("%s: tensor %q: element %d is %v; data must be finite and within float32 range", path, name, i, d)
			}
		}
	}
	v, _, err := f.Float32(name)
	if err != nil {
		return nil, err
	}
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil, fmt.Errorf("%s: tensor %q: element %d is %v; data must be finite", path, name, i, x)
		}
	}
	return v, nil
}

// finiteFloat64 returns the values of the named float tensor as float64
// (F64 as stored, narrower dtypes converted exactly), refusing a NaN or an
// infinity.
func finiteFloat64(path string, f *safetensors.File, name string) ([]float64, error) {
	v, _, err := f.Float64(name)
	if err != nil {
		return nil, err
	}
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("%s: tensor %q: element %d is %v; data must be finite", path, name, i, x)
		}
	}
	return v, nil
}
