package bench

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat.
// The kernel fixes it at 100 for user space on every architecture Go runs
// Linux on, whatever CONFIG_HZ is, so it needs no sysconf (and no cgo).
const clockTicks = 100

// procs are the server processes a run samples; empty means no sampling.
type procs []int

// usage is the summed resource use of procs at one moment.
type usage struct {
	at     time.Time
	rssKiB int64 // resident set size (VmRSS)
	ticks  int64 // utime + stime, in clockTicks
	server bool  // rssKiB and ticks are the server's: a --pid was given

	clientTicks int64 // the bench's own utime + stime
}

// sample reads /proc for every pid and sums them. It fails when a pid is not
// running, so a run against a server that died says so.
func (ps procs) sample() (usage, error) {
	u := usage{at: time.Now()}
	for _, pid := range ps {
		ticks, err := cpuTicks(pid)
		if err != nil {
			return usage{}, err
		}
		rss, err := rssKiB(pid)
		if err != nil {
			return usage{}, err
		}
		u.ticks += ticks
		u.rssKiB += rss
	}
	return u, nil
}

// cpuMicros returns the CPU time used between a and b, in microseconds.
func cpuMicros(a, b usage) float64 {
	return float64(b.ticks-a.ticks) * 1e6 / clockTicks
}

// cpuTicks returns utime+stime of pid from /proc/<pid>/stat.
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("sample server cpu: %w", err)
	}
	// The command name (field 2) is in parentheses and may hold spaces or
	// parentheses itself, so fields are counted after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("sample server cpu: /proc/%d/stat: no command name", pid)
	}
	f := bytes.Fields(b[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("sample server cpu: /proc/%d/stat: %d fields", pid, len(f)+2)
	}
	ut, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	st, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("sample server cpu: /proc/%d/stat: bad utime/stime", pid)
	}
	return ut + st, nil
}

// rssKiB returns VmRSS of pid from /proc/<pid>/status.
func rssKiB(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, fmt.Errorf("sample server rss: %w", err)
	}
	for line := range bytes.Lines(b) {
		v, ok := bytes.CutPrefix(line, []byte("VmRSS:"))
		if !ok {
			continue
		}
		f := bytes.Fields(v) // "1234", "kB"
		if len(f) == 2 && string(f[1]) == "kB" {
			if n, err := strconv.ParseInt(string(f[0]), 10, 64); err == nil {
				return n, nil
			}
		}
		break
	}
	return 0, fmt.Errorf("sample server rss: /proc/%d/status: no VmRSS", pid)
}
