// Package browsertest drives a real headless Chromium from Go tests with
// chromedp: Start finds and launches the browser with the flags this kind
// of machine needs (no sandbox as root, no GPU, no background network
// traffic to Google's hosts, a fresh profile), Screenshot captures the
// page, and Inspect tells a blank image from a drawn one.
//
// A test that needs a browser calls Start: without one it is skipped
// with a message naming what to install, except under CI (CI=true), where
// a missing browser fails the test: .ci/run installs Debian's chromium.
package browsertest

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"testing"

	"github.com/chromedp/chromedp"
)

// candidates are the browser commands Find tries, after $NETTRAIN_CHROMIUM.
var candidates = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"}

// Find returns the path of a Chromium or Chrome executable ("" when there
// is none): $NETTRAIN_CHROMIUM, else the first of chromium,
// chromium-browser, google-chrome... on $PATH.
func Find() string {
	if p := os.Getenv("NETTRAIN_CHROMIUM"); p != "" {
		return p
	}
	for _, c := range candidates {
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	return ""
}

// Options returns chromedp's allocator options for a headless browser at
// path with a window of width x height pixels.
func Options(path string, width, height int) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true), // root in a container has no user namespaces for the sandbox
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.WindowSize(width, height),
		// No UserDataDir: chromedp makes a fresh temporary profile.
	}
}

// Start launches a headless browser for the test, with a window of width
// x height pixels, and returns a context for chromedp.Run; the browser
// ends with the test. It skips the test when no browser is found, or fails
// it under CI.
func Start(t testing.TB, width, height int) context.Context {
	t.Helper()
	path := Find()
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("no Chromium or Chrome found (tried $NETTRAIN_CHROMIUM, chromium, chromium-browser, google-chrome): CI must install it (apt-get install chromium)")
		}
		t.Skip("no Chromium or Chrome found: apt-get install chromium (or set NETTRAIN_CHROMIUM) to run this browser test")
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), Options(path, width, height)...)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithErrorf(func(string, ...any) {}))
	// Start the browser now, so that a browser that cannot start fails
	// here with its message rather than in the first action. (The first
	// action's context owns the browser: no timeout on it, or the browser
	// would end with the timeout.)
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		cancelAlloc()
		t.Fatalf("cannot start %s headless: %v", path, err)
	}
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	return ctx
}

// Screenshot captures the whole page as PNG and, when path is not "",
// writes it there.
func Screenshot(ctx context.Context, path string) ([]byte, error) {
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return nil, fmt.Errorf("screenshot: %w", err)
	}
	if path != "" {
		if err := os.WriteFile(path, buf, 0o644); err != nil {
			return nil, err
		}
	}
	return buf, nil
}

// Stats describe an image: its size, how many distinct colours it has,
// and the fraction of its pixels that are not (near) white.
type Stats struct {
	Width, Height int
	Colours       int
	NonWhite      float64
}

// Inspect decodes a PNG and measures it.
func Inspect(b []byte) (Stats, error) {
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return Stats{}, err
	}
	return measure(img), nil
}

func measure(img image.Image) Stats {
	r := img.Bounds()
	s := Stats{Width: r.Dx(), Height: r.Dy()}
	seen := map[uint32]bool{}
	non := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			cr, cg, cb = cr>>8, cg>>8, cb>>8
			seen[cr<<16|cg<<8|cb] = true
			if cr < 240 || cg < 240 || cb < 240 {
				non++
			}
		}
	}
	s.Colours = len(seen)
	if n := r.Dx() * r.Dy(); n > 0 {
		s.NonWhite = float64(non) / float64(n)
	}
	return s
}
