package gemm

import (
	"fmt"
	"math"

	"github.com/klauspost/cpuid/v2"
)

// CPU is what kernel selection needs to know about a processor: its
// vector features, its maker and family (which tell a full-width AVX-512
// core from one that splits a zmm operation into two 256-bit halves) and
// its per-core cache sizes, as CPUID reports them (detectCPU reads them
// through github.com/klauspost/cpuid/v2).
type CPU struct {
	Name   string // brand string, for reports
	Vendor string // "AMD", "Intel" or another maker
	Family int    // x86 family as CPUID reports it (AMD Zen 4: 25, Zen 5: 26)

	AVX512  bool // AVX-512F and AVX-512VL, with the OS saving zmm state
	AVX2FMA bool // AVX2 and FMA3

	L1D, L2 int // data cache sizes per core in bytes; 0 or less: unknown
}

// FullWidthAVX512 reports whether the core executes a 512-bit FMA in one
// pass: every Intel core with AVX-512 and AMD from Zen 5 (family 26) on.
// Zen 4 (family 25) runs AVX-512 on 256-bit units.
func (c CPU) FullWidthAVX512() bool {
	if !c.AVX512 {
		return false
	}
	switch c.Vendor {
	case "Intel":
		return true
	case "AMD":
		return c.Family >= 26
	}
	return false
}

// Selection is the kernel set and blocking chosen for a CPU, with the
// reason in words.
type Selection struct {
	Set    string // "avx512", "avx2" or "generic"
	MC, NC int    // panel height of A and block width of B, in elements
	// PackBMinRows, PackBMinK, PackBStride: op(B) = B is packed when C
	// has at least PackBMinRows rows, the product is at least PackBMinK
	// deep and B's row stride is a multiple of PackBStride elements
	// (PackBMinRows math.MaxInt: never, it is read in place).
	PackBMinRows, PackBMinK, PackBStride int
	// Dot: which C = A*B^T products take the dot-product loop nest.
	Dot DotRule
	Why string
}

// fullDeepMaxMN bounds the deep products a full-width AVX-512 core sends
// to the dot-product nest: min(m, n) up to 96 (96x256x784: dot 186
// GFLOP/s, outer 182 on Zen 5); from 128 up the outer product ties or wins
// (128x256x784: 185 against 187; 128x512x512: 180-190 against 191-203;
// 256x256x784: 186 against 193).
const fullDeepMaxMN = 96

// defaultL2 and defaultL1D stand in for cache sizes CPUID does not report.
const (
	defaultL2  = 1 << 20
	defaultL1D = 32 << 10
)

// Select chooses the kernel set and its blocking for a CPU. It is a pure
// function of the description, so that the choice for CPUs this machine is
// not can be tested (TestSelectTable). The rules, measured on the machines
// doc.go names:
//
//   - the set is the widest the CPU runs: avx512, else avx2, else generic;
//   - kc is the set's constant (256): it decides how k is cut, and so the
//     rounding, which must not depend on a cache size (the one exception:
//     the L1 size decides which deep products a full-width AVX-512 core
//     sends to the dot product, below); mc and nc only
//     decide which parts of C are computed when, never how, so they follow
//     the caches;
//   - mc: the panel of A is about the size of L2 (kc*mc*4 bytes), rounded
//     up to whole slivers, so that C of up to 1024 rows is one panel on a
//     1 MB L2 and B is packed once;
//   - nc: the packed block of B (kc*nc*4 bytes) takes a quarter of L2 on a
//     full-width AVX-512 core, which reads B twice as fast per cycle as the
//     others and keeps more of L2 for the panel of A streaming past, and
//     half of L2 elsewhere;
//   - a full-width AVX-512 core packs B when C has 256 rows or more, k is
//     at least 256 (a whole k-block) and the rows of B are a multiple of
//     4 KiB apart: read in place, such rows fall on the same cache sets
//     and pages, and 1024^3 (or n = 2048, 3072) gains 20% from packing,
//     while at other strides (n = 1000, 1536, 2000) or shallower depths
//     (400x196x32) reading in place is faster;
//   - such a core also sends C = A*B^T to the outer-product nest unless
//     it is skinny (min(m, n) <= 48: 64x10x128, 32x48x1568) or at least
//     512 deep and not big (min(m, n) <= 96, fullDeepMaxMN: 64x256x784),
//     where the dot product's 4 rows of A and 6 of B stay in L1. Its
//     blocks of k are at most dkc (1216, dotKC512) deep, which 4+6 rows
//     fill 48 KiB of L1 with: on such a core (Zen 5, Intel from Ice
//     Lake) any depth up to 4096 qualifies, on a smaller L1 only up to
//     L1D/(4*(4+6)), past which the rows stream from L2 (64x128x1568
//     in one block: outer 170 GFLOP/s, dot 135 on Zen 5). Below 512 the
//     reduction does not pay (64x512x128: 185 against 136), and from 128
//     rows up the outer product wins (128x256x2048: 189 against 161). At
//     64x128x1568, the CNN's dense layer, the dot product in two blocks
//     gives 187 against the outer product's 170 on Zen 5, and 105 to 131
//     against 89 to 94 on one Emerald Rapids core (183 to 223 against 163
//     to 177 on two). So the bits of such a product (the CNN's dense
//     layer since commit 72b126a) differ between a core with a 48 KiB L1
//     and one with 32 KiB, as they do between kernel sets;
//   - a half-width one (Zen 4) was measured faster reading B in place at
//     any size and with the dot-product nest for deep products; AVX2 packs
//     from 256 rows and keeps the dot-product nest for skinny products.
func Select(c CPU) Selection {
	l2 := c.L2
	if l2 <= 0 {
		l2 = defaultL2
	}
	s := Selection{Set: "generic", MC: 256, NC: 512, PackBMinRows: math.MaxInt, Dot: bigDot,
		Why: "no AVX2+FMA: the pure-Go kernels"}
	var mr, nr, kc int
	switch {
	case c.AVX512:
		s.Set, mr, nr, kc = "avx512", outerRows512, 32, 256
		if c.FullWidthAVX512() {
			s.NC = roundDown(l2/4/(4*kc), nr)
			s.PackBMinRows, s.PackBMinK, s.PackBStride = 256, 256, 1024
			l1 := c.L1D
			if l1 <= 0 {
				l1 = defaultL1D
			}
			deep := roundDown(l1/(4*(dotRows512+dotCols512)), 16)
			if deep >= dotKC512 {
				deep = dotMaxK // every block of k (dkc deep at most) stays in L1
			}
			s.Dot = DotRule{Skinny: 48, MinK: 512, DeepMaxK: deep, DeepMaxMN: fullDeepMaxMN}
			s.Why = "full-width AVX-512"
		} else {
			s.NC = roundDown(l2/2/(4*kc), nr)
			s.PackBMinRows, s.Dot = math.MaxInt, bigDot
			s.Why = "AVX-512 on 256-bit units"
		}
	case c.AVX2FMA:
		s.Set, mr, nr, kc = "avx2", outerRows256, 16, 256
		s.NC = roundDown(l2/2/(4*kc), nr)
		s.PackBMinRows, s.Dot = 256, dotRuleDefault
		s.Why = "AVX2+FMA"
	default:
		return s
	}
	s.MC = roundUp(l2/(4*kc), mr)
	s.MC = min(max(s.MC, 8*mr), roundUp(4096, mr))
	s.NC = min(max(s.NC, 4*nr), 2048)
	known := "L2 unknown, taken as 1 MiB"
	if c.L2 > 0 {
		known = fmt.Sprintf("L2 %d KiB", c.L2>>10)
	}
	s.Why = fmt.Sprintf("%s, %s: mc %d, nc %d", s.Why, known, s.MC, s.NC)
	return s
}

func roundDown(x, m int) int { return x / m * m }

// tuned returns a copy of the kernel set with the blocking of sel.
func (ks *kernelSet) tuned(sel Selection) *kernelSet {
	t := *ks
	if sel.Set != ks.name { // keep the set's built-in blocking
		t.sel = Selection{Set: t.name, MC: t.mc, NC: t.nc, PackBMinRows: t.packBMinRows, PackBMinK: t.packBMinK,
			PackBStride: t.packBStride, Dot: t.dotRule, Why: "the set's built-in blocking"}
		return &t
	}
	t.sel = sel
	t.mc, t.nc = sel.MC, sel.NC
	t.packBMinRows, t.packBMinK, t.packBStride, t.dotRule = sel.PackBMinRows, sel.PackBMinK, sel.PackBStride, sel.Dot
	return &t
}

// The outer-product tile heights of the assembly sets (asm/main.go), for
// Select on every build; kernels_select_amd64.go checks them against the
// generated tables.
const (
	outerRows512 = 12
	outerRows256 = 6
	dotRows512   = 4
	dotCols512   = 6
	dotKC512     = 1216 // the avx512 set's dkc: blocks of 4+6 rows fit a 48 KiB L1
)

// detectCPU describes the machine it runs on.
func detectCPU() CPU {
	c := cpuid.CPU
	d := CPU{
		Name:    c.BrandName,
		Family:  c.Family,
		AVX512:  c.Supports(cpuid.AVX512F, cpuid.AVX512VL),
		AVX2FMA: c.Supports(cpuid.AVX2, cpuid.FMA3),
		L1D:     c.Cache.L1D,
		L2:      c.Cache.L2,
	}
	switch c.VendorID {
	case cpuid.AMD:
		d.Vendor = "AMD"
	case cpuid.Intel:
		d.Vendor = "Intel"
	default:
		d.Vendor = c.VendorString
	}
	return d
}

// hostCPU is this machine, read once.
var hostCPU = detectCPU()

// HostCPU describes this machine as kernel selection sees it.
func HostCPU() CPU { return hostCPU }
