// Package testutil holds helpers shared by the tests of several packages.
// Nothing outside tests imports it.
package testutil

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/viper"

	"github.com/nettrain/nettrain/internal/model"
)

// LoadConfig writes src as dir/c.yaml and decodes it with the overrides
// sets (key=value), failing the test on an error.
func LoadConfig(t testing.TB, dir, src string, sets ...string) *model.Config {
	t.Helper()
	path := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := model.Parse(path, []byte(src), sets, viper.New())
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// NeedData skips a test whose data cannot be had here (a Debian package not
// installed, no module proxy), saying why; in CI (CI=true), where .ci/run
// installs that data, it fails instead, so a missing install is never a
// silent skip.
func NeedData(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI: "+format, args...)
	}
	t.Skipf(format, args...)
}
