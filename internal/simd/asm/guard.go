package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// Guarded kernels: the optimizers' updates, whose state decays into the
// subnormal range where a gradient stays zero (Adam's first moment of a
// weight whose input is rarely non-zero: 5% of the MNIST MLP's after two
// epochs). On x86 a float32 multiply, divide or square root with a
// subnormal operand or result takes a microcode assist (about 60 ns here,
// per instruction, against 3 to 4), while additions, maxima and
// conversions between float32 and float64 take none.
//
// So each vector of a guarded kernel is emitted three times:
//
//   - the probe pass loads the vector's streams and checks the values of
//     the optimizer's state for a subnormal one, emitting nothing else;
//   - when there is none, the fast pass computes in float32 from the
//     loaded registers, as a plain kernel does;
//   - else the exact pass computes as the fast one but for its
//     multiplications, divisions and square roots, done in float64 and
//     rounded to float32 (convert both halves of the vector up, operate,
//     convert down): a product of two float32 values is exact in float64,
//     and a float64 quotient or square root rounded to float32 is the
//     float32 operation's result (double rounding from 53 to 24 bits is
//     innocuous, 53 >= 2*24+2), subnormal results included.
//
// Both passes give the reference's bits with the MXCSR as the caller has
// it (no flush to zero): the check decides the speed only, never a result.
// (NaN payloads aside, as everywhere in this package: the Go references
// let the compiler order a commutative operation's operands, x86 returns
// the first operand's NaN; the two passes agree with each other there.)
// A result that underflows from operands that are not subnormal (a value
// entering the subnormal range) takes the assist in the fast pass, once:
// the next update loads it, subnormal, and takes the exact pass.

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
	pass   pass
	subn   reg.VecVirtual         // probe: per lane the least of |x| bits - 1, unsigned
	loaded map[Mem]reg.VecVirtual // probe: the registers of the loads, for the fast pass
	halves map[reg.VecVirtual][2]reg.VecVirtual
	checkK [2]reg.VecVirtual // AVX-512: absMask and allOnes, broadcast once
	params map[reg.VecVirtual]bool
	// unchecked are the streams the probe does not check, by base
	// register: the weights and the gradient, rarely subnormal (a
	// subnormal one then takes the assist, with the right result). The
	// optimizers' state decays into the subnormal range; it is checked.
	unchecked map[reg.Register]bool
}

// isParam reports whether v is one of the body's (broadcast) parameters.
func (e *kern) isParam(v reg.VecVirtual) bool { return e.params[v] }

// guardedBody emits one vector of a guarded kernel: probe, then the fast
// pass and a jump to cont, then at label exact the exact pass, which falls
// through to cont. params gives the body its nparams parameters.
func (e *kern) guardedBody(exact, cont string, nparams int, params func() []reg.VecVirtual, body func(p []reg.VecVirtual)) {
	e.pass, e.subn, e.loaded = passProbe, nil, map[Mem]reg.VecVirtual{}
	none := make([]reg.VecVirtual, nparams) // the probe's arithmetic emits nothing
	for i := range none {
		none[i] = e.V()
	}
	body(none)
	if e.subn == nil { // no state: nothing to check (plain SGD)
		e.pass = passFast
		body(params())
		e.pass, e.loaded = passPlain, nil
		return
	}
	e.anySubnormal(exact)
	e.pass = passFast
	body(params())
	JMP(LabelRef(cont))
	Label(exact)
	e.pass, e.halves, e.params = passExact, map[reg.VecVirtual][2]reg.VecVirtual{}, map[reg.VecVirtual]bool{}
	p := params()
	for _, v := range p {
		e.params[v] = true
	}
	body(p)
	e.pass, e.loaded, e.halves, e.params = passPlain, nil, nil, nil
}

func (e *kern) guardedLoad(m Mem) reg.VecVirtual {
	switch e.pass {
	case passProbe:
		v := e.load1(m)
		if !e.unchecked[m.Base] {
			e.checkSubnormal(v)
		}
		e.loaded[m] = v
		return v
	case passFast:
		v, ok := e.loaded[m]
		if !ok {
			panic("guarded kernel: the fast pass loads what the probe did not")
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
// others, and for the exact pass's float32 operations): the probe emits
// nothing and returns a placeholder; the exact pass multiplies, divides
// and takes square roots in float64.
func (e *kern) guardedOp(op fop, a, b Op) (reg.VecVirtual, bool) {
	switch {
	case e.pass == passProbe:
		return e.V(), true
	case e.pass != passExact || (op != opMul && op != opDiv && op != opSqrt):
		return nil, false
	}
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
	return e.join(half(alo, blo), half(ahi, bhi)), true
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

// checkSubnormal folds v into sub: per lane the least, as unsigned
// integers, of |x| bits - 1, which is below 0x7fffff exactly when some
// loaded x was subnormal (a zero wraps to 0xffffffff).
func (e *kern) checkSubnormal(v reg.VecVirtual) {
	var abs, ones Op
	if e.is512() {
		abs, ones = e.checkK[0], e.checkK[1]
	} else {
		abs, ones = constant("absMask"), constant("allOnes")
	}
	t := e.and(v, abs)
	VPADDD(ones, t, t)
	if e.subn == nil {
		e.subn = t
		return
	}
	VPMINUD(t, e.subn, e.subn)
}

// anySubnormal jumps to label when a lane of sub saw a subnormal value.
func (e *kern) anySubnormal(label string) {
	if e.is512() {
		k := K()
		VPCMPUD(U8(1), e.C("subMax"), e.subn, k) // sub < 0x7fffff
		KORTESTW(k, k)
		JNZ(LabelRef(label))
		return
	}
	m := e.V()
	VPMINUD(constant("subMaxM1"), e.subn, m)
	VPCMPEQD(e.subn, m, m) // sub <= 0x7ffffe
	VPTEST(m, m)
	JNZ(LabelRef(label))
}
