package parallel

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestQuotaProcs(t *testing.T) {
	for _, c := range []struct {
		prev  int
		quota float64
		want  int
	}{
		{2, 1, 1},     // Go's minimum of 2 on one CPU: lowered
		{2, 0.5, 1},   // below one CPU: still one thread
		{2, 0.01, 1},  // a tiny quota
		{2, 1.5, 2},   // Go's own rounding up
		{2, 2, 2},     //
		{2, 64, 2},    // a quota above the CPUs: never raised
		{8, 3.2, 4},   // rounded up
		{8, 4, 4},     //
		{1, 1, 1},     //
		{16, 0.25, 1}, //
	} {
		if got := quotaProcs(c.prev, c.quota); got != c.want {
			t.Errorf("quotaProcs(%d, %g) = %d, want %d", c.prev, c.quota, got, c.want)
		}
	}
}

// TestFitQuotaChild is the process TestFitQuotaInCgroup starts inside a
// cgroup: it runs FitQuota and prints GOMAXPROCS before and after, and
// Cores. With NETTRAIN_QUOTA_CHILD=mask it then narrows its CPU mask to
// CPU 0 (taskset) and prints the GOMAXPROCS Go has updated to within 5 s.
func TestFitQuotaChild(t *testing.T) {
	mode := os.Getenv("NETTRAIN_QUOTA_CHILD")
	if mode == "" {
		return // only as TestFitQuotaInCgroup's child
	}
	before := runtime.GOMAXPROCS(0)
	if err := FitQuota(); err != nil {
		t.Fatal(err)
	}
	after := runtime.GOMAXPROCS(0)
	if mode == "mask" {
		if out, err := exec.Command("taskset", "-a", "-p", "-c", "0", strconv.Itoa(os.Getpid())).CombinedOutput(); err != nil {
			t.Fatalf("taskset: %v\n%s", err, out)
		}
		for end := time.Now().Add(5 * time.Second); runtime.GOMAXPROCS(0) != 1 && time.Now().Before(end); {
			time.Sleep(50 * time.Millisecond)
		}
		after = runtime.GOMAXPROCS(0)
	}
	fmt.Printf("before=%d after=%d cores=%d\n", before, after, Cores())
}

// TestFitQuotaInCgroup starts processes in a cgroup (v1's cpu controller)
// with CPU quotas and checks what FitQuota makes of each, against what Go
// chose by itself.
func TestFitQuotaInCgroup(t *testing.T) {
	root := "/sys/fs/cgroup/cpu"
	if _, err := os.Stat(filepath.Join(root, "cpu.cfs_quota_us")); err != nil {
		t.Skipf("needs cgroup v1's cpu controller at %s: %v", root, err)
	}
	if runtime.NumCPU() < 2 {
		t.Skipf("needs 2 CPUs in the affinity mask (Go's default is already 1 on %d)", runtime.NumCPU())
	}
	dir := filepath.Join(root, fmt.Sprintf("nettrain-quota-test-%d-%d", os.Getpid(), rand.Uint32()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		if errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) {
			t.Skipf("cannot make a cgroup (needs root): %v", err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.Remove(dir); err != nil {
			t.Errorf("removing the test's cgroup: %v", err)
		}
	})
	cpus := runtime.NumCPU() // Go's choice without a quota below it
	halves := min(2, cpus)   // a quota of 1.5 rounded up
	for _, c := range []struct {
		quota         float64 // CPUs; -1: none
		env           string  // GOMAXPROCS, if set
		godebug       string  // GODEBUG, if set
		mask          bool    // narrow the CPU mask after FitQuota
		before, after int
		whatGoChooses string
	}{
		{quota: 1, before: 2, after: 1, whatGoChooses: "at least 2"},
		{quota: 0.5, before: 2, after: 1, whatGoChooses: "at least 2"},
		{quota: 1.5, before: halves, after: halves, whatGoChooses: "1.5 rounded up"},
		{quota: 64, before: cpus, after: cpus, whatGoChooses: "the CPUs"},
		{quota: -1, before: cpus, after: cpus, whatGoChooses: "the CPUs"},
		{quota: 1, env: "2", before: 2, after: 2, whatGoChooses: "the variable, honoured"},
		{quota: 1, env: "abc", before: 2, after: 1, whatGoChooses: "at least 2, the variable ignored"},
		// Not lowered, Go goes on following the CPU mask.
		{quota: 1.5, mask: true, before: halves, after: 1, whatGoChooses: "1.5 rounded up, then the mask"},
		{quota: 1, godebug: "containermaxprocs=0", before: cpus, after: cpus, whatGoChooses: "the CPUs, as GODEBUG asks"},
	} {
		name := fmt.Sprintf("quota %g, GOMAXPROCS=%q, GODEBUG=%q, mask narrowed %v", c.quota, c.env, c.godebug, c.mask)
		t.Run(name, func(t *testing.T) {
			if _, err := exec.LookPath("taskset"); c.mask && err != nil {
				t.Skip("needs taskset (util-linux) to narrow the CPU mask")
			}
			period := 100000
			quota := -1
			if c.quota > 0 {
				quota = int(c.quota * float64(period))
			}
			if err := os.WriteFile(filepath.Join(dir, "cpu.cfs_period_us"), []byte(fmt.Sprint(period)), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "cpu.cfs_quota_us"), []byte(fmt.Sprint(quota)), 0o644); err != nil {
				t.Fatal(err)
			}
			// The shell moves itself into the cgroup, then becomes the test
			// binary, which starts there.
			cmd := exec.Command("sh", "-c", `echo $$ > "$0" && exec "$@"`, filepath.Join(dir, "cgroup.procs"),
				os.Args[0], "-test.run=^TestFitQuotaChild$")
			for _, e := range os.Environ() {
				if !strings.HasPrefix(e, "GOMAXPROCS=") && !strings.HasPrefix(e, "GODEBUG=") {
					cmd.Env = append(cmd.Env, e)
				}
			}
			mode := "plain"
			if c.mask {
				mode = "mask"
			}
			cmd.Env = append(cmd.Env, "NETTRAIN_QUOTA_CHILD="+mode)
			if c.env != "" {
				cmd.Env = append(cmd.Env, "GOMAXPROCS="+c.env)
			}
			if c.godebug != "" {
				cmd.Env = append(cmd.Env, "GODEBUG="+c.godebug)
			}

			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", name, err, out)
			}
			var before, after, cores int
			i := strings.Index(string(out), "before=")
			if i < 0 {
				t.Fatalf("%s: the child printed no counts:\n%s", name, out)
			}
			if _, err := fmt.Sscanf(string(out[i:]), "before=%d after=%d cores=%d", &before, &after, &cores); err != nil {
				t.Fatalf("%s: %v in %q", name, err, out)
			}
			if before != c.before || after != c.after || cores != c.after {
				t.Errorf("%s: GOMAXPROCS %d (Go: %s), then %d, Cores %d; want %d, %d, %d",
					name, before, c.whatGoChooses, after, cores, c.before, c.after, c.after)
			}
		})
	}
}
