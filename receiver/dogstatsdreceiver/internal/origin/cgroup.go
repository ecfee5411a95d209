// Package origin finds which container sent a DogStatsD packet over a Unix socket: the kernel
// gives the sender's pid (SO_PASSCRED / SO_PEERCRED, Linux only), and the pid's cgroup file
// names its container. Elsewhere the socket options report ErrUnsupported. It also maps the
// cgroup v2 inode clients send in `|c:in-<inode>` to a container (InodeResolver, Linux only).
package origin

import (
	"bytes"
	"strings"
)

// containerIDLen is the length of a Docker, containerd, CRI-O or Podman container id: the hex
// form of a 256-bit id.
const containerIDLen = 64

// ContainerIDFromCgroup returns the container id named in the contents of a /proc/<pid>/cgroup
// file, or "" when the process is not in a container (or a cgroup namespace hides the path).
//
// Each line is "hierarchy-id:controllers:path" (cgroup v1) or "0::path" (v2). The id is the
// last path component that is, or ends in, 64 lowercase hex digits, after an optional
// runtime prefix ("docker-", "cri-containerd-", "crio-", "libpod-", or systemd's
// "...slice:cri-containerd:") and an optional ".scope" suffix. Searching from the end of the
// path finds the innermost container (docker in docker) and skips trailing components such as
// Podman's "/container". The first line that names a container wins.
func ContainerIDFromCgroup(data []byte) string {
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if id := idFromLine(line); id != "" {
			return id
		}
	}
	return ""
}

// idFromLine returns the container id of one cgroup line, "" when it has none.
func idFromLine(line []byte) string {
	// The path is what follows the second ':'; it may itself contain ':'.
	i := bytes.IndexByte(line, ':')
	if i < 0 {
		return ""
	}
	j := bytes.IndexByte(line[i+1:], ':')
	if j < 0 {
		return ""
	}
	path := line[i+1+j+1:]
	for len(path) > 0 {
		comp := path
		if k := bytes.LastIndexByte(path, '/'); k >= 0 {
			comp, path = path[k+1:], path[:k]
		} else {
			path = nil
		}
		if id := idFromComponent(comp); id != "" {
			return id
		}
	}
	return ""
}

func idFromComponent(c []byte) string {
	c = bytes.TrimSuffix(c, []byte(".scope"))
	if len(c) < containerIDLen {
		return ""
	}
	id := c[len(c)-containerIDLen:]
	if len(c) > containerIDLen {
		// Something precedes the id: it must be a runtime prefix ending in '-' or ':'.
		if sep := c[len(c)-containerIDLen-1]; sep != '-' && sep != ':' {
			return ""
		}
		if bytes.Contains(c, []byte("conmon-")) {
			return "" // CRI-O/Podman's monitor process, not the container itself
		}
	}
	for _, b := range id {
		if (b < '0' || b > '9') && (b < 'a' || b > 'f') {
			return ""
		}
	}
	return strings.Clone(string(id))
}
