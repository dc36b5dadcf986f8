// Package backprop is nettrain's forward/backward engine: the layers, the
// losses, and the Network that strings them together.
//
// # Conventions
//
//   - Numbers are float32 (the default, for speed) or float64 (for gradient
//     checks and golden tests). Every layer is written once, generic over
//     Float, so both precisions run the same code path.
//   - Tensors are plain row-major slices with the batch as the leading
//     dimension: a dense activation is (n, features), an image batch is
//     (n, channels, height, width) (NCHW, as in PyTorch), a sequence batch
//     is (n, time, features). Shapes are per sample and fixed when the
//     network is built; the batch size n varies per call, up to the
//     maximum the network was built for.
//   - Gradients are true gradients (dL/dx, not the negative "delta" of some
//     textbooks). Backward accumulates into parameter gradients (+=);
//     Network.ZeroGrad clears them, so fan-in needs no special case.
//   - Buffers are allocated once, when a network is built for a maximum
//     batch size, and reused: a steady-state training step allocates
//     nothing. A layer owns its output and input-gradient buffers; the slice
//     Forward or Backward returns stays valid until the next call.
//   - Inputs are never modified: Forward does not write x, Backward does not
//     write dy.
//   - All parameters live in one flat slab (Network.W) mirrored by one flat
//     gradient slab (Network.G); each Param's W and G are views into them.
//     Optimizers and gradient clipping work on the flat slabs.
//   - Buffers, a layer's state that is not trained (batchnorm's running
//     statistics), live in a third slab, Network.B, outside W and G: no
//     optimizer, weight decay or clipping sees them. A layer updates its
//     buffers itself, in a training-mode Forward; checkpoints save and
//     restore them under their state_dict names.
//   - Matrix products go through one helper, Gemm, which dispatches to the
//     fast float32 kernel (package gemm: Ctx.Gemm on the pool's threads, or
//     gemm.Sgemm on the caller) or gonum's blas64. Results never depend on
//     the number of threads: work is split over output rows or columns
//     only, never over a reduction.
//   - Element-wise work (activations and their backward, the LSTM gates,
//     bias gradients, sums of squares, 2x2 max pooling) runs package simd's
//     kernels, whose float32 assembly gives the bits of their references
//     (the transcendental approximations excepted, see simd).
//   - Other work runs in parallel through Ctx.For, on the threads of
//     Ctx.Pool (package parallel), the same threads as the GEMMs: inside
//     layers (activations, dropout, pooling, im2col, the
//     LSTM's and GRU's recurrences per chunk of samples, layernorm's rows,
//     embedding and one-hot rows),
//     the loss (ForwardCtx), zeroing and the norm of the gradient slab
//     (ZeroGradCtx, GradNormCtx) and, in package train, the batch filling
//     and the optimizer's update. Chunks of samples, rows, planes or
//     elements are fixed by the shapes (never by the thread count), each
//     output is written by one chunk, and partial sums (a convolution's dW
//     per chunk of samples, a loss or a squared norm per chunk) are added
//     in chunk order. Products inside a chunk run on its goroutine. So
//     training gives the same bits on any number of threads. The methods
//     without a context (Loss.Forward, ZeroGrad, GradNorm) run the same
//     chunks in order on the caller and give the same bits.
//   - Programmer errors (shape mismatches that model validation rules out)
//     panic; everything a user can cause is reported as an error by the
//     model and data packages before a network is built.
//
// # Layers
//
// Each layer kind lives in one file with its Spec (shape inference and
// parameter shapes, non-generic, built by package model from the YAML
// config) and its Layer implementation with Forward and Backward side by
// side. The doc comment of each layer states its math.
//
// A network is a chain of layers; a block (residual.go) is one layer of
// the chain holding its own chain of inner layers (ordinary layers, each
// in its own file), whose Forward runs them and adds the skip path and
// whose Backward sends the gradient down both paths and adds their input
// gradients. Its Spec lists the inner layers' parameters under nested
// names ("3.body.0.weight"); Walk visits nested specs.
package backprop
