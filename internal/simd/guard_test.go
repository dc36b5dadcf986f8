package simd

import (
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestGuardedPasses reads the generated optimizer kernels
// (kernels_amd64.s, asm/guard.go) for what their results cannot show,
// since every pass gives the same bits: which passes a vector can take,
// what each widens to float64 (division and square root in float64 are
// two to four times as slow), and the probe's threshold, 2^-100.
func TestGuardedPasses(t *testing.T) {
	src, err := os.ReadFile("kernels_amd64.s")
	if err != nil {
		t.Fatal(err)
	}
	text := string(src)
	data := map[int]uint32{} // consts<> offset -> value
	for _, m := range regexp.MustCompile(`DATA consts<>\+(\d+)\(SB\)/4, \$0x([0-9a-f]{8})`).FindAllStringSubmatch(text, -1) {
		off, _ := strconv.Atoi(m[1])
		v, _ := strconv.ParseUint(m[2], 16, 32)
		data[off] = uint32(v)
	}
	below := math.Float32bits(0x1p-100)
	// The kernels' passes, counted in the main loop (from "loop:" to
	// "tail:"): instructions of float64 arithmetic in the fast pass (from
	// the probe's last jump to "JMP next"), the primary stream's exact
	// pass ("exactfirst:") and the other one ("exact:"); -1: no such pass.
	type counts struct{ divpd, sqrtpd, mulpd int }
	for _, c := range []struct {
		kernel            string
		first, all        counts
		firstPass, twoOps bool
	}{
		// Adam: the first moment alone widens step*m and its quotient;
		// with the second moment too, its square root.
		{kernel: "adam_0", first: counts{1, 0, 2}, all: counts{1, 1, 3}, firstPass: true},
		{kernel: "adam_3", first: counts{1, 0, 2}, all: counts{1, 1, 3}, firstPass: true},
		// RMSprop with momentum: the buffer is primary; widened, its
		// products only.
		{kernel: "rmsprop_4", first: counts{0, 0, 2}, all: counts{0, 1, 3}, firstPass: true},
		// Plain SGD with momentum: one state stream, one exact pass.
		{kernel: "sgd_4", all: counts{0, 0, 2}},
	} {
		for _, isa := range []struct {
			name   string
			halves int // float64 instructions per widened operation
		}{{"AVX512", 2}, {"AVX2", 2}} {
			name := c.kernel + isa.name
			t.Run(name, func(t *testing.T) {
				start := strings.Index(text, "TEXT ·"+name+"(SB)")
				if start < 0 {
					t.Fatalf("no kernel %s", name)
				}
				body := text[start:]
				body = body[:strings.Index(body, "\ntail:")]
				// section is the text from the end of from to the start of
				// to, after it (regular expressions), "" if either is missing.
				section := func(from, to string) string {
					i := regexp.MustCompile(from).FindStringIndex(body)
					if i == nil {
						return ""
					}
					s := body[i[1]:]
					j := regexp.MustCompile(to).FindStringIndex(s)
					if j == nil {
						return ""
					}
					return s[:j[0]]
				}
				count := func(s string) counts {
					return counts{strings.Count(s, "VDIVPD"), strings.Count(s, "VSQRTPD"), strings.Count(s, "VMULPD")}
				}
				scale := func(c counts) counts {
					return counts{c.divpd * isa.halves, c.sqrtpd * isa.halves, c.mulpd * isa.halves}
				}
				probeEnd := `JNZ\s+exact\n`
				if c.firstPass {
					probeEnd = `JNZ\s+exactfirst\n`
				}
				fast := section(probeEnd, `JMP\s+next`)
				if !strings.Contains(fast, "VMOVUPS") || count(fast) != (counts{}) {
					t.Errorf("fast pass: %+v float64 operations (or no fast pass after %q)", count(fast), probeEnd)
				}
				if c.firstPass {
					if got := count(section(`\nexactfirst:`, `JMP\s+next`)); got != scale(c.first) {
						t.Errorf("primary stream's exact pass: %+v float64 instructions, want %+v", got, scale(c.first))
					}
				} else if strings.Contains(body, "exactfirst") {
					t.Errorf("a second exact pass in a kernel with one state stream")
				}
				if got := count(section(`\nexact:`, `\nnext:`)); got != scale(c.all) {
					t.Errorf("exact pass: %+v float64 instructions, want %+v", got, scale(c.all))
				}
				// The threshold: AVX2 compares with subMax - 1 (a VPMINUD
				// and a VPCMPEQD), AVX-512 with subMax, broadcast once.
				re, in, want := regexp.MustCompile(`VPMINUD\s+consts<>\+(\d+)\(SB\)`), body, below-2
				if isa.name == "AVX512" {
					re, in, want = regexp.MustCompile(`VBROADCASTSS\s+consts<>\+(\d+)\(SB\)`), body[:strings.Index(body, "\nloop:")], below-1
				}
				found := false
				for _, m := range re.FindAllStringSubmatch(in, -1) {
					off, _ := strconv.Atoi(m[1])
					found = found || data[off] == want
				}
				if !found {
					t.Errorf("the probe does not compare with %#x (2^-100's bits, %#x, less %d)", want, below, below-want)
				}
			})
		}
	}
}
