package simd

// The optimizer updates, float32 only. Each is the SIMD twin of a pure-Go
// reference in package optim (adamRef in adam.go, sgdRef in sgd.go, ...):
// the kernel performs the same rounded operations in the same order, so
// its results are the reference's bits (optim's tests check every variant
// on every kernel set). The reference, with the update rule in its doc
// comment, is where to read the arithmetic; the formulas below only name
// the scalars.
//
// Every function here reports false, doing nothing, when no SIMD kernel
// set is in use (the generic set: no assembly in this build, or a CPU
// without AVX2 and FMA); the caller then runs its reference. Slices of
// different lengths panic, whether or not a kernel runs. Nothing
// allocates. The Params structs are the kernels' parameter blocks: their
// fields are float32, in the order the assembly reads them.

// AdamParams are the scalars of one Adam step, computed by the caller in
// float64 and rounded to float32.
type AdamParams struct {
	B1, C1      float32 // beta1 and 1 - beta1
	B2, C2      float32 // beta2 and 1 - beta2
	StepSize    float32 // -lr / (1 - beta1^t)
	BC2Sqrt     float32 // sqrt(1 - beta2^t)
	Eps         float32
	WeightDecay float32 // L2 term added to the gradient; 0 for none
}

// Adam applies one Adam update (optim's adamRef) to w, m, v and, with
// AMSGrad (vmax not nil), vmax; g is read only. All slices have the length
// of w (vmax may be nil).
func Adam(w, g, m, v, vmax []float32, p *AdamParams) bool {
	n := len(w)
	same(n, "Adam", len(g), len(m), len(v))
	variant := b2i(p.WeightDecay != 0)
	if vmax != nil {
		same(n, "Adam", len(vmax))
		variant |= 2
	}
	k := fast.id
	if k == 0 {
		return false
	}
	if n > 0 {
		var vm *float32
		if vmax != nil {
			vm = p32(vmax)
		}
		adamAsm(k, variant, n, p32(w), p32(g), p32(m), p32(v), vm, pp32(p))
	}
	return true
}

// SGDParams are the scalars of one SGD step.
type SGDParams struct {
	LR          float32
	WeightDecay float32 // 0 for none
	Momentum    float32
	Damp        float32 // 1 - dampening
}

// SGD applies one SGD step (optim's sgdRef) to w and, with momentum (buf
// not nil), to the momentum buffer buf; first is set on the first step
// (the buffer is then set to the gradient), nesterov selects Nesterov
// momentum. g is read only.
func SGD(w, g, buf []float32, p *SGDParams, nesterov, first bool) bool {
	n := len(w)
	same(n, "SGD", len(g))
	variant := b2i(p.WeightDecay != 0)
	if buf != nil {
		same(n, "SGD", len(buf))
		mode := 1 // momentum, first step
		if nesterov {
			mode = 3
		}
		if !first {
			mode++
		}
		variant |= mode << 1
	}
	k := fast.id
	if k == 0 {
		return false
	}
	if n > 0 {
		var b *float32
		if buf != nil {
			b = p32(buf)
		}
		sgdAsm(k, variant, n, p32(w), p32(g), b, pp32(p))
	}
	return true
}

// AdagradParams are the scalars of one AdaGrad step.
type AdagradParams struct {
	CLR         float32 // -lr / (1 + (t-1) lr_decay)
	WeightDecay float32
	Eps         float32
}

// Adagrad applies one AdaGrad step (optim's adagradRef) to w and the
// accumulator sum; g is read only.
func Adagrad(w, g, sum []float32, p *AdagradParams) bool {
	n := len(w)
	same(n, "Adagrad", len(g), len(sum))
	k := fast.id
	if k == 0 {
		return false
	}
	if n > 0 {
		adagradAsm(k, b2i(p.WeightDecay != 0), n, p32(w), p32(g), p32(sum), pp32(p))
	}
	return true
}

// RMSpropParams are the scalars of one RMSprop step.
type RMSpropParams struct {
	Alpha, C1   float32 // alpha and 1 - alpha
	Eps         float32
	WeightDecay float32
	NegLR       float32 // -lr
	Momentum    float32
}

// RMSprop applies one RMSprop step (optim's rmspropRef) to w, the square
// average v, the gradient average m (centered; nil otherwise) and the
// momentum buffer b (nil without momentum); g is read only.
func RMSprop(w, g, v, m, b []float32, p *RMSpropParams) bool {
	n := len(w)
	same(n, "RMSprop", len(g), len(v))
	variant := b2i(p.WeightDecay != 0)
	if m != nil {
		same(n, "RMSprop", len(m))
		variant |= 2
	}
	if b != nil {
		same(n, "RMSprop", len(b))
		variant |= 4
	}
	k := fast.id
	if k == 0 {
		return false
	}
	if n > 0 {
		var mp, bp *float32
		if m != nil {
			mp = p32(m)
		}
		if b != nil {
			bp = p32(b)
		}
		rmspropAsm(k, variant, n, p32(w), p32(g), p32(v), mp, bp, pp32(p))
	}
	return true
}

// AdadeltaParams are the scalars of one AdaDelta step.
type AdadeltaParams struct {
	Rho, C1     float32 // rho and 1 - rho
	Eps         float32
	WeightDecay float32
	NegLR       float32 // -lr
}

// Adadelta applies one AdaDelta step (optim's adadeltaRef) to w and the
// running averages v (squared gradients) and u (squared updates); g is
// read only.
func Adadelta(w, g, v, u []float32, p *AdadeltaParams) bool {
	n := len(w)
	same(n, "Adadelta", len(g), len(v), len(u))
	k := fast.id
	if k == 0 {
		return false
	}
	if n > 0 {
		adadeltaAsm(k, b2i(p.WeightDecay != 0), n, p32(w), p32(g), p32(v), p32(u), pp32(p))
	}
	return true
}
