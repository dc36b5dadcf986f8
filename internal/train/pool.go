package train

import (
	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/gemm"
	"github.com/nettrain/nettrain/internal/parallel"
)

// Pool is the compute resources of a run: the threads that run GEMMs and
// the engine's parallel loops.
type Pool struct {
	t *parallel.Pool
	g *gemm.Parallel
}

// NewPool starts a pool of the given number of threads.
func NewPool(threads int) *Pool {
	t := parallel.NewPool(threads)
	return &Pool{t: t, g: gemm.NewParallel(t)}
}

// Threads is the pool's thread count.
func (p *Pool) Threads() int { return p.t.Threads() }

// Ctx returns an engine context that computes on the pool: float32 GEMMs
// run on the pool's fast kernels, and the layers' parallel loops
// (im2col, pooling, element-wise maps) on its threads; float64 GEMMs
// (checks, golden tests) on gonum.
func (p *Pool) Ctx() *backprop.Ctx { return &backprop.Ctx{Pool: p.t, Gemm: p.g} }

// Close stops the pool's threads.
func (p *Pool) Close() { p.t.Close() }
