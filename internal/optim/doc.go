// Package optim holds nettrain's optimizers: each one exactly as torch.optim
// defines it (update rule, order of operations and defaults), and gradient
// clipping.
//
// # Interface
//
// An Optimizer updates a network's flat parameter slab w from its gradient
// slab g (package backprop keeps every parameter in one slab). Every rule
// here is element-wise, so one pass over the slab is exactly PyTorch's
// update of each parameter tensor in turn. Per-parameter state (momentum
// buffers, moment estimates) are slabs of the same length, exposed as Slots
// for checkpoints; the step count t is exposed as Steps.
//
// Step runs an update on the calling goroutine. A caller with threads
// splits it: Begin advances the step count and computes the step's scalars
// (bias corrections, step sizes) once, then Update(w, g, lo, hi) applies
// the update to any range of the slab, concurrently for disjoint ranges.
// As the rules are element-wise, every cut gives the bits of Step; the
// trainer runs Update over fixed chunks on the engine's threads, fused
// with gradient clipping.
//
// ConstantGradientSteps runs an optimizer on one weight under a constant
// gradient and reports its steps in learning rates (RMSprop's first is 10,
// Adam's 1): compare-optimizers' findings describe a divergence with it.
//
// # Reference and kernel
//
// The element-wise update of each optimizer is written out in this
// package as a pure-Go reference beside the optimizer (adamRef in adam.go,
// sgdRef in sgd.go, adagradRef, rmspropRef, adadeltaRef), with the update
// rule in its doc comment and every rounding marked by an explicit
// conversion. (nadam has no kernel: its update is the loop in its Update.)
// float64 always runs the reference. float32 runs the optimizer's SIMD kernel in package simd
// (simd.Adam, simd.SGD, ...: assembly performing the same rounded
// operations in the same order) when the CPU has one, and the reference
// otherwise. The two give the same bits: simd_test.go checks every
// variant on every kernel set, and kernels_test.go keeps the scalar loops
// the optimizers ran before there were kernels and checks the bits of a
// few steps against them.
//
// Hyperparameters come from a Config, one type per optimizer with the yaml
// keys of the config file and torch's defaults (Defaults(name)); Validate
// names the offending key. Scalars (bias corrections, step sizes) are
// computed in float64 and the element-wise arithmetic is done in the
// network's precision, as torch does for float32 and float64 tensors.
//
// # Update rules
//
// With parameters w, gradient g, learning rate lr and step t = 1, 2, ...:
//
// sgd (momentum mu, dampening tau, weight decay lambda, nesterov):
//
//	g = g + lambda w
//	b = g                           at t = 1 (when mu != 0)
//	b = mu b + (1 - tau) g          at t > 1
//	g = g + mu b  (nesterov)   or   g = b
//	w = w - lr g
//
// adam (betas b1, b2, eps, weight decay lambda, amsgrad):
//
//	g    = g + lambda w
//	m    = b1 m + (1 - b1) g
//	v    = b2 v + (1 - b2) g^2
//	vmax = max(vmax, v)                         (amsgrad: on the raw v)
//	w    = w - (lr / (1 - b1^t)) m / (sqrt(v or vmax) / sqrt(1 - b2^t) + eps)
//
// # Clipping
//
// ClipNorm (torch.nn.utils.clip_grad_norm_) scales the whole gradient by
// max_norm / (norm + 1e-6) when that is below 1; ClipValue
// (clip_grad_value_) clamps each entry to [-v, v].
//
// The golden tests (testdata/, made by scripts/golden/gen.py with PyTorch)
// replay 10 steps of each optimizer and option combination and require
// agreement to 1e-6 relative.
package optim
