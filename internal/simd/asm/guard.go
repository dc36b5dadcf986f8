package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// Guarded kernels: the optimizers' updates, whose state decays into the
// subnormal range where a gradient stays zero (Adam's first moment of a
// weight whose input is rarely non-zero: 5% of the MNIST MLP's after two
// epochs, in nearly half of its 16-lane vectors, since the border pixels'
// weights are strewn along every row). On x86 a float32 multiply, divide
// or square root with a subnormal operand or result takes a microcode
// assist (about 60 ns on the Emerald Rapids host, per instruction,
// against 0.2 to 5), as does an addition whose subnormal result comes
// from normal operands; additions and maxima with a subnormal operand,
// and conversions between float32 and float64, take none.
//
// So each vector of a guarded kernel is emitted in several passes:
//
//   - the probe pass loads the vector's streams and checks the values of
//     the optimizer's state for a subnormal one (or one about to become
//     subnormal, guardBelow), emitting nothing else;
//     it keeps two verdicts where there are several state streams: one
//     for the kernel's primary stream, the one that decays fastest while
//     its gradient is zero (Adam's first moment, RMSprop's momentum
//     buffer; defGuarded names it), and one for the others;
//   - when there is none, the fast pass computes in float32 from the
//     loaded registers, as a plain kernel does;
//   - else an exact pass computes as the fast one but for the
//     multiplications, divisions and square roots of values that may be
//     subnormal, done in float64 and rounded to float32 (convert both
//     halves of the vector up, operate, convert down): a product of two
//     float32 values is exact in float64, and a float64 quotient or square
//     root rounded to float32 is the float32 operation's result (double
//     rounding from 53 to 24 bits is innocuous, 53 >= 2*24+2), subnormal
//     results included. The values that may be subnormal are those loaded
//     from a state stream whose verdict sent the vector there, and what
//     products, quotients (by their dividend), sums and maxima make of
//     them; a square root of one is normal. There is one exact pass for
//     "only the primary stream", one for "any": Adam's first moment
//     alone then costs one division in float64, not two divisions and a
//     square root (which are two to four times as slow in float64 on
//     this core, and all an Adam vector's time in float32).
//
// Every pass gives the reference's bits with the MXCSR as the caller has
// it (no flush to zero): which pass runs decides the speed only, never a
// result, and so does which operations an exact pass widens.
// (NaN payloads aside, as everywhere in this package: the Go references
// let the compiler order a commutative operation's operands, x86 returns
// the first operand's NaN; the passes agree with each other there.)
// A result that underflows in the fast pass all the same (a product with a
// factor below 2^-26) takes the assist, with the right result; so does
// an operation on a subnormal weight or gradient, which the probe does
// not check.

// guardBelow is the bits of the least magnitude the probe lets through to
// the fast pass: 2^-100, so that a state value about to decay into the
// subnormal range takes an exact pass too: below it, one multiplication
// by an ordinary coefficient (a learning rate of 1e-3 is 2^-10, a decay
// 0.9) can underflow, and each such lane would cost its vector an assist
// in the fast pass, step after step, until the value is subnormal (26
// binades: 170 of Adam's steps at beta1 = 0.9). At or above it, no
// product with a factor of 2^-26 (1.5e-8) or more underflows (a product
// of two state values can: centered RMSprop's m*m from 2^-63 down takes
// the assist in the fast pass, left so). The MNIST
// MLP's optimizer after 2,000 steps: 5% faster with 2^-100 than with
// 2^-126 (float32's least normal), as fast at its first steps.
const guardBelow = uint32(127-100) << 23

// pass is the emission mode of a guarded kernel's body.
type pass int

const (
	passPlain pass = iota // a plain kernel
	passProbe             // load and check; arithmetic emits nothing
	passFast              // float32 from the probe's registers
	passExact             // multiplications, divisions, square roots in float64
)

// guarded is the state of kern for guarded kernels.
type guarded struct {
	pass pass
	// subn: probe, per lane the least of |x| bits - 1, unsigned, over the
	// primary state stream ([0]) and over the others ([1], nil if none;
	// a variant without the primary stream keeps its verdict in [0]).
	subn    [2]reg.VecVirtual
	primary reg.Register           // the primary state stream's base register (defGuarded)
	loaded  map[Mem]reg.VecVirtual // probe: the registers of the loads, for the fast pass
	halves  map[reg.VecVirtual][2]reg.VecVirtual
	checkK  [3]reg.VecVirtual // AVX-512: absMask, allOnes and subMax, broadcast once
	params  map[reg.VecVirtual]bool
	// unchecked are the streams the probe does not check, by base
	// register: the weights and the gradient, rarely subnormal (a
	// subnormal one then takes the assist, with the right result). The
	// optimizers' state decays into the subnormal range; it is checked.
	unchecked map[reg.Register]bool
	// exact pass: the streams whose values may be subnormal (hot), and
	// the registers holding values that may be (tainted).
	hot     func(base reg.Register) bool
	tainted map[reg.VecVirtual]bool
}

// isParam reports whether v is one of the body's (broadcast) parameters.
func (e *kern) isParam(v reg.VecVirtual) bool { return e.params[v] }

// guardedBody emits one vector of a guarded kernel: probe, then the fast
// pass and a jump to cont, then the exact passes at labels exact+"first"
// (only the primary state stream flagged; variants with others too) and
// exact (any), the last falling through to cont. params gives the body its
// nparams parameters.
func (e *kern) guardedBody(exact, cont string, nparams int, params func() []reg.VecVirtual, body func(p []reg.VecVirtual)) {
	e.pass, e.subn, e.loaded = passProbe, [2]reg.VecVirtual{}, map[Mem]reg.VecVirtual{}
	none := make([]reg.VecVirtual, nparams) // the probe's arithmetic emits nothing
	for i := range none {
		none[i] = e.V()
	}
	body(none)
	if e.subn[0] == nil { // no primary stream: the others' verdict is the only one
		e.subn[0], e.subn[1] = e.subn[1], nil
	}
	if e.subn[0] == nil { // no state: nothing to check (plain SGD)
		e.pass = passFast
		body(params())
		e.pass, e.loaded = passPlain, nil
		return
	}
	first := exact + "first"
	if e.subn[1] != nil {
		e.anySubnormal(e.subn[1], exact)
		e.anySubnormal(e.subn[0], first)
	} else {
		e.anySubnormal(e.subn[0], exact)
	}
	e.pass = passFast
	body(params())
	JMP(LabelRef(cont))
	exactPass := func(label string, hot func(base reg.Register) bool) {
		Label(label)
		e.pass, e.halves, e.params = passExact, map[reg.VecVirtual][2]reg.VecVirtual{}, map[reg.VecVirtual]bool{}
		e.hot, e.tainted = hot, map[reg.VecVirtual]bool{}
		p := params()
		for _, v := range p {
			e.params[v] = true
		}
		body(p)
	}
	if e.subn[1] != nil {
		exactPass(first, func(base reg.Register) bool { return base == e.primary })
		JMP(LabelRef(cont))
	}
	exactPass(exact, func(base reg.Register) bool { return !e.unchecked[base] })
	e.pass, e.loaded, e.halves, e.params, e.hot, e.tainted = passPlain, nil, nil, nil, nil, nil
}

func (e *kern) guardedLoad(m Mem) reg.VecVirtual {
	switch e.pass {
	case passProbe:
		v := e.load1(m)
		if !e.unchecked[m.Base] {
			e.checkSubnormal(v, m.Base)
		}
		e.loaded[m] = v
		return v
	case passFast:
		v, ok := e.loaded[m]
		if !ok {
			panic("guarded kernel: the fast pass loads what the probe did not")
		}
		return v
	case passExact:
		v := e.load1(m)
		if e.hot(m.Base) {
			e.tainted[v] = true
		}
		return v
	}
	return e.load1(m)
}

type fop int

const (
	opMul fop = iota
	opAdd
	opSub
	opDiv
	opSqrt // b is nil
	opMax
)

// guardedOp is d = a op b in the probe and exact passes (ok false in the
// others): the probe emits nothing and returns a placeholder; the exact
// pass multiplies, divides and takes square roots of values that may be
// subnormal in float64, everything else in float32, and follows which
// results may be subnormal.
func (e *kern) guardedOp(op fop, a, b Op) (reg.VecVirtual, bool) {
	switch e.pass {
	case passProbe:
		return e.V(), true
	case passExact:
	default:
		return nil, false
	}
	ta, tb := e.isTainted(a), b != nil && e.isTainted(b)
	var d reg.VecVirtual
	if (ta || tb) && (op == opMul || op == opDiv || op == opSqrt) {
		d = e.wideOp(op, a, b)
	} else {
		d = e.plainOp(op, a, b)
	}
	switch op {
	case opDiv: // a subnormal divisor gives a large quotient
		e.tainted[d] = ta
	case opSqrt: // at least 2^-75
	default:
		e.tainted[d] = ta || tb
	}
	return d, true
}

// isTainted reports whether a holds values that may be subnormal in the
// current exact pass.
func (e *kern) isTainted(a Op) bool {
	v, ok := a.(reg.VecVirtual)
	return ok && e.tainted[v]
}

// wideOp is d = a op b (multiplication, division or square root, b nil)
// computed in float64 and rounded to float32.
func (e *kern) wideOp(op fop, a, b Op) reg.VecVirtual {
	alo, ahi := e.wide(a)
	var blo, bhi reg.VecVirtual
	if b != nil {
		blo, bhi = e.wide(b)
	}
	half := func(x, y reg.VecVirtual) reg.VecVirtual {
		d := e.dv()
		switch op {
		case opMul:
			VMULPD(y, x, d)
		case opDiv:
			VDIVPD(y, x, d)
		case opSqrt:
			VSQRTPD(x, d)
		}
		return d
	}
	return e.join(half(alo, blo), half(ahi, bhi))
}

// dv is a register of float64 lanes for half a vector.
func (e *kern) dv() reg.VecVirtual {
	if e.is512() {
		return ZMM()
	}
	return YMM()
}

// wide is a float32 operand's two halves in float64, converted once per
// value in a pass; a parameter's (broadcast) halves are one register.
func (e *kern) wide(a Op) (lo, hi reg.VecVirtual) {
	v := e.reg(a)
	if h, ok := e.halves[v]; ok {
		return h[0], h[1]
	}
	lo = e.dv()
	if e.is512() {
		VCVTPS2PD(v.AsY(), lo)
	} else {
		VCVTPS2PD(v.AsX(), lo)
	}
	hi = lo
	if !e.isParam(v) {
		hi = e.dv()
		if e.is512() {
			h := YMM()
			VEXTRACTF64X4(U8(1), v, h)
			VCVTPS2PD(h, hi)
		} else {
			h := XMM()
			VEXTRACTF128(U8(1), v, h)
			VCVTPS2PD(h, hi)
		}
	}
	e.halves[v] = [2]reg.VecVirtual{lo, hi}
	return lo, hi
}

// join rounds two float64 halves to one float32 vector. The register is
// loaded with zeros first: avo's allocator would otherwise keep a register
// written only in part (or cleared by an XOR with itself, which it reads)
// live from the kernel's entry.
func (e *kern) join(lo, hi reg.VecVirtual) reg.VecVirtual {
	d := e.R("zero")
	if e.is512() {
		h := YMM()
		VCVTPD2PS(lo, d.AsY())
		VCVTPD2PS(hi, h)
		VINSERTF64X4(U8(1), h, d, d)
		return d
	}
	h := XMM()
	VCVTPD2PSY(lo, d.AsX())
	VCVTPD2PSY(hi, h)
	VINSERTF128(U8(1), h, d, d)
	return d
}

// checkSubnormal folds v, loaded from the stream at base, into subn[0]
// for the primary stream, subn[1] for the others: per lane the least, as unsigned integers, of |x| bits - 1,
// which is below guardBelow - 1 exactly when some loaded x was nonzero
// and below guardBelow in magnitude (a zero wraps to 0xffffffff).
func (e *kern) checkSubnormal(v reg.VecVirtual, base reg.Register) {
	g := 1
	if base == e.primary {
		g = 0
	}
	var abs, ones Op
	if e.is512() {
		abs, ones = e.checkK[0], e.checkK[1]
	} else {
		abs, ones = constant("absMask"), constant("allOnes")
	}
	t := e.and(v, abs)
	VPADDD(ones, t, t)
	if e.subn[g] == nil {
		e.subn[g] = t
		return
	}
	VPMINUD(t, e.subn[g], e.subn[g])
}

// anySubnormal jumps to label when a lane of subn saw a value that is
// subnormal or about to be (guardBelow).
func (e *kern) anySubnormal(subn reg.VecVirtual, label string) {
	if e.is512() {
		k := K()
		VPCMPUD(U8(1), e.checkK[2], subn, k) // subn < guardBelow - 1
		KORTESTW(k, k)
		JNZ(LabelRef(label))
		return
	}
	m := e.V()
	VPMINUD(constant("subMaxM1"), subn, m)
	VPCMPEQD(subn, m, m) // subn <= guardBelow - 2
	VPTEST(m, m)
	JNZ(LabelRef(label))
}
