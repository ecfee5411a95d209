// Package procstat reads the figures the testbed measures a collector by from Linux's /proc:
// CPU seconds and memory of a process, and the drop counter of a UDP socket. Parsers take the
// file's text so they are tested on fixtures; the Read helpers open the live files.
package procstat

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of utime and stime in /proc/<pid>/stat. Linux fixes USER_HZ at 100 in its
// user ABI on every architecture Go supports, whatever the kernel's internal HZ is.
const userHZ = 100

// ErrNotFound reports that a socket or field the caller asked for is not in the file.
var ErrNotFound = errors.New("procstat: not found")

// CPU is a process's CPU time so far.
type CPU struct {
	User, System time.Duration
}

// Total is user plus system time.
func (c CPU) Total() time.Duration { return c.User + c.System }

// ParseStat reads utime and stime (fields 14 and 15) from the text of /proc/<pid>/stat. The
// command name (field 2) may hold spaces and parentheses, so fields are counted from the last ')'.
func ParseStat(text string) (CPU, error) {
	i := strings.LastIndexByte(text, ')')
	if i < 0 {
		return CPU{}, fmt.Errorf("procstat: stat line without a command name: %q", text)
	}
	f := strings.Fields(text[i+1:])
	// After ')' come state (field 3) onwards, so utime is f[14-3] and stime f[15-3].
	if len(f) < 13 {
		return CPU{}, fmt.Errorf("procstat: stat line has %d fields after the command name, want at least 13", len(f))
	}
	utime, err := strconv.ParseUint(f[11], 10, 64)
	if err != nil {
		return CPU{}, fmt.Errorf("procstat: utime %q: %w", f[11], err)
	}
	stime, err := strconv.ParseUint(f[12], 10, 64)
	if err != nil {
		return CPU{}, fmt.Errorf("procstat: stime %q: %w", f[12], err)
	}
	tick := time.Second / userHZ
	// Beyond this a time.Duration overflows (about 292 years of CPU).
	if limit := uint64(math.MaxInt64 / int64(tick)); utime > limit || stime > limit {
		return CPU{}, fmt.Errorf("procstat: CPU ticks %d/%d out of range", utime, stime)
	}
	return CPU{User: time.Duration(utime) * tick, System: time.Duration(stime) * tick}, nil
}

// Memory is what /proc/<pid>/status says about a process's resident memory, in bytes.
type Memory struct {
	RSS     int64 // VmRSS: resident now
	PeakRSS int64 // VmHWM: the most it has been resident
}

// ParseStatus reads VmRSS and VmHWM from the text of /proc/<pid>/status.
func ParseStatus(text string) (Memory, error) {
	var m Memory
	var seen int
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "VmRSS" && key != "VmHWM") {
			continue
		}
		f := strings.Fields(val)
		if len(f) != 2 || f[1] != "kB" {
			return Memory{}, fmt.Errorf("procstat: %s value %q is not \"<n> kB\"", key, val)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return Memory{}, fmt.Errorf("procstat: %s %q: %w", key, f[0], err)
		}
		if key == "VmRSS" {
			m.RSS = kb << 10
		} else {
			m.PeakRSS = kb << 10
		}
		seen++
	}
	if seen != 2 {
		return Memory{}, fmt.Errorf("procstat: VmRSS and VmHWM: %w", ErrNotFound)
	}
	return m, nil
}

// ReadCPU reads the CPU time of process pid.
func ReadCPU(pid int) (CPU, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return CPU{}, err
	}
	return ParseStat(string(b))
}

// ReadMemory reads the resident memory of process pid.
func ReadMemory(pid int) (Memory, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Memory{}, err
	}
	return ParseStatus(string(b))
}
