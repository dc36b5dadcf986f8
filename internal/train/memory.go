package train

import (
	"github.com/nettrain/nettrain/internal/model"

	"bufio"
	"os"
	"strconv"
	"strings"
)

// MemoryLimit is what a run may hold in memory, and its name for
// messages: training.memory_limit when set, else the machine's memory (0,
// no limit, when that cannot be read). Data files and checkpoints larger
// than it are refused before they are read.
func MemoryLimit(cfg *model.Config) (int64, string) {
	if l := cfg.Training.MemoryLimit; l != nil {
		n, _ := model.ParseBytes(*l)
		return n, "training.memory_limit " + *l
	}
	return machineMemory(), "the machine's memory"
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
