package main

import (
	"runtime/debug"
	"strings"
	"testing"
)

// TestVersionOf: the module version, else devel, with the commit and
// whether the tree was modified when the build recorded them.
func TestVersionOf(t *testing.T) {
	const rev = "0123456789abcdef0123456789abcdef01234567"
	for _, tc := range []struct {
		version  string
		settings map[string]string
		want     string
	}{
		{"", nil, "devel"},
		{"(devel)", nil, "devel"},
		{"v1.2.0", nil, "v1.2.0"},
		{"(devel)", map[string]string{"vcs.revision": rev, "vcs.modified": "false"}, "devel (commit 0123456789ab)"},
		{"(devel)", map[string]string{"vcs.revision": rev, "vcs.modified": "true"}, "devel (commit 0123456789ab, modified)"},
		{"v0.0.0-20260101000000-0123456789ab", map[string]string{"vcs.revision": rev}, "v0.0.0-20260101000000-0123456789ab (commit 0123456789ab)"},
		{"(devel)", map[string]string{"vcs.revision": "abc"}, "devel (commit abc)"},
		{"(devel)", map[string]string{"vcs.modified": "true"}, "devel"},
	} {
		bi := &debug.BuildInfo{Main: debug.Module{Path: "github.com/nettrain/nettrain", Version: tc.version}}
		for k, v := range tc.settings {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: k, Value: v})
		}
		if got := versionOf(bi); got != tc.want {
			t.Errorf("%q %v: %q, want %q", tc.version, tc.settings, got, tc.want)
		}
	}
}

// TestVersionFlag: nettrain --version (and -v) prints one line and exits
// 0, even when NETTRAIN_GEMM_KERNELS names no kernels this machine runs.
func TestVersionFlag(t *testing.T) {
	t.Setenv("NETTRAIN_GEMM_KERNELS", "nonesuch")
	for _, args := range [][]string{{"--version"}, {"-v"}} {
		s, out, errOut := streams()
		code := Main(args, s)
		if got := out.String(); code != exitOK || got != "nettrain version "+version()+"\n" || errOut.Len() > 0 || strings.Count(got, "\n") != 1 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 0 and %q", args, code, got, errOut, "nettrain version "+version()+"\n")
		}
	}
}
