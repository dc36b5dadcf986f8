//go:build unix

package guide

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestIsPageFIFO: a FIFO where a page would be is no page, and looking
// at it does not block.
func TestIsPageFIFO(t *testing.T) {
	p := filepath.Join(t.TempDir(), "README.md")
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan bool)
	go func() { done <- isPage(p) }()
	select {
	case page := <-done:
		if page {
			t.Error("a FIFO is a page")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("isPage blocked on a FIFO")
	}
}
