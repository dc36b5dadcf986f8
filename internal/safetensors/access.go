package safetensors

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
)

// Names returns the tensor names in file order: the order of their data in
// the file, which is also the order in which Write and the Python library
// write the header.
func (f *File) Names() []string {
	names := make([]string, len(f.tensors))
	for i, t := range f.tensors {
		names[i] = t.Name
	}
	return names
}

// Info describes the named tensor; ok is false when there is none.
func (f *File) Info(name string) (info TensorInfo, ok bool) {
	i, ok := f.index[name]
	if !ok {
		return TensorInfo{}, false
	}
	t := f.tensors[i]
	t.Shape = append([]int{}, t.Shape...)
	return t, true
}

// Raw returns the named tensor's little-endian bytes and its description.
// The bytes alias the file's buffer and must not be modified.
func (f *File) Raw(name string) ([]byte, TensorInfo, error) {
	i, ok := f.index[name]
	if !ok {
		return nil, TensorInfo{}, f.missing(name)
	}
	t := f.tensors[i]
	t.Shape = append([]int{}, t.Shape...)
	return f.data[t.Begin:t.End:t.End], t, nil
}

func (f *File) missing(name string) error {
	names := f.Names()
	list := strings.Join(names, ", ")
	if len(names) > 10 {
		list = strings.Join(names[:10], ", ") + fmt.Sprintf(", ... (%d in all)", len(names))
	}
	if len(names) == 0 {
		list = "none"
	}
	return fmt.Errorf("%s: no tensor named %q (tensors in the file: %s)", label(f.Path), name, list)
}

func (f *File) wrongType(t TensorInfo, method, want string) error {
	return fmt.Errorf("%s: tensor %q has dtype %s; %s needs %s", label(f.Path), t.Name, t.DType, method, want)
}

// Float32 returns the named tensor as float32 values (a new slice) and its
// shape. Any floating-point dtype is accepted: F16 and BF16 convert
// exactly, F64 rounds to nearest (values beyond float32's range become
// infinities).
func (f *File) Float32(name string) ([]float32, []int, error) {
	raw, t, err := f.Raw(name)
	if err != nil {
		return nil, nil, err
	}
	if !t.DType.IsFloat() {
		return nil, nil, f.wrongType(t, "Float32", "a floating-point dtype (F64, F32, F16, BF16)")
	}
	return decodeFloat[float32](raw, t.DType), t.Shape, nil
}

// Float64 returns the named tensor as float64 values (a new slice) and its
// shape. Any floating-point dtype is accepted; all convert exactly.
func (f *File) Float64(name string) ([]float64, []int, error) {
	raw, t, err := f.Raw(name)
	if err != nil {
		return nil, nil, err
	}
	if !t.DType.IsFloat() {
		return nil, nil, f.wrongType(t, "Float64", "a floating-point dtype (F64, F32, F16, BF16)")
	}
	return decodeFloat[float64](raw, t.DType), t.Shape, nil
}

func decodeFloat[T float32 | float64](raw []byte, d DType) []T {
	out := make([]T, len(raw)/d.Size())
	le := binary.LittleEndian
	for i := range out {
		switch d {
		case F64:
			out[i] = T(math.Float64frombits(le.Uint64(raw[8*i:])))
		case F32:
			out[i] = T(math.Float32frombits(le.Uint32(raw[4*i:])))
		case F16:
			out[i] = T(HalfToFloat32(le.Uint16(raw[2*i:])))
		case BF16:
			out[i] = T(BFloat16ToFloat32(le.Uint16(raw[2*i:])))
		}
	}
	return out
}

// Int64 returns the named tensor as int64 values (a new slice) and its
// shape. Any integer dtype and BOOL are accepted; a U64 value above
// math.MaxInt64 or a BOOL byte other than 0 or 1 is an error naming the
// element.
func (f *File) Int64(name string) ([]int64, []int, error) {
	return decodeInt[int64](f, name, "Int64")
}

// Int32 returns the named tensor as int32 values (a new slice) and its
// shape, e.g. class labels. Any integer dtype and BOOL are accepted; a
// value outside int32's range is an error naming the element.
func (f *File) Int32(name string) ([]int32, []int, error) {
	return decodeInt[int32](f, name, "Int32")
}

func decodeInt[T int32 | int64](f *File, name, method string) ([]T, []int, error) {
	raw, t, err := f.Raw(name)
	if err != nil {
		return nil, nil, err
	}
	if !t.DType.IsInt() && t.DType != BOOL {
		return nil, nil, f.wrongType(t, method, "an integer dtype (I64, I32, I16, I8, U64, U32, U16, U8) or BOOL")
	}
	lo, hi := int64(math.MinInt32), int64(math.MaxInt32)
	if method == "Int64" {
		lo, hi = math.MinInt64, math.MaxInt64
	}
	le := binary.LittleEndian
	out := make([]T, len(raw)/t.DType.Size())
	for i := range out {
		var v int64
		switch t.DType {
		case I64:
			v = int64(le.Uint64(raw[8*i:]))
		case I32:
			v = int64(int32(le.Uint32(raw[4*i:])))
		case I16:
			v = int64(int16(le.Uint16(raw[2*i:])))
		case I8:
			v = int64(int8(raw[i]))
		case U64:
			u := le.Uint64(raw[8*i:])
			if u > math.MaxInt64 {
				return nil, nil, fmt.Errorf("%s: tensor %q: element %d is %d, too large for %s", label(f.Path), name, i, u, method)
			}
			v = int64(u)
		case U32:
			v = int64(le.Uint32(raw[4*i:]))
		case U16:
			v = int64(le.Uint16(raw[2*i:]))
		case U8:
			v = int64(raw[i])
		case BOOL:
			if raw[i] > 1 {
				return nil, nil, fmt.Errorf("%s: tensor %q: BOOL element %d is byte %d, want 0 or 1", label(f.Path), name, i, raw[i])
			}
			v = int64(raw[i])
		}
		if v < lo || v > hi {
			return nil, nil, fmt.Errorf("%s: tensor %q: element %d is %d, out of range for %s", label(f.Path), name, i, v, method)
		}
		out[i] = T(v)
	}
	return out, t.Shape, nil
}

// Uint8 returns a copy of a U8 tensor's bytes and its shape (e.g. image
// pixels, kept compact).
func (f *File) Uint8(name string) ([]uint8, []int, error) {
	raw, t, err := f.Raw(name)
	if err != nil {
		return nil, nil, err
	}
	if t.DType != U8 {
		return nil, nil, f.wrongType(t, "Uint8", "dtype U8")
	}
	return append([]uint8{}, raw...), t.Shape, nil
}
