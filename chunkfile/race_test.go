//go:build race

package chunkfile

// The race detector makes the rollup's randomised and workload tests about 15 times slower:
// they run on less data under it (the full sizes run without -race).
func init() { raceEnabled = true }
