package simd

import "math"

// The pure-Go references: the float64 path, the fallback without assembly,
// and what the tests compare the kernels with. Every explicit T(...)
// conversion marks a rounding: it keeps the compiler from fusing a multiply
// and an add into an FMA (which the Go spec allows, and which arm64 and
// GOAMD64=v3 do), so the reference rounds exactly where the assembly does.
// The arithmetic kernels are bit-identical to these; exp, sigmoid and tanh
// are computed here in float64 with package math and rounded once.

// sumSquaresLanes adds x[i]^2 to lanes[(off+i) mod 32] in float64.
func sumSquaresLanes[T Float](lanes *[32]float64, x []T, off int) {
	for i, v := range x {
		f := float64(v)
		lanes[(off+i)&31] += float64(f * f)
	}
}

// laneSumsRef is LaneSums from lane off on.
func laneSumsRef[T Float](l *[64]float64, a, b []T, su, sv float64, off int) {
	for i, x := range a {
		u := float64(x) - su
		v := float64(b[i]) - sv
		j := (off + i) & 31
		l[j] += u
		l[32+j] += float64(u * v)
	}
}

func lnNormalizeRef[T Float](y, xh, x, w, b []T, mu, rstd float64) {
	for i, v := range x {
		h := (float64(v) - mu) * rstd
		xh[i] = T(h)
		y[i] = T(float64(h*float64(w[i])) + float64(b[i]))
	}
}

func lnBackSumsRef[T Float](l *[64]float64, pg, pb []float64, dy, xh, w []T, off int) {
	for i, v := range dy {
		g, x := float64(v), float64(xh[i])
		pg[i] += float64(g * x)
		pb[i] += g
		gw := float64(g * float64(w[i]))
		j := (off + i) & 31
		l[j] += gw
		l[32+j] += float64(gw * x)
	}
}

func lnBackDxRef[T Float](dx, dy, xh, w []T, rstd, mg, mgx float64) {
	for i, v := range dy {
		gw := float64(float64(v) * float64(w[i]))
		dx[i] = T(rstd * (gw - mg - float64(float64(xh[i])*mgx)))
	}
}

func affineRef[T Float](y, x []T, a, b T) {
	for i, v := range x {
		y[i] = T(v*a) + b
	}
}

func affine2Ref[T Float](y, u, v []T, a, b, c T) {
	for i := range y {
		y[i] = T(T(u[i]*a)+T(v[i]*b)) + c
	}
}

func bytesAffineRef[T Float](dst []T, src []uint8, offset, scale float64) {
	for i, v := range src {
		dst[i] = T((float64(v) - offset) * scale)
	}
}

func reluRef[T Float](y, x []T) {
	for i, v := range x {
		if v > 0 || v != v {
			y[i] = v
		} else {
			y[i] = 0
		}
	}
}

func reluBackwardRef[T Float](dx, dy, y []T) {
	for i, v := range y {
		if v > 0 {
			dx[i] = dy[i]
		} else {
			dx[i] = 0
		}
	}
}

func expRef[T Float](y, x []T) {
	for i, v := range x {
		y[i] = T(math.Exp(float64(v)))
	}
}

func sigmoid64(v float64) float64 { return 1 / (1 + math.Exp(-v)) }

func sigmoidRef[T Float](y, x []T) {
	for i, v := range x {
		y[i] = T(sigmoid64(float64(v)))
	}
}

func tanhRef[T Float](y, x []T) {
	for i, v := range x {
		y[i] = T(math.Tanh(float64(v)))
	}
}

func normalTailRef[T Float](q, d, x []T) {
	for i, v := range x {
		f := float64(v)
		q[i] = T(0.5 * math.Erfc(math.Abs(f)/math.Sqrt2))
		d[i] = T(math.Exp(-0.5*f*f) / math.Sqrt(2*math.Pi))
	}
}

func sigmoidBackwardRef[T Float](dx, dy, y []T) {
	for i, v := range y {
		dx[i] = T(dy[i]*v) * (1 - v)
	}
}

func tanhBackwardRef[T Float](dx, dy, y []T) {
	for i, v := range y {
		dx[i] = dy[i] * (1 - T(v*v))
	}
}

func lstmForwardRef[T Float](z, cprev, c, tc, h []T) {
	n := len(c)
	for j := 0; j < n; j++ {
		i := T(sigmoid64(float64(z[j])))
		f := T(sigmoid64(float64(z[n+j])))
		g := T(math.Tanh(float64(z[2*n+j])))
		o := T(sigmoid64(float64(z[3*n+j])))
		z[j], z[n+j], z[2*n+j], z[3*n+j] = i, f, g, o
		cv := T(f*cprev[j]) + T(i*g)
		t := T(math.Tanh(float64(cv)))
		c[j], tc[j], h[j] = cv, t, o*t
	}
}

func lstmBackwardRef[T Float](dz, a, tc, dy, dh, dc, cprev []T) {
	n := len(tc)
	for j := 0; j < n; j++ {
		i, f, g, o := a[j], a[n+j], a[2*n+j], a[3*n+j]
		t := tc[j]
		dhv := dy[j] + dh[j]
		dcv := T(T(dhv*o)*(1-T(t*t))) + dc[j]
		dz[3*n+j] = T(T(dhv*t)*o) * (1 - o)
		dz[j] = T(T(dcv*g)*i) * (1 - i)
		dz[2*n+j] = T(dcv*i) * (1 - T(g*g))
		dz[n+j] = T(T(dcv*cprev[j])*f) * (1 - f)
		dc[j] = dcv * f
	}
}
