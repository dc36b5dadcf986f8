package safetensors

import (
	"math"
	"strings"
)

// DType is a safetensors element type, spelled as in the header ("F32").
type DType string

// The element types this package reads and writes. Other dtypes of the
// format (the F8 variants, complex types) are rejected by the reader with
// an error naming the tensor.
const (
	F64  DType = "F64"
	F32  DType = "F32"
	F16  DType = "F16"  // IEEE 754 half precision
	BF16 DType = "BF16" // bfloat16: the top 16 bits of a float32
	I64  DType = "I64"
	I32  DType = "I32"
	I16  DType = "I16"
	I8   DType = "I8"
	U64  DType = "U64"
	U32  DType = "U32"
	U16  DType = "U16"
	U8   DType = "U8"
	BOOL DType = "BOOL" // one byte per element, 0 or 1
)

// dtypes lists the supported dtypes in the order used in messages.
var dtypes = []DType{F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, BOOL}

// Size returns the size of one element in bytes, or 0 for an unsupported
// dtype.
func (d DType) Size() int {
	switch d {
	case F64, I64, U64:
		return 8
	case F32, I32, U32:
		return 4
	case F16, BF16, I16, U16:
		return 2
	case I8, U8, BOOL:
		return 1
	}
	return 0
}

// IsFloat reports whether d is a floating-point dtype.
func (d DType) IsFloat() bool {
	return d == F64 || d == F32 || d == F16 || d == BF16
}

// IsInt reports whether d is an integer dtype (BOOL is not one).
func (d DType) IsInt() bool {
	switch d {
	case I64, I32, I16, I8, U64, U32, U16, U8:
		return true
	}
	return false
}

func supportedList() string {
	s := make([]string, len(dtypes))
	for i, d := range dtypes {
		s[i] = string(d)
	}
	return strings.Join(s, ", ")
}

// HalfToFloat32 converts IEEE 754 half-precision bits to a float32. Every
// half value, including subnormals, infinities and NaNs, is represented
// exactly.
func HalfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // infinity or NaN; keep the payload
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: mant * 2^-24, exact in float32
		f := float32(mant) * (1.0 / (1 << 24))
		if sign != 0 {
			f = -f
		}
		return f
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

// BFloat16ToFloat32 converts bfloat16 bits to a float32 (exact).
func BFloat16ToFloat32(h uint16) float32 {
	return math.Float32frombits(uint32(h) << 16)
}
