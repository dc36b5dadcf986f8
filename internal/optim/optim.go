package optim

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/nettrain/nettrain/internal/backprop"
)

// Optimizer updates a network's flat parameter slab from its gradient slab.
// Every optimizer here is element-wise, so one update over the flat slab is
// exactly PyTorch's update of each parameter tensor in turn.
type Optimizer[T backprop.Float] interface {
	// Begin starts the next update: it advances the step count and
	// computes the scalars of the step (bias corrections, step sizes)
	// once, for the Update calls that follow.
	Begin()
	// Update applies the update prepared by Begin to the elements [lo, hi)
	// of w (and of the state slots), from the same elements of g. Every
	// element's result depends only on that element, so any cut of
	// [0, len(w)) into ranges gives the bits of Step, and calls on
	// disjoint ranges may run on different goroutines at once.
	Update(w, g []T, lo, hi int)
	// LR is the learning rate in effect; SetLR changes it (schedules).
	LR() float64
	SetLR(lr float64)
	// Slots are the optimizer's per-parameter state vectors, each as long
	// as w, for checkpoints. Restoring means copying into them.
	Slots() []Slot[T]
	// Steps is the number of updates done so far (torch's "step" state);
	// SetSteps restores it on resume.
	Steps() int64
	SetSteps(n int64)
}

// Slot is one named state vector, e.g. Adam's "exp_avg".
type Slot[T backprop.Float] struct {
	Name string
	Data []T
}

// Config is an optimizer's validated hyperparameters; each kind's config
// type knows how to build the optimizer for either precision.
type Config interface {
	// LearningRate is the configured base learning rate.
	LearningRate() float64
	// SetLearningRate changes the base learning rate (for sweeps).
	SetLearningRate(lr float64)
	// Validate checks the hyperparameters; the error names the key.
	Validate() error

	new32(n int) Optimizer[float32]
	new64(n int) Optimizer[float64]
}

// New builds the optimizer described by c for n parameters.
func New[T backprop.Float](c Config, n int) Optimizer[T] {
	if backprop.Is32[T]() {
		return any(c.new32(n)).(Optimizer[T])
	}
	return any(c.new64(n)).(Optimizer[T])
}

// errKey formats a validation error for one hyperparameter.
func errKey(key string, format string, args ...any) error {
	return &KeyError{Key: key, Msg: fmt.Sprintf(format, args...)}
}

// KeyError is a validation error of one hyperparameter.
type KeyError struct {
	Key string
	Msg string
}

func (e *KeyError) Error() string { return e.Key + ": " + e.Msg }

func checkLR(lr float64) error {
	if !(lr >= 0) {
		return errKey("lr", "must be >= 0, got %g", lr)
	}
	return nil
}

func checkRange(key string, v, lo, hi float64, hiOpen bool) error {
	if v < lo || v > hi || (hiOpen && v == hi) || v != v {
		br := "]"
		if hiOpen {
			br = ")"
		}
		return errKey(key, "must be in [%g, %g%s, got %g", lo, hi, br, v)
	}
	return nil
}

// The element-wise references (adamRef, sgdRef, ...) write every rounding
// as an explicit T(...) conversion: it keeps the compiler from fusing a
// multiply and an add into an FMA (which the Go spec allows, and which
// arm64 and GOAMD64=v3 do), so a reference rounds exactly where its SIMD
// kernel in package simd does, and the two give the same bits.

// sqrt is the correctly rounded square root in T (as VSQRTPS).
func sqrt[T backprop.Float](x T) T { return T(math.Sqrt(float64(x))) }

// f32 reinterprets s as []float32 (nil stays nil) for the SIMD kernels;
// T must be float32 (backprop.Is32[T]).
func f32[T backprop.Float](s []T) []float32 {
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}
