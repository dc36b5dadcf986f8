package train

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/nettrain/nettrain/internal/model"
)

// MemoryLimit is what a run may hold in memory, and its name for
// messages: training.memory_limit when set, else the least of the
// machine's memory, the process's memory cgroup limit, and three quarters
// of what its address-space and data limits (ulimit -v, ulimit -d) leave
// beyond what the process has mapped already (the Go runtime reserves
// about a gigabyte of address space at start); 0, no limit, when none
// can be read. Data files, checkpoints and networks larger than it are
// refused before they are read or allocated, not met by an out-of-memory
// crash.
func MemoryLimit(cfg *model.Config) (int64, string) {
	if l := cfg.Training.MemoryLimit; l != nil {
		n, _ := model.ParseBytes(*l)
		return n, "training.memory_limit " + *l
	}
	n, what := machineMemory(), "the machine's memory"
	if c := cgroupMemory(); c > 0 && (n == 0 || c < n) {
		n, what = c, "the memory limit of the process's cgroup"
	}
	if left := processLimitLeft(); left > 0 && (n == 0 || left < n) {
		n, what = left, "three quarters of what the process's ulimit -v or -d leaves"
	}
	return n, what
}

// processLimitLeft is three quarters of the least that the address-space
// and data limits leave beyond the process's current mappings (VmSize,
// VmData of /proc/self/status), 0 when neither limit is set; at least 1
// byte when one is set (nothing fits).
func processLimitLeft() int64 {
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
		l := (c.limit - vm[c.key]) / 4 * 3
		if left < 0 || l < left {
			left = l
		}
	}
	return max(1, left)
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

// cgroupMemory is the memory limit of the process's own cgroup (v2's
// memory.max, else v1's memory.limit_in_bytes), 0 when there is none or
// it cannot be read.
func cgroupMemory() int64 {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return 0
	}
	read := func(path string) int64 {
		v, err := os.ReadFile(path)
		if err != nil {
			return 0
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(v)), 10, 64)
		if err != nil || n <= 0 || n >= 1<<62 { // "max", or v1's "unlimited" page-rounded MaxInt64
			return 0
		}
		return n
	}
	for _, line := range strings.Split(string(b), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch {
		case parts[0] == "0" && parts[1] == "":
			if n := read(filepath.Join("/sys/fs/cgroup", parts[2], "memory.max")); n > 0 {
				return n
			}
		case slices.Contains(strings.Split(parts[1], ","), "memory"):
			if n := read(filepath.Join("/sys/fs/cgroup/memory", parts[2], "memory.limit_in_bytes")); n > 0 {
				return n
			}
		}
	}
	return 0
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
