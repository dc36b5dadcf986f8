package gemm

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"
)

//go:generate go run -C asm . -out ../kernels_amd64.s -stubs ../kernels_amd64.go -pkg gemm -tables ../ktables_amd64.go

// Sgemm computes C = alpha*op(A)*op(B) + beta*C for row-major float32
// matrices on the calling goroutine.
//
// op(X) is X, or X^T when the matching transpose flag is set; op(A) is
// m x k, op(B) is k x n and C is m x n. lda, ldb and ldc are row strides
// (the BLAS row-major convention, as in gonum's blas32.Gemm): A is stored
// as m rows of k values (k rows of m values when tA), B as k rows of n
// values (n rows of k values when tB). Only C is written. beta == 0 means C
// is overwritten, so NaNs already in C do not propagate; alpha == 0 or
// k == 0 reduce the call to C = beta*C without reading A or B.
//
// Sgemm panics on negative dimensions, strides shorter than a row and
// slices too short for the matrices they hold. It does not allocate once
// its packing buffers exist (they are kept in a small free list).
func Sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkArgs(tA, tB, m, n, k, a, lda, b, ldb, c, ldc)
	sgemmWS(nil, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// sgemmWS is Sgemm after the argument checks, in workspace own when it is
// not nil, else in one from the shared free list.
func sgemmWS(own *workspace, tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	j := job{tA: tA, tB: tB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc}
	j.plan = makePlan(activeKernels(), tA, tB, m, n, k, ldb)
	ws := takeWorkspace(own, j.plan.packs())
	j.run(ws, 0, m, 0, n)
	releaseWorkspace(own, ws)
}

// checkArgs panics, gonum style, when the arguments cannot describe the
// matrices: these are programmer errors, never data-dependent ones.
func checkArgs(tA, tB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("gemm: negative dimension (m=%d, n=%d, k=%d)", m, n, k))
	}
	aRows, aCols := m, k
	if tA {
		aRows, aCols = k, m
	}
	bRows, bCols := k, n
	if tB {
		bRows, bCols = n, k
	}
	checkMatrix("A", aRows, aCols, a, lda)
	checkMatrix("B", bRows, bCols, b, ldb)
	checkMatrix("C", m, n, c, ldc)
}

func checkMatrix(name string, rows, cols int, x []float32, ld int) {
	if ld < max(1, cols) {
		panic(fmt.Sprintf("gemm: bad stride for %s: ld%s=%d < max(1, %d columns)", name, lowerName(name), ld, cols))
	}
	if rows == 0 || cols == 0 {
		return
	}
	if need := (rows-1)*ld + cols; len(x) < need {
		panic(fmt.Sprintf("gemm: %s too short: len=%d, need %d for %dx%d with ld%s=%d", name, len(x), need, rows, cols, lowerName(name), ld))
	}
}

func lowerName(name string) string {
	switch name {
	case "A":
		return "a"
	case "B":
		return "b"
	}
	return "c"
}

// scaleC sets C = beta*C (C = 0 when beta == 0).
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	if beta == 1 {
		return
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// kernelSet is one implementation of the micro-kernels and its blocking
// parameters. The blocking (kc in particular) is fixed per set, never per
// call or per thread, which keeps results independent of the thread count.
type kernelSet struct {
	name string

	// Outer-product register tile: mr rows by nr columns of C.
	mr, nr int
	// kc is the k-block (depth of the packed panels); mc the height of a
	// packed panel of A (a multiple of mr); nc the width of a packed block
	// of B (a multiple of nr).
	kc, mc, nc int
	// outer computes an mr' x nr' tile (mr' <= mr, nr' <= nr):
	// C = alpha*sum_p A(i,p)*B(p,j) + beta*C, beta ignored when beta0,
	// with A(i,p) = a[p*as+i], B(p,j) = b[p*bs+j], C(i,j) = c[i*ldc+j].
	outer func(mr, nr, k int, a []float32, as int, b []float32, bs int, c []float32, ldc int, alpha, beta float32, beta0 bool)

	// Dot-product tile for C = A*B^T with rows of A and B read along k:
	// dmr rows of A by dnr rows of B.
	dmr, dnr int
	// dotRule: which C = A*B^T products take the dot-product nest.
	dotRule DotRule
	// sel is the Selection the set was tuned with (tuned), for reports.
	sel Selection
	// packBMinRows, packBMinK, packBStride: pack op(B) = B when m is at
	// least packBMinRows (it is reused m/mr times), k at least packBMinK
	// and ldb a multiple of packBStride; otherwise the kernel reads B in
	// place.
	packBMinRows, packBMinK, packBStride int
	// outerRows is outer with the rows of B through a table of offsets:
	// B(p,j) = b[offs[p]+j] (SgemmRows). Nil: SgemmRows packs B instead.
	outerRows func(mr, nr, k int, a []float32, as int, b []float32, offs []int, c []float32, ldc int, alpha, beta float32, beta0 bool)

	// dkc is the deepest k-block of the dot-product nest (0: none, the
	// whole of k at once): see dotBlock. Like kc it decides the rounding,
	// so it is fixed per set, never per cache size.
	dkc int
	// dot computes an mr' x nr' tile (mr' <= dmr, nr' <= dnr) over k
	// values: A(i,p) = a[i*lda+p], B(j,p) = b[j*ldb+p].
	dot func(mr, nr, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32, beta0 bool)
}

// plan is what one call decides once for the whole of C, before any split
// between threads: which kernel set, which loop nest and which operands to
// pack. Everything that changes the arithmetic (the set, dot versus outer)
// is fixed here; packing only moves values, so it does not.
type plan struct {
	ks    *kernelSet
	dot   bool // C = A*B^T through ks.dot (tA == false, tB == true)
	packA bool // pack A into slivers (required when !tA on the outer path)
	packB bool // pack B into slivers (required when tB on the outer path)
}

func (p *plan) packs() bool { return !p.dot && (p.packA || p.packB) }

// Thresholds of makePlan, measured on the machines described in doc.go
// (BenchmarkSgemm and its shapes); they only move work between code paths
// that give the same results on one thread and on many.
const (
	// The dot-product path reads whole rows of A and B, up to this depth.
	dotMaxK = 4096
	// op(A) = A^T is read in place up to this many rows of C; past it the
	// stride between the rows the kernel reads (m floats) thrashes L1.
	directAMaxRows = 512
)

// DotRule says which products C = A*B^T (A m x k, B n x k) take the
// dot-product nest, which reads both in place, rather than the
// outer-product one, which packs both: those at most 4096 deep that are
// skinny (min(m, n) <= Skinny) or small (m*n*k <= Small), and those deep
// enough to amortise the reduction of the vector accumulators (MinK <= k
// <= DeepMaxK) that are not big (min(m, n) <= DeepMaxMN).
type DotRule struct {
	Skinny, Small, MinK, DeepMaxK, DeepMaxMN int
}

// dotRuleDefault is the rule measured on Zen 4 for the AVX2 set (and the
// AVX-512 one, with no bound on the size of a deep product: bigDot).
var dotRuleDefault = DotRule{Skinny: 64, Small: 1 << 22, MinK: 256, DeepMaxK: dotMaxK, DeepMaxMN: 256}

// bigDot is dotRuleDefault for deep products of any size: the rule
// measured on Zen 4 for the AVX-512 set, kept for the pure-Go one.
var bigDot = DotRule{Skinny: 64, Small: 1 << 22, MinK: 256, DeepMaxK: dotMaxK, DeepMaxMN: math.MaxInt}

// makePlan chooses the loop nest and the packing for a whole call, by the
// kernel set's rules (Select sets them per CPU; see cpu.go).
func makePlan(ks *kernelSet, tA, tB bool, m, n, k, ldb int) plan {
	p := plan{ks: ks}
	if !tA && tB && k <= dotMaxK {
		r := &ks.dotRule
		mn := min(m, n)
		skinny := mn <= r.Skinny || m*n*k <= r.Small
		deep := k >= r.MinK && k <= r.DeepMaxK && mn <= r.DeepMaxMN
		if skinny || deep {
			p.dot = true
			return p
		}
	}
	p.packA = !tA || m > directAMaxRows
	p.packB = tB || m >= ks.packBMinRows && k >= ks.packBMinK && ldb%max(1, ks.packBStride) == 0
	return p
}

// job is one GEMM call, shared read-only by the threads working on it.
type job struct {
	tA, tB  bool
	m, n, k int
	alpha   float32
	a       []float32
	lda     int
	b       []float32
	ldb     int
	beta    float32
	c       []float32
	ldc     int
	plan
}

// run computes the block C[i0:i1, j0:j1] of the job.
func (j *job) run(ws *workspace, i0, i1, j0, j1 int) {
	a, b, c := j.a, j.b, j.c
	if j.tA {
		a = a[i0:]
	} else {
		a = a[i0*j.lda:]
	}
	if j.tB {
		b = b[j0*j.ldb:]
	} else {
		b = b[j0:]
	}
	c = c[i0*j.ldc+j0:]
	m, n := i1-i0, j1-j0
	if j.dot {
		dotGemm(j.ks, m, n, j.k, j.alpha, a, j.lda, b, j.ldb, j.beta, c, j.ldc)
		return
	}
	outerGemm(ws, &j.plan, j.tA, j.tB, m, n, j.k, j.alpha, a, j.lda, b, j.ldb, j.beta, c, j.ldc)
}

// dotL2 is the budget, in bytes, for the rows of A (over one k-block) that
// the dot loop keeps in L2 while it sweeps over the rows of B.
const dotL2 = 256 << 10

// dotGemm computes C = alpha*A*B^T + beta*C with A m x k and B n x k, both
// row-major, one dmr x dnr tile at a time, over k in the blocks dotBlock
// gives: the first block's sums go into C with beta, each later one's are
// added to C (beta = 1), in the order of k. A group of rows of A over one
// block stays in L2 while the tiles of B's rows go by, and while the tiles
// of A stream past, the dnr rows of B of one block stay in L1; over the
// whole of a deep k they would not (32x48x1568, a convolution's dW: 145
// GFLOP/s in one block, 184 in two of 784, on a Zen 5 core).
func dotGemm(ks *kernelSet, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	mr, nr := ks.dmr, ks.dnr
	kb := dotBlock(ks.dkc, k)
	mc := max(mr, dotL2/(4*kb)/mr*mr)
	for ic := 0; ic < m; ic += mc {
		ie := min(ic+mc, m)
		for p0 := 0; p0 < k; p0 += kb {
			bt := beta
			if p0 > 0 {
				bt = 1
			}
			kk := min(kb, k-p0)
			for jr := 0; jr < n; jr += nr {
				w, bj := min(nr, n-jr), b[jr*ldb+p0:]
				for ir := ic; ir < ie; ir += mr {
					ks.dot(min(mr, ie-ir), w, kk, a[ir*lda+p0:], lda, bj, ldb, c[ir*ldc+jr:], ldc, alpha, bt, bt == 0)
				}
			}
		}
	}
}

// dotBlock returns the depth of the k-blocks of a dot-product product k
// deep, for a kernel set whose deepest block is dkc (a multiple of 16):
// k itself when it is at most dkc (or dkc is 0), else k cut into the
// fewest blocks of at most dkc, all but the last the same multiple of 16
// (whole vectors). It depends on k and the set alone, so the rounding
// does not depend on the threads or the caches.
func dotBlock(dkc, k int) int {
	if dkc <= 0 || k <= dkc {
		return k
	}
	nb := (k + dkc - 1) / dkc
	return ((k+nb-1)/nb + 15) / 16 * 16
}

// outerGemm is the Goto/BLIS loop nest around the outer-product kernel:
//
//	for pc over k in steps of kc:
//	  for ic over m in steps of mc:
//	    pack A[ic:ic+mc, pc:pc+kc] into mr-row slivers (if packA)
//	    for jc over n in steps of nc:
//	      pack B[pc:pc+kc, jc:jc+nc] into nr-wide slivers (if packB; L2)
//	      for each A sliver (up to mr rows; in L1 while jr runs):
//	        for jr over the block in steps of nr:
//	          kernel: C[rows, jc+jr:jc+jr+nr] (+)= A sliver * B sliver
//
// The first k-block applies beta; later ones accumulate with beta = 1.
// The rows of a panel are dealt evenly to ceil(mc/mr) slivers (64 rows
// with mr = 12 make slivers of 11 and 10 rows rather than 5 x 12 + 4): all
// kernel variants do the same arithmetic per element, so only speed
// depends on the tiling.
func outerGemm(ws *workspace, p *plan, tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	ks := p.ks
	MR, NR, KC, MC, NC := ks.mr, ks.nr, ks.kc, ks.mc, ks.nc
	ws.ensure(p)
	// Panels of A: as few as fit in MC rows, of even heights.
	panels := (m + MC - 1) / MC
	MC = (m + panels - 1) / panels
	for pc := 0; pc < k; pc += KC {
		kc := min(KC, k-pc)
		bt, b0 := beta, beta == 0
		if pc > 0 {
			bt, b0 = 1, false
		}
		for ic := 0; ic < m; ic += MC {
			mc := min(MC, m-ic)
			slivers, rows, extra := packSlivers(ws, p.packA, tA, a, lda, ic, mc, pc, kc, MR)
			for jc := 0; jc < n; jc += NC {
				nc := min(NC, n-jc)
				// B block: element (p, j) of op(B)[pc:, jc:] is
				// bp[(j/NR)*bsl + p*bs + j%NR] when packed, bp[p*bs + j] when not.
				var bp []float32
				bs, bsl := NR, kc*NR
				if p.packB {
					bp = ws.b[:kc*roundUp(nc, NR)]
					packB(bp, tB, b, ldb, pc, kc, jc, nc, NR)
				} else {
					bp = b[pc*ldb+jc:]
					bs, bsl = ldb, NR
				}
				for s, ir := 0, ic; s < slivers; s++ {
					mr := rows + b2i(s < extra)
					var ap []float32
					as := MR
					if p.packA {
						ap = ws.a[s*kc*MR:]
					} else {
						ap, as = a[pc*lda+ir:], lda
					}
					cr := c[ir*ldc+jc:]
					for jr, t := 0, 0; jr < nc; jr, t = jr+NR, t+1 {
						ks.outer(mr, min(NR, nc-jr), kc, ap, as, bp[t*bsl:], bs, cr[jr:], ldc, alpha, bt, b0)
					}
					ir += mr
				}
			}
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func roundUp(x, to int) int { return (x + to - 1) / to * to }

// workspace holds the packing buffers of one thread.
type workspace struct {
	a []float32 // one A panel: kc x mc
	b []float32 // one B block: kc x nc (nc rounded up to nr)

	// group is the set of per-goroutine workspaces of a Parallel that
	// this one belongs to (nil for the free list's), and sizedFor the
	// kernel set its buffers were last sized for by the group.
	group    *wsGroup
	sizedFor atomic.Pointer[kernelSet]
}

// wsGroup is a Parallel's workspaces, one per pool goroutine. The first
// product that packs, on any goroutine, sizes them all: which goroutine
// runs which chunk of a loop depends on timing, so a worker may pack for
// the first time long after the warm-up (on a busy machine, say), and its
// workspace must not allocate then, in the middle of training.
type wsGroup struct {
	mu sync.Mutex
	ws []workspace
}

// ensure allocates the buffers the plan packs into, once: the sizes
// depend only on the kernel set. A plan that packs either operand gets
// both buffers, so that a workspace taken from the free list by a later
// plan that packs the other does not allocate in the middle of training;
// a workspace of a Parallel sizes its whole group (wsGroup).
func (w *workspace) ensure(p *plan) {
	if !p.packA && !p.packB {
		return
	}
	if w.group == nil {
		w.size(p.ks)
		return
	}
	if w.sizedFor.Load() == p.ks {
		return
	}
	g := w.group
	g.mu.Lock()
	for i := range g.ws {
		if o := &g.ws[i]; o.sizedFor.Load() != p.ks {
			// Another goroutine's workspace is sized only before its first
			// packing product, or by itself (sizedFor is not yet p.ks), so
			// no product is using the buffers replaced here.
			o.size(p.ks)
			o.sizedFor.Store(p.ks)
		}
	}
	g.mu.Unlock()
}

// size allocates the buffers the kernel set packs into, if they are
// smaller.
func (w *workspace) size(ks *kernelSet) {
	if n := ks.kc * roundUp(ks.mc, ks.mr); len(w.a) < n {
		w.a = make([]float32, n)
	}
	if n := ks.kc * roundUp(ks.nc, ks.nr); len(w.b) < n {
		w.b = make([]float32, n)
	}
}

// wsFree keeps the workspaces of finished Sgemm calls so that steady-state
// calls do not allocate (unlike a sync.Pool, it is not emptied by the GC).
// It is shared by every goroutine: products inside a pool's parallel loop
// use their goroutine's own workspace instead (Parallel.SgemmOn), since two
// cores taking turns at one channel, and at each other's buffers, cost
// more than a small product.
var wsFree = make(chan *workspace, 16)

func getWorkspace() *workspace {
	select {
	case w := <-wsFree:
		return w
	default:
		return new(workspace)
	}
}

// takeWorkspace returns own when it is not nil, else, for a plan that
// packs, one from the free list (nil when it does not pack).
func takeWorkspace(own *workspace, packs bool) *workspace {
	if own == nil && packs {
		return getWorkspace()
	}
	return own
}

// releaseWorkspace returns ws to the free list unless it is the caller's
// own (or nil).
func releaseWorkspace(own, ws *workspace) {
	if ws != nil && ws != own {
		putWorkspace(ws)
	}
}

func putWorkspace(w *workspace) {
	select {
	case wsFree <- w:
	default:
	}
}

// packSlivers deals mc rows of op(A), from row ic, to register-tile slivers
// of at most mr rows (sliver s has rows+1 rows if s < extra) and packs
// their k-block [pc, pc+kc) into ws.a when pack is set.
func packSlivers(ws *workspace, pack, tA bool, a []float32, lda, ic, mc, pc, kc, mr int) (slivers, rows, extra int) {
	slivers = (mc + mr - 1) / mr
	rows, extra = mc/slivers, mc%slivers
	if pack {
		for s, ir := 0, ic; s < slivers; s++ {
			n := rows + b2i(s < extra)
			packA(ws.a[s*kc*mr:(s+1)*kc*mr], tA, a, lda, ir, n, pc, kc, mr)
			ir += n
		}
	}
	return slivers, rows, extra
}
