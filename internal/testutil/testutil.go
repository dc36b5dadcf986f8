// Package testutil holds helpers shared by the tests of several packages.
// Nothing outside tests imports it.
package testutil

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/metrics"
	"testing"
	"time"

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

// Bounded runs fn and keeps a failure of it bounded: it fails the test
// when fn has not returned after timeout (a read that blocks), and it
// crashes the test binary, rather than the machine, when the heap grows
// by more than maxHeap while fn runs (a read that never ends). A goroutine
// stuck in a blocking call stays behind until the test binary exits.
func Bounded(t *testing.T, timeout time.Duration, maxHeap uint64, fn func()) {
	t.Helper()
	done := make(chan struct{})
	base := heapBytes()
	go func() {
		defer close(done)
		fn()
	}()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	deadline := time.After(timeout)
	for {
		select {
		case <-done:
			return
		case <-deadline:
			t.Fatalf("still running after %v: the reader blocks or reads without end", timeout)
		case <-tick.C:
			if h := heapBytes(); h > base+maxHeap {
				panic(fmt.Sprintf("%s: the heap grew by %d bytes while reading: a read without end (stopped here, before it takes the machine down)", t.Name(), h-base))
			}
		}
	}
}

// heapBytes returns the bytes of live and not yet swept heap objects,
// without stopping the world.
func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
