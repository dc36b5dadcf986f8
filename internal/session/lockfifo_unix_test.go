//go:build unix

package session

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestLockHeldFIFO: a FIFO named nettrain.lock (no writer) is no held
// lock, and looking at it does not block (the board asks every run
// directory, and hung on one).
func TestLockHeldFIFO(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, LockFile), 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan bool)
	go func() { _, held := LockHeld(dir); done <- held }()
	select {
	case held := <-done:
		if held {
			t.Error("a FIFO counts as a held lock")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("LockHeld blocked on a FIFO")
	}
}
