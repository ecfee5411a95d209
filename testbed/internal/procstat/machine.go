package procstat

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strings"
)

// Machine describes the host a run was measured on.
type Machine struct {
	CPUs     int    // logical CPUs this process may use
	Model    string // first "model name" of /proc/cpuinfo
	MemTotal string // MemTotal of /proc/meminfo
	Kernel   string // /proc/sys/kernel/osrelease
	LoadAvg  string // the first three fields of /proc/loadavg
}

// ParseCPUInfoModel returns the first "model name" value of /proc/cpuinfo's text.
func ParseCPUInfoModel(text string) string {
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// ParseLoadAvg returns the 1, 5 and 15 minute load averages of /proc/loadavg's text.
func ParseLoadAvg(text string) (string, error) {
	f := strings.Fields(text)
	if len(f) < 3 {
		return "", fmt.Errorf("procstat: loadavg %q has fewer than 3 fields", text)
	}
	return strings.Join(f[:3], " "), nil
}

// LoadAvg reads the current load averages.
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	s, err := ParseLoadAvg(string(b))
	if err != nil {
		return "unknown"
	}
	return s
}

// ReadMachine describes this host.
func ReadMachine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), Model: "unknown", MemTotal: "unknown", Kernel: "unknown", LoadAvg: LoadAvg()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		m.Model = ParseCPUInfoModel(string(b))
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(strings.NewReader(string(b)))
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && k == "MemTotal" {
				m.MemTotal = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	return m
}
