package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/nettrain/nettrain/internal/board"
)

// BoardOptions are the parsed arguments of `nettrain board`.
type BoardOptions struct {
	IO   *IOStreams
	Dir  string // the runs directory
	Addr string // host:port to listen on
	// Ready, when set, receives the address listened on (tests).
	Ready func(addr string)
	// Stop, when set, ends the server when closed (tests); otherwise
	// SIGINT or SIGTERM does.
	Stop <-chan struct{}
}

// NewCmdBoard builds `nettrain board`; runF replaces runBoard in tests.
func NewCmdBoard(s *IOStreams, runF func(*BoardOptions) error) *cobra.Command {
	opts := &BoardOptions{IO: s}
	cmd := &cobra.Command{
		Use:   "board [RUNS_DIR]",
		Short: "Watch training runs in the browser: curves, status, comparisons",
		Long: `Serve a local web page over RUNS_DIR (default runs): every run in it with
its config, status (running, finished, stopped_early, interrupted, diverged,
failed) and best metrics; each run's curves, updating live while it trains;
the curves of several runs overlaid; and compare-optimizers reports. It only
reads the run directories, and listens on 127.0.0.1:6006 unless --addr
says otherwise.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Dir = "runs"
			if len(args) == 1 {
				opts.Dir = args[0]
			}
			if runF != nil {
				return runF(opts)
			}
			return runBoard(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Addr, "addr", "127.0.0.1:6006", "address to listen on (host:port; port 0 picks a free one)")
	return cmd
}

func runBoard(o *BoardOptions) error {
	// A directory that does not exist yet is watched all the same, as
	// TensorBoard watches a log directory before the first run: the page
	// says there are no runs until training writes one there.
	st, err := os.Stat(o.Dir)
	missing := errors.Is(err, fs.ErrNotExist)
	if !missing && (err != nil || !st.IsDir()) {
		return fmt.Errorf("%s: not a directory of runs (nettrain train writes runs/<name>/; pass the directory that holds them)", o.Dir)
	}
	host, port, err := net.SplitHostPort(o.Addr)
	if err != nil {
		return usageError{fmt.Errorf("--addr %q: expected host:port, e.g. 127.0.0.1:6006", o.Addr)}
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		if _, err := net.LookupPort("tcp", port); err != nil {
			return usageError{fmt.Errorf("--addr %q: the port must be a number from 0 to 65535 (0 picks a free one)", o.Addr)}
		}
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		hint := ""
		if errors.Is(err, syscall.EADDRINUSE) {
			hint = " (is another board running? pick another --addr)"
		}
		return fmt.Errorf("cannot listen on %s: %v%s", o.Addr, err, hint)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		fmt.Fprintf(o.IO.ErrOut, "nettrain: note: listening on %s: the board is reachable from other machines, and shows every run's config\n", ln.Addr())
	}
	if missing {
		fmt.Fprintf(o.IO.ErrOut, "nettrain: note: %s does not exist yet; the board shows the runs training writes there (nettrain train writes runs/<name>/)\n", o.Dir)
	}
	srv := &http.Server{Handler: board.New(o.Dir), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(o.IO.Out, "board: http://%s/ (runs in %s); Ctrl-C to stop\n", ln.Addr(), o.Dir)
	if o.Ready != nil {
		o.Ready(ln.Addr().String())
	}
	stop := o.Stop
	if stop == nil {
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
		defer signal.Stop(sigs)
		ch := make(chan struct{})
		go func() { <-sigs; close(ch) }()
		stop = ch
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-stop:
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}
