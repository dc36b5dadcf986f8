package optim

import (
	"github.com/nettrain/nettrain/internal/backprop"
	"github.com/nettrain/nettrain/internal/simd"
)

// ClipNorm rescales g in place so that its L2 norm is at most maxNorm, as
// torch.nn.utils.clip_grad_norm_: with norm = ||g||_2 (passed in, already
// computed), g = g * maxNorm / (norm + 1e-6) when that factor is below 1.
func ClipNorm[T backprop.Float](g []T, norm, maxNorm float64) {
	coef := maxNorm / (norm + 1e-6)
	if coef >= 1 {
		return
	}
	simd.Scale(g, T(coef))
}

// ClipValue clamps every entry of g to [-v, v], as
// torch.nn.utils.clip_grad_value_.
func ClipValue[T backprop.Float](g []T, v float64) {
	hi := T(v)
	for i, x := range g {
		g[i] = min(max(x, -hi), hi)
	}
}
