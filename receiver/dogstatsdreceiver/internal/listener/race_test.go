//go:build race

package listener

// raceEnabled: the race detector makes sync.Pool drop items, so allocation counts differ.
const raceEnabled = true
