package board

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nettrain/nettrain/internal/session"
	"github.com/nettrain/nettrain/internal/testutil"
)

// writeBlobs writes a small 3-class CSV into dir.
func writeBlobs(t testing.TB, dir string, n int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 7))
	var b strings.Builder
	b.WriteString("a,b,c,d,label\n")
	for i := 0; i < n; i++ {
		c := i % 3
		for k := 0; k < 4; k++ {
			fmt.Fprintf(&b, "%.4f,", float64(c*(k%2))+rng.NormFloat64()*0.5)
		}
		fmt.Fprintf(&b, "%d\n", c)
	}
	if err := os.WriteFile(filepath.Join(dir, "blobs.csv"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

const blobsConfig = `name: blobs
seed: 3
data:
  train: blobs.csv
  validation_split: 0.2
  normalize: standardize
model:
  input: [4]
  layers:
    - dense: {units: 16}
    - relu
    - dense: {units: 3}
optimizer: {name: adam, lr: 0.01}
training: {epochs: 3, batch_size: 16, eval_every_steps: 5}
`

// train runs blobs into runs/name.
func train(t testing.TB, dataDir, runs, name string, o session.Options, sets ...string) {
	t.Helper()
	cfg := testutil.LoadConfig(t, dataDir, blobsConfig, sets...)
	o.OutDir = filepath.Join(runs, name)
	if _, err := session.Run(cfg, o); err != nil {
		t.Error(err)
	}
}

// writeReport writes a compare-optimizers report directory as
// compare.Report lays it out (summary.json, trials.csv, curves.png).
func writeReport(t testing.TB, dir, curves string) {
	t.Helper()
	os.MkdirAll(dir, 0o755)
	summary := `{"name":"blobs","target_val_loss":0.9,"optimizers":[
 {"optimizer":"adam","lr_grid":[0.001,0.01,0.1],"chosen_lr":0.01,"robust_lrs":2,"diverged":[],"seeds":2,"best_val_loss_mean":0.61,"best_val_loss_std":0.02,"final_val_loss_mean":0.63,"best_val_accuracy_mean":0.8,"steps_to_target_median":12},
 {"optimizer":"sgd <b>","lr_grid":[0.01,0.1,1],"chosen_lr":0.1,"robust_lrs":1,"diverged":[{"optimizer":"sgd","lr":1,"seed":1}],"seeds":2,"best_val_loss_mean":0.8,"best_val_loss_std":0.05,"final_val_loss_mean":0.82,"best_val_accuracy_mean":0.7,"steps_to_target_median":null}],
 "findings":["adam reached the lowest validation loss <img src=x onerror=alert(1)>","sgd diverged at lr 1"],"files":["curves.png"]}`
	os.WriteFile(filepath.Join(dir, "summary.json"), []byte(summary), 0o644)
	os.WriteFile(filepath.Join(dir, "trials.csv"), []byte("phase,optimizer\n"), 0o644)
	if b, err := os.ReadFile(curves); err == nil {
		os.WriteFile(filepath.Join(dir, "curves.png"), b, 0o644)
	}
}

func get(t *testing.T, srv *httptest.Server, path string) (int, string) {
	t.Helper()
	r, err := http.Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return r.StatusCode, string(b)
}

// TestServer: the page lists the runs with every name escaped, the API
// serves a run's rows and status, and names outside the runs directory or
// files other than a report's plots are refused.
func TestServer(t *testing.T) {
	data, runs := t.TempDir(), t.TempDir()
	writeBlobs(t, data, 200)
	train(t, data, runs, "<script>", session.Options{})
	train(t, data, runs, "steps", session.Options{}, "training.steps=7")
	writeReport(t, filepath.Join(runs, "cmp"), filepath.Join(runs, "steps", "curves.png"))
	os.WriteFile(filepath.Join(runs, "secret.txt"), []byte("no"), 0o644)
	// Hand-made runs: a row without lr (read as NaN), and metrics larger
	// than the board reads. Each is that run's problem, not the list's.
	os.MkdirAll(filepath.Join(runs, "nolr"), 0o755)
	os.WriteFile(filepath.Join(runs, "nolr", "metrics.jsonl"), []byte(`{"epoch":1,"step":1,"train_loss":1.0,"val_loss":1.0}`+"\n"), 0o644)
	os.MkdirAll(filepath.Join(runs, "huge"), 0o755)
	if err := os.WriteFile(filepath.Join(runs, "huge", "metrics.jsonl"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(filepath.Join(runs, "huge", "metrics.jsonl"), session.MaxMetricsBytes+1); err != nil {
		t.Fatal(err)
	}
	// Symlinks out of the runs directory: a run linked from elsewhere,
	// and a run's config.yaml linked to a file outside it.
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "metrics.jsonl"), []byte(`{"epoch":1,"step":1,"train_loss":1.0}`+"\n"), 0o644)
	os.WriteFile(filepath.Join(outside, "config.yaml"), []byte("outside-secret"), 0o644)
	if err := os.Symlink(outside, filepath.Join(runs, "link")); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(runs, "leak"), 0o755)
	os.WriteFile(filepath.Join(runs, "leak", "metrics.jsonl"), []byte(`{"epoch":1,"step":1,"train_loss":1.0}`+"\n"), 0o644)
	if err := os.Symlink(filepath.Join(outside, "config.yaml"), filepath.Join(runs, "leak", "config.yaml")); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(runs))
	defer srv.Close()
	if _, body := get(t, srv, "/api/run?name=leak"); strings.Contains(body, "outside-secret") {
		t.Errorf("a symlinked config.yaml was served: %.300s", body)
	}

	code, page := get(t, srv, "/")
	if code != 200 || !strings.Contains(page, `<td class="name">&lt;script&gt;</td>`) || strings.Contains(page, "<td class=\"name\"><script>") {
		t.Errorf("the page does not escape the run name:\n%s", page)
	}
	tests := []struct {
		path string
		code int
		has  []string
	}{
		{"/api/runs", 200, []string{`"name":"\u003cscript\u003e"`, `"status":"finished"`, `"reports":[{"name":"cmp"}]`, `"name":"nolr"`, `"name":"huge"`}},
		{"/api/run?name=nolr", 200, []string{`"lr":null`, `"val_loss":1`}},
		{"/api/run?name=" + "%3Cscript%3E", 200, []string{`"metrics":[{`, `"val_accuracy":`, `"config":"name: blobs`}},
		{"/api/run?name=steps", 200, []string{`"rows":2`}}, // an evaluation at step 5 and the cut epoch at 7
		{"/api/run?name=../" + filepath.Base(runs), 404, nil},
		{"/api/run?name=/etc", 404, nil},
		{"/api/run?name=link", 404, nil},
		{"/api/run?name=cmp", 404, nil},
		{"/api/report?name=cmp", 200, []string{`"images":["curves.png"]`, `"findings"`}},
		{"/api/report?name=steps", 404, nil},
		{"/api/image?name=cmp&file=curves.png", 200, []string{"PNG"}},
		{"/api/image?name=.&file=secret.txt", 404, nil},
		{"/api/image?name=cmp&file=../secret.txt", 404, nil},
		{"/static/uplot/uPlot.iife.min.js", 200, []string{"uPlot"}},
		{"/static/uplot/LICENSE", 200, []string{"MIT"}},
	}
	for _, tc := range tests {
		code, body := get(t, srv, tc.path)
		if code != tc.code {
			t.Errorf("%s: %d, want %d (%.200s)", tc.path, code, tc.code, body)
		}
		for _, h := range tc.has {
			if !strings.Contains(body, h) {
				t.Errorf("%s lacks %s: %.300s", tc.path, h, body)
			}
		}
	}
}

// TestTraces: a run's trace pages (trace*.html) are listed and served
// read-only in a sandbox; other files, other names, links and paths out of
// the runs directory are refused.
func TestTraces(t *testing.T) {
	runs := t.TempDir()
	run := filepath.Join(runs, "r1")
	os.MkdirAll(run, 0o755)
	os.WriteFile(filepath.Join(run, "metrics.jsonl"), nil, 0o644)
	page := "<!doctype html><title>t</title><script>window.x = 1</script>"
	for _, f := range []string{"trace.html", "trace-best.html", "notes.html", "trace.htm", "trace x.html"} {
		os.WriteFile(filepath.Join(run, f), []byte(page), 0o644)
	}
	os.WriteFile(filepath.Join(runs, "secret.html"), []byte("no"), 0o644)
	if err := os.Symlink(filepath.Join(runs, "secret.html"), filepath.Join(run, "trace-link.html")); err != nil {
		t.Fatal(err)
	}
	os.Mkdir(filepath.Join(run, "trace-dir.html"), 0o755)
	srv := httptest.NewServer(New(runs))
	defer srv.Close()

	if _, body := get(t, srv, "/api/run?name=r1"); !strings.Contains(body, `"traces":["trace-best.html","trace.html"]`) {
		t.Errorf("the run's traces: %.400s", body)
	}
	r, err := http.Get(srv.URL + "/api/trace?name=r1&file=trace.html")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 200 || string(b) != page {
		t.Errorf("trace.html: %d %q", r.StatusCode, b)
	}
	if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "sandbox allow-scripts") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("trace.html is served with the policy %q", csp)
	}
	if ct := r.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("trace.html is served as %q", ct)
	}
	for _, path := range []string{
		"/api/trace?name=r1&file=notes.html",
		"/api/trace?name=r1&file=trace.htm",
		"/api/trace?name=r1&file=trace%20x.html",
		"/api/trace?name=r1&file=trace-link.html",
		"/api/trace?name=r1&file=trace-dir.html",
		"/api/trace?name=r1&file=trace/../../secret.html",
		"/api/trace?name=r1&file=trace-none.html",
		"/api/trace?name=..&file=trace.html",
		"/api/trace?name=/etc&file=trace.html",
	} {
		if code, body := get(t, srv, path); code != 404 {
			t.Errorf("%s: %d, want 404 (%.100s)", path, code, body)
		}
	}
	if _, body := get(t, srv, "/api/run?name=r1"); strings.Contains(body, "trace-link") || strings.Contains(body, "trace-dir") {
		t.Errorf("a link or a directory is listed as a trace: %.400s", body)
	}
}

// TestMetricsAreCachedUntilTheFileChanges: the board parses a run's
// metrics.jsonl again only when it changed (the page polls every second),
// and a changed file is read again.
func TestMetricsAreCachedUntilTheFileChanges(t *testing.T) {
	runs := t.TempDir()
	dir := filepath.Join(runs, "r")
	os.MkdirAll(dir, 0o755)
	path := filepath.Join(dir, "metrics.jsonl")
	row := func(step int) string {
		return fmt.Sprintf(`{"epoch":1,"step":%d,"train_loss":0.5,"val_loss":0.4,"val_accuracy":null,"val_mae":null,"lr":0.1,"grad_norm":1,"samples_per_s":10,"elapsed_s":1}`+"\n", step)
	}
	os.WriteFile(path, []byte(row(1)+row(2)), 0o644)
	s := New(runs)
	a, err := s.readRows(dir)
	if err != nil || len(a) != 2 {
		t.Fatalf("%d rows, %v", len(a), err)
	}
	b, _ := s.readRows(dir)
	if &a[0] != &b[0] {
		t.Error("an unchanged metrics.jsonl was parsed again")
	}
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(row(3))
	f.Close()
	c, err := s.readRows(dir)
	if err != nil || len(c) != 3 || c[2].Step != 3 {
		t.Errorf("after a row was appended: %d rows, %v", len(c), err)
	}
}

// TestRunSendsOnlyNewRows: a page that holds a run's first rows gets only
// the rows after them (the board polls every second, and a long run's
// metrics run to megabytes), and every row again when the rows it holds
// are no longer the file's (a run started again with --overwrite), or
// when it asks with a signature or a count that does not fit.
func TestRunSendsOnlyNewRows(t *testing.T) {
	runs := t.TempDir()
	dir := filepath.Join(runs, "r")
	os.MkdirAll(dir, 0o755)
	path := filepath.Join(dir, "metrics.jsonl")
	row := func(step int, loss float64) string {
		return fmt.Sprintf(`{"epoch":1,"step":%d,"train_loss":%g,"val_loss":0.4,"val_accuracy":null,"val_mae":null,"lr":0.1,"grad_norm":1,"samples_per_s":10,"elapsed_s":1}`+"\n", step, loss)
	}
	srv := httptest.NewServer(New(runs))
	defer srv.Close()
	fetch := func(query string) RunDetail {
		t.Helper()
		code, body := get(t, srv, "/api/run?name=r"+query)
		var d RunDetail
		if err := json.Unmarshal([]byte(body), &d); code != 200 || err != nil {
			t.Fatalf("/api/run?name=r%s: %d %v\n%s", query, code, err, body)
		}
		return d
	}
	steps := func(d RunDetail) []float64 {
		var out []float64
		for _, m := range d.Metrics {
			out = append(out, m["step"].(float64))
		}
		return out
	}
	os.WriteFile(path, []byte(row(1, 0.9)+row(2, 0.8)), 0o644)
	first := fetch("")
	if first.MetricsFrom != 0 || !slices.Equal(steps(first), []float64{1, 2}) || first.MetricsSig == "" {
		t.Fatalf("first request: from %d, steps %v, sig %q", first.MetricsFrom, steps(first), first.MetricsSig)
	}
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(row(3, 0.7) + row(4, 0.6))
	f.Close()
	next := fetch("&from=2&sig=" + first.MetricsSig)
	if next.MetricsFrom != 2 || !slices.Equal(steps(next), []float64{3, 4}) || next.MetricsSig == first.MetricsSig {
		t.Errorf("after two rows were appended: from %d, steps %v, sig %q", next.MetricsFrom, steps(next), next.MetricsSig)
	}
	none := fetch("&from=4&sig=" + next.MetricsSig)
	if none.MetricsFrom != 4 || len(none.Metrics) != 0 || none.MetricsSig != next.MetricsSig {
		t.Errorf("with nothing new: from %d, %d rows, sig %q", none.MetricsFrom, len(none.Metrics), none.MetricsSig)
	}
	for _, q := range []string{"&from=2&sig=nope", "&from=5&sig=" + next.MetricsSig, "&from=-1&sig=", "&from=x"} {
		if d := fetch(q); d.MetricsFrom != 0 || len(d.Metrics) != 4 {
			t.Errorf("%s: want every row, got from %d and %d rows", q, d.MetricsFrom, len(d.Metrics))
		}
	}
	// The run started again: same steps, other losses, more rows.
	os.WriteFile(path, []byte(row(1, 1.9)+row(2, 1.8)+row(3, 1.7)+row(4, 1.6)+row(5, 1.5)), 0o644)
	again := fetch("&from=4&sig=" + next.MetricsSig)
	if again.MetricsFrom != 0 || len(again.Metrics) != 5 || again.Metrics[0]["train_loss"] != 1.9 {
		t.Errorf("after the file was rewritten: from %d, %d rows", again.MetricsFrom, len(again.Metrics))
	}
}

// TestMetricsCacheStaysBounded: the rows the board keeps stay within
// maxCached bytes of metrics files when a cached file grows, not only when
// a new one is read.
func TestMetricsCacheStaysBounded(t *testing.T) {
	defer func(m int64) { maxCached = m }(maxCached)
	runs := t.TempDir()
	line := `{"epoch":1,"step":1,"train_loss":0.5,"val_loss":0.4,"val_accuracy":null,"val_mae":null,"lr":0.1,"grad_norm":1,"samples_per_s":10,"elapsed_s":1}` + "\n"
	maxCached = int64(len(line)) * 5
	s := New(runs)
	for _, name := range []string{"a", "b"} {
		os.MkdirAll(filepath.Join(runs, name), 0o755)
		os.WriteFile(filepath.Join(runs, name, "metrics.jsonl"), []byte(strings.Repeat(line, 2)), 0o644)
		if rows, err := s.readRows(filepath.Join(runs, name)); err != nil || len(rows) != 2 {
			t.Fatalf("%s: %d rows, %v", name, len(rows), err)
		}
	}
	f, _ := os.OpenFile(filepath.Join(runs, "a", "metrics.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(strings.Repeat(line, 2))
	f.Close()
	if rows, err := s.readRows(filepath.Join(runs, "a")); err != nil || len(rows) != 4 {
		t.Fatalf("a after it grew: %d rows, %v", len(rows), err)
	}
	if s.cachedLen > maxCached || len(s.rows) != 1 {
		t.Errorf("after a cached file grew past the bound: %d bytes of %d cached, %d files", s.cachedLen, maxCached, len(s.rows))
	}
}

// TestSweepDirectoryIsNotARun: a compare-optimizers or sweep output
// directory, locked while it runs, is not listed as a training run.
func TestSweepDirectoryIsNotARun(t *testing.T) {
	runs := t.TempDir()
	lock, err := session.LockDir(filepath.Join(runs, "mysweep"), "sweep's output directory", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Unlock()
	srv := httptest.NewServer(New(runs))
	defer srv.Close()
	res, err := http.Get(srv.URL + "/api/runs")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if strings.Contains(string(b), "mysweep") {
		t.Errorf("a locked sweep directory is listed: %s", b)
	}
}

// TestBestFromStatus: a finished run's best is the one status.json names
// (the weights saved), not the lowest row of its metrics (whose
// best.safetensors write may have failed).
func TestBestFromStatus(t *testing.T) {
	runs := t.TempDir()
	dir := filepath.Join(runs, "r")
	os.MkdirAll(dir, 0o755)
	row := func(step int, val float64) string {
		return fmt.Sprintf(`{"epoch":1,"step":%d,"train_loss":0.5,"val_loss":%g,"val_accuracy":null,"val_mae":null,"lr":0.1,"grad_norm":1,"samples_per_s":10,"elapsed_s":1}`+"\n", step, val)
	}
	os.WriteFile(filepath.Join(dir, "metrics.jsonl"), []byte(row(100, 0.5)+row(200, 0.3)), 0o644)
	os.WriteFile(filepath.Join(dir, session.StatusFile), []byte(`{"status":"failed","reason":"cannot write best.safetensors","steps":200,"ended":"2026-12-05T00:00:00Z","best":`+strings.TrimSpace(row(100, 0.5))+`}`), 0o644)
	s := New(runs)
	ri := s.runInfo("r", dir, nil)
	if ri.Best == nil || ri.Best["step"] != int64(100) {
		t.Errorf("best %v, want step 100 from status.json", ri.Best)
	}
	os.Remove(filepath.Join(dir, session.StatusFile)) // killed: no status.json
	if ri := s.runInfo("r", dir, nil); ri.Best == nil || ri.Best["step"] != int64(200) {
		t.Errorf("without status.json: best %v, want the lowest row (step 200)", ri.Best)
	}
}
