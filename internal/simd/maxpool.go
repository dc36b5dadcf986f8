package simd

import "fmt"

// MaxPool2x2 is max pooling of one plane over 2x2 windows with stride 2,
// in assembly: for i < oh, j < ow, the window x[2i*w+2j], x[2i*w+2j+1],
// x[(2i+1)*w+2j], x[(2i+1)*w+2j+1] (a plane of rows of w values, w >=
// 2*ow) gives
//
//	y[i*ow+j]      = its maximum
//	argmax[i*ow+j] = the flat index of the maximum in x
//
// The candidates are taken in row-major order and a later one wins only if
// it is greater (so the first maximum wins ties) or NaN (and then it is
// the result: the first NaN wins), as PyTorch. It reports false, doing
// nothing, when this CPU (or build) has no such assembly (AVX-512F and
// BMI2 are needed); the caller then runs its own code. Slices too short
// for the plane panic.
func MaxPool2x2(y []float32, argmax []int32, x []float32, w, oh, ow int) bool {
	if !hasMaxPoolAsm {
		return false
	}
	checkPool("MaxPool2x2", len(y), len(argmax), len(x), w, oh, ow)
	if oh > 0 && ow > 0 {
		maxPool2x2Asm(oh, ow, &x[0], w, &y[0], &argmax[0])
	}
	return true
}

// MaxUnpool2x2 is the backward of MaxPool2x2 when the windows tile the
// plane (its height is 2*oh and w == 2*ow): every input of window (i, j)
// gets dy[i*ow+j] if argmax[i*ow+j] is its index, else 0, so all of dx
// (2*oh rows of w values) is written. It reports false, doing nothing,
// without the assembly.
func MaxUnpool2x2(dx, dy []float32, argmax []int32, w, oh, ow int) bool {
	if !hasMaxPoolAsm {
		return false
	}
	checkPool("MaxUnpool2x2", len(dy), len(argmax), len(dx), w, oh, ow)
	if oh > 0 && ow > 0 {
		maxUnpool2x2Asm(oh, ow, &dy[0], &argmax[0], w, &dx[0])
	}
	return true
}

func checkPool(name string, ny, nargmax, nx, w, oh, ow int) {
	if oh < 0 || ow < 0 || w < 2*ow {
		panic(fmt.Sprintf("simd: %s with oh=%d, ow=%d, w=%d", name, oh, ow, w))
	}
	if oh == 0 || ow == 0 {
		return
	}
	if ny < oh*ow || nargmax < oh*ow || nx < (2*oh-1)*w+2*ow {
		panic(fmt.Sprintf("simd: %s slices too short for %dx%d windows on rows of %d", name, oh, ow, w))
	}
}
