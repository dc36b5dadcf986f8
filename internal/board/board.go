// Package board serves `nettrain board`: a local web page that lists the
// training runs under a directory (config, status, best metrics), draws
// each run's curves and follows a run live while it trains, overlays
// several runs' curves, and shows compare-optimizers reports.
//
// Design: the server only reads. It walks the runs directory on each
// request (a few levels deep), reads metrics.jsonl, status.json,
// config.yaml and a report's summary.json with bounded reads
// (internal/safeio), and tells a running run by the kernel's lock table
// (session.LockHeld), never by taking the lock. The page is index.html
// (html/template) with app.js and the vendored uPlot chart library, all
// embedded in the binary; the script polls /api/runs and /api/run about
// once a second (asking only for the metrics rows it does not hold: see
// RunDetail) and puts every string from the files into the page with
// textContent, never as markup. Runs and reports are named by their path
// relative to the runs directory; a name that leaves it, or names no run,
// is refused.
package board

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/nettrain/nettrain/internal/finitejson"
	"github.com/nettrain/nettrain/internal/safeio"
	"github.com/nettrain/nettrain/internal/session"
)

//go:embed static
var static embed.FS

//go:embed index.html
var indexHTML string

var indexTmpl = template.Must(template.New("index").Parse(indexHTML))

// Limits of what the board reads of a file.
const (
	maxConfig  = 1 << 20
	maxStatus  = 1 << 20
	maxSummary = 16 << 20
	maxImage   = 64 << 20
	maxTrace   = 256 << 20
	// maxDepth is how deep under the runs directory runs are looked for.
	maxDepth = 4
)

// Server is the board's HTTP handler over one runs directory.
type Server struct {
	dir string
	mux *http.ServeMux

	// rows caches each run's parsed metrics by the file's size and
	// modification time, and parses only the lines appended since (a
	// session.MetricsFollower): the page polls every second, and
	// re-reading every run's metrics.jsonl each time took seconds for
	// long runs, a growing one on every poll.
	mu        sync.Mutex
	rows      map[string]*cachedRows
	cachedLen int64 // bytes of the cached files
}

// cachedRows are the rows read from one metrics.jsonl of a size and time.
type cachedRows struct {
	mu     sync.Mutex // held while follow reads
	follow session.MetricsFollower
	size   int64
	mod    time.Time
	rows   []session.Row
	err    error
}

// maxCached bounds the metrics files whose rows the board keeps between
// requests (by file size); past it the cache starts over.
var maxCached int64 = 256 << 20 // a variable for the tests

// New serves the runs and reports under dir.
func New(dir string) *Server {
	s := &Server{dir: dir, mux: http.NewServeMux()}
	sub, _ := fs.Sub(static, "static")
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(sub)))
	s.mux.HandleFunc("GET /{$}", s.index)
	s.mux.HandleFunc("GET /api/runs", s.apiRuns)
	s.mux.HandleFunc("GET /api/run", s.apiRun)
	s.mux.HandleFunc("GET /api/report", s.apiReport)
	s.mux.HandleFunc("GET /api/image", s.apiImage)
	s.mux.HandleFunc("GET /api/trace", s.apiTrace)
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	s.mux.ServeHTTP(w, r)
}

// RunInfo is a run in the list.
type RunInfo struct {
	Name   string `json:"name"` // path relative to the runs directory
	Status string `json:"status"`
	// Reason is why it stopped (early stopping, the error).
	Reason string `json:"reason,omitempty"`
	Pid    int    `json:"pid,omitempty"` // of the training process, while running
	// Best is the metrics row of the best evaluation, Last the latest
	// (as in metrics.jsonl: null for a missing value).
	Best  map[string]any `json:"best"`
	Last  map[string]any `json:"last"`
	Rows  int            `json:"rows"`
	About string         `json:"about"` // the config in a line
}

// ReportInfo is a compare-optimizers report in the list.
type ReportInfo struct {
	Name string `json:"name"`
}

// Listing is /api/runs.
type Listing struct {
	Dir     string       `json:"dir"`
	Runs    []RunInfo    `json:"runs"`
	Reports []ReportInfo `json:"reports"`
}

// Status of a run as the board shows it: session's, plus running and
// interrupted for a run that stopped without a status.json (killed).
const (
	StatusRunning     = "running"
	StatusInterrupted = session.StatusInterrupted
)

func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	l := s.list()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := indexTmpl.Execute(w, l); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

func (s *Server) apiRuns(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, s.list())
}

// list walks the runs directory for runs (a directory with metrics.jsonl
// or a run's lock) and reports (summary.json beside trials.csv).
func (s *Server) list() Listing {
	l := Listing{Dir: s.dir, Runs: []RunInfo{}, Reports: []ReportInfo{}}
	root := filepath.Clean(s.dir)
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		if rel != "." && strings.Count(rel, string(filepath.Separator)) >= maxDepth {
			return filepath.SkipDir
		}
		if rel != "." && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		name := filepath.ToSlash(rel)
		if isFile(filepath.Join(p, "summary.json")) && isFile(filepath.Join(p, "trials.csv")) {
			l.Reports = append(l.Reports, ReportInfo{Name: name})
		}
		if isRunDir(p) {
			l.Runs = append(l.Runs, s.runInfo(name, p, nil))
		}
		return nil
	})
	return l
}

// isRunDir tells whether p is a training run's directory: it has metrics,
// or a lock and the config train writes at once (a compare-optimizers or
// sweep output directory holds a lock too, and no config.yaml).
func isRunDir(p string) bool {
	return isFile(filepath.Join(p, "metrics.jsonl")) ||
		isFile(filepath.Join(p, session.LockFile)) && isFile(filepath.Join(p, "config.yaml"))
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// runInfo describes the run in directory p; rows, when not nil, are its
// metrics (read here otherwise).
func (s *Server) runInfo(name, p string, rows []session.Row) RunInfo {
	ri := RunInfo{Name: name}
	if rows == nil {
		rows, _ = s.readRows(p)
	}
	ri.Rows = len(rows)
	if len(rows) > 0 {
		ri.Last = rows[len(rows)-1].JSON()
	}
	var st struct {
		Status string          `json:"status"`
		Reason string          `json:"reason"`
		Best   json.RawMessage `json:"best"`
	}
	hasStatus := false
	if b, err := readOwn(filepath.Join(p, session.StatusFile), maxStatus, "status"); err == nil && json.Unmarshal(b, &st) == nil {
		hasStatus = true
	}
	switch pid, held := session.LockHeld(p); {
	case held:
		ri.Status, ri.Pid = StatusRunning, pid
	case hasStatus && st.Status != "":
		ri.Status, ri.Reason = st.Status, st.Reason
	default:
		ri.Status = StatusInterrupted // killed: no status.json
	}
	// A finished run's status.json names the best whose weights were saved
	// (after a failed write of best.safetensors, not the lowest row).
	var saved session.Row
	if hasStatus && len(st.Best) > 0 && string(st.Best) != "null" && json.Unmarshal(st.Best, &saved) == nil && saved.Step > 0 && ri.Status != StatusRunning {
		ri.Best = saved.JSON()
	} else if b := bestOf(rows); b != nil {
		ri.Best = b.JSON()
	}
	ri.About = about(p)
	return ri
}

// bestOf is the row of the lowest validation loss (of the training loss
// without validation data), as best.safetensors is chosen.
func bestOf(rows []session.Row) *session.Row {
	var best *session.Row
	score := func(r *session.Row) float64 {
		v := r.TrainLoss
		if r.ValLoss != nil {
			v = *r.ValLoss
		}
		if v != v { // NaN: never the best
			return math.Inf(1)
		}
		return v
	}
	for i := range rows {
		if r := &rows[i]; best == nil || score(r) < score(best) {
			best = r
		}
	}
	return best
}

// readRows returns a run's metrics rows, read again only when its
// metrics.jsonl changed size or time, and then only its new lines. The
// rows are shared: callers must not change them.
func (s *Server) readRows(dir string) ([]session.Row, error) {
	path := filepath.Join(dir, "metrics.jsonl")
	st, err := os.Stat(path)
	if err != nil {
		return readRows(dir)
	}
	s.mu.Lock()
	c, ok := s.rows[path]
	if !ok {
		if s.rows == nil || s.cachedLen+st.Size() > maxCached {
			s.rows, s.cachedLen = map[string]*cachedRows{}, 0
		}
		c = &cachedRows{follow: session.MetricsFollower{Path: path}, size: -1}
		s.rows[path] = c
	}
	s.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.size == st.Size() && c.mod.Equal(st.ModTime()) {
		return c.rows, c.err
	}
	rows, err := c.follow.Read()
	if errors.Is(err, fs.ErrNotExist) { // removed since the Stat
		rows, err = nil, nil
	}
	if rows == nil {
		rows = []session.Row{}
	}
	s.mu.Lock()
	if s.rows[path] == c {
		s.cachedLen += st.Size() - max(c.size, 0)
		if s.cachedLen > maxCached { // grown past the bound: keep this run only
			s.rows, s.cachedLen = map[string]*cachedRows{path: c}, st.Size()
		}
	}
	s.mu.Unlock()
	c.size, c.mod, c.rows, c.err = st.Size(), st.ModTime(), rows, err
	return rows, err
}

func readRows(dir string) ([]session.Row, error) {
	rows, err := session.BoardMetrics(filepath.Join(dir, "metrics.jsonl"))
	if errors.Is(err, fs.ErrNotExist) {
		return []session.Row{}, nil
	}
	if rows == nil {
		rows = []session.Row{}
	}
	return rows, err
}

// about summarises a run's config.yaml in a line: optimizer, loss,
// epochs or steps.
func about(dir string) string {
	b, err := readOwn(filepath.Join(dir, "config.yaml"), maxConfig, "config")
	if err != nil {
		return ""
	}
	var c struct {
		Loss      string         `yaml:"loss"`
		Optimizer map[string]any `yaml:"optimizer"`
		Training  map[string]any `yaml:"training"`
	}
	if yaml.Unmarshal(b, &c) != nil {
		return ""
	}
	var parts []string
	if o := c.Optimizer; o != nil {
		parts = append(parts, fmt.Sprintf("%v lr %v", o["name"], o["lr"]))
	}
	if c.Loss != "" {
		parts = append(parts, c.Loss)
	}
	if t := c.Training; t != nil {
		if v, ok := t["steps"]; ok && v != nil {
			parts = append(parts, fmt.Sprintf("%v steps", v))
		} else if v, ok := t["epochs"]; ok {
			parts = append(parts, fmt.Sprintf("%v epochs", v))
		}
		if v, ok := t["batch_size"]; ok {
			parts = append(parts, fmt.Sprintf("batch %v", v))
		}
	}
	return strings.Join(parts, ", ")
}

// resolve maps a run or report name from a request to its directory,
// refusing one outside the runs directory, by its name or through a
// symlink.
func (s *Server) resolve(name string) (string, error) {
	if name == "" || path.IsAbs(name) || strings.Contains(name, "\\") {
		return "", fmt.Errorf("bad name %q", name)
	}
	clean := path.Clean(name)
	if clean != "." && (clean == ".." || strings.HasPrefix(clean, "../")) {
		return "", fmt.Errorf("bad name %q", name)
	}
	p := filepath.Join(s.dir, filepath.FromSlash(clean))
	// Nor through a symlink: a run directory linked from elsewhere would
	// serve what lies outside the runs directory.
	root, err1 := filepath.EvalSymlinks(s.dir)
	real, err2 := filepath.EvalSymlinks(p)
	if err1 == nil && err2 == nil && real != root && !strings.HasPrefix(real, root+string(filepath.Separator)) {
		return "", fmt.Errorf("bad name %q", name)
	}
	return p, nil
}

// readOwn reads a file of a run or report directory, at most limit
// bytes, if it is a regular file of its own: a symlink (a config.yaml
// linked to /etc/passwd) is not served.
func readOwn(p string, limit int64, what string) ([]byte, error) {
	if st, err := os.Lstat(p); err != nil || !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file of the run", p)
	}
	return safeio.ReadFile(p, limit, what)
}

// RunDetail is /api/run: a run's metrics rows, config and status.
//
// A page that polls a run asks only for the rows it does not have:
// /api/run?name=NAME&from=N&sig=SIG, with N the rows it holds and SIG the
// MetricsSig of the answer that gave it the last of them. When row N-1 of
// the file still has that signature, Metrics holds rows N onwards and
// MetricsFrom is N; otherwise (the file was rewritten, say by a run
// started again with --overwrite) every row, and MetricsFrom is 0.
type RunDetail struct {
	RunInfo
	Config  string           `json:"config"`
	Metrics []map[string]any `json:"metrics"`
	// MetricsFrom is the index of Metrics' first row in the run's rows.
	MetricsFrom int `json:"metrics_from"`
	// MetricsSig is the signature of the run's last row ("" without rows):
	// what the next request's sig names.
	MetricsSig string `json:"metrics_sig"`
	Error      string `json:"error,omitempty"`
	// Traces are the trace pages in the run's directory (trace*.html, as
	// nettrain trace --html writes them), sorted.
	Traces []string `json:"traces"`
}

func (s *Server) apiRun(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	dir, err := s.resolve(name)
	if err != nil || !isRunDir(dir) {
		http.Error(w, fmt.Sprintf("no run %q", name), http.StatusNotFound)
		return
	}
	d := RunDetail{}
	rows, err := s.readRows(dir)
	if err != nil {
		d.Error = err.Error()
	}
	d.RunInfo = s.runInfo(path.Clean(name), dir, rows)
	q := r.URL.Query()
	if from, err := strconv.Atoi(q.Get("from")); err == nil && from > 0 && from <= len(rows) && rowSig(rows[from-1]) == q.Get("sig") {
		d.MetricsFrom = from
	}
	d.Metrics = make([]map[string]any, 0, len(rows)-d.MetricsFrom)
	for _, r := range rows[d.MetricsFrom:] {
		d.Metrics = append(d.Metrics, r.JSON())
	}
	if len(rows) > 0 {
		d.MetricsSig = rowSig(rows[len(rows)-1])
	}
	if b, err := readOwn(filepath.Join(dir, "config.yaml"), maxConfig, "config"); err == nil {
		d.Config = string(b)
	}
	d.Traces = traces(dir)
	writeJSON(w, d)
}

// rowSig is a metrics row's signature: an FNV-1a hash of its JSON, so
// that a row rewritten with other values, or another row at its index,
// has another.
func rowSig(r session.Row) string {
	b, err := finitejson.Marshal(r.JSON())
	if err != nil {
		return ""
	}
	h := fnv.New64a()
	h.Write(b)
	return strconv.FormatUint(h.Sum64(), 36)
}

// traceName is the name of a trace page the board shows: trace*.html,
// with letters, digits, '.', '-' and '_' only.
var traceName = regexp.MustCompile(`^trace[A-Za-z0-9._-]*\.html$`)

// traces lists the trace pages in a run's directory.
func traces(dir string) []string {
	out := []string{}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return out
	}
	for _, e := range ents {
		if traceName.MatchString(e.Name()) && e.Type().IsRegular() {
			out = append(out, e.Name())
		}
	}
	slices.Sort(out)
	return out
}

// apiTrace serves a run's trace page (a name traces lists), read-only, in
// a sandbox: the page's own inline script and style run, in an opaque
// origin that cannot reach the board, and it may load nothing.
func (s *Server) apiTrace(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	file := q.Get("file")
	dir, err := s.resolve(q.Get("name"))
	if err != nil || !traceName.MatchString(file) {
		http.Error(w, "no such trace", http.StatusNotFound)
		return
	}
	b, err := readOwn(filepath.Join(dir, file), maxTrace, "trace")
	if err != nil {
		http.Error(w, "no such trace", http.StatusNotFound)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", "sandbox allow-scripts; default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:")
	h.Set("Content-Type", "text/html; charset=utf-8")
	w.Write(b)
}

// ReportDetail is /api/report: a comparison's summary.json and the names
// of its plots.
type ReportDetail struct {
	Name    string          `json:"name"`
	Summary json.RawMessage `json:"summary"`
	Images  []string        `json:"images"`
}

// reportImages are the plots a report may have.
var reportImages = []string{"curves.png", "lr-sensitivity.png"}

func (s *Server) reportDir(w http.ResponseWriter, name string) (string, bool) {
	dir, err := s.resolve(name)
	if err != nil || !isFile(filepath.Join(dir, "summary.json")) {
		http.Error(w, fmt.Sprintf("no report %q", name), http.StatusNotFound)
		return "", false
	}
	return dir, true
}

func (s *Server) apiReport(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	dir, ok := s.reportDir(w, name)
	if !ok {
		return
	}
	b, err := readOwn(filepath.Join(dir, "summary.json"), maxSummary, "summary")
	if err != nil || !json.Valid(b) {
		http.Error(w, fmt.Sprintf("%s: unreadable summary.json", name), http.StatusUnprocessableEntity)
		return
	}
	d := ReportDetail{Name: path.Clean(name), Summary: b, Images: []string{}}
	for _, img := range reportImages {
		if isFile(filepath.Join(dir, img)) {
			d.Images = append(d.Images, img)
		}
	}
	writeJSON(w, d)
}

// apiImage serves a plot of a report (only the names in reportImages) or
// a run's curves.png.
func (s *Server) apiImage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	file := q.Get("file")
	if !slices.Contains(reportImages, file) {
		http.Error(w, "no such image", http.StatusNotFound)
		return
	}
	dir, err := s.resolve(q.Get("name"))
	if err != nil {
		http.Error(w, "no such image", http.StatusNotFound)
		return
	}
	b, err := readOwn(filepath.Join(dir, file), maxImage, "image")
	if err != nil {
		http.Error(w, "no such image", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Write(b)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	b, err := finitejson.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Write(b)
}
