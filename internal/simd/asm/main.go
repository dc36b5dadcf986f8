// Command asm generates the amd64 kernels of package simd with avo.
//
// It lives in its own module so that the main module never depends on avo.
// Run it through `go generate` in the simd package, which executes
//
//	go run -C asm . -out ../kernels_amd64.s -stubs ../kernels_amd64.go -pkg simd -tables ../dispatch_amd64.go
//
// Every kernel but max pooling exists twice, for AVX-512 (zmm, 16 lanes,
// opmask tails) and for AVX2+FMA (ymm, 8 lanes, VMASKMOVPS tails), emitted
// by the same Go code (the kern type below abstracts the few instructions
// that differ), so both perform the same operations in the same order and
// give the same bits. These shapes of kernel are generated:
//
//   - map kernels: an element-wise body over n elements of a few streams
//     (flat slices), one vector per iteration, the last partial vector
//     masked, so there is no scalar clean-up and a masked lane is never
//     read or written. Scalar parameters come in a float32 array and are
//     broadcast once. The optimizers, scale/axpy/add, relu, the
//     activations and the LSTM gates are map kernels; an LSTM gate kernel
//     reads its four gate blocks (i, f, g, o) at multiples of n apart.
//   - sumsq: 32 float64 lanes of sums of squares (element i to lane
//     i mod 32), returned to Go, which adds the tail and reduces in a
//     fixed order.
//   - lanesums: two float64 sums over two float32 streams, 32 lanes each
//     (element i to lane i mod 32) updated in place, whole groups of 32
//     only (Go does the tail): batchnorm's statistics.
//   - lnnorm, lnbsums, lnbdx: layernorm's passes over a row (normalise
//     with the affine map; the backward sums, lanes as in lanesums; the
//     input gradient), float32 widened to float64, whole vectors (lnbsums:
//     groups of 32) only (Go does the tail).
//   - addwiden: float64 += float32, whole vectors only (Go does the tail).
//   - bytesaffine: float32 = (float64(byte) - offset) * scale, whole
//     vectors only (Go does the tail).
//   - gatherRowsAVX512 (gather.go): rows of a strided gather (a strided
//     convolution's patch rows), up to 16 values from 32, AVX-512 only.
//   - maxPool2x2AVX512, maxUnpool2x2AVX512 (maxpool.go): max pooling over
//     2x2 windows with stride 2 and its backward routing, 16 windows at a
//     time, AVX-512 only.
//
// The arithmetic kernels (optimizers, scale, axpy, add, relu, the
// backward formulas) use one instruction per Go operation of their pure-Go
// reference (ref.go in package simd; package optim's for the optimizers):
// a multiply and an add, never a fused multiply-add, where the reference
// rounds twice. So they are bit-identical to it (NaN payloads aside). The
// optimizers are guarded kernels (guard.go): a vector whose optimizer
// state holds a value below 2^-100 takes a pass in which the
// multiplications, divisions and square roots of such values run in
// float64, rounded to float32 at once, with the same bits and no
// microcode assist.
// exp, sigmoid and tanh are polynomial approximations (see expv and tanhv).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"math"
	"os"
	"regexp"
	"strings"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// isa is one target instruction set.
type isa struct {
	name  string // function name suffix: "AVX512" or "AVX2"
	lanes int    // float32 lanes per vector
}

var (
	avx512 = &isa{"AVX512", 16}
	avx2   = &isa{"AVX2", 8}
	isas   = []*isa{avx512, avx2}
)

// Constants, each replicated 16 times (64 bytes) in the read-only table
// "consts", so that a memory operand of either vector width reads it.
var constNames []string
var constBits = map[string]uint32{}

func defConst(name string, bits uint32) {
	constNames = append(constNames, name)
	constBits[name] = bits
}

func defF(name string, v float32) { defConst(name, math.Float32bits(v)) }

func init() {
	defF("one", 1)
	defF("two", 2)
	// exp: x is clamped to [expLo, expHi] (exp(-104) rounds to 0 and
	// exp(89) overflows, so the clamp changes no result), n = round(x
	// log2(e)) through the 1.5*2^23 rounding constant, r = x - n ln2 with
	// ln2 in two parts (Cephes: C1 has 9 significant bits, so n*C1 is
	// exact), exp(r) by Cephes' expf polynomial, 2^n as two exponent
	// fields so that n in [-150, 128] neither overflows nor underflows the
	// scale factors.
	defF("expLo", -104)
	defF("expHi", 89)
	defF("log2e", float32(math.Log2E))
	defF("magic", 12582912) // 1.5 * 2^23
	defF("negC1", -0.693359375)
	defF("negC2", 2.12194440e-4)
	defF("p0", 1.9875691500e-4)
	defF("p1", 1.3981999507e-3)
	defF("p2", 8.3334519073e-3)
	defF("p3", 4.1665795894e-2)
	defF("p4", 1.6666665459e-1)
	defF("p5", 5.0000001201e-1)
	defConst("bias127", 127)
	defConst("absMask", 0x7fffffff)
	defConst("signMask", 0x80000000)
	// tanh: Cephes' tanhf, an odd polynomial below 0.625, else
	// 1 - 2/(exp(2|x|) + 1) with the sign of x.
	defF("tanhSmall", 0.625)
	defF("t0", -5.70498872745e-3)
	defF("t1", 2.06390887954e-2)
	defF("t2", -5.37397155531e-2)
	defF("t3", 1.33314422036e-1)
	defF("t4", -3.33332819422e-1)
	// normtail: Phi(-|x|) = exp(-x^2/2) h(t) / (1 + K|x|), t = (|x| -
	// C)/(|x| + C), h a polynomial fitted by scripts/fits/normaltail.py
	// (whose output these lines are; the fit's relative error with these
	// float32 coefficients 1.8e-8).
	defF("ntC", 2.82842708)
	defF("ntK", 1.41421354)
	defF("nt0", 0.638489187)
	defF("nt1", -0.0463818796)
	defF("nt2", -0.0830155686)
	defF("nt3", 0.082024686)
	defF("nt4", -0.0271058287)
	defF("nt5", -0.00400930969)
	defF("nt6", 0.00434416439)
	defF("nt7", 0.000608374598)
	defF("nt8", -0.00069737673)
	defF("nt9", -0.000178678354)
	defF("nt10", 8.02103459e-05)
	defF("nt11", 3.15963407e-05)
	defF("ntMax", 16) // Phi(-16) and phi(16) are 0 in float32
	defF("negHalf", -0.5)
	defF("invSqrt2Pi", float32(1/math.Sqrt(2*math.Pi)))
	// The check of guarded kernels (guard.go).
	defConst("allOnes", 0xffffffff)
	defConst("zero", 0)
	defConst("subMax", guardBelow-1)
	defConst("subMaxM1", guardBelow-2)
}

var constTab, tailTab, kTab Mem

func constant(name string) Mem {
	for i, n := range constNames {
		if n == name {
			return constTab.Offset(64 * i)
		}
	}
	panic("unknown constant " + name)
}

func emitData() {
	constTab = GLOBL("consts", RODATA|NOPTR)
	for i, n := range constNames {
		for l := 0; l < 16; l++ {
			DATA(64*i+4*l, U32(constBits[n]))
		}
	}
	// tailmask+32-4r (r in 1..7) is an AVX2 VMASKMOVPS mask of the first r lanes.
	tailTab = GLOBL("tailmask", RODATA|NOPTR)
	for i := 0; i < 16; i++ {
		v := uint32(0)
		if i < 8 {
			v = 0xffffffff
		}
		DATA(4*i, U32(v))
	}
	// kmask[r] = (1<<r)-1 is an AVX-512 opmask of the first r lanes.
	kTab = GLOBL("kmask", RODATA|NOPTR)
	for r := 0; r < 16; r++ {
		DATA(2*r, U16(uint16(1<<r-1)))
	}
}

// kern emits one kernel body for an isa; masked is set while emitting the
// tail, whose loads and stores go through the mask.
type kern struct {
	isa     *isa
	masked  bool
	k       reg.OpmaskVirtual // AVX-512 tail mask
	ym      reg.VecVirtual    // AVX2 tail mask
	consts  map[string]reg.VecVirtual
	guarded // the passes of a guarded kernel (guard.go)
}

func (e *kern) is512() bool { return e.isa.lanes == 16 }
func (e *kern) vbytes() int { return 4 * e.isa.lanes }

// V allocates a vector register of the isa's width.
func (e *kern) V() reg.VecVirtual {
	if e.is512() {
		return ZMM()
	}
	return YMM()
}

// C is a constant as the second source of an arithmetic instruction: for
// AVX2 the memory operand of its 32 replicated bytes; for AVX-512 a
// register broadcast from one lane. The linker aligns the table to 32
// bytes at most, so a 64-byte operand could straddle two cache lines on
// every use in a loop (a text LSTM about 6% slower, seen when the table moved);
// a 4-byte broadcast never does.
func (e *kern) C(name string) Op {
	if e.is512() {
		return e.R(name)
	}
	return constant(name)
}

// R loads a constant into a register (for first sources and blends).
func (e *kern) R(name string) reg.VecVirtual {
	v := e.V()
	if e.is512() {
		VBROADCASTSS(constant(name), v)
		return v
	}
	VMOVUPS(constant(name), v)
	return v
}

func (e *kern) load(m Mem) reg.VecVirtual {
	if e.pass != passPlain {
		return e.guardedLoad(m)
	}
	return e.load1(m)
}

func (e *kern) load1(m Mem) reg.VecVirtual {
	v := e.V()
	switch {
	case !e.masked:
		VMOVUPS(m, v)
	case e.is512():
		VMOVUPS_Z(m, e.k, v)
	default:
		VMASKMOVPS(m, e.ym, v)
	}
	return v
}

func (e *kern) store(v reg.VecVirtual, m Mem) {
	if e.pass == passProbe { // a guarded kernel's probe stores nothing
		return
	}
	switch {
	case !e.masked:
		VMOVUPS(v, m)
	case e.is512():
		VMOVUPS(v, e.k, m)
	default:
		VMASKMOVPS(v, e.ym, m)
	}
}

// reg makes a an operand that may be a first source: registers pass,
// memory is loaded.
func (e *kern) reg(a Op) reg.VecVirtual {
	if v, ok := a.(reg.VecVirtual); ok {
		return v
	}
	v := e.V()
	VMOVUPS(a, v)
	return v
}

// Binary operations d = a op b; b may be memory (plainOp).
func (e *kern) mul(a, b Op) reg.VecVirtual { return e.op(opMul, a, b) }
func (e *kern) add(a, b Op) reg.VecVirtual { return e.op(opAdd, a, b) }
func (e *kern) sub(a, b Op) reg.VecVirtual { return e.op(opSub, a, b) }
func (e *kern) div(a, b Op) reg.VecVirtual { return e.op(opDiv, a, b) }
func (e *kern) sqrt(a Op) reg.VecVirtual   { return e.op(opSqrt, a, nil) }

// maxNaN is x86 max(a, b): a > b ? a : b, so b when either is NaN.
func (e *kern) maxNaN(a, b Op) reg.VecVirtual { return e.op(opMax, a, b) }

// op is d = a op b, as a guarded kernel's pass has it (guardedOp) or else
// plainOp.
func (e *kern) op(op fop, a, b Op) reg.VecVirtual {
	if d, ok := e.guardedOp(op, a, b); ok {
		return d
	}
	return e.plainOp(op, a, b)
}

// plainOp is d = a op b in float32, b possibly memory. a*b and a+b are
// commutative in IEEE arithmetic, so a memory a is swapped into b.
func (e *kern) plainOp(op fop, a, b Op) reg.VecVirtual {
	if _, ok := a.(Mem); ok && (op == opMul || op == opAdd) {
		a, b = b, a
	}
	d := e.V()
	switch op {
	case opMul:
		VMULPS(b, e.reg(a), d)
	case opAdd:
		VADDPS(b, e.reg(a), d)
	case opSub:
		VSUBPS(b, e.reg(a), d)
	case opDiv:
		VDIVPS(b, e.reg(a), d)
	case opSqrt:
		VSQRTPS(a, d)
	case opMax:
		VMAXPS(b, e.reg(a), d)
	}
	return d
}

// fma is a*b + c with one rounding (only in the approximations).
func (e *kern) fma(a, b reg.VecVirtual, c Op) reg.VecVirtual {
	d := e.V()
	VMOVAPS(a, d)
	VFMADD213PS(c, b, d)
	return d
}

// minNaN is x86 min(a, b): a < b ? a : b, so b when either is NaN.
func (e *kern) minNaN(a, b Op) reg.VecVirtual {
	d := e.V()
	VMINPS(b, e.reg(a), d)
	return d
}

func (e *kern) and(a, b Op) reg.VecVirtual {
	d := e.V()
	if e.is512() {
		VPANDD(b, e.reg(a), d)
	} else {
		VANDPS(b, e.reg(a), d)
	}
	return d
}

func (e *kern) or(a, b Op) reg.VecVirtual {
	d := e.V()
	if e.is512() {
		VPORD(b, e.reg(a), d)
	} else {
		VORPS(b, e.reg(a), d)
	}
	return d
}

func (e *kern) xor(a, b Op) reg.VecVirtual {
	d := e.V()
	if e.is512() {
		VPXORD(b, e.reg(a), d)
	} else {
		VXORPS(b, e.reg(a), d)
	}
	return d
}

func (e *kern) zero() reg.VecVirtual {
	d := e.V()
	if e.is512() {
		VPXORD(d, d, d)
	} else {
		VXORPS(d, d, d)
	}
	return d
}

// Comparison predicates (VCMPPS imm8).
const (
	cmpLT_OS  = 0x01
	cmpNLE_UQ = 0x06 // !(a <= b): a > b or unordered
	cmpGT_OQ  = 0x1e
)

// sel returns a pred b ? t : f, lane-wise.
func (e *kern) sel(pred uint8, a, b Op, t, f reg.VecVirtual) reg.VecVirtual {
	d := e.V()
	if e.is512() {
		k := K()
		VCMPPS(U8(pred), b, e.reg(a), k)
		VBLENDMPS(t, f, k, d)
	} else {
		m := e.V()
		VCMPPS(U8(pred), b, e.reg(a), m)
		VBLENDVPS(m, t, f, d)
	}
	return d
}

// expv is exp(x) (Cephes expf with FMA; see the constants).
func (e *kern) expv(x reg.VecVirtual) reg.VecVirtual {
	xc := e.minNaN(e.R("expHi"), e.maxNaN(e.R("expLo"), x)) // NaN stays NaN
	t := e.R("magic")
	VFMADD231PS(e.C("log2e"), xc, t) // t = x log2e + 1.5*2^23: n in the low bits
	n := e.sub(t, e.C("magic"))
	r := e.fma(n, e.R("negC1"), xc)
	VFMADD231PS(e.C("negC2"), n, r)
	r2 := e.mul(r, r)
	p := e.R("p0")
	for _, c := range []string{"p1", "p2", "p3", "p4", "p5"} {
		VFMADD213PS(e.C(c), r, p)
	}
	VFMADD213PS(r, r2, p)
	p = e.add(p, e.C("one"))
	// 2^n as 2^n1 * 2^n2, n1 = n>>1, n2 = n-n1, each a normal number.
	ni := e.V()
	VPSUBD(e.C("magic"), t, ni)
	n1 := e.V()
	VPSRAD(U8(1), ni, n1)
	n2 := e.V()
	VPSUBD(n1, ni, n2)
	VPADDD(e.C("bias127"), n1, n1)
	VPSLLD(U8(23), n1, n1)
	VPADDD(e.C("bias127"), n2, n2)
	VPSLLD(U8(23), n2, n2)
	VMULPS(n1, p, p)
	VMULPS(n2, p, p)
	return p
}

// sigmoidv is 1 / (1 + exp(-x)).
func (e *kern) sigmoidv(x reg.VecVirtual) reg.VecVirtual {
	ex := e.expv(e.xor(x, e.C("signMask")))
	return e.div(e.R("one"), e.add(ex, e.C("one")))
}

// tanhv is tanh(x): for |x| < 0.625 the odd polynomial
// x + x^3 P(x^2), else sign(x) (1 - 2/(exp(2|x|) + 1)).
func (e *kern) tanhv(x reg.VecVirtual) reg.VecVirtual {
	ax := e.and(x, e.C("absMask"))
	z := e.mul(x, x)
	q := e.R("t0")
	for _, c := range []string{"t1", "t2", "t3", "t4"} {
		VFMADD213PS(e.C(c), z, q)
	}
	qz := e.mul(q, z)
	small := e.fma(qz, x, x)
	ex := e.expv(e.add(ax, ax))
	large := e.sub(e.R("one"), e.div(e.R("two"), e.add(ex, e.C("one"))))
	// small has the sign of x already except at x = -0, large none.
	y := e.sel(cmpLT_OS, ax, e.C("tanhSmall"), small, large)
	return e.or(y, e.and(x, e.C("signMask")))
}

// Kernel signatures.
type param struct {
	name  string
	block bool // an LSTM stream of four gate blocks n apart
}

// mapKernel emits name(n int, <ptrs> *float32[, p *float32]) that runs body
// over n elements. body gets the address of each stream's current vector
// (block b of a blocked stream is b*n elements further) and the broadcast
// parameters.
// mapKernel emits one kernel; primary is "" for a plain kernel, else the
// kernel is guarded (guard.go) and primary names its state stream that
// the probe judges apart from the others.
func mapKernel(in *isa, name string, ptrs []param, nparams int, primary string, body func(e *kern, at func(ptr string, block int) Mem, p []reg.VecVirtual)) {
	guard := primary != ""
	sig := "func(n int"
	for _, p := range ptrs {
		sig += ", " + p.name + " *float32"
	}
	if nparams > 0 {
		sig += ", p *float32"
	}
	sig += ")"
	TEXT(name+in.name, NOSPLIT, sig)
	Pragma("noescape")
	e := &kern{isa: in}
	n := Load(Param("n"), GP64())
	regs := map[string]reg.Register{}
	blocked := false
	for _, p := range ptrs {
		regs[p.name] = Load(Param(p.name), GP64())
		blocked = blocked || p.block
	}
	var hb, hb3 reg.Register
	if blocked {
		hb = GP64()
		MOVQ(n, hb)
		SHLQ(U8(2), hb) // bytes per block
		hb3 = GP64()
		LEAQ(Mem{Base: hb, Index: hb, Scale: 2}, hb3)
	}
	var pp reg.Register
	broadcast := func() []reg.VecVirtual {
		var ps []reg.VecVirtual
		for i := 0; i < nparams; i++ {
			v := e.V()
			VBROADCASTSS(Mem{Base: pp, Disp: 4 * i}, v)
			ps = append(ps, v)
		}
		return ps
	}
	// The parameters are broadcast once, but for a guarded AVX2 kernel,
	// which has too few registers to keep them through its exact pass:
	// it broadcasts them in each pass that uses them.
	var ps []reg.VecVirtual
	if nparams > 0 {
		pp = Load(Param("p"), GP64())
		if !guard || e.is512() {
			ps = broadcast()
		}
	}
	params := func() []reg.VecVirtual {
		if ps != nil {
			return ps
		}
		return broadcast()
	}
	at := func(ptr string, block int) Mem {
		m := Mem{Base: regs[ptr]}
		switch block {
		case 0:
		case 1:
			m.Index, m.Scale = hb, 1
		case 2:
			m.Index, m.Scale = hb, 2
		case 3:
			m.Index, m.Scale = hb3, 1
		}
		return m
	}
	if guard && e.is512() {
		e.checkK = [3]reg.VecVirtual{e.R("absMask"), e.R("allOnes"), e.R("subMax")}
	}
	if guard {
		e.unchecked = map[reg.Register]bool{regs["w"]: true, regs["gr"]: true}
		e.primary = regs[primary]
	}
	Label("loop")
	CMPQ(n, U32(in.lanes))
	JL(LabelRef("tail"))
	if guard {
		e.guardedBody("exact", "next", nparams, params, func(p []reg.VecVirtual) { body(e, at, p) })
		Label("next")
	} else {
		body(e, at, ps)
	}
	for _, p := range ptrs {
		ADDQ(U32(e.vbytes()), regs[p.name])
	}
	SUBQ(U32(in.lanes), n)
	JMP(LabelRef("loop"))

	Label("tail")
	TESTQ(n, n)
	JZ(LabelRef("done"))
	e.masked = true
	t := GP64()
	if e.is512() {
		e.k = K()
		LEAQ(kTab, t)
		KMOVW(Mem{Base: t, Index: n, Scale: 2}, e.k)
	} else {
		e.ym = YMM()
		LEAQ(tailTab, t)
		NEGQ(n)
		VMOVUPS(Mem{Base: t, Index: n, Scale: 4, Disp: 32}, e.ym)
	}
	if guard {
		e.guardedBody("tailexact", "done", nparams, params, func(p []reg.VecVirtual) { body(e, at, p) })
	} else {
		body(e, at, ps)
	}
	Label("done")
	VZEROUPPER()
	RET()
}

// family is a set of kernel variants selected by flag bits, listed in a
// table indexed by the bits.
type family struct {
	name     string // Go dispatch function prefix
	ptrs     []param
	nparams  int
	variants int
}

var families []family

func variantName(base string, v int, nvar int) string {
	if nvar == 1 {
		return base
	}
	return fmt.Sprintf("%s_%d", base, v)
}

func defFamily(name string, ptrs []param, nparams, variants int, body func(v int) func(e *kern, at func(string, int) Mem, p []reg.VecVirtual)) {
	defFamilyOf(name, ptrs, nparams, variants, nil, body)
}

// defGuarded is defFamily for guarded kernels (guard.go): the optimizers.
// primary names, for each variant, the state stream the probe judges
// apart (the one that decays fastest while its gradient is zero).
func defGuarded(name string, ptrs []param, nparams, variants int, primary func(v int) string, body func(v int) func(e *kern, at func(string, int) Mem, p []reg.VecVirtual)) {
	defFamilyOf(name, ptrs, nparams, variants, primary, body)
}

func defFamilyOf(name string, ptrs []param, nparams, variants int, primary func(v int) string, body func(v int) func(e *kern, at func(string, int) Mem, p []reg.VecVirtual)) {
	families = append(families, family{name, ptrs, nparams, variants})
	for _, in := range isas {
		for v := 0; v < variants; v++ {
			pr := ""
			if primary != nil {
				pr = primary(v)
			}
			mapKernel(in, variantName(name, v, variants), ptrs, nparams, pr, body(v))
		}
	}
}

func ps(names ...string) []param {
	var r []param
	for _, n := range names {
		r = append(r, param{name: n})
	}
	return r
}

// Optimizer kernels. Each is the element-wise body of its reference in
// package optim (adamRef, sgdRef, adagradRef, rmspropRef, adadeltaRef), one
// instruction per rounded operation.
func optimizers() {
	// adam: p = [b1, c1, b2, c2, step, bc2sqrt, eps, wd]; variant bit 0:
	// L2 weight decay, bit 1: AMSGrad.
	defGuarded("adam", ps("w", "gr", "m", "v", "vmax"), 8, 4, func(int) string { return "m" }, func(v int) func(*kern, func(string, int) Mem, []reg.VecVirtual) {
		return func(e *kern, at func(string, int) Mem, p []reg.VecVirtual) {
			w := e.load(at("w", 0))
			g := e.load(at("gr", 0))
			if v&1 != 0 {
				g = e.add(g, e.mul(p[7], w))
			}
			m := e.add(e.mul(e.load(at("m", 0)), p[0]), e.mul(g, p[1]))
			vv := e.add(e.mul(e.load(at("v", 0)), p[2]), e.mul(e.mul(p[3], g), g))
			e.store(m, at("m", 0))
			e.store(vv, at("v", 0))
			if v&2 != 0 {
				vv = e.maxNaN(e.load(at("vmax", 0)), vv)
				e.store(vv, at("vmax", 0))
			}
			denom := e.add(e.div(e.sqrt(vv), p[5]), p[6])
			w = e.add(w, e.div(e.mul(p[4], m), denom))
			e.store(w, at("w", 0))
		}
	})
	// sgd: p = [lr, wd, mu, damp]; variant = wd + 2*mode, mode 0: plain,
	// 1: momentum (first step), 2: momentum, 3: nesterov (first step),
	// 4: nesterov.
	defGuarded("sgd", ps("w", "gr", "buf"), 4, 10, func(int) string { return "buf" }, func(v int) func(*kern, func(string, int) Mem, []reg.VecVirtual) {
		return func(e *kern, at func(string, int) Mem, p []reg.VecVirtual) {
			w := e.load(at("w", 0))
			g := e.load(at("gr", 0))
			if v&1 != 0 {
				g = e.add(g, e.mul(p[1], w))
			}
			mode := v >> 1
			if mode != 0 {
				b := g
				if mode == 2 || mode == 4 {
					b = e.add(e.mul(p[2], e.load(at("buf", 0))), e.mul(p[3], g))
				}
				e.store(b, at("buf", 0))
				if mode >= 3 {
					g = e.add(g, e.mul(p[2], b))
				} else {
					g = b
				}
			}
			e.store(e.sub(w, e.mul(p[0], g)), at("w", 0))
		}
	})
	// adagrad: p = [clr, wd, eps]; variant bit 0: weight decay.
	defGuarded("adagrad", ps("w", "gr", "s"), 3, 2, func(int) string { return "s" }, func(v int) func(*kern, func(string, int) Mem, []reg.VecVirtual) {
		return func(e *kern, at func(string, int) Mem, p []reg.VecVirtual) {
			w := e.load(at("w", 0))
			g := e.load(at("gr", 0))
			if v&1 != 0 {
				g = e.add(g, e.mul(p[1], w))
			}
			s := e.add(e.load(at("s", 0)), e.mul(g, g))
			e.store(s, at("s", 0))
			w = e.add(w, e.div(e.mul(p[0], g), e.add(e.sqrt(s), p[2])))
			e.store(w, at("w", 0))
		}
	})
	// rmsprop: p = [alpha, c1, eps, wd, -lr, mu]; variant bit 0: weight
	// decay, bit 1: centered, bit 2: momentum.
	defGuarded("rmsprop", ps("w", "gr", "v", "m", "b"), 6, 8, rmspropPrimary, func(v int) func(*kern, func(string, int) Mem, []reg.VecVirtual) {
		return func(e *kern, at func(string, int) Mem, p []reg.VecVirtual) {
			w := e.load(at("w", 0))
			g := e.load(at("gr", 0))
			if v&1 != 0 {
				g = e.add(g, e.mul(p[3], w))
			}
			sq := e.add(e.mul(e.load(at("v", 0)), p[0]), e.mul(e.mul(p[1], g), g))
			e.store(sq, at("v", 0))
			var avg reg.VecVirtual
			if v&2 != 0 {
				m := e.add(e.mul(e.load(at("m", 0)), p[0]), e.mul(g, p[1]))
				e.store(m, at("m", 0))
				avg = e.sqrt(e.sub(sq, e.mul(m, m)))
			} else {
				avg = e.sqrt(sq)
			}
			avg = e.add(avg, p[2])
			if v&4 != 0 {
				b := e.add(e.mul(e.load(at("b", 0)), p[5]), e.div(g, avg))
				e.store(b, at("b", 0))
				w = e.add(w, e.mul(p[4], b))
			} else {
				w = e.add(w, e.div(e.mul(p[4], g), avg))
			}
			e.store(w, at("w", 0))
		}
	})
	// adadelta: p = [rho, c1, eps, wd, -lr]; variant bit 0: weight decay.
	defGuarded("adadelta", ps("w", "gr", "v", "u"), 5, 2, func(int) string { return "v" }, func(v int) func(*kern, func(string, int) Mem, []reg.VecVirtual) {
		return func(e *kern, at func(string, int) Mem, p []reg.VecVirtual) {
			w := e.load(at("w", 0))
			g := e.load(at("gr", 0))
			if v&1 != 0 {
				g = e.add(g, e.mul(p[3], w))
			}
			sq := e.add(e.mul(e.load(at("v", 0)), p[0]), e.mul(e.mul(p[1], g), g))
			e.store(sq, at("v", 0))
			std := e.sqrt(e.add(sq, p[2]))
			u := e.load(at("u", 0))
			dx := e.mul(e.div(e.sqrt(e.add(u, p[2])), std), g)
			u = e.add(e.mul(u, p[0]), e.mul(e.mul(p[1], dx), dx))
			e.store(u, at("u", 0))
			e.store(e.add(w, e.mul(p[4], dx)), at("w", 0))
		}
	})
}

type bodyFn = func(e *kern, at func(string, int) Mem, p []reg.VecVirtual)

func one(name string, ptrs []param, nparams int, body bodyFn) {
	defFamily(name, ptrs, nparams, 1, func(int) bodyFn { return body })
}

func maps() {
	// scale: x = x * c, p = [c].
	one("scale", ps("x"), 1, func(e *kern, at func(string, int) Mem, p []reg.VecVirtual) {
		e.store(e.mul(e.load(at("x", 0)), p[0]), at("x", 0))
	})
	// axpy: y = y + a*x, p = [a].
	one("axpy", ps("y", "x"), 1, func(e *kern, at func(string, int) Mem, p []reg.VecVirtual) {
		e.store(e.add(e.load(at("y", 0)), e.mul(p[0], e.load(at("x", 0)))), at("y", 0))
	})
	// add: y = y + x.
	one("add", ps("y", "x"), 0, func(e *kern, at func(string, int) Mem, p []reg.VecVirtual) {
		e.store(e.add(e.load(at("y", 0)), e.load(at("x", 0))), at("y", 0))
	})
	// relu: y = x if x > 0 or x is NaN, else +0.
	one("relu", ps("y", "x"), 0, func(e *kern, at func(string, int) Mem, p []reg.VecVirtual) {
		x := e.load(at("x", 0))
		z := e.zero()
		e.store(e.sel(cmpNLE_UQ, x, z, x, z), at("y", 0))
	})
	// relub: dx = dy if y > 0, else +0.
	one("relub", ps("dx", "dy", "y"), 0, func(e *kern, at func(string, int) Mem, p []reg.VecVirtual) {
		y := e.load(at("y", 0))
		dy := e.load(at("dy", 0))
		z := e.zero()
		e.store(e.sel(cmpGT_OQ, y, z, dy, z), at("dx", 0))
	})
	one("exp", ps("y", "x"), 0, func(e *kern, at func(string, int) Mem, p []reg.VecVirtual) {
		e.store(e.expv(e.load(at("x", 0))), at("y", 0))
	})
	one("sigmoid", ps("y", "x"), 0, func(e *kern, at func(string, int) Mem, p []reg.VecVirtual) {
		e.store(e.sigmoidv(e.load(at("x", 0))), at("y", 0))
	})
	one("tanh", ps("y", "x"), 0, func(e *kern, at func(string, int) Mem, p []reg.VecVirtual) {
		e.store(e.tanhv(e.load(at("x", 0))), at("y", 0))
	})
	// normtail: q = Phi(-|x|), the standard normal's lower tail at -|x|,
	// and d = phi(x), its density, sharing exp(-x^2/2). x^2 is split
	// into s + l exactly (an FMA gives l), exp(-s/2) comes from expv and
	// exp(-l/2) is taken as 1 - l/2, so rounding x^2 costs no accuracy
	// in the far tail, where exp(-x^2/2) is most sensitive to it.
	one("normtail", ps("q", "d", "x"), 0, func(e *kern, at func(string, int) Mem, p []reg.VecVirtual) {
		ax := e.minNaN(e.R("ntMax"), e.and(e.load(at("x", 0)), e.C("absMask"))) // NaN stays NaN
		t := e.div(e.sub(ax, e.C("ntC")), e.add(ax, e.C("ntC")))
		h := e.R("nt11")
		for i := 10; i >= 0; i-- {
			VFMADD213PS(e.C(fmt.Sprintf("nt%d", i)), t, h)
		}
		r := e.div(h, e.fma(ax, e.R("ntK"), e.C("one")))
		s := e.mul(ax, ax)
		l := e.fma(ax, ax, e.xor(s, e.C("signMask"))) // x^2 - s, exactly
		hl := e.mul(l, e.C("negHalf"))
		ex := e.expv(e.mul(s, e.C("negHalf")))
		q := e.mul(r, ex)
		e.store(e.fma(q, hl, q), at("q", 0))
		d := e.mul(ex, e.C("invSqrt2Pi"))
		e.store(e.fma(d, hl, d), at("d", 0))
	})
	// affine: y = x*a + b, p = [a, b] (the product rounded, then the sum).
	one("affine", ps("y", "x"), 2, func(e *kern, at func(string, int) Mem, p []reg.VecVirtual) {
		e.store(e.add(e.mul(e.load(at("x", 0)), p[0]), p[1]), at("y", 0))
	})
	// affine2: y = (u*a + v*b) + c, p = [a, b, c], each operation rounded.
	one("affine2", ps("y", "u", "v"), 3, func(e *kern, at func(string, int) Mem, p []reg.VecVirtual) {
		ua := e.mul(e.load(at("u", 0)), p[0])
		vb := e.mul(e.load(at("v", 0)), p[1])
		e.store(e.add(e.add(ua, vb), p[2]), at("y", 0))
	})
	// sigmoidb: dx = dy*y*(1-y).
	one("sigmoidb", ps("dx", "dy", "y"), 0, func(e *kern, at func(string, int) Mem, p []reg.VecVirtual) {
		y := e.load(at("y", 0))
		e.store(e.mul(e.mul(e.load(at("dy", 0)), y), e.sub(e.R("one"), y)), at("dx", 0))
	})
	// tanhb: dx = dy*(1-y*y).
	one("tanhb", ps("dx", "dy", "y"), 0, func(e *kern, at func(string, int) Mem, p []reg.VecVirtual) {
		y := e.load(at("y", 0))
		e.store(e.mul(e.load(at("dy", 0)), e.sub(e.R("one"), e.mul(y, y))), at("dx", 0))
	})

	// lstmf: one row of LSTM gates, n = H; z holds the pre-activations of
	// i, f, g, o (four blocks of n) and receives the activations;
	// c = f*cprev + i*g, tc = tanh(c), h = o*tc.
	blk := []param{{name: "z", block: true}, {name: "cprev"}, {name: "c"}, {name: "tc"}, {name: "h"}}
	one("lstmf", blk, 0, func(e *kern, at func(string, int) Mem, p []reg.VecVirtual) {
		i := e.sigmoidv(e.load(at("z", 0)))
		e.store(i, at("z", 0))
		f := e.sigmoidv(e.load(at("z", 1)))
		e.store(f, at("z", 1))
		g := e.tanhv(e.load(at("z", 2)))
		e.store(g, at("z", 2))
		o := e.sigmoidv(e.load(at("z", 3)))
		e.store(o, at("z", 3))
		c := e.add(e.mul(f, e.load(at("cprev", 0))), e.mul(i, g))
		e.store(c, at("c", 0))
		tc := e.tanhv(c)
		e.store(tc, at("tc", 0))
		e.store(e.mul(o, tc), at("h", 0))
	})
	// lstmb: the backward gate formulas of one row (see ref.go).
	blkb := []param{{name: "dz", block: true}, {name: "a", block: true}, {name: "tc"}, {name: "dy"}, {name: "dh"}, {name: "dc"}, {name: "cprev"}}
	one("lstmb", blkb, 0, func(e *kern, at func(string, int) Mem, p []reg.VecVirtual) {
		one := e.R("one")
		tc := e.load(at("tc", 0))
		o := e.load(at("a", 3))
		dhv := e.add(e.load(at("dy", 0)), e.load(at("dh", 0)))
		dcv := e.add(e.mul(e.mul(dhv, o), e.sub(one, e.mul(tc, tc))), e.load(at("dc", 0)))
		e.store(e.mul(e.mul(e.mul(dhv, tc), o), e.sub(one, o)), at("dz", 3))
		i := e.load(at("a", 0))
		g := e.load(at("a", 2))
		e.store(e.mul(e.mul(e.mul(dcv, g), i), e.sub(one, i)), at("dz", 0))
		e.store(e.mul(e.mul(dcv, i), e.sub(one, e.mul(g, g))), at("dz", 2))
		f := e.load(at("a", 1))
		e.store(e.mul(e.mul(e.mul(dcv, e.load(at("cprev", 0))), f), e.sub(one, f)), at("dz", 1))
		e.store(e.mul(dcv, f), at("dc", 0))
	})
}

// fullVec allocates a vector register of the isa's full width (zmm or
// ymm), for the kernels written outside the kern type.
func fullVec(in *isa) reg.VecVirtual {
	if in == avx512 {
		return ZMM()
	}
	return YMM()
}

// sumsq emits sumsqISA(n int, x *float32, lanes *[32]float64): lane l of
// lanes receives the sum of x[i]^2 over i = l mod 32, in order of i, in
// float64 (each square is exact, so an FMA rounds only the sum). n is a
// multiple of 32.
func sumsq(in *isa) {
	TEXT("sumsq"+in.name, NOSPLIT, "func(n int, x *float32, lanes *[32]float64)")
	Pragma("noescape")
	n := Load(Param("n"), GP64())
	x := Load(Param("x"), GP64())
	out := Load(Param("lanes"), GP64())
	// AVX-512: 4 zmm of 8 doubles, each fed by 8 floats; AVX2: 8 ymm of 4.
	per := in.lanes / 2 // doubles per vector
	nacc := 32 / per
	var acc []reg.VecVirtual
	newV := func() reg.VecVirtual { return fullVec(in) }
	for i := 0; i < nacc; i++ {
		v := newV()
		if in == avx512 {
			VPXORQ(v, v, v)
		} else {
			VXORPD(v, v, v)
		}
		acc = append(acc, v)
	}
	Label("loop")
	CMPQ(n, U32(32))
	JL(LabelRef("done"))
	for i := 0; i < nacc; i++ {
		d := newV()
		VCVTPS2PD(Mem{Base: x, Disp: 4 * per * i}, d)
		VFMADD231PD(d, d, acc[i])
	}
	ADDQ(U32(128), x)
	SUBQ(U32(32), n)
	JMP(LabelRef("loop"))
	Label("done")
	for i := 0; i < nacc; i++ {
		VMOVUPD(acc[i], Mem{Base: out, Disp: 8 * per * i})
	}
	VZEROUPPER()
	RET()
}

// lanesums emits lanesumsISA(n int, a, b *float32, p *[2]float64, l
// *[64]float64): for i < n (a multiple of 32), with u = float64(a[i]) -
// p[0] and v = float64(b[i]) - p[1], l[i mod 32] += u and l[32 + i mod
// 32] += u*v, each operation rounded (no FMA), every lane in order of i
// (in the passes of lanePasses).
func lanesums(in *isa) {
	TEXT("lanesums"+in.name, NOSPLIT, "func(n int, a *float32, b *float32, p *[2]float64, l *[64]float64)")
	Pragma("noescape")
	newV := func() reg.VecVirtual { return fullVec(in) }
	pp := Load(Param("p"), GP64())
	lp := Load(Param("l"), GP64())
	su, sv := newV(), newV()
	VBROADCASTSD(Mem{Base: pp}, su)
	VBROADCASTSD(Mem{Base: pp, Disp: 8}, sv)
	var a, b reg.Register
	lanePasses(in, lp, func() reg.Register {
		n := Load(Param("n"), GP64())
		a = Load(Param("a"), GP64())
		b = Load(Param("b"), GP64())
		return n
	}, func(e int, acc1, acc2 reg.VecVirtual) {
		u, v := newV(), newV()
		VCVTPS2PD(Mem{Base: a, Disp: 4 * e}, u)
		VSUBPD(su, u, u)
		VCVTPS2PD(Mem{Base: b, Disp: 4 * e}, v)
		VSUBPD(sv, v, v)
		VADDPD(u, acc1, acc1)
		VMULPD(v, u, u)
		VADDPD(u, acc2, acc2)
	}, func() {
		ADDQ(U32(128), a)
		ADDQ(U32(128), b)
	})
	VZEROUPPER()
	RET()
}

// lanePasses emits the loop of a kernel that updates two float64 sums in
// 32 lanes each (lanesums, lnbsums) at l (register lp): element i of a
// group of 32 goes to lane i of the first sum (acc1) and of the second
// (acc2). AVX-512 covers the 32 lanes in one pass (4 + 4 zmm
// accumulators); AVX2 in two passes of 16 lanes, since its 16 ymm
// registers cannot hold 8 + 8 accumulators and the temporaries, each pass
// over the elements whose lanes it holds. Each lane adds the same values
// in the same order either way. start loads n and the kernel's pointers
// at the start of a pass; body updates the accumulators from the per
// elements at element offset e of the current group; advance moves the
// pointers to the next group.
func lanePasses(in *isa, lp reg.Register, start func() reg.Register, body func(e int, acc1, acc2 reg.VecVirtual), advance func()) {
	per := in.lanes / 2 // doubles per vector
	passes := 32 / (4 * per)
	for h := 0; h < passes; h++ {
		n := start()
		lane0 := 4 * per * h
		var acc1, acc2 [4]reg.VecVirtual
		for k := range 4 {
			acc1[k], acc2[k] = fullVec(in), fullVec(in)
			VMOVUPD(Mem{Base: lp, Disp: 8 * (lane0 + k*per)}, acc1[k])
			VMOVUPD(Mem{Base: lp, Disp: 8 * (32 + lane0 + k*per)}, acc2[k])
		}
		loop, done := fmt.Sprintf("loop%d", h), fmt.Sprintf("done%d", h)
		Label(loop)
		CMPQ(n, U32(32))
		JL(LabelRef(done))
		for k := range 4 {
			body(lane0+k*per, acc1[k], acc2[k])
		}
		advance()
		SUBQ(U32(32), n)
		JMP(LabelRef(loop))
		Label(done)
		for k := range 4 {
			VMOVUPD(acc1[k], Mem{Base: lp, Disp: 8 * (lane0 + k*per)})
			VMOVUPD(acc2[k], Mem{Base: lp, Disp: 8 * (32 + lane0 + k*per)})
		}
	}
}

// step is a pointer a whole-vectors kernel advances by bytes per vector.
type step struct {
	r     reg.Register
	bytes int
}

// vecLoop emits the loop of a kernel over whole vectors only (the Go
// side does the tail): while n holds at least a vector's lanes, body for
// one vector, then each pointer advanced by its step and n by the lanes;
// then VZEROUPPER and RET.
func vecLoop(in *isa, n reg.Register, body func(), steps ...step) {
	Label("loop")
	CMPQ(n, U32(in.lanes))
	JL(LabelRef("done"))
	body()
	for _, st := range steps {
		ADDQ(U32(st.bytes), st.r)
	}
	SUBQ(U32(in.lanes), n)
	JMP(LabelRef("loop"))
	Label("done")
	VZEROUPPER()
	RET()
}

// addwiden emits addwidenISA(n int, dst *float64, x *float32):
// dst[i] += float64(x[i]) for n a multiple of the lanes.
func addwiden(in *isa) {
	TEXT("addwiden"+in.name, NOSPLIT, "func(n int, dst *float64, x *float32)")
	Pragma("noescape")
	n := Load(Param("n"), GP64())
	dst := Load(Param("dst"), GP64())
	x := Load(Param("x"), GP64())
	per := in.lanes / 2
	newV := func() reg.VecVirtual { return fullVec(in) }
	vecLoop(in, n, func() {
		for h := 0; h < 2; h++ {
			d := newV()
			VCVTPS2PD(Mem{Base: x, Disp: 4 * per * h}, d)
			VADDPD(Mem{Base: dst, Disp: 8 * per * h}, d, d)
			VMOVUPD(d, Mem{Base: dst, Disp: 8 * per * h})
		}
	}, step{x, 4 * in.lanes}, step{dst, 8 * in.lanes})
}

// bytesaffine emits bytesaffineISA(n int, dst *float32, src *uint8, p *[2]float64):
// dst[i] = float32((float64(src[i]) - p[0]) * p[1]) for n a multiple of the
// lanes: a subtraction and a multiplication in float64, each rounded, then
// one rounding to float32, as Go computes the expression.
func bytesaffine(in *isa) {
	TEXT("bytesaffine"+in.name, NOSPLIT, "func(n int, dst *float32, src *uint8, p *[2]float64)")
	Pragma("noescape")
	n := Load(Param("n"), GP64())
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	pp := Load(Param("p"), GP64())
	per := in.lanes / 2 // doubles per vector
	// ints: per int32 lanes; dbl: per float64 lanes; out: per float32 lanes.
	ints := func() reg.VecVirtual { return XMM() }
	if in == avx512 {
		ints = func() reg.VecVirtual { return YMM() }
	}
	dbl, out, cvt := halves(in)
	off, sc := dbl(), dbl()
	VBROADCASTSD(Mem{Base: pp}, off)
	VBROADCASTSD(Mem{Base: pp, Disp: 8}, sc)
	vecLoop(in, n, func() {
		for h := 0; h < 2; h++ {
			i, d, o := ints(), dbl(), out()
			VPMOVZXBD(Mem{Base: src, Disp: per * h}, i)
			VCVTDQ2PD(i, d)
			VSUBPD(off, d, d)
			VMULPD(sc, d, d)
			cvt(d, o)
			VMOVUPS(o, Mem{Base: dst, Disp: 4 * per * h})
		}
	}, step{src, in.lanes}, step{dst, 4 * in.lanes})
}

// halves returns constructors for the registers of a kernel that widens
// float32 to float64: dbl holds per = lanes/2 doubles (a full vector), out
// the per floats they round back to (half a vector).
func halves(in *isa) (dbl, out func() reg.VecVirtual, cvt func(d, o reg.VecVirtual)) {
	if in == avx512 {
		return func() reg.VecVirtual { return ZMM() }, func() reg.VecVirtual { return YMM() },
			func(d, o reg.VecVirtual) { VCVTPD2PS(d, o) }
	}
	return func() reg.VecVirtual { return YMM() }, func() reg.VecVirtual { return XMM() },
		func(d, o reg.VecVirtual) { VCVTPD2PSY(d, o) }
}

// lnnorm emits lnnormISA(n int, y, xh, x, w, b *float32, p *[2]float64):
// for n a multiple of the lanes, with h = (float64(x[i]) - p[0]) * p[1],
// xh[i] = float32(h) and y[i] = float32(h*float64(w[i]) + float64(b[i])),
// each operation rounded in float64 (no FMA): layernorm's forward pass
// over a row, given its mean and 1/std.
func lnnorm(in *isa) {
	TEXT("lnnorm"+in.name, NOSPLIT, "func(n int, y *float32, xh *float32, x *float32, w *float32, b *float32, p *[2]float64)")
	Pragma("noescape")
	n := Load(Param("n"), GP64())
	y := Load(Param("y"), GP64())
	xh := Load(Param("xh"), GP64())
	x := Load(Param("x"), GP64())
	w := Load(Param("w"), GP64())
	b := Load(Param("b"), GP64())
	pp := Load(Param("p"), GP64())
	per := in.lanes / 2
	dbl, out, cvt := halves(in)
	mu, rstd := dbl(), dbl()
	VBROADCASTSD(Mem{Base: pp}, mu)
	VBROADCASTSD(Mem{Base: pp, Disp: 8}, rstd)
	vecLoop(in, n, func() {
		for h := 0; h < 2; h++ {
			off := 4 * per * h
			d, o := dbl(), out()
			VCVTPS2PD(Mem{Base: x, Disp: off}, d)
			VSUBPD(mu, d, d)
			VMULPD(rstd, d, d)
			cvt(d, o)
			VMOVUPS(o, Mem{Base: xh, Disp: off})
			wv, bv, o2 := dbl(), dbl(), out()
			VCVTPS2PD(Mem{Base: w, Disp: off}, wv)
			VMULPD(wv, d, d)
			VCVTPS2PD(Mem{Base: b, Disp: off}, bv)
			VADDPD(bv, d, d)
			cvt(d, o2)
			VMOVUPS(o2, Mem{Base: y, Disp: off})
		}
	}, step{y, 4 * in.lanes}, step{xh, 4 * in.lanes}, step{x, 4 * in.lanes}, step{w, 4 * in.lanes}, step{b, 4 * in.lanes})
}

// lnbsums emits lnbsumsISA(n int, dy, xh, w *float32, pg, pb *float64, l
// *[64]float64): for i < n (a multiple of 32), with g = float64(dy[i]), x
// = float64(xh[i]) and gw = g*float64(w[i]): pg[i] += g*x, pb[i] += g,
// l[i mod 32] += gw and l[32 + i mod 32] += gw*x, each operation rounded
// (no FMA), every lane in order of i: layernorm's backward sums over a row
// (its weight's and bias's gradients, and the row's two means), in the
// passes of lanePasses.
func lnbsums(in *isa) {
	TEXT("lnbsums"+in.name, NOSPLIT, "func(n int, dy *float32, xh *float32, w *float32, pg *float64, pb *float64, l *[64]float64)")
	Pragma("noescape")
	newV := func() reg.VecVirtual { return fullVec(in) }
	lp := Load(Param("l"), GP64())
	var dy, xh, w, pg, pb reg.Register
	lanePasses(in, lp, func() reg.Register {
		n := Load(Param("n"), GP64())
		dy = Load(Param("dy"), GP64())
		xh = Load(Param("xh"), GP64())
		w = Load(Param("w"), GP64())
		pg = Load(Param("pg"), GP64())
		pb = Load(Param("pb"), GP64())
		return n
	}, func(e int, acc1, acc2 reg.VecVirtual) {
		g, x, t, wv := newV(), newV(), newV(), newV()
		VCVTPS2PD(Mem{Base: dy, Disp: 4 * e}, g)
		VCVTPS2PD(Mem{Base: xh, Disp: 4 * e}, x)
		VMULPD(x, g, t)
		VADDPD(Mem{Base: pg, Disp: 8 * e}, t, t)
		VMOVUPD(t, Mem{Base: pg, Disp: 8 * e})
		VADDPD(Mem{Base: pb, Disp: 8 * e}, g, t)
		VMOVUPD(t, Mem{Base: pb, Disp: 8 * e})
		VCVTPS2PD(Mem{Base: w, Disp: 4 * e}, wv)
		VMULPD(wv, g, g)
		VADDPD(g, acc1, acc1)
		VMULPD(x, g, g)
		VADDPD(g, acc2, acc2)
	}, func() {
		for _, r := range []reg.Register{dy, xh, w} {
			ADDQ(U32(128), r)
		}
		ADDQ(U32(256), pg)
		ADDQ(U32(256), pb)
	})
	VZEROUPPER()
	RET()
}

// lnbdx emits lnbdxISA(n int, dx, dy, xh, w *float32, p *[3]float64): for
// n a multiple of the lanes, dx[i] = float32(p[0] * ((gw - p[1]) -
// float64(xh[i])*p[2])) with gw = float64(dy[i])*float64(w[i]), each
// operation rounded in float64 (no FMA): layernorm's input gradient over
// a row, given its 1/std, mean(gw) and mean(gw xh).
func lnbdx(in *isa) {
	TEXT("lnbdx"+in.name, NOSPLIT, "func(n int, dx *float32, dy *float32, xh *float32, w *float32, p *[3]float64)")
	Pragma("noescape")
	n := Load(Param("n"), GP64())
	dx := Load(Param("dx"), GP64())
	dy := Load(Param("dy"), GP64())
	xh := Load(Param("xh"), GP64())
	w := Load(Param("w"), GP64())
	pp := Load(Param("p"), GP64())
	per := in.lanes / 2
	dbl, out, cvt := halves(in)
	rstd, mg, mgx := dbl(), dbl(), dbl()
	VBROADCASTSD(Mem{Base: pp}, rstd)
	VBROADCASTSD(Mem{Base: pp, Disp: 8}, mg)
	VBROADCASTSD(Mem{Base: pp, Disp: 16}, mgx)
	vecLoop(in, n, func() {
		for h := 0; h < 2; h++ {
			off := 4 * per * h
			g, wv, x, o := dbl(), dbl(), dbl(), out()
			VCVTPS2PD(Mem{Base: dy, Disp: off}, g)
			VCVTPS2PD(Mem{Base: w, Disp: off}, wv)
			VMULPD(wv, g, g)
			VSUBPD(mg, g, g)
			VCVTPS2PD(Mem{Base: xh, Disp: off}, x)
			VMULPD(mgx, x, x)
			VSUBPD(x, g, g)
			VMULPD(rstd, g, g)
			cvt(g, o)
			VMOVUPS(o, Mem{Base: dx, Disp: off})
		}
	}, step{dx, 4 * in.lanes}, step{dy, 4 * in.lanes}, step{xh, 4 * in.lanes}, step{w, 4 * in.lanes})
}

func main() {
	tables := flag.String("tables", "../dispatch_amd64.go", "Go file receiving the kernel tables")
	ConstraintExpr("!purego")
	emitData()
	optimizers()
	maps()
	for _, in := range isas {
		sumsq(in)
		addwiden(in)
		bytesaffine(in)
		lanesums(in)
		lnnorm(in)
		lnbsums(in)
		lnbdx(in)
	}
	maxPool2x2()
	gatherRows()
	maxUnpool2x2()
	Generate()
	if err := checkAVX2(flag.Lookup("out").Value.String()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := writeTables(*tables); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// checkAVX2 fails if an AVX2 kernel uses a register that needs EVEX
// encoding (Y16..Y31, K), which an AVX2-only CPU cannot run: the register
// allocator prefers low registers but does not know about the isa.
func checkAVX2(path string) error {
	if path == "" {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	bad := regexp.MustCompile(`\b(Y(1[6-9]|2[0-9]|3[01])|X(1[6-9]|2[0-9]|3[01])|Z[0-9]+|K[1-7])\b`)
	fn := ""
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "TEXT ") {
			fn = line
			continue
		}
		if strings.Contains(fn, "AVX2") && bad.MatchString(line) {
			return fmt.Errorf("AVX2 kernel %q uses an EVEX-only register: %s", fn, line)
		}
	}
	return nil
}

// writeTables writes the dispatch functions: <family>Asm(set, [variant,]
// n, args...) calls the kernel of kernel set 1 (AVX-512) or 2 (AVX2) with
// a static call, so that escape analysis sees the kernels' noescape
// pragmas (a call through a function value would move every argument to
// the heap). A second file, for builds without the assembly, has stubs.
func writeTables(path string) error {
	var w, o bytes.Buffer
	fmt.Fprintf(&w, "// Code generated by command: go run . (internal/simd/asm). DO NOT EDIT.\n\n")
	o.Write(w.Bytes())
	pkg := flag.Lookup("pkg").Value.String()
	fmt.Fprintf(&w, "//go:build !purego\n\npackage %s\n\n", pkg)
	fmt.Fprintf(&o, "//go:build !amd64 || purego\n\npackage %s\n\n", pkg)
	type fn struct {
		name, params, args string
		variants           int
		kernel             func(in *isa, v int) string
	}
	var fns []fn
	for _, f := range families {
		params, args := "n int", "n"
		for _, p := range f.ptrs {
			params += ", " + p.name + " *float32"
			args += ", " + p.name
		}
		if f.nparams > 0 {
			params += ", p *float32"
			args += ", p"
		}
		f := f
		fns = append(fns, fn{f.name, params, args, f.variants, func(in *isa, v int) string {
			return variantName(f.name, v, f.variants) + in.name
		}})
	}
	fns = append(fns,
		fn{"sumsq", "n int, x *float32, lanes *[32]float64", "n, x, lanes", 1, func(in *isa, v int) string { return "sumsq" + in.name }},
		fn{"addwiden", "n int, dst *float64, x *float32", "n, dst, x", 1, func(in *isa, v int) string { return "addwiden" + in.name }},
		fn{"bytesaffine", "n int, dst *float32, src *uint8, p *[2]float64", "n, dst, src, p", 1, func(in *isa, v int) string { return "bytesaffine" + in.name }},
		fn{"lanesums", "n int, a *float32, b *float32, p *[2]float64, l *[64]float64", "n, a, b, p, l", 1, func(in *isa, v int) string { return "lanesums" + in.name }},
		fn{"lnnorm", "n int, y *float32, xh *float32, x *float32, w *float32, b *float32, p *[2]float64", "n, y, xh, x, w, b, p", 1, func(in *isa, v int) string { return "lnnorm" + in.name }},
		fn{"lnbsums", "n int, dy *float32, xh *float32, w *float32, pg *float64, pb *float64, l *[64]float64", "n, dy, xh, w, pg, pb, l", 1, func(in *isa, v int) string { return "lnbsums" + in.name }},
		fn{"lnbdx", "n int, dx *float32, dy *float32, xh *float32, w *float32, p *[3]float64", "n, dx, dy, xh, w, p", 1, func(in *isa, v int) string { return "lnbdx" + in.name }})
	for _, f := range fns {
		vp := ""
		if f.variants > 1 {
			vp = "variant int, "
		}
		fmt.Fprintf(&w, "func %sAsm(set int, %s%s) {\n\tswitch {\n", f.name, vp, f.params)
		fmt.Fprintf(&o, "func %sAsm(set int, %s%s) { panic(\"%s: no assembly\") }\n\n", f.name, vp, f.params, pkg)
		for si, in := range isas {
			for v := 0; v < f.variants; v++ {
				cond := fmt.Sprintf("set == %d", si+1)
				if f.variants > 1 {
					cond += fmt.Sprintf(" && variant == %d", v)
				}
				fmt.Fprintf(&w, "\tcase %s:\n\t\t%s(%s)\n", cond, f.kernel(in, v), f.args)
			}
		}
		fmt.Fprintf(&w, "\tdefault:\n\t\tpanic(\"%s: no such kernel\")\n\t}\n}\n\n", pkg)
	}
	other := strings.Replace(path, "_amd64.go", "_other.go", 1)
	if other == path {
		return fmt.Errorf("tables file %s does not end in _amd64.go", path)
	}
	for _, f := range []struct {
		path string
		src  []byte
	}{{other, o.Bytes()}, {path, w.Bytes()}} {
		src, err := format.Source(f.src)
		if err != nil {
			return err
		}
		if err := os.WriteFile(f.path, src, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// rmspropPrimary is the state stream of an RMSprop variant (bit 1:
// centered, bit 2: momentum) that decays fastest while its gradient is
// zero: the momentum buffer (times the momentum, 0.9 say) if there is
// one, else the centered mean or the square average (times alpha).
func rmspropPrimary(v int) string {
	switch {
	case v&4 != 0:
		return "b"
	case v&2 != 0:
		return "m"
	}
	return "v"
}
