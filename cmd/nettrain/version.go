package main

import (
	"runtime/debug"
)

// version is what `nettrain --version` prints: the module version and the
// commit nettrain was built from, as the Go toolchain recorded them in the
// binary; "devel" when it recorded neither.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	return versionOf(bi)
}

// versionOf reads the version out of build info: the main module's version
// (a tag, or a pseudo-version of the commit; "devel" for "(devel)" or
// none), then the commit (vcs.revision, 12 digits) and whether the tree had
// uncommitted changes (vcs.modified).
func versionOf(bi *debug.BuildInfo) string {
	v := bi.Main.Version
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev == "" {
		return v
	}
	v += " (commit " + rev[:min(len(rev), 12)]
	if modified == "true" {
		v += ", modified"
	}
	return v + ")"
}
