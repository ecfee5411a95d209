//go:build !unix

package fairshareprocessor

import "time"

// cpuTime is not measured here; the benchmark then reports wall-clock rates only.
func cpuTime() time.Duration { return 0 }
