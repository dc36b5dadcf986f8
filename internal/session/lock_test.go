package session

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nettrain/nettrain/internal/checkpoint"
)

// TestRunDirectoryLock: while a run trains in a directory, a second run
// into it (even with --overwrite, or a resume) fails at once naming the
// first one's pid, and leaves its files alone; the lock goes with the run.
func TestRunDirectoryLock(t *testing.T) {
	dir := t.TempDir()
	writeBlobs(t, dir, 60)
	out := filepath.Join(dir, "run")
	lock := filepath.Join(out, "nettrain.lock")

	// The first run trains until told to stop.
	long := loadConfig(t, dir, blobsConfig, "training.epochs=100000")
	stop := make(chan os.Signal, 1)
	first := make(chan error, 1)
	go func() {
		_, err := Run(long, Options{OutDir: out, Interrupt: stop})
		first <- err
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(out, "metrics.csv")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first run did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}

	cfg := loadConfig(t, dir, blobsConfig, "training.epochs=1")
	want := fmt.Sprintf("run directory %s is in use by another nettrain process (pid %d", out, os.Getpid())
	for _, o := range []Options{
		{OutDir: out, Overwrite: true},
		{OutDir: out},
		{Resume: filepath.Join(out, "last.safetensors")},
	} {
		start := time.Now()
		_, err := Run(cfg, o)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("second run %+v: %v\nwant %s", o, err, want)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("the second run took %v to fail", d)
		}
	}
	stop <- syscall.SIGINT
	var ie *InterruptedError
	if err := <-first; !errors.As(err, &ie) {
		t.Fatalf("the first run: %v", err)
	}
	if _, err := os.Stat(lock); !os.IsNotExist(err) {
		t.Errorf("the lock file outlived the run: %v", err)
	}
	// The first run's files were not cleared by the second's --overwrite.
	if _, _, err := checkpoint.Read(ie.Checkpoint); err != nil {
		t.Errorf("the first run's checkpoint: %v", err)
	}
	// Now the directory is free.
	more := loadConfig(t, dir, blobsConfig, "training.epochs=100000", "training.steps="+fmt.Sprint(ie.Step+2))
	if _, err := Run(more, Options{Resume: ie.Checkpoint}); err != nil {
		t.Errorf("a resume after the run ended: %v", err)
	}
}

// TestStaleLockIsTakenOver: a lock file left by a process that no longer
// runs (killed: it could not remove it) does not stop the next run, which
// says so; a lock file another process holds does.
func TestStaleLockIsTakenOver(t *testing.T) {
	dir := t.TempDir()
	writeBlobs(t, dir, 60)
	out := filepath.Join(dir, "run")
	os.MkdirAll(out, 0o755)
	lock := filepath.Join(out, "nettrain.lock")

	// The pid of a process that has exited.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Skip("no true command:", err)
	}
	os.WriteFile(lock, []byte(fmt.Sprintf("%d\n", dead.Process.Pid)), 0o644)
	cfg := loadConfig(t, dir, blobsConfig, "training.epochs=1")
	var log strings.Builder
	if _, err := Run(cfg, Options{OutDir: out, Log: &log}); err != nil {
		t.Fatalf("with a stale lock file: %v", err)
	}
	if want := fmt.Sprintf("took over the lock of pid %d", dead.Process.Pid); !strings.Contains(log.String(), want) {
		t.Errorf("log lacks %q:\n%s", want, log.String())
	}
	if _, err := os.Stat(lock); !os.IsNotExist(err) {
		t.Errorf("the lock file outlived the run: %v", err)
	}

	// Another process holds the lock: flock(1) locks the file and becomes
	// a sleep that keeps holding it (--no-fork: killing it ends the hold).
	holder := exec.Command("flock", "--no-fork", lock, "sleep", "30")
	if err := holder.Start(); err != nil {
		t.Skip("no flock command:", err)
	}
	defer func() {
		holder.Process.Kill()
		holder.Wait()
	}()
	for deadline := time.Now().Add(10 * time.Second); ; {
		if _, err := os.Stat(lock); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("flock did not create the lock file")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // until flock holds it
	os.WriteFile(lock, []byte(fmt.Sprintf("%d\n", holder.Process.Pid)), 0o644)
	_, err := Run(cfg, Options{OutDir: out, Overwrite: true})
	if want := fmt.Sprintf("is in use by another nettrain process (pid %d", holder.Process.Pid); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("with the lock held by another process: %v\nwant %s", err, want)
	}
}

// TestLockHeld: LockHeld sees a run's lock while it is held, and not after.
func TestLockHeld(t *testing.T) {
	dir := t.TempDir()
	if _, held := LockHeld(dir); held {
		t.Fatal("held without a lock file")
	}
	l, err := lockDir(dir, "run directory", nil)
	if err != nil {
		t.Fatal(err)
	}
	if pid, held := LockHeld(dir); !held || pid != os.Getpid() {
		t.Errorf("held %v by %d, want held by %d", held, pid, os.Getpid())
	}
	l.unlock()
	if _, held := LockHeld(dir); held {
		t.Error("held after unlock")
	}
}

// TestLockWithoutFileSystemLocks: where flock is not supported (ENOLCK,
// ENOSYS: Lustre without -o flock, NFS without a lock daemon) a run goes
// on without the lock, saying so, and leaves no lock file; another error
// still refuses.
func TestLockWithoutFileSystemLocks(t *testing.T) {
	defer func(f func(int, int) error) { flock = f }(flock)
	for _, errno := range []syscall.Errno{syscall.ENOLCK, syscall.ENOSYS} {
		flock = func(int, int) error { return errno }
		dir := filepath.Join(t.TempDir(), "out")
		var log strings.Builder
		l, err := lockDir(dir, "output directory", &log)
		if err != nil {
			t.Fatalf("%v: %v", errno, err)
		}
		if !strings.Contains(log.String(), "does not support locks") {
			t.Errorf("%v: no note: %q", errno, log.String())
		}
		if _, err := os.Stat(filepath.Join(dir, LockFile)); !os.IsNotExist(err) {
			t.Errorf("%v: a lock file is left: %v", errno, err)
		}
		l.unlock()
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("%v: the empty directory it created is left: %v", errno, err)
		}
	}
	flock = func(int, int) error { return syscall.EIO }
	if _, err := lockDir(filepath.Join(t.TempDir(), "out"), "run directory", nil); err == nil || !strings.Contains(err.Error(), "cannot lock run directory") {
		t.Errorf("EIO: %v", err)
	}
}
