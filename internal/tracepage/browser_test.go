package tracepage

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/nettrain/nettrain/internal/browsertest"
)

// scriptErrors collects the page's uncaught exceptions, console errors
// and warnings, and the browser log's errors.
type scriptErrors struct {
	mu   sync.Mutex
	errs []string
}

func (s *scriptErrors) listen(t *testing.T, ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			switch m.Type {
			case chromedp.ConsoleError, chromedp.ConsoleWarning, chromedp.ConsoleException:
				s.mu.Lock()
				s.errs = append(s.errs, m.String()+" ("+m.URL+":"+strconv.FormatInt(m.Line+1, 10)+")")
				s.mu.Unlock()
			}
		}
	}()
}

// take returns the messages so far and forgets them.
func (s *scriptErrors) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.errs
	s.errs = nil
	return e
}

func (s *scriptErrors) get() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.errs...)
}

func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// hover moves the mouse over a point the expression gives ([x, y] in the
// viewport, after scrolling it into view) and returns the tooltip's text.
func hover(t *testing.T, ctx context.Context, point string) string {
	t.Helper()
	xy := eval[[]float64](t, ctx, point)
	if len(xy) != 2 {
		t.Fatalf("%s: %v", point, xy)
	}
	if err := chromedp.Do(ctx, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, xy[0], xy[1])); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if eval[bool](t, ctx, `document.getElementById("tip").hidden`) {
		t.Fatalf("no tooltip at %v (%s)", xy, point)
	}
	return eval[string](t, ctx, `document.getElementById("tip").textContent`)
}

// cellPoint is JavaScript for the viewport point of cell (x, y) of the
// grid (in cells, gaps included) of a canvas of tw x th cells, after
// scrolling it into view.
func cellPoint(selector string, x, y, tw, th int) string {
	return fmt.Sprintf(`(() => { const c = document.querySelector(%q); c.scrollIntoView({block: "center"});
		const r = c.getBoundingClientRect(); return [r.left + (%d + 0.5) * r.width / %d, r.top + (%d + 0.5) * r.height / %d]; })()`,
		selector, x, tw, y, th)
}

// openPage writes the trace page of a config, opens it in the browser and
// checks that it rendered without script errors.
func openPage(t *testing.T, ctx context.Context, errs *scriptErrors, path string, samples int) {
	t.Helper()
	cfg, tr := traceOf(t, path, samples)
	file := filepath.Join(t.TempDir(), "trace.html")
	if err := WriteFiles(cfg, tr, file, ""); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+file)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !eval[bool](t, ctx, `window.traceReady === true`) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: the page did not finish drawing; script errors: %q", path, errs.get())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("section.layer").length`); n != len(tr.Layers)+2 {
		t.Errorf("%s: %d sections, want %d (input, layers, loss)", path, n, len(tr.Layers)+2)
	}
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void]("window.scrollTo(0, 0)"))
	path := filepath.Join(t.TempDir(), name)
	if dir := os.Getenv("NETTRAIN_SCREENSHOT_DIR"); dir != "" {
		path = filepath.Join(dir, name)
	}
	shot, err := browsertest.Screenshot(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := browsertest.Inspect(shot)
	if err != nil {
		t.Fatal(err)
	}
	if st.Width < 1000 || st.Height < 1000 || st.Colours < 64 || st.NonWhite < 0.03 {
		t.Errorf("%s: the screenshot looks blank: %+v", name, st)
	}
	t.Logf("screenshot %s: %+v", path, st)
}

// TestPageInBrowser opens the trace page of the worked example and of a
// CNN with overlapping max pooling in headless Chromium: it renders with
// no script error, hovering shows values with their formulas (the
// convolution's sum, the gradients overlapping windows add up), the sample
// selector redraws, and screenshots are not blank.
// NETTRAIN_SCREENSHOT_DIR=dir keeps the screenshots (the README's
// docs/trace-page.png is trace-cnn-worked-example.png, hovered).
func TestPageInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("a browser test (-short)")
	}
	ctx := browsertest.Start(t, 1400, 1000)
	var errs scriptErrors
	errs.listen(t, ctx)

	// The worked example.
	openPage(t, ctx, &errs, workedExample, 1)
	// The listener hears the page: a probe error arrives.
	eval[bool](t, ctx, `(console.error("probe"), true)`)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if e := errs.get(); len(e) > 0 {
			if len(e) != 1 || !strings.Contains(e[0], "probe") {
				t.Errorf("script errors: %q", e)
			}
			errs.take()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the console listener heard no probe error")
		}
	}
	// z[0,1,1] of the convolution: its four products and the bias.
	tip := hover(t, ctx, cellPoint(`section[data-layer="0"] canvas[data-q="y"]`, 1, 1, 4, 4))
	for _, want := range []string{"z[0,1,1] = 1.5", "1·3 + (-1)·2 + 0.5·2 + 0·1 + (-0.5)"} {
		if !strings.Contains(tip, want) {
			t.Errorf("the conv output's tooltip lacks %q:\n%s", want, tip)
		}
	}
	// The sigmoid's delta: dL/dy · y(1 − y).
	tip = hover(t, ctx, cellPoint(`section[data-layer="5"] canvas[data-q="gx"]`, 0, 0, 2, 1))
	for _, want := range []string{"dL/dz[0] = -0.0591", "δ = dL/dz = dL/dy · y(1 − y)", "(-0.288136) · 0.711864·(1 − 0.711864)"} {
		if !strings.Contains(tip, want) {
			t.Errorf("the sigmoid's tooltip lacks %q:\n%s", want, tip)
		}
	}
	// The gradient the pooling passes below at (1,1), its window's maximum.
	tip = hover(t, ctx, cellPoint(`section[data-layer="1"] canvas[data-q="gx"]`, 1, 1, 4, 4))
	for _, want := range []string{"dL/dx[0,1,1] = -0.01788", "window (0,0): its maximum is here", "sum = "} {
		if !strings.Contains(tip, want) {
			t.Errorf("the pooling's tooltip lacks %q:\n%s", want, tip)
		}
	}
	// The dense layer's dL/dx = W^T delta.
	tip = hover(t, ctx, cellPoint(`section[data-layer="4"] canvas[data-q="gx"]`, 2, 0, 4, 1))
	if !strings.Contains(tip, "(Wᵀδ)[2] = Σ_o W[o,2] δ[o]") || !strings.Contains(tip, "0.5·(-0.0591006) + 1·0.121668") {
		t.Errorf("the dense layer's tooltip:\n%s", tip)
	}
	// The pooling layer in view, the mouse on the gradient its diagram
	// routes to (1,1): the README's picture (docs/trace-page.png).
	tip = hover(t, ctx, `(() => { document.querySelector('section[data-layer="1"]').scrollIntoView({block: "start"});
		const c = document.querySelectorAll('section[data-layer="1"] .pooldiag canvas')[1]; const r = c.getBoundingClientRect();
		return [r.left + r.width * 0.375, r.top + r.height * 0.375]; })()`)
	if !strings.Contains(tip, "window (0,0): its maximum is here") {
		t.Errorf("the pooling diagram's tooltip:\n%s", tip)
	}
	view, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if st, err := browsertest.Inspect(view); err != nil || st.Colours < 64 || st.NonWhite < 0.05 {
		t.Errorf("the view of the pooling layer looks blank: %+v %v", st, err)
	}
	if dir := os.Getenv("NETTRAIN_SCREENSHOT_DIR"); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, "trace-page.png"), view, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	screenshot(t, ctx, "trace-cnn-worked-example.png")

	// Overlapping max pooling (3x3 windows, stride 2) over two channels of
	// 7x7, two samples: find a cell that is the maximum of two windows and
	// check that its gradient lists both and their sum.
	openPage(t, ctx, &errs, overlapCNN, 2)
	cell := eval[[]int](t, ctx, `(() => {
		const L = JSON.parse(document.getElementById("trace-data").textContent).layers[2];
		const seen = {};
		for (let k = 0; k < 9; k++) { const a = L.argmax[k]; if (seen[a]) return [Math.floor(a / 7), a % 7]; seen[a] = 1; }
		return []; })()`)
	if len(cell) != 2 {
		t.Fatal("no cell is the maximum of two windows in channel 0 of sample 0: choose another seed")
	}
	tip = hover(t, ctx, cellPoint(`section[data-layer="2"] canvas[data-q="gx"]`, cell[1], cell[0], 15, 7))
	if n := strings.Count(tip, "its maximum is here"); n < 2 || !strings.Contains(tip, "overlapping windows add up") {
		t.Errorf("the gradient at a maximum of two windows (%v):\n%s", cell, tip)
	}
	// The sample selector redraws the page for sample 1.
	before := eval[string](t, ctx, `document.querySelector('section[data-layer="0"] canvas[data-q="y"]').toDataURL()`)
	eval[bool](t, ctx, `(() => { const s = document.getElementById("sample"); s.value = "1"; s.dispatchEvent(new Event("change")); return true; })()`)
	if after := eval[string](t, ctx, `document.querySelector('section[data-layer="0"] canvas[data-q="y"]').toDataURL()`); after == before {
		t.Error("choosing sample 1 did not redraw the conv output")
	}
	tip = hover(t, ctx, cellPoint(`section[data-layer="0"] canvas[data-q="y"]`, 0, 0, 15, 7))
	if !strings.Contains(tip, "z[0,0,0] = ") {
		t.Errorf("after choosing sample 1:\n%s", tip)
	}
	screenshot(t, ctx, "trace-overlap-cnn.png")

	// The other kinds (a strided padded convolution, leaky_relu, average
	// pooling with padding, tanh, softmax, mse): every heatmap answers a
	// hover, without a script error.
	openPage(t, ctx, &errs, kindsCNN, 2)
	n := eval[int](t, ctx, `document.querySelectorAll("canvas").length`)
	silent := 0
	for i := 0; i < n; i++ {
		xy := eval[[]float64](t, ctx, fmt.Sprintf(`(() => { const c = document.querySelectorAll("canvas")[%d]; c.scrollIntoView({block: "center"});
			const r = c.getBoundingClientRect(); return [r.left + Math.min(4, r.width / 2), r.top + Math.min(4, r.height / 2)]; })()`, i))
		if err := chromedp.Do(ctx, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, xy[0], xy[1])); err != nil {
			t.Fatal(err)
		}
		if eval[bool](t, ctx, `document.getElementById("tip").hidden`) {
			silent++
		}
	}
	if silent > 0 {
		t.Errorf("%d of %d heatmaps show no value on hover at their first cell", silent, n)
	}
	tip = hover(t, ctx, cellPoint(`section[data-layer="2"] canvas[data-q="gx"]`, 0, 0, 14, 4))
	for _, want := range []string{"dL/dx[0,0,0] = ", "receives from 4 windows", "dL/dy / 4", "overlapping windows add up"} {
		if !strings.Contains(tip, want) {
			t.Errorf("the average pooling's tooltip lacks %q:\n%s", want, tip)
		}
	}

	// The hand examples of configs/learn (a gradient given at the
	// output, overlapping pooling, an LSTM): drawn, every heatmap
	// answering a hover.
	for _, path := range []string{learnMLP, learnCNN, learnLSTM} {
		openPage(t, ctx, &errs, path, 1)
		n := eval[int](t, ctx, `document.querySelectorAll("canvas").length`)
		for i := 0; i < n; i++ {
			xy := eval[[]float64](t, ctx, fmt.Sprintf(`(() => { const c = document.querySelectorAll("canvas")[%d]; c.scrollIntoView({block: "center"});
				const r = c.getBoundingClientRect(); return [r.left + Math.min(4, r.width / 2), r.top + Math.min(4, r.height / 2)]; })()`, i))
			if err := chromedp.Do(ctx, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, xy[0], xy[1])); err != nil {
				t.Fatal(err)
			}
			if eval[bool](t, ctx, `document.getElementById("tip").hidden`) {
				t.Errorf("%s: heatmap %d of %d shows no value on hover", path, i, n)
			}
		}
	}
	if e := errs.get(); len(e) > 0 {
		t.Errorf("script errors: %q", e)
	}
}

// TestPageDigits: the page writes the loss as the text trace prints it,
// with --digits or trace.digits significant digits (it showed the raw
// float, "0.049999999999999975", whatever the digits), in its header and
// its loss band, the full value only in a tooltip; and page.js's fmtG
// writes every number as Go's %g does.
func TestPageDigits(t *testing.T) {
	if testing.Short() {
		t.Skip("a browser test (-short)")
	}
	ctx := browsertest.Start(t, 1400, 1000)
	var errs scriptErrors
	errs.listen(t, ctx)
	for _, tc := range []struct {
		sets   []string
		loss   string // as `nettrain trace` prints it
		title  string // the loss's tooltip
		legend string // of layer 0's dL/dx, -0.245 and 0.21: 3 digits at most
	}{
		{nil, "0.05", "in full: 0.049999999999999975", "-0.245 0.245"},
		{[]string{"trace.digits=1"}, "0.05", "in full: 0.049999999999999975", "-0.2 0.2"},
		{[]string{"trace.digits=2"}, "0.05", "in full: 0.049999999999999975", "-0.24 0.24"},
		{[]string{"trace.digits=3"}, "0.05", "in full: 0.049999999999999975", "-0.245 0.245"},
		{[]string{"trace.digits=16"}, "0.04999999999999998", "in full: 0.049999999999999975", "-0.245 0.245"},
		{[]string{"trace.digits=17"}, "0.049999999999999975", "", "-0.245 0.245"},
	} {
		cfg, tr := traceLearnMLP(t, tc.sets)
		file := filepath.Join(t.TempDir(), "trace.html")
		if err := WriteFiles(cfg, tr, file, ""); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(ctx, chromedp.Navigate("file://"+file)); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(10 * time.Second); !eval[bool](t, ctx, `window.traceReady === true`); time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%v: the page did not finish drawing; script errors: %q", tc.sets, errs.get())
			}
		}
		want := "loss half_sse = " + tc.loss
		if got := eval[string](t, ctx, `document.getElementById("summary").textContent`); !strings.HasSuffix(got, " · "+want) {
			t.Errorf("%v: the header reads %q, want it to end in %q", tc.sets, got, want)
		}
		if got := eval[string](t, ctx, `document.querySelector("section.loss h2").textContent`); got != want {
			t.Errorf("%v: the loss band reads %q, want %q", tc.sets, got, want)
		}
		if tc.loss != "0.049999999999999975" {
			if body := eval[string](t, ctx, `document.body.innerText`); strings.Contains(body, "0.049999999999999975") {
				t.Errorf("%v: the page shows the raw loss:\n%s", tc.sets, body)
			}
		}
		if got := eval[string](t, ctx, `Array.from(document.querySelector('section[data-layer="0"] canvas[data-q="gx"]').parentElement.querySelectorAll(".legend span"), (e) => e.textContent).filter((s) => s).join(" ")`); got != tc.legend {
			t.Errorf("%v: layer 0's dL/dx has the scale %q, want %q", tc.sets, got, tc.legend)
		}
		titles := eval[[]string](t, ctx, `Array.from(document.querySelectorAll("[title]"), (e) => e.title)`)
		for _, got := range titles {
			if got != tc.title {
				t.Errorf("%v: a tooltip %q, want %q", tc.sets, got, tc.title)
			}
		}
		if n := 2 * b2i(tc.title != ""); len(titles) != n {
			t.Errorf("%v: %d tooltips %q, want %d (the loss in the header and in its band)", tc.sets, len(titles), titles, n)
		}
	}

	// fmtG against strconv.FormatFloat(v, 'g', d, 64), the text trace's %g,
	// and fmtE against strconv.FormatFloat(v, 'e', p, 64), the PNG's cells'
	// exponent form (fmtG, fmtE, expText and digitsOf, which they share, are
	// one block of page.js).
	src := regexp.MustCompile(`(?s)\n  function fmtG\(v, d\) \{\n.*?\n  function digitsOf\(v, d\) \{\n.*?\n  \}\n`).FindString(pageJS)
	if src == "" {
		t.Fatal("page.js has no function fmtG(v, d) ... function digitsOf(v, d)")
	}
	values := []float64{0.049999999999999975, 0.1, 0.3, -0.0591006203, 1, -1, 100, 1000, 1234567, 123456.5, 0.125, 2.5, 0.5, 9.9999999,
		99.95, 0.00001234, 1e-5, 1e-4, 0.00012345, 1e-7, 1e21, 1.5e22, 5e-324, math.MaxFloat64, -2.25e-10, 1.0 / 3, 2.0 / 3, 8.5, 0.45}
	type row struct {
		V string `json:"v"` // the value, in JavaScript's shortest form
		D int    `json:"d"`
		W string `json:"w"`
	}
	var rows []row
	for _, v := range values {
		for _, d := range []int{1, 2, 3, 4, 6, 10, 15, 16, 17} {
			rows = append(rows, row{strconv.FormatFloat(v, 'g', -1, 64), d, textNumber(v, d)})
		}
	}
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 0} {
		rows = append(rows, row{jsNumber(v), 6, textNumber(v, 6)}) // -0 is "-0"
	}
	js, _ := json.Marshal(rows)
	bad := eval[[]string](t, ctx, `(() => { const fmtG = (function () {`+src+` return fmtG; })();
		return `+string(js)+`.filter((r) => fmtG(Number(r.v), r.d) !== r.w).map((r) => r.v + " d=" + r.d + ": " + fmtG(Number(r.v), r.d) + ", want " + r.w); })()`)
	for _, b := range bad {
		t.Errorf("fmtG(%s", b)
	}
	rows = rows[:0]
	for _, v := range append(values, 1250, -1250, 0.00125, 1350, 9.95e5, 9.96e5, -0.000995) {
		if v == 0 || math.IsInf(v, 0) || math.IsNaN(v) {
			continue
		}
		for _, p := range []int{0, 1, 2} {
			rows = append(rows, row{strconv.FormatFloat(v, 'g', -1, 64), p, strconv.FormatFloat(v, 'e', p, 64)})
		}
	}
	js, _ = json.Marshal(rows)
	bad = eval[[]string](t, ctx, `(() => { const fmtE = (function () {`+src+` return fmtE; })();
		return `+string(js)+`.filter((r) => fmtE(Number(r.v), r.d) !== r.w).map((r) => r.v + " p=" + r.d + ": " + fmtE(Number(r.v), r.d) + ", want " + r.w); })()`)
	for _, b := range bad {
		t.Errorf("fmtE(%s", b)
	}
	if e := errs.get(); len(e) > 0 {
		t.Errorf("script errors: %q", e)
	}
}

// textNumber writes v as the text trace does (cmd/nettrain's
// formatNumber): %g with d digits, -0 as 0.
func textNumber(v float64, d int) string {
	if v == 0 {
		v = 0
	}
	return strconv.FormatFloat(v, 'g', d, 64)
}

// jsNumber writes v as JavaScript's Number() reads it.
func jsNumber(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "Infinity"
	case math.IsInf(v, -1):
		return "-Infinity"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
