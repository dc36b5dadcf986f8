package main

import (
	"bytes"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTracePictures: trace --html and --png write the page and the
// picture beside the usual text; a file that cannot be written is an
// error of one line.
func TestTracePictures(t *testing.T) {
	dir := t.TempDir()
	html, pic := filepath.Join(dir, "trace.html"), filepath.Join(dir, "trace.png")
	s, out, errOut := streams()
	if code := Main([]string{"trace", "../../configs/cnn-worked-example.yaml", "--html", html, "--png", pic}, s); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out.String(), "== backward") {
		t.Errorf("the text trace is missing:\n%s", out)
	}
	page, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(page, []byte(`<script type="application/json" id="trace-data">{"title":"cnn-worked-example"`)) {
		t.Errorf("the page: %.300s", page)
	}
	b, err := os.ReadFile(pic)
	if err != nil {
		t.Fatal(err)
	}
	if img, err := png.Decode(bytes.NewReader(b)); err != nil || img.Bounds().Dx() < 1000 {
		t.Errorf("the PNG: %v", err)
	}

	s, _, errOut = streams()
	code := Main([]string{"trace", "../../configs/cnn-worked-example.yaml", "--html", filepath.Join(dir, "no", "trace.html")}, s)
	if msg := strings.TrimSpace(errOut.String()); code != 1 || strings.Count(msg, "\n") != 0 || !strings.Contains(msg, "trace.html") {
		t.Errorf("exit %d: %q", code, msg)
	}
}

// TestTracePicturesDigits: the page and the picture write their numbers
// with the digits the text is printed with: --digits, else trace.digits,
// else 6 (the page ignored both).
func TestTracePicturesDigits(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		digits int
		loss   string // the text's
	}{
		{nil, 6, "0.05"},
		{[]string{"--digits", "3"}, 3, "0.05"},
		{[]string{"--digits", "17"}, 17, "0.049999999999999975"},
		{[]string{"--set", "trace.digits=17"}, 17, "0.049999999999999975"},
		{[]string{"--set", "trace.digits=17", "--digits", "2"}, 2, "0.05"},
	} {
		dir := t.TempDir()
		html, pic := filepath.Join(dir, "trace.html"), filepath.Join(dir, "trace.png")
		s, out, errOut := streams()
		args := append([]string{"trace", "../../configs/learn/mlp-relu.yaml", "--html", html, "--png", pic}, tc.args...)
		if code := Main(args, s); code != 0 {
			t.Fatalf("%v: exit %d: %s", tc.args, code, errOut)
		}
		if want := "== loss half_sse = " + tc.loss + "\n"; !strings.Contains(out.String(), want) {
			t.Errorf("%v: the text lacks %q:\n%s", tc.args, want, out)
		}
		page, err := os.ReadFile(html)
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf(`,"digits":%d}</script>`, tc.digits); !bytes.Contains(page, []byte(want)) {
			t.Errorf("%v: the page's data lacks %s", tc.args, want)
		}
	}
}
