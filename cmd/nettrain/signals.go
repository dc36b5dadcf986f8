package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/nettrain/nettrain/internal/compare"
	"github.com/nettrain/nettrain/internal/safeio"
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

// signalNotes are what a long-running command says on the first SIGINT or
// SIGTERM (what it does before it stops) and on a second (what it leaves
// on disk as it exits at once). With a gate (watchSignalsGated), the
// notes before and againBefore replace them until the command began
// (gate.begin): a command that has written nothing yet stops at once.
type signalNotes struct{ first, again, before, againBefore string }

var (
	// trainSignals: train finishes its step and saves a checkpoint;
	// checkpoints are written atomically. Before training starts (the
	// data loading, the checkpoint checked), it stops at once and writes
	// nothing.
	trainSignals = signalNotes{"finishing the current step and saving a checkpoint", "the last checkpoint on disk is intact",
		"stopping before training starts; nothing is written", "nothing was written"}
	// trialSignals: compare-optimizers, sweep and guide save no
	// checkpoint: the running trials stop and rerun next time, and each
	// finished trial was recorded (a whole line, synced) as it finished.
	trialSignals = signalNotes{first: "stopping the running trials after their current step; finished trials stay recorded, unfinished ones rerun next time",
		again: "the records of the finished trials on disk are intact"}
)

// watchSignals catches SIGINT, SIGTERM and SIGPIPE for a long-running
// command. The first one is delivered on the returned channel (the command
// finishes its step and saves what it has), with notes.first on standard
// error; a second SIGINT or SIGTERM exits at once, with notes.again
// (through streams.Exit: os.Exit in the binary, a recorder in tests). A
// SIGPIPE comes from a write to a closed pipe, such as standard output
// piped into head: without this, Go would kill the process there and
// leave the run without its status and its lock in place; with it, the
// write fails and the command stops as after SIGINT, and the SIGPIPEs of
// its later writes change nothing. stop releases the signals.
func watchSignals(streams *IOStreams, notes signalNotes) (first <-chan os.Signal, stop func()) {
	return watchSignalsGated(streams, notes, nil)
}

// signalGate tells the signal watcher whether the command has begun to
// change things on disk: until begin, the first signal's notes are
// signalNotes.before and .againBefore. The watcher decides and delivers
// the signal under mu, and begin answers under mu, so the note printed is
// always what the command does.
type signalGate struct {
	mu               sync.Mutex
	begun, signalled bool
}

// begin is called once before the command changes anything: it returns
// false when a signal came already (it is on the watcher's channel, and
// its note said nothing would be written).
func (g *signalGate) begin() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.signalled {
		return false
	}
	g.begun = true
	return true
}

// watchSignalsGated is watchSignals whose notes follow gate (nil: always
// the notes of a command that began).
func watchSignalsGated(streams *IOStreams, notes signalNotes, gate *signalGate) (first <-chan os.Signal, stop func()) {
	errOut, exit := streams.ErrOut, streams.Exit
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGPIPE)
	out := make(chan os.Signal, 1)
	quit := make(chan struct{})
	go func() {
		again := notes.again
		warned := true // the user has been told a second signal exits at once
		select {
		case s := <-sigs:
			warned = s != syscall.SIGPIPE
			note := notes.first
			if gate != nil {
				gate.mu.Lock()
				if !gate.begun {
					note, again = notes.before, notes.againBefore
				}
				gate.signalled = true
			}
			if s == syscall.SIGPIPE {
				fmt.Fprintf(errOut, "nettrain: SIGPIPE (a closed output pipe): %s\n", note)
			} else {
				fmt.Fprintf(errOut, "nettrain: %s: %s (signal again to exit at once)\n", session.SignalName(s), note)
			}
			out <- s
			if gate != nil {
				gate.mu.Unlock()
			}
		case <-quit:
			return
		}
		for {
			select {
			case s := <-sigs:
				if s == syscall.SIGPIPE {
					continue
				}
				if !warned { // the first SIGINT or SIGTERM after a SIGPIPE
					warned = true
					fmt.Fprintf(errOut, "nettrain: %s: already stopping (standard output was closed) (signal again to exit at once)\n", session.SignalName(s))
					continue
				}
				fmt.Fprintf(errOut, "nettrain: %s again: exiting now; %s\n", session.SignalName(s), again)
				exit(signalExit(s))
			case <-quit:
				return
			}
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

// exitOnSignal makes a short command that writes files (predict, export,
// trace) exit at once on SIGINT or SIGTERM, as it would by default, but
// first remove the temporary files of the writes in progress
// (safeio.RemoveTemps): without it, a partial .NAME.tmpNNN was left
// beside the output, which nothing removes. The files already written, or
// being replaced, stay as they were. stop releases the signals.
func exitOnSignal(streams *IOStreams) (stop func()) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	quit := make(chan struct{})
	go func() {
		select {
		case s := <-sigs:
			safeio.RemoveTemps()
			fmt.Fprintf(streams.ErrOut, "nettrain: stopped by %v; a file being written was left as it was\n", s)
			streams.Exit(signalExit(s))
		case <-quit:
		}
	}()
	return func() {
		signal.Stop(sigs)
		close(quit)
	}
}
