package session

import (
	"fmt"
	"os"
	"syscall"
)

// InterruptedError reports a run stopped by a signal after saving a
// checkpoint, or, without a Checkpoint, before training started, having
// changed nothing in the run directory.
type InterruptedError struct {
	Signal     os.Signal
	Checkpoint string
	Hint       string // the command line that resumes, without --resume
	Step       int64
}

func (e *InterruptedError) Error() string {
	if e.Checkpoint == "" {
		return fmt.Sprintf("interrupted by %s before training started: nothing was written; run the same command again to train", SignalName(e.Signal))
	}
	return fmt.Sprintf("interrupted by %s after step %d; saved %s; resume with: %s --resume %s",
		SignalName(e.Signal), e.Step, e.Checkpoint, e.Hint, e.Checkpoint)
}

// SignalName is "SIGINT", "SIGTERM", or the signal's own description.
func SignalName(s os.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGPIPE:
		return "SIGPIPE"
	}
	return s.String()
}

// DivergedError reports a non-finite loss or gradient that stopped
// training (training.on_nan: stop, or too many rollbacks or skips).
type DivergedError struct {
	Step  int64
	Loss  float64
	Where string
	Last  string // the last good checkpoint
	Hint  string
}

func (e *DivergedError) Error() string {
	return fmt.Sprintf("training diverged at step %d: the loss is %v; the first non-finite value is %s; the last good checkpoint is %s%s",
		e.Step, e.Loss, e.Where, e.Last, e.Hint)
}
