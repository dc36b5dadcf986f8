package simd

// Float is the element type: float32 (assembly kernels) or float64 (the
// pure-Go reference).
type Float interface{ float32 | float64 }

func same(n int, name string, s ...int) {
	for _, l := range s {
		if l != n {
			panic("simd: " + name + ": slices of different lengths")
		}
	}
}

// SumSquares returns sum_i x[i]^2, accumulated in float64 in a fixed
// order that depends only on len(x): x[i]^2 is added to lane i mod 32 (in
// order of i), then lane l += lane l+16 for l < 16, then +8, +4, +2, +1.
// Every kernel set follows this order, so the result is the same bits on
// every path. (A caller that splits x must split at multiples of 32 and
// add the parts in a fixed order to keep its result independent of how
// many threads run the parts.)
func SumSquares[T Float](x []T) float64 {
	var lanes [32]float64
	done := 0
	if k := asm[T](); k != 0 {
		done = len(x) &^ 31
		if done > 0 {
			sumsqAsm(k, done, p32(x), &lanes)
		}
	}
	sumSquaresLanes(&lanes, x[done:], done)
	return FoldLanes(&lanes)
}

// FoldLanes returns the sum of 32 lanes in a fixed tree: lane l += lane
// l+16 for l < 16, then +8, +4, +2, +1 (it overwrites lanes).
func FoldLanes(lanes *[32]float64) float64 {
	for w := 16; w >= 1; w >>= 1 {
		for l := 0; l < w; l++ {
			lanes[l] += lanes[l+w]
		}
	}
	return lanes[0]
}

// LaneSums accumulates two sums over a and b (of equal length) in 32
// float64 lanes each: with u = float64(a[i]) - su and v = float64(b[i]) -
// sv, it adds u to l[i mod 32] and u*v to l[32 + i mod 32], each operation
// rounded (no FMA), every lane in order of i. With a = b and su = sv it
// gives the sums of x - s and (x - s)^2; with su = 0, of g and g (x - s).
// Every kernel set gives the same bits; FoldLanes adds the lanes up.
func LaneSums[T Float](l *[64]float64, a, b []T, su, sv float64) {
	same(len(a), "LaneSums", len(b))
	done := 0
	if k := asm[T](); k != 0 {
		done = len(a) &^ 31
		if done > 0 {
			p := [2]float64{su, sv}
			lanesumsAsm(k, done, p32(a), p32(b), &p, l)
		}
	}
	laneSumsRef(l, a[done:], b[done:], su, sv, done)
}

// LNNormalize is layernorm's forward pass over a row, given its mean mu
// and 1/std rstd: with h = (float64(x[i]) - mu) * rstd, it sets xh[i] =
// T(h) and y[i] = T(h*float64(w[i]) + float64(b[i])), each operation
// rounded in float64 (no FMA), on every path.
func LNNormalize[T Float](y, xh, x, w, b []T, mu, rstd float64) {
	same(len(x), "LNNormalize", len(y), len(xh), len(w), len(b))
	done := 0
	if k := asm[T](); k != 0 {
		done = len(x) &^ (fast.lanes - 1)
		if done > 0 {
			p := [2]float64{mu, rstd}
			lnnormAsm(k, done, p32(y), p32(xh), p32(x), p32(w), p32(b), &p)
		}
	}
	lnNormalizeRef(y[done:], xh[done:], x[done:], w[done:], b[done:], mu, rstd)
}

// LNBackSums is layernorm's backward sums over a row: with g =
// float64(dy[i]), x = float64(xh[i]) and gw = g*float64(w[i]), it adds g*x
// to pg[i], g to pb[i], gw to l[i mod 32] and gw*x to l[32 + i mod 32],
// each operation rounded (no FMA), every lane in order of i. Every kernel
// set gives the same bits; FoldLanes adds the lanes up.
func LNBackSums[T Float](l *[64]float64, pg, pb []float64, dy, xh, w []T) {
	same(len(dy), "LNBackSums", len(xh), len(w), len(pg), len(pb))
	done := 0
	if k := asm[T](); k != 0 {
		done = len(dy) &^ 31
		if done > 0 {
			lnbsumsAsm(k, done, p32(dy), p32(xh), p32(w), &pg[0], &pb[0], l)
		}
	}
	lnBackSumsRef(l, pg[done:], pb[done:], dy[done:], xh[done:], w[done:], done)
}

// LNBackDx is layernorm's input gradient over a row, given its 1/std rstd
// and the means mg of gw and mgx of gw xh: dx[i] = T(rstd * ((gw - mg) -
// float64(xh[i])*mgx)) with gw = float64(dy[i])*float64(w[i]), each
// operation rounded in float64 (no FMA), on every path.
func LNBackDx[T Float](dx, dy, xh, w []T, rstd, mg, mgx float64) {
	same(len(dx), "LNBackDx", len(dy), len(xh), len(w))
	done := 0
	if k := asm[T](); k != 0 {
		done = len(dx) &^ (fast.lanes - 1)
		if done > 0 {
			p := [3]float64{rstd, mg, mgx}
			lnbdxAsm(k, done, p32(dx), p32(dy), p32(xh), p32(w), &p)
		}
	}
	lnBackDxRef(dx[done:], dy[done:], xh[done:], w[done:], rstd, mg, mgx)
}

// Affine sets y = x a + b (the product rounded, then the sum).
func Affine[T Float](y, x []T, a, b T) {
	same(len(y), "Affine", len(x))
	if k := asm[T](); k != 0 && len(y) > 0 {
		p := [2]T{a, b}
		affineAsm(k, len(y), p32(y), p32(x), p32(p[:]))
		return
	}
	affineRef(y, x, a, b)
}

// Affine2 sets y = (u a + v b) + c, each product and sum rounded.
func Affine2[T Float](y, u, v []T, a, b, c T) {
	same(len(y), "Affine2", len(u), len(v))
	if k := asm[T](); k != 0 && len(y) > 0 {
		p := [3]T{a, b, c}
		affine2Asm(k, len(y), p32(y), p32(u), p32(v), p32(p[:]))
		return
	}
	affine2Ref(y, u, v, a, b, c)
}

// Scale sets x = c x.
func Scale[T Float](x []T, c T) {
	if k := asm[T](); k != 0 && len(x) > 0 {
		scaleAsm(k, len(x), p32(x), pp32(&c))
		return
	}
	for i := range x {
		x[i] *= c
	}
}

// Axpy sets y = y + a x (the product rounded, then the sum).
func Axpy[T Float](y []T, a T, x []T) {
	same(len(y), "Axpy", len(x))
	if k := asm[T](); k != 0 && len(y) > 0 {
		axpyAsm(k, len(y), p32(y), p32(x), pp32(&a))
		return
	}
	for i, v := range x {
		y[i] = y[i] + T(a*v)
	}
}

// Add sets y = y + x.
func Add[T Float](y, x []T) {
	same(len(y), "Add", len(x))
	if k := asm[T](); k != 0 && len(y) > 0 {
		addAsm(k, len(y), p32(y), p32(x))
		return
	}
	for i, v := range x {
		y[i] += v
	}
}

// AddWiden sets dst = dst + float64(x), element-wise (one rounding each).
func AddWiden[T Float](dst []float64, x []T) {
	same(len(dst), "AddWiden", len(x))
	done := 0
	if k := asm[T](); k != 0 {
		done = len(x) &^ (fast.lanes - 1)
		if done > 0 {
			addwidenAsm(k, done, &dst[0], p32(x))
		}
	}
	for i := done; i < len(x); i++ {
		dst[i] += float64(x[i])
	}
}

// BytesAffine sets dst[i] = T((float64(src[i]) - offset) * scale): the
// subtraction and the multiplication in float64, each rounded, then one
// rounding to T, on every path (bytes to normalised pixels).
func BytesAffine[T Float](dst []T, src []uint8, offset, scale float64) {
	same(len(dst), "BytesAffine", len(src))
	done := 0
	if k := asm[T](); k != 0 {
		done = len(src) &^ (fast.lanes - 1)
		if done > 0 {
			p := [2]float64{offset, scale}
			bytesaffineAsm(k, done, p32(dst), &src[0], &p)
		}
	}
	bytesAffineRef(dst[done:], src[done:], offset, scale)
}

// ReLU sets y = max(x, 0): x where x > 0 or x is NaN, else +0.
func ReLU[T Float](y, x []T) {
	same(len(y), "ReLU", len(x))
	if k := asm[T](); k != 0 && len(y) > 0 {
		reluAsm(k, len(y), p32(y), p32(x))
		return
	}
	reluRef(y, x)
}

// ReLUBackward sets dx = dy where y > 0, else +0 (y is the ReLU output).
func ReLUBackward[T Float](dx, dy, y []T) {
	same(len(dx), "ReLUBackward", len(dy), len(y))
	if k := asm[T](); k != 0 && len(dx) > 0 {
		relubAsm(k, len(dx), p32(dx), p32(dy), p32(y))
		return
	}
	reluBackwardRef(dx, dy, y)
}

// Exp sets y = exp(x). In float32 (assembly) the relative error is below
// 2e-7 for results above 2^-126; results below underflow gradually to 0,
// x > 88.72 gives +Inf and NaN stays NaN.
func Exp[T Float](y, x []T) {
	same(len(y), "Exp", len(x))
	if k := asm[T](); k != 0 && len(y) > 0 {
		expAsm(k, len(y), p32(y), p32(x))
		return
	}
	expRef(y, x)
}

// Sigmoid sets y = 1 / (1 + exp(-x)) (saturating to exactly 0 below
// x = -88.7 and to 1 above 17.4; NaN stays NaN).
func Sigmoid[T Float](y, x []T) {
	same(len(y), "Sigmoid", len(x))
	if k := asm[T](); k != 0 && len(y) > 0 {
		sigmoidAsm(k, len(y), p32(y), p32(x))
		return
	}
	sigmoidRef(y, x)
}

// Tanh sets y = tanh(x) (odd, saturating to exactly ±1 above |x| = 9.1;
// NaN stays NaN).
func Tanh[T Float](y, x []T) {
	same(len(y), "Tanh", len(x))
	if k := asm[T](); k != 0 && len(y) > 0 {
		tanhAsm(k, len(y), p32(y), p32(x))
		return
	}
	tanhRef(y, x)
}

// NormalTail sets q = Phi(-|x|), the standard normal distribution's lower
// tail at -|x| (so Phi(x) is q for x <= 0 and 1 - q for x > 0), and d =
// phi(x) = exp(-x^2/2) / sqrt(2 pi), its density. In float32 (assembly)
// both are within 6 float32 ulps wherever they are above 2^-126 (|x| up
// to about 13), and underflow gradually below (within a few 2^-149),
// reaching 0 at |x| = 14.17 (q) and 14.34 (d); NaN stays NaN.
// The pure-Go reference computes them with math.Erfc and math.Exp in
// float64, rounded once.
func NormalTail[T Float](q, d, x []T) {
	same(len(x), "NormalTail", len(q), len(d))
	if k := asm[T](); k != 0 && len(x) > 0 {
		normtailAsm(k, len(x), p32(q), p32(d), p32(x))
		return
	}
	normalTailRef(q, d, x)
}

// SigmoidBackward sets dx = (dy y) (1 - y), y the sigmoid output.
func SigmoidBackward[T Float](dx, dy, y []T) {
	same(len(dx), "SigmoidBackward", len(dy), len(y))
	if k := asm[T](); k != 0 && len(dx) > 0 {
		sigmoidbAsm(k, len(dx), p32(dx), p32(dy), p32(y))
		return
	}
	sigmoidBackwardRef(dx, dy, y)
}

// TanhBackward sets dx = dy (1 - y y), y the tanh output.
func TanhBackward[T Float](dx, dy, y []T) {
	same(len(dx), "TanhBackward", len(dy), len(y))
	if k := asm[T](); k != 0 && len(dx) > 0 {
		tanhbAsm(k, len(dx), p32(dx), p32(dy), p32(y))
		return
	}
	tanhBackwardRef(dx, dy, y)
}

// LSTMForward computes one row of LSTM gates. With H = len(c), z (4H) holds
// the pre-activations of the gates i, f, g, o, each a block of H, and is
// overwritten with the activations; cprev (H) is c_{t-1} (zeros at t = 0):
//
//	i = sigmoid(z_i)  f = sigmoid(z_f)  g = tanh(z_g)  o = sigmoid(z_o)
//	c = f cprev + i g,  tc = tanh(c),  h = o tc
func LSTMForward[T Float](z, cprev, c, tc, h []T) {
	n := len(c)
	same(n, "LSTMForward", len(cprev), len(tc), len(h))
	same(4*n, "LSTMForward", len(z))
	if k := asm[T](); k != 0 && n > 0 {
		lstmfAsm(k, n, p32(z), p32(cprev), p32(c), p32(tc), p32(h))
		return
	}
	lstmForwardRef(z, cprev, c, tc, h)
}

// LSTMBackward computes the gate gradients dz (4H, blocks i, f, g, o) of
// one row (dz may be a itself: every kernel reads a block of a before it
// writes that block of dz) from the activations a (4H) and tanh(c) tc (H) of the forward
// pass, the output gradient dy (H), the gradient dh (H) reaching h_t from
// step t+1, and c_{t-1} cprev (H, zeros at t = 0); dc (H) holds dL/dc_t
// from step t+1 and is replaced by its value for step t-1:
//
//	dh' = dy + dh
//	dc' = (dh' o) (1 - tc^2) + dc
//	dz_i = ((dc' g) i) (1 - i)     dz_f = ((dc' cprev) f) (1 - f)
//	dz_g = (dc' i) (1 - g^2)       dz_o = ((dh' tc) o) (1 - o)
//	dc = dc' f
func LSTMBackward[T Float](dz, a, tc, dy, dh, dc, cprev []T) {
	n := len(tc)
	same(n, "LSTMBackward", len(dy), len(dh), len(dc), len(cprev))
	same(4*n, "LSTMBackward", len(dz), len(a))
	if k := asm[T](); k != 0 && n > 0 {
		lstmbAsm(k, n, p32(dz), p32(a), p32(tc), p32(dy), p32(dh), p32(dc), p32(cprev))
		return
	}
	lstmBackwardRef(dz, a, tc, dy, dh, dc, cprev)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
