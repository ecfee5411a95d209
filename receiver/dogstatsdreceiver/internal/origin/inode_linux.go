//go:build linux

package origin

import (
	"os"
	"syscall"
)

// scanCgroups walks the cgroup hierarchy under root and returns, for every directory whose path
// names a container, its inode and the innermost container id of the path (so a container's own
// sub-cgroups, such as Podman's ".../libpod-<id>.scope/container", map to it too). It stops at
// limit entries and reports truncated. Directories that vanish or cannot be read during the
// walk are skipped, as cgroups come and go; only an unreadable root is an error.
func scanCgroups(root string, limit int) (found map[uint64]string, truncated bool, err error) {
	entries, err := readDirs(root)
	if err != nil {
		return nil, false, err
	}
	w := cgroupWalk{found: make(map[uint64]string), limit: limit}
	w.children(root, entries, "", 0)
	return w.found, w.truncated, nil
}

type cgroupWalk struct {
	found     map[uint64]string
	limit     int
	truncated bool
}

// children visits the subdirectories names of dir, whose container id (inherited from the
// path above) is id.
func (w *cgroupWalk) children(dir string, names []string, id string, depth int) {
	for _, name := range names {
		if w.truncated {
			return
		}
		path := dir + "/" + name
		childID := id
		if own := idFromComponent([]byte(name)); own != "" {
			childID = own
		}
		if childID != "" {
			if len(w.found) >= w.limit {
				w.truncated = true
				return
			}
			var st syscall.Stat_t
			if syscall.Stat(path, &st) == nil && st.Ino != 0 {
				w.found[st.Ino] = childID
			}
		}
		if depth+1 >= maxWalkDepth {
			continue
		}
		if sub, err := readDirs(path); err == nil {
			w.children(path, sub, childID, depth+1)
		}
	}
}

// readDirs returns the names of the subdirectories of dir (symbolic links are not followed), in
// directory order.
func readDirs(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	entries, err := f.ReadDir(-1)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names, nil
}
