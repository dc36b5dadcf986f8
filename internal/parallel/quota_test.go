package parallel

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
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
// cgroup: it runs FitQuota and prints GOMAXPROCS and Cores.
func TestFitQuotaChild(t *testing.T) {
	if os.Getenv("NETTRAIN_QUOTA_CHILD") == "" {
		return // only as TestFitQuotaInCgroup's child
	}
	before := runtime.GOMAXPROCS(0)
	if err := FitQuota(); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("before=%d after=%d cores=%d\n", before, runtime.GOMAXPROCS(0), Cores())
}

// TestFitQuotaInCgroup starts a process in a cgroup (v1's cpu controller)
// with a CPU quota and checks what FitQuota makes of it, against what Go
// chose by itself.
func TestFitQuotaInCgroup(t *testing.T) {
	root := "/sys/fs/cgroup/cpu"
	if _, err := os.Stat(filepath.Join(root, "cpu.cfs_quota_us")); err != nil {
		t.Skipf("needs cgroup v1's cpu controller at %s: %v", root, err)
	}
	dir := filepath.Join(root, fmt.Sprintf("nettrain-quota-test-%d", os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Skipf("cannot make a cgroup (needs root): %v", err)
	}
	t.Cleanup(func() { os.Remove(dir) })
	cpus := min(2, runtime.NumCPU())
	for _, c := range []struct {
		quota         float64 // CPUs
		env           string  // GOMAXPROCS, if set
		before, after int
		whatGoChooses string
	}{
		{quota: 1, before: cpus, after: 1, whatGoChooses: "at least 2"},
		{quota: 0.5, before: cpus, after: 1, whatGoChooses: "at least 2"},
		{quota: 1.5, before: cpus, after: cpus, whatGoChooses: "1.5 rounded up"},
		{quota: 1, env: "2", before: 2, after: 2, whatGoChooses: "the variable, honoured"},
	} {
		name := fmt.Sprintf("quota %g GOMAXPROCS=%q", c.quota, c.env)
		period := 100000
		if err := os.WriteFile(filepath.Join(dir, "cpu.cfs_period_us"), []byte(fmt.Sprint(period)), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "cpu.cfs_quota_us"), []byte(fmt.Sprint(int(c.quota*float64(period)))), 0o644); err != nil {
			t.Fatal(err)
		}
		// The shell moves itself into the cgroup, then becomes the test
		// binary, which starts there.
		cmd := exec.Command("sh", "-c", `echo $$ > "$0" && exec "$@"`, filepath.Join(dir, "cgroup.procs"),
			os.Args[0], "-test.run=^TestFitQuotaChild$")
		cmd.Env = append(os.Environ(), "NETTRAIN_QUOTA_CHILD=1")
		if c.env != "" {
			cmd.Env = append(cmd.Env, "GOMAXPROCS="+c.env)
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
			t.Errorf("%s: GOMAXPROCS %d (Go: %s), after FitQuota %d, Cores %d; want %d, %d, %d",
				name, before, c.whatGoChooses, after, cores, c.before, c.after, c.after)
		}
	}
}
