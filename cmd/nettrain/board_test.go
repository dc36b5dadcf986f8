package main

import (
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBoardArgs: argv to BoardOptions.
func TestBoardArgs(t *testing.T) {
	tests := []struct {
		args      []string
		dir, addr string
		wantErr   bool
	}{
		{nil, "runs", "127.0.0.1:6006", false},
		{[]string{"exp"}, "exp", "127.0.0.1:6006", false},
		{[]string{"exp", "--addr", "127.0.0.1:7000"}, "exp", "127.0.0.1:7000", false},
		{[]string{"a", "b"}, "", "", true},
	}
	for _, tc := range tests {
		s, _, _ := streams()
		var got *BoardOptions
		cmd := NewCmdBoard(s, func(o *BoardOptions) error { got = o; return nil })
		cmd.SetArgs(tc.args)
		cmd.SetOut(io.Discard)
		cmd.SetErr(io.Discard)
		err := cmd.Execute()
		if (err != nil) != tc.wantErr {
			t.Errorf("%q: error %v", tc.args, err)
			continue
		}
		if !tc.wantErr && (got.Dir != tc.dir || got.Addr != tc.addr) {
			t.Errorf("%q: dir %q addr %q", tc.args, got.Dir, got.Addr)
		}
	}
}

// TestRunBoard: the board serves the runs directory on loopback until
// stopped, also one that does not exist yet, and refuses a file.
func TestRunBoard(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "r1"), 0o755)
	os.WriteFile(filepath.Join(dir, "r1", "metrics.jsonl"), []byte(`{"epoch":1,"step":3,"train_loss":1,"val_loss":null,"val_accuracy":null,"val_mae":null,"lr":0.1,"grad_norm":1,"samples_per_s":1,"elapsed_s":1}`+"\n"), 0o644)
	s, out, _ := streams()
	stop := make(chan struct{})
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- runBoard(&BoardOptions{IO: s, Dir: dir, Addr: "127.0.0.1:0", Stop: stop, Ready: func(a string) { addr <- a }})
	}()
	a := <-addr
	r, err := http.Get("http://" + a + "/api/runs")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if !strings.Contains(string(b), `"name":"r1"`) || !strings.Contains(string(b), `"status":"interrupted"`) {
		t.Errorf("/api/runs: %s", b)
	}
	close(stop)
	if err := <-done; err != nil {
		t.Error(err)
	}
	if !strings.Contains(out.String(), "board: http://127.0.0.1:") {
		t.Errorf("output: %q", out.String())
	}
	// A directory that does not exist yet is served (no runs), with a
	// note; a file is refused.
	s, _, errOut := streams()
	stop = make(chan struct{})
	go func() {
		done <- runBoard(&BoardOptions{IO: s, Dir: filepath.Join(dir, "none"), Addr: "127.0.0.1:0", Stop: stop, Ready: func(a string) { addr <- a }})
	}()
	a = <-addr
	if r, err := http.Get("http://" + a + "/api/runs"); err != nil {
		t.Error(err)
	} else {
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != http.StatusOK || strings.Contains(string(b), `"name"`) {
			t.Errorf("/api/runs of a missing directory: %d %s", r.StatusCode, b)
		}
	}
	close(stop)
	if err := <-done; err != nil {
		t.Error(err)
	}
	if !strings.Contains(errOut.String(), "none does not exist yet; the board shows the runs training writes there") {
		t.Errorf("a missing directory: %q", errOut.String())
	}
	s, _, _ = streams()
	if err := runBoard(&BoardOptions{IO: s, Dir: filepath.Join(dir, "r1", "metrics.jsonl"), Addr: "127.0.0.1:0"}); err == nil || !strings.Contains(err.Error(), "not a directory of runs") {
		t.Errorf("a file: %v", err)
	}
	// A bad --addr is a usage error (exit 2); a port in use is named as such.
	for _, c := range []struct{ addr, want string }{
		{"foo", `--addr "foo": expected host:port`},
		{"127.0.0.1:99999", `--addr "127.0.0.1:99999": the port must be a number from 0 to 65535`},
		{"127.0.0.1:-1", `the port must be a number from 0 to 65535`},
	} {
		s, _, errOut := streams()
		if code := Main([]string{"board", dir, "--addr", c.addr}, s); code != exitUsage || !strings.Contains(errOut.String(), c.want) {
			t.Errorf("--addr %s: exit %d: %s", c.addr, code, errOut)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s, _, _ = streams()
	if err := runBoard(&BoardOptions{IO: s, Dir: dir, Addr: ln.Addr().String()}); err == nil || !strings.Contains(err.Error(), "is another board running?") {
		t.Errorf("a port in use: %v", err)
	}
}
