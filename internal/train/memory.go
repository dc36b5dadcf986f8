package train

import (
	"bufio"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/nettrain/nettrain/internal/model"
)

// MemoryLimit is what a run may hold in memory, and its name for
// messages: training.memory_limit when set, else the least of the
// machine's memory, the memory limit of the process's cgroup and of the
// cgroups above it, and three quarters of what its address-space and data
// limits (ulimit -v, ulimit -d) leave beyond what the process had mapped
// when it first asked (the Go runtime reserves about a gigabyte of
// address space at start); 0, no limit, when none can be read. Data
// files, checkpoints and networks larger than it are refused before they
// are read or allocated, not met by an out-of-memory crash.
func MemoryLimit(cfg *model.Config) (int64, string) { return memoryLimit(cfg, false) }

// DataMemoryLimit is MemoryLimit for reading a data file, whose arrays
// grow as its rows are read: under ulimit -v or -d, a third of what the
// limits leave rather than three quarters, since such arrays held up to
// about 2.7 times their size by the estimate while they grew (old and
// new at once, and the garbage between collections: a CSV of 20 million
// rows under prlimit --as=2000000000, 152 MiB counted, 330 to 406 MiB in
// use when the next allocation failed). Parameters and buffers, allocated
// once at their size, keep MemoryLimit.
func DataMemoryLimit(cfg *model.Config) (int64, string) { return memoryLimit(cfg, true) }

func memoryLimit(cfg *model.Config, data bool) (int64, string) {
	if l := cfg.Training.MemoryLimit; l != nil {
		n, _ := model.ParseBytes(*l)
		return n, "training.memory_limit " + *l
	}
	n, what := machineMemory(), "the machine's memory"
	if c := cgroupMemory(); c > 0 && (n == 0 || c < n) {
		n, what = c, "the memory limit of the process's cgroup"
	}
	if left := processLimitLeft(); left > 0 {
		share, name := max(1, left/4*3), "three quarters of what the process's ulimit -v or -d leaves"
		if data {
			share, name = max(1, left/3), "a data file's share (a third) of what the process's ulimit -v or -d leaves"
		}
		if n == 0 || share < n {
			n, what = share, name
		}
	}
	return n, what
}

// processLimitLeft is what the address-space and data limits left beyond
// the process's mappings at its first call (addressSpaceLeft), before any
// data was read: measured again later, what the run already holds (the
// data set) would count twice, once in the mappings and once in the
// estimate it is compared with. 0 when neither limit is set.
func processLimitLeft() int64 {
	limitLeftOnce.Do(func() { limitLeft = addressSpaceLeft() })
	return limitLeft
}

var (
	limitLeftOnce sync.Once
	limitLeft     int64
)

// addressSpaceLeft is the least that the address-space and data limits
// leave beyond the process's current mappings, 0 when neither is set; at
// least 1 when one is.
func addressSpaceLeft() int64 {
	as, data := addressSpace(), dataLimit()
	if as == 0 && data == 0 {
		return 0
	}
	vm := statusBytes()
	left := int64(-1)
	for _, c := range []struct {
		limit int64
		key   string
	}{{as, "VmSize:"}, {data, "VmData:"}} {
		if c.limit == 0 {
			continue
		}
		if l := c.limit - vm[c.key]; left < 0 || l < left {
			left = l
		}
	}
	return max(1, left)
}

// FitRuntimeToLimits tells the Go runtime (debug.SetMemoryLimit) that the
// process cannot map more than nine tenths of what ulimit -v or -d leaves,
// unless GOMEMLIMIT says otherwise: the collector then frees the garbage
// of grown arrays before the next allocation meets the limit, rather than
// letting the heap double first. Nothing changes without such a limit.
func FitRuntimeToLimits() {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	if left := addressSpaceLeft(); left > 0 {
		debug.SetMemoryLimit(left / 10 * 9)
	}
}

// statusBytes reads the Vm* sizes of /proc/self/status, in bytes.
func statusBytes() map[string]int64 {
	m := map[string]int64{}
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return m
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && strings.HasPrefix(f[0], "Vm") && f[2] == "kB" {
			if kb, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				m[f[0]] = kb * 1024
			}
		}
	}
	return m
}

// cgroupMemory is the memory limit of the process's cgroup: the least
// of v2's memory.max over its cgroup and every ancestor up to the mount's
// root, and v1's hierarchical_memory_limit (memory.stat: the least
// memory.limit_in_bytes of the cgroup and its ancestors, including ones
// a container does not see); 0 when there is none or it cannot be read.
// A cgroup path is found under the mount that holds it (/proc/self/
// mountinfo): a container's cgroup mount is rooted at its own cgroup.
func cgroupMemory() int64 {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return 0
	}
	mounts := cgroupMounts()
	least := int64(0)
	take := func(n int64) {
		if n > 0 && n < 1<<62 && (least == 0 || n < least) { // "max", or v1's page-rounded MaxInt64: none
			least = n
		}
	}
	for _, line := range strings.Split(string(b), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch {
		case parts[0] == "0" && parts[1] == "":
			m := mounts.v2
			for dir := m.dir(parts[2]); ; dir = filepath.Dir(dir) {
				take(readBytesFile(filepath.Join(dir, "memory.max")))
				if dir == m.point || !strings.HasPrefix(dir, m.point) || dir == filepath.Dir(dir) {
					break
				}
			}
		case slices.Contains(strings.Split(parts[1], ","), "memory"):
			dir := mounts.v1.dir(parts[2])
			if n, ok := statValue(filepath.Join(dir, "memory.stat"), "hierarchical_memory_limit"); ok {
				take(n)
			} else {
				take(readBytesFile(filepath.Join(dir, "memory.limit_in_bytes")))
			}
		}
	}
	return least
}

// cgroupMount is where a cgroup hierarchy is mounted: the mount point,
// and the cgroup path its root shows (not "/" inside a container whose
// mount is its own cgroup).
type cgroupMount struct{ point, root string }

// dir is the directory of the cgroup whose path /proc/self/cgroup gives:
// the mount point itself when the path lies outside the mount's root (a
// container's namespace shows its own cgroup as "/", or the host's path).
func (m cgroupMount) dir(path string) string {
	rel, err := filepath.Rel(m.root, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return m.point
	}
	return filepath.Join(m.point, rel)
}

// cgroupMounts finds the cgroup v2 mount and v1's memory controller in
// /proc/self/mountinfo, defaulting to /sys/fs/cgroup and
// /sys/fs/cgroup/memory.
func cgroupMounts() (ms struct{ v1, v2 cgroupMount }) {
	ms.v1 = cgroupMount{"/sys/fs/cgroup/memory", "/"}
	ms.v2 = cgroupMount{"/sys/fs/cgroup", "/"}
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return ms
	}
	ms.v1, ms.v2 = parseCgroupMounts(string(b), ms.v1, ms.v2)
	return ms
}

// parseCgroupMounts reads mountinfo lines ("36 25 0:31 /root /mnt rw - cgroup
// cgroup rw,memory"), keeping v1 and v2 when no such mount is listed.
func parseCgroupMounts(mountinfo string, v1, v2 cgroupMount) (cgroupMount, cgroupMount) {
	for _, line := range strings.Split(mountinfo, "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if !ok || len(f) < 5 || len(g) < 3 {
			continue
		}
		m := cgroupMount{point: unescapeMount(f[4]), root: unescapeMount(f[3])}
		switch {
		case g[0] == "cgroup2":
			v2 = m
		case g[0] == "cgroup" && slices.Contains(strings.Split(g[2], ","), "memory"):
			v1 = m
		}
	}
	return v1, v2
}

// unescapeMount undoes mountinfo's octal escapes of space, tab, newline
// and backslash.
func unescapeMount(s string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// readBytesFile reads a cgroup file holding one number of bytes; 0 when it
// cannot be read or holds something else ("max").
func readBytesFile(path string) int64 {
	v, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(v)), 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

// statValue reads key's number from a "key value" file (memory.stat).
func statValue(path, key string) (int64, bool) {
	v, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(v), "\n") {
		if k, val, ok := strings.Cut(line, " "); ok && k == key {
			n, err := strconv.ParseInt(strings.TrimSpace(val), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// machineMemory is the machine's total memory in bytes from
// /proc/meminfo, or 0 when it cannot be read (no limit is applied then).
func machineMemory() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err == nil {
				return kb * 1024
			}
		}
	}
	return 0
}
