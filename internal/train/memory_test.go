package train

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nettrain/nettrain/internal/model"
)

// TestMemoryLimitChild is the process TestMemoryLimitFollowsTheProcess
// starts under a limit: it prints MemoryLimit of a config that sets none.
func TestMemoryLimitChild(t *testing.T) {
	if os.Getenv("NETTRAIN_MEMLIMIT_CHILD") == "" {
		return
	}
	n, what := MemoryLimit(&model.Config{})
	fmt.Printf("limit=%d what=%s\n", n, what)
}

// TestMemoryLimitFollowsTheProcess: without training.memory_limit, a
// process under an address-space limit (prlimit --as) or in a memory
// cgroup gets the smaller bound, so that a network too large for it is
// refused with an estimate instead of crashing out of memory.
func TestMemoryLimitFollowsTheProcess(t *testing.T) {
	child := func(t *testing.T, prefix ...string) (int64, string) {
		t.Helper()
		args := append(prefix, os.Args[0], "-test.run=^TestMemoryLimitChild$")
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = append(os.Environ(), "NETTRAIN_MEMLIMIT_CHILD=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		i := strings.Index(string(out), "limit=")
		if i < 0 {
			t.Fatalf("the child printed no limit:\n%s", out)
		}
		var n int64
		fmt.Sscanf(string(out[i:]), "limit=%d", &n)
		what := strings.TrimSpace(strings.SplitN(string(out[i:]), "what=", 2)[1])
		return n, strings.SplitN(what, "\n", 2)[0]
	}
	t.Run("address space", func(t *testing.T) {
		if _, err := exec.LookPath("prlimit"); err != nil {
			t.Skip("needs prlimit (util-linux)")
		}
		if m := machineMemory(); m > 0 && m < 3e9 || cgroupMemory() > 0 && cgroupMemory() < 3e9 {
			t.Skip("the machine or its cgroup holds less than the 3 GB limit tested")
		}
		n, what := child(t, "prlimit", "--as=3000000000")
		// Three quarters of what the limit leaves beyond the child's
		// mappings (the Go runtime's reservations, about a gigabyte).
		if n <= 0 || n > 2250000000 || !strings.Contains(what, "ulimit -v") {
			t.Errorf("under --as=3e9: %d (%s), want at most 2250000000 from the address-space limit", n, what)
		}
		n, what = child(t, "prlimit", "--data=3000000000")
		if n <= 0 || n > 2250000000 || !strings.Contains(what, "ulimit -v or -d") {
			t.Errorf("under --data=3e9: %d (%s), want at most 2250000000 from the data limit", n, what)
		}
	})
	t.Run("memory cgroup", func(t *testing.T) {
		// Under the test's own memory cgroup (not the hierarchy's root,
		// which would take the child out of any limit CI sets), which
		// also exercises the nested path.
		own := ""
		if b, err := os.ReadFile("/proc/self/cgroup"); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if p := strings.SplitN(line, ":", 3); len(p) == 3 && slices.Contains(strings.Split(p[1], ","), "memory") {
					own = p[2]
				}
			}
		}
		root := filepath.Join("/sys/fs/cgroup/memory", own)
		if _, err := os.Stat(filepath.Join(root, "memory.limit_in_bytes")); err != nil {
			t.Skipf("needs cgroup v1's memory controller at %s: %v", root, err)
		}
		dir := filepath.Join(root, fmt.Sprintf("nettrain-mem-test-%d-%d", os.Getpid(), rand.Uint32()))
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Skipf("cannot make a cgroup (needs root): %v", err)
		}
		t.Cleanup(func() {
			if err := os.Remove(dir); err != nil {
				t.Errorf("removing the test's cgroup: %v", err)
			}
		})
		if err := os.WriteFile(filepath.Join(dir, "memory.limit_in_bytes"), []byte("1073741824"), 0o644); err != nil {
			t.Fatal(err)
		}
		n, what := child(t, "sh", "-c", `echo $$ > "$0" && exec "$@"`, filepath.Join(dir, "cgroup.procs"))
		if n != 1<<30 || !strings.Contains(what, "cgroup") {
			t.Errorf("in a 1 GiB memory cgroup: %d (%s), want 1073741824 from the cgroup", n, what)
		}
		// A cgroup without a limit of its own inside the limited one (a
		// Slurm step's cgroup inside its job's, a container inside a
		// systemd slice): the parent's limit holds.
		inner := filepath.Join(dir, "inner")
		if err := os.Mkdir(inner, 0o755); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := os.Remove(inner); err != nil {
				t.Errorf("removing the test's cgroup: %v", err)
			}
		})
		n, what = child(t, "sh", "-c", `echo $$ > "$0" && exec "$@"`, filepath.Join(inner, "cgroup.procs"))
		if n != 1<<30 || !strings.Contains(what, "cgroup") {
			t.Errorf("in a cgroup inside a 1 GiB memory cgroup: %d (%s), want 1073741824 from the parent", n, what)
		}
	})
}

// TestCgroupMounts: a cgroup's directory is found under the mount that
// holds it, also when a container's mount is rooted at its own cgroup.
func TestCgroupMounts(t *testing.T) {
	const info = `30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
34 30 0:31 /kubepods/pod1/c1 /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
35 30 0:32 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
40 30 0:37 / /mnt/cgroup\040two rw,relatime - cgroup2 cgroup2 rw
bad line`
	none := cgroupMount{"-", "-"}
	v1, v2 := parseCgroupMounts(info, none, none)
	if v1 != (cgroupMount{"/sys/fs/cgroup/memory", "/kubepods/pod1/c1"}) || v2 != (cgroupMount{"/mnt/cgroup two", "/"}) {
		t.Fatalf("parsed v1 %+v, v2 %+v", v1, v2)
	}
	if a, b := parseCgroupMounts("", none, none); a != none || b != none {
		t.Errorf("no mounts listed: %+v %+v, want the defaults kept", a, b)
	}
	for _, tc := range []struct {
		m          cgroupMount
		path, want string
	}{
		{cgroupMount{"/sys/fs/cgroup", "/"}, "/user.slice/job_1/step_0", "/sys/fs/cgroup/user.slice/job_1/step_0"},
		{cgroupMount{"/sys/fs/cgroup", "/"}, "/", "/sys/fs/cgroup"},
		{v1, "/kubepods/pod1/c1", "/sys/fs/cgroup/memory"},
		{v1, "/kubepods/pod1/c1/sub", "/sys/fs/cgroup/memory/sub"},
		{v1, "/", "/sys/fs/cgroup/memory"},                  // a cgroup namespace shows its root as /
		{v1, "/kubepods/pod1/c10", "/sys/fs/cgroup/memory"}, // not under the root: the mount itself
	} {
		if got := tc.m.dir(tc.path); got != tc.want {
			t.Errorf("%+v.dir(%q) = %q, want %q", tc.m, tc.path, got, tc.want)
		}
	}
}
