package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/nettrain/nettrain/internal/compare"
	"github.com/nettrain/nettrain/internal/session"
)

// signalExit is the conventional exit code after a signal: 128 + its
// number (130 for SIGINT, 143 for SIGTERM).
func signalExit(s os.Signal) int {
	if n, ok := s.(syscall.Signal); ok {
		return 128 + int(n)
	}
	return 130
}

// watchSignals catches SIGINT and SIGTERM for a long-running command. The
// first one is delivered on the returned channel (the command finishes its
// step and saves); a second one exits at once, which leaves the last
// checkpoint intact because checkpoints are written atomically (through
// streams.Exit: os.Exit in the binary, a recorder in tests). stop releases
// the signals.
func watchSignals(streams *IOStreams) (first <-chan os.Signal, stop func()) {
	errOut, exit := streams.ErrOut, streams.Exit
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	out := make(chan os.Signal, 1)
	quit := make(chan struct{})
	go func() {
		select {
		case s := <-sigs:
			fmt.Fprintf(errOut, "nettrain: %s: finishing the current step and saving a checkpoint (signal again to exit at once)\n", session.SignalName(s))
			out <- s
		case <-quit:
			return
		}
		select {
		case s := <-sigs:
			fmt.Fprintf(errOut, "nettrain: %s again: exiting now; the last checkpoint on disk is intact\n", session.SignalName(s))
			exit(signalExit(s))
		case <-quit:
		}
	}()
	return out, func() {
		signal.Stop(sigs)
		close(quit)
	}
}

// interruptCode maps an interrupted run's error to its exit code.
func interruptCode(err error) (int, bool) {
	var ti *session.InterruptedError
	if errors.As(err, &ti) {
		return signalExit(ti.Signal), true
	}
	var ci *compare.Interrupted
	if errors.As(err, &ci) {
		return signalExit(ci.Signal), true
	}
	return 0, false
}
