package train

import (
	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/gemm"
)

// Pool is the compute resources of a run: the threads that run GEMMs and
// the engine's parallel loops.
type Pool struct {
	g *gemm.Pool
}

// NewPool starts a pool of the given number of threads.
func NewPool(threads int) *Pool { return &Pool{g: gemm.NewPool(threads)} }

// Threads is the pool's thread count.
func (p *Pool) Threads() int { return p.g.Threads() }

// Ctx returns an engine context that computes on the pool: float32 GEMMs
// run on the pool's fast kernels, and the layers' parallel loops
// (im2col, pooling, element-wise maps) on its threads; float64 GEMMs
// (checks, golden tests) on gonum.
func (p *Pool) Ctx() *backprop.Ctx { return &backprop.Ctx{Pool: p.g} }

// Close stops the pool's threads.
func (p *Pool) Close() { p.g.Close() }
