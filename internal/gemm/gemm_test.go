package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// u is the unit roundoff of float32.
const u = 1.0 / (1 << 24)

// relTol bounds the normwise error ||C - Cref||_F / (|alpha| ||A|| ||B|| +
// |beta| ||C0||) of any float32 GEMM on these sizes (k <= 2700).
const relTol = 1e-5

// gemmCase is one call: shapes, flags, scalars and row strides beyond the
// row length (pad*).
type gemmCase struct {
	tA, tB           bool
	m, n, k          int
	alpha, beta      float32
	padA, padB, padC int
	nanC             bool // fill C with NaN (only with beta == 0)
	nanA             bool // put NaN in A (only with alpha == 0)
}

func (tc gemmCase) String() string {
	t := func(b bool) string {
		if b {
			return "T"
		}
		return "N"
	}
	return fmt.Sprintf("%s%s_%dx%dx%d_a%g_b%g_pad%d.%d.%d", t(tc.tA), t(tc.tB), tc.m, tc.n, tc.k, tc.alpha, tc.beta, tc.padA, tc.padB, tc.padC)
}

// operands holds the matrices of a case, with the padding beyond each row
// filled with NaN so that any read outside the matrices shows in C.
type operands struct {
	a, b, c       []float32
	lda, ldb, ldc int
	aRows, aCols  int
	bRows, bCols  int
}

func newOperands(rng *rand.Rand, tc gemmCase) *operands {
	o := &operands{aRows: tc.m, aCols: tc.k, bRows: tc.k, bCols: tc.n}
	if tc.tA {
		o.aRows, o.aCols = tc.k, tc.m
	}
	if tc.tB {
		o.bRows, o.bCols = tc.n, tc.k
	}
	o.lda, o.ldb, o.ldc = max(1, o.aCols)+tc.padA, max(1, o.bCols)+tc.padB, max(1, tc.n)+tc.padC
	o.a = randMatrix(rng, o.aRows, o.aCols, o.lda)
	o.b = randMatrix(rng, o.bRows, o.bCols, o.ldb)
	o.c = randMatrix(rng, tc.m, tc.n, o.ldc)
	if tc.nanC {
		for i := range o.c {
			o.c[i] = float32(math.NaN())
		}
	}
	if tc.nanA && len(o.a) > 0 {
		o.a[len(o.a)/2] = float32(math.NaN())
	}
	return o
}

// randMatrix returns rows x cols uniform values in [-1, 1) with row stride
// ld; the padding holds NaN.
func randMatrix(rng *rand.Rand, rows, cols, ld int) []float32 {
	if rows == 0 {
		return nil
	}
	x := make([]float32, (rows-1)*ld+cols)
	for i := range x {
		if i%ld < cols {
			x[i] = 2*rng.Float32() - 1
		} else {
			x[i] = float32(math.NaN())
		}
	}
	return x
}

// check compares got (the C after the fast call) with the reference on a
// copy of c0, element by element against the classic bound
// |error| <= n_r u (|alpha| sum_p |a||b| + |beta c|) (n_r roundings, u the
// unit roundoff) and normwise against relTol, and checks that the padding
// of C is untouched.
func check(t *testing.T, tc gemmCase, o *operands, c0, got []float32) {
	t.Helper()
	want := append([]float32(nil), c0...)
	SgemmRef(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, o.a, o.lda, o.b, o.ldb, tc.beta, want, o.ldc)
	var errNorm, aNorm, bNorm, cNorm float64
	for _, v := range o.a {
		if !math.IsNaN(float64(v)) {
			aNorm += float64(v) * float64(v)
		}
	}
	for _, v := range o.b {
		if !math.IsNaN(float64(v)) {
			bNorm += float64(v) * float64(v)
		}
	}
	for i := range got {
		if i%o.ldc >= tc.n {
			if !math.IsNaN(float64(got[i])) {
				t.Fatalf("%v: padding of C at %d was written: %v", tc, i, got[i])
			}
			continue
		}
		if math.IsNaN(float64(got[i])) {
			t.Fatalf("%v: C[%d,%d] is NaN, want %v", tc, i/o.ldc, i%o.ldc, want[i])
		}
		if tc.beta != 0 {
			cNorm += float64(c0[i]) * float64(c0[i])
		}
		// Rigorous bound: (k+2)u (|alpha| sum|a||b| + |beta c|).
		ii, jj := i/o.ldc, i%o.ldc
		var abs float64
		if tc.alpha != 0 {
			for p := 0; p < tc.k; p++ {
				abs += math.Abs(float64(opA(tc, o, ii, p)) * float64(opB(tc, o, p, jj)))
			}
		}
		abs = math.Abs(float64(tc.alpha))*abs + math.Abs(float64(tc.beta)*float64(c0[i]))
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if bound := float64(roundings(tc.k))*u*abs*1.01 + 1e-30; d > bound {
			t.Fatalf("%v: C[%d,%d] = %v, want %v (|diff| %g > bound %g)", tc, ii, jj, got[i], want[i], d, bound)
		}
		errNorm += d * d
	}
	scale := math.Abs(float64(tc.alpha))*math.Sqrt(aNorm)*math.Sqrt(bNorm) + math.Abs(float64(tc.beta))*math.Sqrt(cNorm)
	if scale > 0 && math.Sqrt(errNorm)/scale > relTol {
		t.Fatalf("%v: normwise relative error %g > %g", tc, math.Sqrt(errNorm)/scale, relTol)
	}
}

// roundings bounds the number of roundings on the way to one element of C:
// one per step of k, plus the scaling by alpha and the update of C for
// each k-block of at most 256 (the kc of every kernel set), plus one.
func roundings(k int) int { return k + 2*(k/256+1) + 1 }

func opA(tc gemmCase, o *operands, i, p int) float32 {
	if tc.tA {
		return o.a[p*o.lda+i]
	}
	return o.a[i*o.lda+p]
}

func opB(tc gemmCase, o *operands, p, j int) float32 {
	if tc.tB {
		return o.b[j*o.ldb+p]
	}
	return o.b[p*o.ldb+j]
}

// forEachKernels runs f once per kernel set this machine supports
// ("avx512", "avx2", "generic"), with that set forced.
func forEachKernels(t *testing.T, f func(t *testing.T)) {
	for _, ks := range supportedKernels() {
		t.Run(ks.name, func(t *testing.T) {
			restore, ok := useKernels(ks.name)
			if !ok {
				t.Fatalf("kernel set %s not selectable", ks.name)
			}
			defer restore()
			f(t)
		})
	}
}

var transposes = []struct{ tA, tB bool }{{false, false}, {false, true}, {true, false}, {true, true}}

var scalars = []struct{ alpha, beta float32 }{{1, 0}, {1, 1}, {-0.5, 2}, {2.5, -1.5}}

// edgeShapes exercise empty and tiny matrices and sizes around the tile
// sizes of every kernel set (4, 6, 12, 16, 32) and around kc (256).
var edgeShapes = [][3]int{
	{0, 0, 0}, {0, 5, 3}, {5, 0, 3}, {3, 5, 0}, {1, 1, 1}, {1, 7, 1}, {7, 1, 1},
	{1, 1, 17}, {2, 3, 4}, {4, 6, 16}, {5, 7, 15}, {12, 32, 8}, {13, 33, 9},
	{11, 31, 17}, {6, 16, 7}, {7, 17, 257}, {25, 40, 300}, {3, 70, 513},
	{40, 3, 70}, {64, 10, 128}, {16, 25, 33},
}

func TestSgemmMatchesRef(t *testing.T) {
	forEachKernels(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		var cases []gemmCase
		for _, tr := range transposes {
			for si, s := range edgeShapes {
				sc := scalars[si%len(scalars)]
				pad := si % 3
				cases = append(cases, gemmCase{tA: tr.tA, tB: tr.tB, m: s[0], n: s[1], k: s[2], alpha: sc.alpha, beta: sc.beta, padA: pad, padB: 2 * pad, padC: pad})
			}
			for r := 0; r < 12; r++ {
				sc := scalars[r%len(scalars)]
				cases = append(cases, gemmCase{
					tA: tr.tA, tB: tr.tB,
					m: 1 + rng.IntN(90), n: 1 + rng.IntN(90), k: 1 + rng.IntN(600),
					alpha: sc.alpha, beta: sc.beta,
					padA: rng.IntN(5), padB: rng.IntN(5), padC: rng.IntN(5),
				})
			}
			// Wider than one B block (nc = 512) and deeper than kc.
			cases = append(cases, gemmCase{tA: tr.tA, tB: tr.tB, m: 37, n: 530, k: 270, alpha: 1, beta: 0.5, padA: 1, padB: 3, padC: 2})
		}
		for _, tc := range cases {
			o := newOperands(rng, tc)
			c0 := append([]float32(nil), o.c...)
			Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, o.a, o.lda, o.b, o.ldb, tc.beta, o.c, o.ldc)
			check(t, tc, o, c0, o.c)
		}
	})
}

// TestPlansMatchRef runs every loop nest the planner can choose (dot
// product; outer product with each operand packed or read in place) on
// every kernel set, whatever the thresholds would pick for the shape.
func TestPlansMatchRef(t *testing.T) {
	forEachKernels(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 4))
		// 1100 rows make two panels of A (mc = 1032 on a 1 MiB L2).
		// 1217 and 2700 take two and three k-blocks on the dot-product
		// path of the AVX-512 set (dkc 1216), the last with a tail.
		shapes := [][3]int{{1, 1, 1}, {13, 35, 19}, {29, 47, 300}, {64, 40, 128}, {12, 530, 33}, {1100, 9, 17}, {5, 7, 1217}, {9, 13, 2700}}
		for _, tr := range transposes {
			for _, s := range shapes {
				for _, pl := range allPlans(kernels, tr.tA, tr.tB) {
					tc := gemmCase{tA: tr.tA, tB: tr.tB, m: s[0], n: s[1], k: s[2], alpha: 1.5, beta: -0.5, padA: 3, padB: 1, padC: 2}
					o := newOperands(rng, tc)
					c0 := append([]float32(nil), o.c...)
					j := job{tA: tc.tA, tB: tc.tB, m: tc.m, n: tc.n, k: tc.k, alpha: tc.alpha, a: o.a, lda: o.lda, b: o.b, ldb: o.ldb, beta: tc.beta, c: o.c, ldc: o.ldc, plan: pl}
					j.run(new(workspace), 0, tc.m, 0, tc.n)
					check(t, tc, o, c0, o.c)
				}
			}
		}
	})
}

// TestDotBlock: the dot-product nest cuts k deeper than the set's dkc
// into the fewest blocks of at most dkc, all but the last the same
// multiple of 16; k itself otherwise, or when the set has no dkc.
func TestDotBlock(t *testing.T) {
	for _, tc := range []struct{ dkc, k, want int }{
		{0, 5000, 5000}, {1216, 1, 1}, {1216, 1216, 1216}, {1216, 1217, 624},
		{1216, 1568, 784}, {1216, 2700, 912}, {1216, 3648, 1216}, {1216, 3649, 928},
	} {
		got := dotBlock(tc.dkc, tc.k)
		if got != tc.want {
			t.Errorf("dotBlock(%d, %d) = %d, want %d", tc.dkc, tc.k, got, tc.want)
		}
	}
	for _, ks := range supportedKernels() {
		if ks.dkc%16 != 0 || ks.dkc < 0 {
			t.Errorf("%s: dkc %d is not a whole number of vectors", ks.name, ks.dkc)
		}
		for k := 1; k <= 5*max(ks.dkc, 16); k++ {
			got := dotBlock(ks.dkc, k)
			switch {
			case ks.dkc == 0 || k <= ks.dkc:
				if got != k {
					t.Fatalf("%s: dotBlock(%d, %d) = %d, want k itself", ks.name, ks.dkc, k, got)
				}
			case got > ks.dkc || got%16 != 0 || (k+got-1)/got != (k+ks.dkc-1)/ks.dkc:
				t.Fatalf("%s: dotBlock(%d, %d) = %d: not the fewest blocks of at most dkc in whole vectors", ks.name, ks.dkc, k, got)
			}
		}
	}
}

// allPlans lists the valid plans for a transpose combination.
func allPlans(ks *kernelSet, tA, tB bool) []plan {
	var ps []plan
	if !tA && tB {
		ps = append(ps, plan{ks: ks, dot: true})
	}
	for _, pa := range []bool{false, true} {
		for _, pb := range []bool{false, true} {
			if (!tA && !pa) || (tB && !pb) {
				continue
			}
			ps = append(ps, plan{ks: ks, packA: pa, packB: pb})
		}
	}
	return ps
}

func TestBetaZeroOverwritesNaN(t *testing.T) {
	forEachKernels(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 6))
		for _, tr := range transposes {
			// 1217 and 2700 deep: two and three k-blocks on the dot-product
			// path of the AVX-512 set, where only the first may overwrite C.
			for _, s := range [][3]int{{3, 5, 7}, {30, 50, 70}, {1, 33, 300}, {3, 5, 0}, {5, 7, 1217}, {9, 13, 2700}} {
				tc := gemmCase{tA: tr.tA, tB: tr.tB, m: s[0], n: s[1], k: s[2], alpha: 1, beta: 0, padC: 1, nanC: true}
				o := newOperands(rng, tc)
				c0 := append([]float32(nil), o.c...)
				Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, o.a, o.lda, o.b, o.ldb, tc.beta, o.c, o.ldc)
				check(t, tc, o, c0, o.c)
			}
		}
	})
}

func TestAlphaZeroDoesNotReadAB(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, beta := range []float32{0, 1, -2} {
		tc := gemmCase{m: 9, n: 11, k: 13, alpha: 0, beta: beta, nanA: true}
		o := newOperands(rng, tc)
		c0 := append([]float32(nil), o.c...)
		Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, o.a, o.lda, o.b, o.ldb, tc.beta, o.c, o.ldc)
		for i := range o.c {
			if want := beta * c0[i]; o.c[i] != want {
				t.Fatalf("beta=%v: C[%d] = %v, want %v", beta, i, o.c[i], want)
			}
		}
	}
}

func TestPanics(t *testing.T) {
	buf := make([]float32, 100)
	tests := []struct {
		name string
		call func()
		want string
	}{
		{"negative m", func() { Sgemm(false, false, -1, 2, 2, 1, buf, 2, buf, 2, 0, buf, 2) }, "negative dimension"},
		{"negative k", func() { Sgemm(false, false, 2, 2, -3, 1, buf, 2, buf, 2, 0, buf, 2) }, "negative dimension"},
		{"lda < k", func() { Sgemm(false, false, 2, 2, 3, 1, buf, 2, buf, 2, 0, buf, 2) }, "bad stride for A"},
		{"lda < m when tA", func() { Sgemm(true, false, 4, 2, 3, 1, buf, 3, buf, 2, 0, buf, 2) }, "bad stride for A"},
		{"ldb < n", func() { Sgemm(false, false, 2, 5, 3, 1, buf, 3, buf, 4, 0, buf, 5) }, "bad stride for B"},
		{"ldb < k when tB", func() { Sgemm(false, true, 2, 5, 3, 1, buf, 3, buf, 2, 0, buf, 5) }, "bad stride for B"},
		{"ldc < n", func() { Sgemm(false, false, 2, 5, 3, 1, buf, 3, buf, 5, 0, buf, 4) }, "bad stride for C"},
		{"zero stride", func() { Sgemm(false, false, 0, 0, 0, 1, nil, 0, nil, 1, 0, nil, 1) }, "bad stride for A"},
		{"short A", func() { Sgemm(false, false, 20, 2, 6, 1, buf, 6, buf, 2, 0, buf, 2) }, "A too short"},
		{"short B", func() { Sgemm(false, true, 2, 20, 6, 1, buf, 6, buf, 6, 0, buf, 20) }, "B too short"},
		{"short C", func() { Sgemm(false, false, 11, 10, 1, 1, buf, 1, buf, 10, 0, buf, 10) }, "C too short"},
		{"pool short C", func() {
			p, stop := newParallel(2)
			defer stop()
			p.Sgemm(false, false, 11, 10, 1, 1, buf, 1, buf, 10, 0, buf, 10)
		}, "C too short"},
		{"ref short A", func() { SgemmRef(false, false, 20, 2, 6, 1, buf, 6, buf, 2, 0, buf, 2) }, "A too short"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				r := recover()
				msg, _ := r.(string)
				if r == nil || !strings.Contains(msg, tt.want) || !strings.HasPrefix(msg, "gemm: ") {
					t.Fatalf("panic %q, want a gemm panic containing %q", r, tt.want)
				}
			}()
			tt.call()
		})
	}
}

// TestThreadsBitIdentical checks the determinism contract: the bits of C
// do not depend on the number of threads, and repeated calls agree.
func TestThreadsBitIdentical(t *testing.T) {
	var pools []*Parallel
	for threads := 1; threads <= 4; threads++ {
		p, stop := newParallel(threads)
		defer stop()
		pools = append(pools, p)
	}
	forEachKernels(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(9, 10))
		var cases []gemmCase
		for _, tr := range transposes {
			for r := 0; r < 6; r++ {
				cases = append(cases, gemmCase{
					tA: tr.tA, tB: tr.tB,
					m: 1 + rng.IntN(150), n: 1 + rng.IntN(150), k: 1 + rng.IntN(700),
					alpha: 0.75, beta: 0.5, padA: rng.IntN(3), padB: rng.IntN(3), padC: rng.IntN(3),
				})
			}
			cases = append(cases, gemmCase{tA: tr.tA, tB: tr.tB, m: 64, n: 600, k: 300, alpha: 1, beta: 0})
			cases = append(cases, gemmCase{tA: tr.tA, tB: tr.tB, m: 300, n: 45, k: 520, alpha: 1, beta: 1})
		}
		for _, tc := range cases {
			o := newOperands(rng, tc)
			c0 := append([]float32(nil), o.c...)
			want := append([]float32(nil), c0...)
			Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, o.a, o.lda, o.b, o.ldb, tc.beta, want, o.ldc)
			for pi, p := range pools {
				for rep := 0; rep < 2; rep++ {
					got := append([]float32(nil), c0...)
					p.Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, o.a, o.lda, o.b, o.ldb, tc.beta, got, o.ldc)
					for i := range got {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("%v: threads=%d rep=%d: C[%d] = %v, single-threaded %v", tc, pi+1, rep, i, got[i], want[i])
						}
					}
				}
			}
		}
	})
}

func TestSplitCoversEvenly(t *testing.T) {
	for _, ks := range supportedKernels() {
		for _, dot := range []bool{false, true} {
			pl := &plan{ks: ks, dot: dot}
			for _, s := range [][2]int{{64, 256}, {1024, 1024}, {7, 5}, {256, 784}, {64, 10}, {100, 1}, {5000, 3}, {64, 512}, {512, 128}} {
				for threads := 1; threads <= 5; threads++ {
					ct := split(pl, s[0], s[1], 100, threads)
					if ct.parts < 1 || ct.parts > threads*chunksPerThread || threads == 1 && ct.parts != 1 {
						t.Fatalf("%s dot=%v %v threads=%d: %d parts", ks.name, dot, s, threads, ct.parts)
					}
					dim := s[1]
					if ct.alongM {
						dim = s[0]
					}
					small, big, end := dim, 0, 0
					for c := 0; c < ct.parts; c++ {
						lo, hi := ct.bounds(c, dim)
						if lo != end || hi <= lo || lo%ct.unit != 0 {
							t.Fatalf("%s dot=%v %v threads=%d: chunk %d is [%d, %d) after %d (unit %d)", ks.name, dot, s, threads, c, lo, hi, end, ct.unit)
						}
						end = hi
						if c < ct.parts-1 {
							small, big = min(small, hi-lo), max(big, hi-lo)
						}
					}
					if end != dim || ct.parts > 1 && big-small > ct.unit {
						t.Fatalf("%s dot=%v %v threads=%d: chunks cover %d of %d, sizes %d to %d (unit %d)", ks.name, dot, s, threads, end, dim, small, big, ct.unit)
					}
				}
			}
		}
	}
}

// TestSplitChunks checks split's choice between chunksPerThread chunks per
// goroutine and one: one when the work every chunk repeats (packing or
// reading the operand it does not cut) makes that more than a 32nd
// cheaper, or when chunks of rows would be shorter than two slivers.
func TestSplitChunks(t *testing.T) {
	ks := &kernelSet{name: "12x32", mr: 12, nr: 32, dmr: 4, dnr: 6}
	for _, tc := range []struct {
		name         string
		pl           plan
		m, n, k      int
		alongM       bool
		parts, units int
		threads      int // 0: 2
	}{
		// Four chunks of 32 columns would pack all of A four times (the
		// CNN's dense layer where it takes the outer product).
		{"the CNN's dense layer", plan{ks: ks, packA: true, packB: true}, 64, 128, 1568, false, 2, 8, 0},
		{"the MLP's second layer", plan{ks: ks, packA: true, packB: true}, 64, 128, 256, false, 2, 8, 0},
		// Packing B four times is 5% of the work.
		{"1024^3", plan{ks: ks, packA: true, packB: true}, 1024, 1024, 1024, true, 2, 256, 0},
		// Along rows, one chunk per goroutine when two would be shorter
		// than two slivers: 64 rows in two chunks, not four of 16
		// (slivers of 8).
		{"B read in place, 64 rows", plan{ks: ks, packA: true}, 64, 784, 256, true, 2, 16, 0},
		{"B read in place, 16 rows", plan{ks: ks, packA: true}, 16, 512, 128, true, 2, 4, 0},
		// Three goroutines, 100 rows: three chunks of 36 or 32 rows, not
		// six of 16 or 20.
		{"B read in place, 100 rows, 3 threads", plan{ks: ks, packA: true}, 100, 512, 128, true, 3, 25, 3},
		// Nothing repeated: keep four chunks.
		{"nothing packed, 256 rows", plan{ks: ks}, 256, 784, 64, true, 4, 64, 0},
		// Each chunk reads all of A: two chunks read it twice.
		{"dot product", plan{ks: ks, dot: true}, 64, 256, 784, false, 2, 43, 0},
	} {
		threads := tc.threads
		if threads == 0 {
			threads = 2
		}
		ct := split(&tc.pl, tc.m, tc.n, tc.k, threads)
		if ct.alongM != tc.alongM || ct.parts != tc.parts || ct.units != tc.units {
			t.Errorf("%s (%dx%dx%d): %+v, want alongM %v, %d parts of %d units", tc.name, tc.m, tc.n, tc.k, ct, tc.alongM, tc.parts, tc.units)
		}
	}
}

// TestNoAllocs checks that steady-state calls, on one thread and through a
// Parallel, allocate nothing on every loop nest.
func TestNoAllocs(t *testing.T) {
	pool, stop := newParallel(2)
	defer stop()
	shapes := []struct {
		tA, tB  bool
		m, n, k int
	}{
		{false, true, 64, 256, 784},  // dot
		{false, false, 64, 784, 256}, // outer, packed A
		{true, false, 256, 784, 64},  // outer, direct A
		{false, false, 200, 300, 400},
		{true, true, 100, 100, 100},
	}
	forEachKernels(t, func(t *testing.T) {
		for _, s := range shapes {
			rng := rand.New(rand.NewPCG(11, 12))
			o := newOperands(rng, gemmCase{tA: s.tA, tB: s.tB, m: s.m, n: s.n, k: s.k})
			st := func() { Sgemm(s.tA, s.tB, s.m, s.n, s.k, 1, o.a, o.lda, o.b, o.ldb, 0, o.c, o.ldc) }
			pt := func() { pool.Sgemm(s.tA, s.tB, s.m, s.n, s.k, 1, o.a, o.lda, o.b, o.ldb, 0, o.c, o.ldc) }
			if n := testing.AllocsPerRun(5, st); n != 0 {
				t.Errorf("Sgemm %+v: %v allocs per call", s, n)
			}
			if n := testing.AllocsPerRun(5, pt); n != 0 {
				t.Errorf("Parallel.Sgemm %+v: %v allocs per call", s, n)
			}
		}
	})
}

// TestConcurrentCalls runs the package function and one shared Parallel
// from several goroutines at once (run it with -race).
func TestConcurrentCalls(t *testing.T) {
	pool, stop := newParallel(2)
	defer stop()
	rng := rand.New(rand.NewPCG(13, 14))
	tc := gemmCase{tB: true, m: 40, n: 70, k: 300, alpha: 1, beta: 0}
	o := newOperands(rng, tc)
	want := append([]float32(nil), o.c...)
	Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, o.a, o.lda, o.b, o.ldb, tc.beta, want, o.ldc)
	tcNN := gemmCase{m: 50, n: 60, k: 70, alpha: 1, beta: 0}
	oNN := newOperands(rng, tcNN)
	wantNN := append([]float32(nil), oNN.c...)
	Sgemm(tcNN.tA, tcNN.tB, tcNN.m, tcNN.n, tcNN.k, tcNN.alpha, oNN.a, oNN.lda, oNN.b, oNN.ldb, tcNN.beta, wantNN, oNN.ldc)
	errs := make(chan string, 8)
	done := make(chan struct{})
	for g := 0; g < 4; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for rep := 0; rep < 10; rep++ {
				c := make([]float32, len(o.c))
				cNN := make([]float32, len(oNN.c))
				if g%2 == 0 {
					Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, o.a, o.lda, o.b, o.ldb, tc.beta, c, o.ldc)
					Sgemm(tcNN.tA, tcNN.tB, tcNN.m, tcNN.n, tcNN.k, tcNN.alpha, oNN.a, oNN.lda, oNN.b, oNN.ldb, tcNN.beta, cNN, oNN.ldc)
				} else {
					pool.Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, o.a, o.lda, o.b, o.ldb, tc.beta, c, o.ldc)
					pool.Sgemm(tcNN.tA, tcNN.tB, tcNN.m, tcNN.n, tcNN.k, tcNN.alpha, oNN.a, oNN.lda, oNN.b, oNN.ldb, tcNN.beta, cNN, oNN.ldc)
				}
				for i := range c {
					if i%o.ldc < tc.n && c[i] != want[i] {
						errs <- fmt.Sprintf("goroutine %d: C[%d] = %v, want %v", g, i, c[i], want[i])
						return
					}
				}
				for i := range cNN {
					if i%oNN.ldc < tcNN.n && cNN[i] != wantNN[i] {
						errs <- fmt.Sprintf("goroutine %d: NN C[%d] = %v, want %v", g, i, cNN[i], wantNN[i])
						return
					}
				}
			}
		}()
	}
	for g := 0; g < 4; g++ {
		<-done
	}
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
