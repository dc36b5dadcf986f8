package main

import (
	"strings"
	"testing"
)

func TestReport(t *testing.T) {
	in := strings.Join([]string{
		`{"Action":"run","Package":"p","Test":"TestA"}`,
		`{"Action":"pass","Package":"p","Test":"TestA"}`,
		`{"Action":"run","Package":"p","Test":"TestB"}`,
		`{"Action":"output","Package":"p","Test":"TestB","Output":"--- SKIP: TestB (0.00s)\n"}`,
		`{"Action":"output","Package":"p","Test":"TestB","Output":"    b_test.go:9: Fashion-MNIST is not installed\n"}`,
		`{"Action":"skip","Package":"p","Test":"TestB"}`,
		`{"Action":"output","Package":"p","Output":"ok  \tp\t0.1s\n"}`,
		`{"Action":"pass","Package":"p"}`,
	}, "\n")
	var b strings.Builder
	if code := run(strings.NewReader(in), &b); code != 0 {
		t.Fatalf("exit %d\n%s", code, b.String())
	}
	for _, want := range []string{"ok  \tp\t0.1s", "skipped tests (1):", "p TestB: b_test.go:9: Fashion-MNIST is not installed", "1 passed, 0 failed, 1 skipped"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, b.String())
		}
	}
	fail := `{"Action":"output","Package":"q","Test":"TestC","Output":"--- FAIL: TestC\n"}` + "\n" + `{"Action":"fail","Package":"q","Test":"TestC"}` + "\n" + `{"Action":"fail","Package":"q"}`
	b.Reset()
	if code := run(strings.NewReader(fail), &b); code != 1 || !strings.Contains(b.String(), "0 passed, 1 failed, 0 skipped") || !strings.Contains(b.String(), "--- FAIL: TestC") {
		t.Errorf("failing run: exit %d\n%s", code, b.String())
	}
	b.Reset()
	if code := run(strings.NewReader("# p\nfoo.go:1: syntax error\n"), &b); code != 1 {
		t.Errorf("build error: exit %d", code)
	}
	// A package that fails before any test (an import cycle in its tests:
	// "[setup failed]") counts as a failure in the closing line.
	setup := `{"Action":"output","Package":"s","Output":"FAIL\ts [setup failed]\n"}` + "\n" + `{"Action":"fail","Package":"s"}` + "\n" + in
	b.Reset()
	if code := run(strings.NewReader(setup), &b); code != 1 || !strings.Contains(b.String(), "1 passed, 1 failed, 1 skipped") || !strings.Contains(b.String(), "FAIL\ts [setup failed]") {
		t.Errorf("setup failure: exit %d\n%s", code, b.String())
	}
}
