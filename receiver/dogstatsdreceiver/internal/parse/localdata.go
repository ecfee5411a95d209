package parse

import (
	"strconv"
	"strings"
)

// LocalData is the origin information a client sends in the `|c:` field.
type LocalData struct {
	// ContainerID is the client's container id; empty when the field carries only an inode.
	ContainerID string
	// Inode is the client's cgroup v2 inode (protocol v1.4); 0 when absent or not a number.
	Inode uint64
}

// ParseLocalData splits the raw `|c:` field. The forms clients send are "ci-<id>,in-<inode>"
// (v1.4, either part alone too), "cid-<id>" (older APM libraries) and a bare "<id>" (v1.2).
func ParseLocalData(raw string) LocalData {
	var ld LocalData
	if !strings.Contains(raw, ",") {
		switch {
		case strings.HasPrefix(raw, "ci-"):
			ld.ContainerID = raw[len("ci-"):]
		case strings.HasPrefix(raw, "in-"):
			ld.Inode = parseInode(raw[len("in-"):])
		case strings.HasPrefix(raw, "cid-"):
			ld.ContainerID = raw[len("cid-"):]
		default:
			ld.ContainerID = raw
		}
		return ld
	}
	for item := range strings.SplitSeq(raw, ",") {
		switch {
		case strings.HasPrefix(item, "ci-"):
			ld.ContainerID = item[len("ci-"):]
		case strings.HasPrefix(item, "in-"):
			ld.Inode = parseInode(item[len("in-"):])
		}
	}
	return ld
}

func parseInode(s string) uint64 {
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0
	}
	return v
}
