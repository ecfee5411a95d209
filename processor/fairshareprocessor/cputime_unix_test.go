//go:build unix

package fairshareprocessor

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time (user + system) the process has used. On a shared machine the
// benchmark divides work by it rather than by wall time, which counts other tenants' load.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
