package origin

import (
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of the InodeResolver.
const (
	// DefaultCgroupRoot is where the cgroup v2 hierarchy is mounted.
	DefaultCgroupRoot = "/sys/fs/cgroup"
	// DefaultInodeCacheSize bounds the container cgroups one walk keeps, and separately the
	// inodes remembered as unknown: a node runs far fewer containers (Kubernetes allows 110
	// pods per node by default). 8192 entries hold at most about 1 MiB.
	DefaultInodeCacheSize = 8192
	// DefaultRescanInterval is the least time between two walks of the hierarchy. The Agent
	// rereads its cgroups when an unknown inode comes and its list is older than 1 s.
	DefaultRescanInterval = time.Second
	// DefaultUnknownTTL is how long an inode that a walk did not find stays unknown: its samples
	// trigger no further walk until then. A client's cgroup exists before the client runs, so an
	// inode a walk missed is not a container's (or the hierarchy is not the client's).
	DefaultUnknownTTL = time.Minute
)

// maxWalkDepth bounds how deep a walk goes; container cgroups sit a few levels down (the
// deepest, Kubernetes with the systemd driver, at 4).
const maxWalkDepth = 32

// InodeConfig configures an InodeResolver; zero values take the defaults.
type InodeConfig struct {
	// Root is where the cgroup v2 hierarchy is mounted; "" means DefaultCgroupRoot.
	Root string
	// CacheSize bounds the cgroups kept from one walk and the inodes remembered as unknown;
	// <= 0 means DefaultInodeCacheSize.
	CacheSize int
	// RescanInterval is the least time between walks; <= 0 means DefaultRescanInterval.
	RescanInterval time.Duration
	// UnknownTTL is how long an inode a walk did not find is not looked for again; <= 0 means
	// DefaultUnknownTTL.
	UnknownTTL time.Duration
}

// InodeStats counts the resolver's slow path; hits are not counted (they are the hot path).
type InodeStats struct {
	// Misses counts lookups of an inode the last walk did not find.
	Misses atomic.Uint64
	// Scans counts walks of the hierarchy; ScanErrors those that could not read the root.
	Scans      atomic.Uint64
	ScanErrors atomic.Uint64
	// Truncated counts walks that stopped at CacheSize container cgroups.
	Truncated atomic.Uint64
}

// InodeResolver maps the cgroup v2 inode a client sends (`|c:in-<inode>`, DogStatsD protocol
// v1.4, from clients in a private cgroup namespace that cannot see their container id) to the
// container id named in that cgroup's path, as the Datadog Agent does. It walks the hierarchy
// under Root and keeps, for every directory whose path names a container, its inode and the
// innermost container id of the path.
//
// A known inode costs one map lookup without locks or allocation. An unknown one makes the
// caller walk the hierarchy again, at most once per RescanInterval for the whole resolver, and
// an inode a walk did not find waits UnknownTTL before it can cause another walk: the work is
// bounded however many samples carry unknown inodes. It is safe for concurrent use. Walking
// needs Linux; elsewhere every inode stays unknown.
type InodeResolver struct {
	root       string
	size       int
	interval   time.Duration
	unknownTTL time.Duration
	now        func() time.Time // replaced in tests
	stats      InodeStats

	known atomic.Pointer[map[uint64]string] // the last walk's answer, replaced whole

	mu       sync.Mutex // serialises walks and guards what follows
	lastScan time.Time
	unknown  map[uint64]time.Time // inode -> when it may be looked for again
}

// NewInodeResolver returns a resolver that has not walked yet: the first lookup walks.
func NewInodeResolver(cfg InodeConfig) *InodeResolver {
	r := &InodeResolver{root: cfg.Root, size: cfg.CacheSize, interval: cfg.RescanInterval, unknownTTL: cfg.UnknownTTL, now: time.Now}
	if r.root == "" {
		r.root = DefaultCgroupRoot
	}
	if r.size <= 0 {
		r.size = DefaultInodeCacheSize
	}
	if r.interval <= 0 {
		r.interval = DefaultRescanInterval
	}
	if r.unknownTTL <= 0 {
		r.unknownTTL = DefaultUnknownTTL
	}
	empty := map[uint64]string{}
	r.known.Store(&empty)
	r.unknown = map[uint64]time.Time{}
	return r
}

// Stats returns the resolver's live counters.
func (r *InodeResolver) Stats() *InodeStats { return &r.stats }

// ContainerID returns the container id of the cgroup with this inode, "" when none is known.
func (r *InodeResolver) ContainerID(inode uint64) string {
	if inode == 0 {
		return ""
	}
	if id, ok := (*r.known.Load())[inode]; ok {
		return id
	}
	return r.miss(inode)
}

// miss walks the hierarchy again for an inode the last walk did not find, unless a walk was
// too recent or the inode is known to be unknown.
func (r *InodeResolver) miss(inode uint64) string {
	r.stats.Misses.Add(1)
	r.mu.Lock()
	defer r.mu.Unlock()
	// Another caller may have walked while this one waited for the lock.
	if id, ok := (*r.known.Load())[inode]; ok {
		return id
	}
	now := r.now()
	if until, ok := r.unknown[inode]; ok && now.Before(until) {
		return ""
	}
	if !r.lastScan.IsZero() && now.Sub(r.lastScan) < r.interval {
		// Not marked unknown: the next sample after the interval looks again.
		return ""
	}
	r.lastScan = now
	r.stats.Scans.Add(1)
	found, truncated, err := scanCgroups(r.root, r.size)
	if err != nil {
		r.stats.ScanErrors.Add(1)
	}
	if truncated {
		r.stats.Truncated.Add(1)
	}
	if err == nil || len(found) > 0 {
		r.known.Store(&found)
	}
	id, ok := found[inode]
	if !ok {
		r.markUnknownLocked(inode, now)
	}
	return id
}

// markUnknownLocked remembers inode as unknown, dropping expired entries (or, when none has
// expired, all of them) to stay within the cache size. The caller holds r.mu.
func (r *InodeResolver) markUnknownLocked(inode uint64, now time.Time) {
	if len(r.unknown) >= r.size {
		for k, until := range r.unknown {
			if !now.Before(until) {
				delete(r.unknown, k)
			}
		}
		if len(r.unknown) >= r.size {
			clear(r.unknown)
		}
	}
	r.unknown[inode] = now.Add(r.unknownTTL)
}

// Len returns the number of container cgroups the last walk found.
func (r *InodeResolver) Len() int { return len(*r.known.Load()) }
