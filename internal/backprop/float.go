package backprop

import "unsafe"

// Float is the element type of every tensor: float32 or float64.
type Float interface{ float32 | float64 }

// Is32 reports whether T is float32.
func Is32[T Float]() bool {
	var z T
	_, ok := any(z).(float32)
	return ok
}

// DTypeName is "float32" or "float64".
func DTypeName[T Float]() string {
	if Is32[T]() {
		return "float32"
	}
	return "float64"
}

// as32 reinterprets s as []float32; T must be float32.
func as32[T Float](s []T) []float32 {
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

// as64 reinterprets s as []float64; T must be float64.
func as64[T Float](s []T) []float64 {
	return unsafe.Slice((*float64)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

// Prod is the product of dims (1 for an empty shape).
func Prod(dims []int) int {
	p := 1
	for _, d := range dims {
		p *= d
	}
	return p
}
