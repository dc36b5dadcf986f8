package gemm

import (
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
)

// selectCases are the CPUs the selection table is tested on: the machine
// kinds nettrain is measured on and the ones it must not lose on.
var selectCases = []struct {
	name string
	cpu  CPU
	want Selection
}{
	{"Zen 5 (EPYC 9005)", CPU{Vendor: "AMD", Family: 26, AVX512: true, AVX2FMA: true, L1D: 48 << 10, L2: 1 << 20},
		Selection{Set: "avx512", MC: 1032, NC: 256, PackBMinRows: 256, PackBMinK: 256, PackBStride: 1024, Dot: fullDot(dotMaxK)}},
	{"Zen 4 (EPYC 9004), AVX-512 on 256-bit units", CPU{Vendor: "AMD", Family: 25, AVX512: true, AVX2FMA: true, L1D: 32 << 10, L2: 1 << 20},
		Selection{Set: "avx512", MC: 1032, NC: 512, PackBMinRows: math.MaxInt, Dot: bigDot}},
	{"Sapphire Rapids, 2 MiB L2", CPU{Vendor: "Intel", Family: 6, AVX512: true, AVX2FMA: true, L1D: 48 << 10, L2: 2 << 20},
		Selection{Set: "avx512", MC: 2052, NC: 512, PackBMinRows: 256, PackBMinK: 256, PackBStride: 1024, Dot: fullDot(dotMaxK)}},
	{"Skylake-SP, 1 MiB L2", CPU{Vendor: "Intel", Family: 6, AVX512: true, AVX2FMA: true, L1D: 32 << 10, L2: 1 << 20},
		Selection{Set: "avx512", MC: 1032, NC: 256, PackBMinRows: 256, PackBMinK: 256, PackBStride: 1024, Dot: fullDot(816)}},
	{"unknown maker with AVX-512: taken as half width", CPU{Vendor: "Other", Family: 7, AVX512: true, AVX2FMA: true, L2: 1 << 20},
		Selection{Set: "avx512", MC: 1032, NC: 512, PackBMinRows: math.MaxInt, Dot: bigDot}},
	{"Zen 3, AVX2 only, 512 KiB L2", CPU{Vendor: "AMD", Family: 25, AVX2FMA: true, L1D: 32 << 10, L2: 512 << 10},
		Selection{Set: "avx2", MC: 516, NC: 256, PackBMinRows: 256, Dot: dotRuleDefault}},
	{"Haswell, 256 KiB L2", CPU{Vendor: "Intel", Family: 6, AVX2FMA: true, L1D: 32 << 10, L2: 256 << 10},
		Selection{Set: "avx2", MC: 258, NC: 128, PackBMinRows: 256, Dot: dotRuleDefault}},
	{"caches not reported: 32 KiB L1D and 1 MiB L2 assumed", CPU{Vendor: "AMD", Family: 26, AVX512: true, AVX2FMA: true, L2: -1},
		Selection{Set: "avx512", MC: 1032, NC: 256, PackBMinRows: 256, PackBMinK: 256, PackBStride: 1024, Dot: fullDot(816)}},
	{"tiny L2: clamped to 8 slivers and 4 tiles", CPU{Vendor: "Intel", Family: 6, AVX2FMA: true, L2: 16 << 10},
		Selection{Set: "avx2", MC: 48, NC: 64, PackBMinRows: 256, Dot: dotRuleDefault}},
	{"no AVX2: pure Go", CPU{Vendor: "Intel", Family: 6, L2: 1 << 20},
		Selection{Set: "generic", MC: 256, NC: 512, PackBMinRows: math.MaxInt, Dot: bigDot}},
}

// fullDot is the full-width AVX-512 rule with its L1-derived depth limit.
func fullDot(deepMaxK int) DotRule {
	return DotRule{Skinny: 48, MinK: 512, DeepMaxK: deepMaxK, DeepMaxMN: 96}
}

func TestSelectTable(t *testing.T) {
	for _, tc := range selectCases {
		t.Run(tc.name, func(t *testing.T) {
			got := Select(tc.cpu)
			if got.Why == "" {
				t.Errorf("no reason given")
			}
			got.Why = ""
			if got != tc.want {
				t.Errorf("Select = %+v\nwant       %+v", got, tc.want)
			}
			if got.MC%map[string]int{"avx512": outerRows512, "avx2": outerRows256, "generic": 4}[got.Set] != 0 {
				t.Errorf("mc %d is not a whole number of slivers", got.MC)
			}
		})
	}
}

// TestHostSelection: the active set is the one Select names for this
// machine, with its blocking.
func TestHostSelection(t *testing.T) {
	if os.Getenv(KernelsEnv) != "" {
		t.Skipf("%s is set: the active kernels are the ones it names", KernelsEnv)
	}
	sel := Select(hostCPU)
	t.Logf("this machine: %+v -> %s", hostCPU, sel.Why)
	if KernelName() != sel.Set {
		found := false
		for _, ks := range supportedKernels() {
			found = found || ks.name == sel.Set
		}
		if found {
			t.Fatalf("KernelName() = %q, Select chose %q", KernelName(), sel.Set)
		}
	}
	got := KernelSelection()
	if got.Set == sel.Set && (got.MC != sel.MC || got.NC != sel.NC || got.PackBMinRows != sel.PackBMinRows || got.Dot != sel.Dot) {
		t.Fatalf("active blocking %+v, Select gave %+v", got, sel)
	}
}

// TestEverySelectionMatchesRef runs, for every row of the selection table
// whose kernel set this machine can execute, products that take each of
// that row's code paths (dot product, B packed because of its 4 KiB stride
// or read in place, several panels of A, several blocks of B) against the
// pure-Go reference, on 1 and 3 threads with the same bits.
func TestEverySelectionMatchesRef(t *testing.T) {
	if testing.Short() {
		t.Skip("large products")
	}
	pools := map[int]*Parallel{}
	for _, th := range []int{1, 3} {
		p, stop := newParallel(th)
		defer stop()
		pools[th] = p
	}
	shapes := []gemmCase{
		{m: 260, n: 1024, k: 260, alpha: 1, beta: 0},                              // ldb = 1024: packed on full-width AVX-512
		{m: 260, n: 1000, k: 260, alpha: 1, beta: 0.5},                            // read in place
		{m: 1100, n: 40, k: 270, alpha: 1, beta: 0, padA: 1},                      // two panels of A at mc = 1032
		{tA: true, m: 270, n: 600, k: 260, alpha: -1, beta: 1, padC: 3},           // A^T in place, B wider than nc
		{tB: true, m: 300, n: 300, k: 300, alpha: 1, beta: 0},                     // C = A*B^T, big: outer or dot by the rule
		{tB: true, m: 64, n: 256, k: 784, alpha: 1, beta: 0},                      // skinny: dot everywhere
		{tB: true, m: 32, n: 48, k: 2500, alpha: 1, beta: 0.5},                    // skinny and deep: dot in k-blocks on AVX-512
		{tB: true, m: 64, n: 128, k: 1568, alpha: 1, beta: 0.5},                   // deep: dot in k-blocks on a 48 KiB L1, outer on 32 KiB
		{tA: true, tB: true, m: 33, n: 530, k: 257, alpha: 0.5, beta: 2, padB: 2}, // both transposed
	}
	seen := map[Selection]bool{}
	for _, sc := range selectCases {
		if seen[sc.want] {
			continue // the same blocking as an earlier row
		}
		seen[sc.want] = true
		t.Run(sc.name, func(t *testing.T) {
			ks := selectKernels(sc.cpu)
			if ks.name != sc.want.Set {
				t.Skipf("this machine cannot run the %s kernels", sc.want.Set)
			}
			defer useKernelSet(ks)()
			rng := rand.New(rand.NewPCG(5, 6))
			for _, tc := range shapes {
				o := newOperands(rng, tc)
				c0 := append([]float32(nil), o.c...)
				var first []float32
				for _, th := range []int{1, 3} {
					got := append([]float32(nil), c0...)
					pools[th].Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, o.a, o.lda, o.b, o.ldb, tc.beta, got, o.ldc)
					if first == nil {
						check(t, tc, o, c0, got)
						first = got
						continue
					}
					for i := range got {
						if math.Float32bits(got[i]) != math.Float32bits(first[i]) {
							t.Fatalf("%+v: 3 threads differ from 1 at C[%d]", tc, i)
						}
					}
				}
			}
		})
	}
}

// TestBlockingKeepsBits: within one kernel set and loop nest, the blocking
// a CPU's caches choose (mc, nc, which operands are packed) decides only
// which parts of C are computed when, never how, so two machines with the
// same kernels but different caches compute the same bits.
func TestBlockingKeepsBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, set := range []string{"avx512", "avx2", "generic"} {
		var rows []*kernelSet
		for _, sc := range selectCases {
			if ks := selectKernels(sc.cpu); ks.name == set && sc.want.Set == set {
				rows = append(rows, ks)
			}
		}
		if len(rows) < 2 {
			continue
		}
		for _, tc := range []gemmCase{
			{m: 1100, n: 1024, k: 530, alpha: 1, beta: 0.5},
			{tA: true, m: 700, n: 300, k: 600, alpha: 1, beta: 0},
		} {
			o := newOperands(rng, tc)
			var first []float32
			for i, ks := range rows {
				restore := useKernelSet(ks)
				got := append([]float32(nil), o.c...)
				Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, o.a, o.lda, o.b, o.ldb, tc.beta, got, o.ldc)
				restore()
				if i == 0 {
					first = got
					continue
				}
				for j := range got {
					if math.Float32bits(got[j]) != math.Float32bits(first[j]) {
						t.Fatalf("%s, %+v: blocking mc=%d nc=%d gives other bits than mc=%d nc=%d at C[%d]",
							set, tc, ks.mc, ks.nc, rows[0].mc, rows[0].nc, j)
					}
				}
			}
		}
	}
}

// TestPlanFollowsSelection: the shapes TestEverySelectionMatchesRef uses
// do take the paths the selection table promises.
func TestPlanFollowsSelection(t *testing.T) {
	zen5, zen4, skx := selectKernels(selectCases[0].cpu), selectKernels(selectCases[1].cpu), selectKernels(selectCases[3].cpu)
	if zen5.name != "avx512" {
		t.Skip("no AVX-512 kernels here")
	}
	for _, tc := range []struct {
		name         string
		ks           *kernelSet
		tA, tB       bool
		m, n, k, ldb int
		dot, packB   bool
	}{
		{"zen5 NN ldb 1024: B packed", zen5, false, false, 260, 1024, 260, 1024, false, true},
		{"zen5 NN ldb 1000: B in place", zen5, false, false, 260, 1000, 260, 1000, false, false},
		{"zen5 NN shallow: B in place", zen5, false, false, 400, 1024, 32, 1024, false, false},
		{"zen5 NT big: outer product", zen5, false, true, 300, 300, 300, 300, false, true},
		{"zen5 NT in L1 depth: dot product", zen5, false, true, 64, 256, 784, 784, true, false},
		{"zen5 NT in L1 depth, 96 rows: dot product", zen5, false, true, 96, 256, 784, 784, true, false},
		{"zen5 NT in L1 depth, 128 rows: outer product", zen5, false, true, 128, 256, 784, 784, false, true},
		{"zen4 NT in L1 depth, 256 rows: dot product", zen4, false, true, 256, 256, 784, 784, true, false},
		{"zen5 NT deep, in blocks that fit L1: dot product", zen5, false, true, 64, 128, 1568, 1568, true, false},
		{"zen5 NT deeper than 4096: outer product", zen5, false, true, 64, 128, 4097, 4097, false, true},
		{"zen5 NT deep, 97 rows: outer product", zen5, false, true, 97, 128, 1568, 1568, false, true},
		{"skylake NT deeper than L1: outer product", skx, false, true, 64, 128, 1568, 1568, false, true},
		{"skylake NT in L1 depth: dot product", skx, false, true, 64, 128, 800, 800, true, false},
		{"zen5 NT shallow: outer product", zen5, false, true, 64, 512, 128, 128, false, true},
		{"zen5 NT skinny and deep: dot product", zen5, false, true, 32, 48, 1568, 1568, true, false},
		{"zen4 NN ldb 1024: B in place", zen4, false, false, 260, 1024, 260, 1024, false, false},
		{"zen4 NT big: dot product", zen4, false, true, 300, 300, 300, 300, true, false},
	} {
		p := makePlan(tc.ks, tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.ldb)
		if p.dot != tc.dot || (!p.dot && p.packB != tc.packB) {
			t.Errorf("%s: plan dot=%v packB=%v, want dot=%v packB=%v", tc.name, p.dot, p.packB, tc.dot, tc.packB)
		}
	}
}

// TestEnvKernels: NETTRAIN_GEMM_KERNELS picks a set this machine runs,
// with the blocking Select gives a CPU without the features above it, and
// anything else keeps the default and says what was expected.
func TestEnvKernels(t *testing.T) {
	def := selectKernels(hostCPU)
	for _, tc := range []struct {
		value, set, err string
	}{
		{"", def.name, ""},
		{"generic", "generic", ""},
		{"avx2", "avx2", ""},
		{"AVX2", def.name, `NETTRAIN_GEMM_KERNELS="AVX2": not a kernel set this machine runs; want one of `},
		{"avx1024", def.name, `NETTRAIN_GEMM_KERNELS="avx1024": not a kernel set this machine runs; want one of `},
	} {
		if tc.value == "avx2" && !slices.ContainsFunc(supportedKernels(), func(ks *kernelSet) bool { return ks.name == "avx2" }) {
			tc.set, tc.err = def.name, `NETTRAIN_GEMM_KERNELS="avx2": not a kernel set`
		}
		ks, err := envKernels(tc.value)
		if ks.name != tc.set || ks.sel.Set != tc.set {
			t.Errorf("%q: set %s (selection %s), want %s", tc.value, ks.name, ks.sel.Set, tc.set)
		}
		// The blocking Select gives a CPU with this one's caches and
		// only the features of the named set.
		narrow := CPU{Vendor: hostCPU.Vendor, Family: hostCPU.Family, L1D: hostCPU.L1D, L2: hostCPU.L2, AVX2FMA: tc.set == "avx2"}
		if tc.set != def.name && (ks.sel != Select(narrow) || ks.mc != ks.sel.MC || ks.nc != ks.sel.NC) {
			t.Errorf("%q: blocking %+v (mc %d, nc %d), want %+v", tc.value, ks.sel, ks.mc, ks.nc, Select(narrow))
		}
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%q: %v", tc.value, err)
		case tc.err != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.err) || !strings.HasSuffix(err.Error(), "or unset for "+def.name)):
			t.Errorf("%q: error %v, want %q ... or unset for %s", tc.value, err, tc.err, def.name)
		case err != nil && !strings.Contains(err.Error(), "generic"):
			t.Errorf("%q: error %v does not list the sets", tc.value, err)
		}
	}
}
