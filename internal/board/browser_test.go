package board

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/nettrain/nettrain/internal/browsertest"
	"github.com/nettrain/nettrain/internal/inspect"
	"github.com/nettrain/nettrain/internal/model"
	"github.com/nettrain/nettrain/internal/session"
	"github.com/nettrain/nettrain/internal/tracepage"
)

// eval runs a JavaScript expression in the page and decodes its value.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// waitFor polls a JavaScript condition until it holds, failing after d.
func waitFor(t *testing.T, ctx context.Context, what, cond string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+cond+")")); err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s (%s)", d, what, cond)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestBoardInBrowser drives the board in headless Chromium while a run
// trains: the run appears as running, its loss curve gains points, a run
// named <script> shows as text, the overlay draws two runs, the
// comparison view shows its table, findings and plot, and a screenshot
// is not blank. NETTRAIN_SCREENSHOT=path keeps the screenshot (the
// README's docs/board.png).
func TestBoardInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("a browser test (-short)")
	}
	ctx := browsertest.Start(t, 1400, 1000)
	data, runs := t.TempDir(), t.TempDir()
	writeBlobs(t, data, 200) // 160 training samples: 10 batches of 16
	train(t, data, runs, "<script>", session.Options{}, "optimizer.lr=0.003")
	train(t, data, runs, "noval", session.Options{}, "data.validation_split=0", "training.epochs=2")
	writeReport(t, filepath.Join(runs, "blobs-compare"), filepath.Join(runs, "<script>", "curves.png"))
	// liveFrom records metrics_from of every /api/run answer about the
	// live run: whether the page asked for the new rows only.
	var mu sync.Mutex
	var liveFrom []int
	board := New(runs)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/run" || r.URL.Query().Get("name") != "live" {
			board.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		board.ServeHTTP(rec, r)
		var d RunDetail
		if json.Unmarshal(rec.Body.Bytes(), &d) == nil {
			mu.Lock()
			liveFrom = append(liveFrom, d.MetricsFrom)
			mu.Unlock()
		}
		maps.Copy(w.Header(), rec.Header())
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	}))
	defer srv.Close()

	// The live run: 40 steps, slowed to about 100 ms each, evaluated every
	// 2 steps.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		train(t, data, runs, "live", session.Options{StepDelay: 100 * time.Millisecond}, "training.epochs=4", "training.eval_every_steps=2")
	}()
	defer wg.Wait()

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the live run appears as running",
		`document.querySelector('tr[data-run="live"] .status.running')`, 20*time.Second)
	if err := click(ctx, `tr[data-run="live"] td.name`); err != nil {
		t.Fatal(err)
	}
	points := `(state.charts["chart-loss"] ? state.charts["chart-loss"].plot.data[0].length : 0)`
	waitFor(t, ctx, "the live run's loss curve has points", points+" >= 2", 20*time.Second)
	n1 := eval[int](t, ctx, points)
	waitFor(t, ctx, "the loss curve gains points while the run trains", points+" > "+itoa(n1+1), 20*time.Second)
	if s := eval[string](t, ctx, `document.getElementById("run-status").textContent`); s[:7] != "running" {
		t.Errorf("the run's status reads %q while it trains", s)
	}

	// A name from the files is text, not markup.
	if got := eval[string](t, ctx, `document.querySelector('tr[data-run="<script>"] td.name').textContent`); got != "<script>" {
		t.Errorf("the run named <script> shows as %q", got)
	}
	if n := eval[int](t, ctx, `document.scripts.length`); n != 2 {
		t.Errorf("%d script elements: a name was parsed as markup", n)
	}

	// Overlay: tick three runs, the first without validation data (so
	// not in the accuracy chart): each run keeps its colour in both charts.
	for _, name := range []string{"noval", "live", "<script>"} {
		if err := click(ctx, `tr[data-run="`+name+`"] input[type=checkbox]`); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, ctx, "the overlay draws the three runs",
		`state.charts["overlay-loss"] && state.charts["overlay-loss"].plot.series.length === 4 && state.charts["overlay-metric"] && state.charts["overlay-metric"].plot.series.length === 3 && !document.getElementById("overlay-section").hidden`, 10*time.Second)
	colours := eval[string](t, ctx, `(() => {
		const col = (s) => (typeof s.stroke === "function" ? s.stroke() : s.stroke);
		const byRun = (id) => Object.fromEntries(state.charts[id].plot.series.slice(1).map((s) => [s.label.split(" (")[0], col(s)]));
		const l = byRun("overlay-loss"), m = byRun("overlay-metric");
		return JSON.stringify({loss: l, metric: m, labels: state.charts["overlay-loss"].plot.series.map((s) => s.label)});
	})()`)
	var got struct {
		Loss, Metric map[string]string
		Labels       []string
	}
	if err := json.Unmarshal([]byte(colours), &got); err != nil {
		t.Fatal(err)
	}
	for run, c := range got.Metric {
		if got.Loss[run] != c || c == "" {
			t.Errorf("run %s is %s in the loss chart and %s in the accuracy chart: %s", run, got.Loss[run], c, colours)
		}
	}
	if len(got.Metric) != 2 || !slices.Contains(got.Labels, "noval (training loss: no validation data)") {
		t.Errorf("overlay series %s", colours)
	}

	// The comparison view.
	if err := click(ctx, `a[data-report="blobs-compare"]`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the comparison's table, findings and plot",
		`document.querySelectorAll("#report-table tbody tr").length === 2 && document.querySelectorAll("#report-findings li").length === 2 && document.querySelector("#report-images img") && document.querySelector("#report-images img").naturalWidth > 0`, 10*time.Second)
	if got := eval[string](t, ctx, `document.querySelector("#report-findings li").textContent`); got != "adam reached the lowest validation loss <img src=x onerror=alert(1)>" {
		t.Errorf("a finding shows as %q", got)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("#report-findings img").length`); n != 0 {
		t.Error("a finding was parsed as markup")
	}

	// Once the live run has finished, the rows the page put together from
	// its polls (each asking only for the rows after those it held) are
	// the file's, in order, none twice.
	waitFor(t, ctx, "the live run has finished", `document.querySelector('tr[data-run="live"] .status') && !document.querySelector('tr[data-run="live"] .status.running')`, 30*time.Second)
	time.Sleep(1500 * time.Millisecond) // a poll after the last row
	rows, err := session.BoardMetrics(filepath.Join(runs, "live", "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	want := make([]int64, len(rows))
	for i, r := range rows {
		want[i] = r.Step
	}
	var pageSteps []int64
	if err := json.Unmarshal([]byte(eval[string](t, ctx, `JSON.stringify(state.metrics.get("live").rows.map((r) => r.step))`)), &pageSteps); err != nil {
		t.Fatal(err)
	}
	if len(want) < 10 || !slices.Equal(pageSteps, want) {
		t.Errorf("the page holds the live run's rows at steps %v, the file %v", pageSteps, want)
	}
	mu.Lock()
	full := 0
	for _, f := range liveFrom {
		if f == 0 {
			full++
		}
	}
	// The first look at the run, its first in the overlay (asked for at
	// the same time, both from the start): the rest only new rows.
	if full > 2 || len(liveFrom)-full < 5 {
		t.Errorf("the page asked for every row of the live run %d times in %d requests (metrics_from %v)", full, len(liveFrom), liveFrom)
	}
	mu.Unlock()

	// Back to the top, with the live run selected, for the picture.
	chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void]("window.scrollTo(0, 0)"))
	time.Sleep(1200 * time.Millisecond) // one more poll
	path := os.Getenv("NETTRAIN_SCREENSHOT")
	if path == "" {
		path = filepath.Join(t.TempDir(), "board.png")
	}
	shot, err := browsertest.Screenshot(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := browsertest.Inspect(shot)
	if err != nil {
		t.Fatal(err)
	}
	if st.Width < 1000 || st.Colours < 64 || st.NonWhite < 0.03 {
		t.Errorf("the screenshot looks blank: %+v", st)
	}
	t.Logf("screenshot %s: %+v", path, st)
}

func itoa(n int) string { return strconv.Itoa(n) }

// click clicks the element a CSS selector finds, found and clicked in one
// script: the page redraws its tables every second, so a node looked up
// first and clicked afterwards may be gone by then.
func click(ctx context.Context, selector string) error {
	js := fmt.Sprintf(`(() => { const e = document.querySelector(%q); if (!e) return false; e.click(); return true; })()`, selector)
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("no element %s to click", selector)
	}
	return nil
}

// TestBoardTraceInBrowser: a run's trace page (nettrain trace --html
// runs/NAME/trace.html) shows in the board's run view, in a sandboxed
// frame, and draws there without script errors.
func TestBoardTraceInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("a browser test (-short)")
	}
	ctx := browsertest.Start(t, 1400, 1000)
	runs := t.TempDir()
	run := filepath.Join(runs, "worked")
	os.MkdirAll(run, 0o755)
	os.WriteFile(filepath.Join(run, "metrics.jsonl"), nil, 0o644)
	os.MkdirAll(filepath.Join(runs, "plain"), 0o755) // a run without a trace page
	os.WriteFile(filepath.Join(runs, "plain", "metrics.jsonl"), nil, 0o644)
	cfg, err := model.Load("../../configs/cnn-worked-example.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := inspect.RunTrace(cfg, inspect.TraceOptions{Samples: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := tracepage.WriteFiles(cfg, tr, filepath.Join(run, "trace.html"), ""); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(runs))
	defer srv.Close()

	var mu sync.Mutex
	var errs []string
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	msgs := chromedp.Console(cctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if strings.HasSuffix(m.URL, "/favicon.ico") { // the browser's own request; the board has none
				continue
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException || m.Type == chromedp.ConsoleWarning {
				mu.Lock()
				errs = append(errs, m.String()+" "+m.URL)
				mu.Unlock()
			}
		}
	}()
	// The trace page tells the page around it when it has drawn.
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/#run=worked")); err != nil {
		t.Fatal(err)
	}
	eval[bool](t, ctx, `(window.addEventListener("message", (e) => { if (e.data === "nettrain-trace-ready") window.traceShown = true; }), true)`)
	waitFor(t, ctx, "the trace page drawn in the run view's frame", `window.traceShown === true && !document.getElementById("trace-frame").hidden`, 20*time.Second)
	if got := eval[string](t, ctx, `document.querySelector("#trace-links a[data-trace]").textContent`); got != "trace.html" {
		t.Errorf("the trace link reads %q", got)
	}
	time.Sleep(1500 * time.Millisecond) // a poll: the frame is not reloaded
	if src := eval[string](t, ctx, `document.getElementById("trace-frame").getAttribute("src")`); src != "/api/trace?name=worked&file=trace.html" {
		t.Errorf("the frame shows %q", src)
	}
	chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById("run-traces").scrollIntoView()`))
	shot, err := browsertest.Screenshot(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if st, err := browsertest.Inspect(shot); err != nil || st.Colours < 64 || st.NonWhite < 0.03 {
		t.Errorf("the screenshot looks blank: %+v %v", st, err)
	}
	// A run without one: the command that draws it, runnable as printed
	// (its paths under the runs directory the board was given).
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/?#run=plain")); err != nil { // a new load, not a hash change
		t.Fatal(err)
	}
	p := filepath.Join(runs, "plain")
	want := "nettrain trace " + p + "/config.yaml --weights " + p + "/best.safetensors --html " + p + "/trace.html"
	waitFor(t, ctx, "the hint of a run without a trace page", `(document.querySelector("#trace-links code") || {}).textContent === `+strconv.Quote(want), 10*time.Second)
	// The address follows the page and the page the address: a changed
	// hash (by hand, or back and forward) switches the run without a load.
	eval[bool](t, ctx, `(window.notReloaded = true, location.hash = "#run=worked&overlay=plain", true)`)
	waitFor(t, ctx, "the run named by a changed hash", `document.getElementById("run-name").textContent === "worked" && !document.getElementById("overlay-section").hidden && window.notReloaded === true`, 10*time.Second)
	eval[bool](t, ctx, `(document.querySelector('#runs tbody tr[data-run="plain"]').click(), true)`)
	waitFor(t, ctx, "the clicked run in the address", `location.hash === "#run=plain&overlay=plain" && document.getElementById("run-name").textContent === "plain"`, 10*time.Second)
	eval[bool](t, ctx, `(location.hash = "#run=worked", true)`)
	waitFor(t, ctx, "no overlay when the hash names none", `document.getElementById("run-name").textContent === "worked" && document.getElementById("overlay-section").hidden && window.notReloaded === true`, 10*time.Second)
	// An address without a run closes the run view, and the page leaves
	// the address as typed.
	eval[bool](t, ctx, `(location.hash = "#overlay=plain", true)`)
	waitFor(t, ctx, "no run view when the hash names none", `document.getElementById("run-section").hidden && !document.getElementById("overlay-section").hidden && window.notReloaded === true`, 10*time.Second)
	time.Sleep(1200 * time.Millisecond) // a poll
	if h := eval[string](t, ctx, `location.hash`); h != "#overlay=plain" {
		t.Errorf("the page rewrote the address to %q", h)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(errs) > 0 {
		t.Errorf("script errors: %q", errs)
	}
}
