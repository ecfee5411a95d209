//go:build !linux

package origin

// scanCgroups reports ErrUnsupported: cgroups are Linux only, so every inode stays unknown.
func scanCgroups(string, int) (map[uint64]string, bool, error) { return nil, false, ErrUnsupported }
