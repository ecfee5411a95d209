package origin

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of the Resolver.
const (
	// DefaultCacheSize bounds the pid cache: 4096 senders at about 100 bytes each.
	DefaultCacheSize = 4096
	// DefaultCacheTTL is how long a pid's answer is trusted; it bounds how long a reused pid
	// keeps a dead process's container id (the Datadog agent also uses one minute).
	DefaultCacheTTL = time.Minute
)

// ErrNoPID means the kernel reported pid 0: the sender is in a pid namespace the receiver
// cannot see (run the collector with the host's pid namespace for origin detection).
var ErrNoPID = errors.New("origin: sender pid is 0 (sender in another pid namespace)")

// ResolverConfig configures a Resolver; zero values take the defaults.
type ResolverConfig struct {
	// ProcRoot is where the proc filesystem is mounted; "" means /proc.
	ProcRoot string
	// CacheSize is the most pids cached; <= 0 means DefaultCacheSize.
	CacheSize int
	// TTL is how long a cached answer is used; <= 0 means DefaultCacheTTL.
	TTL time.Duration
}

// ResolverStats counts lookups.
type ResolverStats struct {
	// Hits and Misses count cache lookups.
	Hits   atomic.Uint64
	Misses atomic.Uint64
	// Errors counts misses whose cgroup file could not be read (the process already exited,
	// or pid 0); the empty answer is cached like any other.
	Errors atomic.Uint64
	// Evictions counts entries removed to keep the cache within its size.
	Evictions atomic.Uint64
}

type entry struct {
	id      string
	expires time.Time
}

// Resolver maps a pid to its container id through /proc/<pid>/cgroup, with a bounded cache. It
// is safe for concurrent use. A hit costs a map lookup and a clock read, no allocation.
type Resolver struct {
	procRoot string
	size     int
	ttl      time.Duration
	now      func() time.Time // replaced in tests
	stats    ResolverStats

	mu    sync.Mutex
	cache map[int32]entry
}

// NewResolver returns a resolver with an empty cache.
func NewResolver(cfg ResolverConfig) *Resolver {
	r := &Resolver{procRoot: cfg.ProcRoot, size: cfg.CacheSize, ttl: cfg.TTL, now: time.Now}
	if r.procRoot == "" {
		r.procRoot = "/proc"
	}
	if r.size <= 0 {
		r.size = DefaultCacheSize
	}
	if r.ttl <= 0 {
		r.ttl = DefaultCacheTTL
	}
	r.cache = make(map[int32]entry, min(r.size, 1024))
	return r
}

// Stats returns the resolver's live counters.
func (r *Resolver) Stats() *ResolverStats { return &r.stats }

// ContainerID returns the container id of process pid, "" when it is not in a container. The
// error says why a lookup failed; the origin is then "" too, and that answer is cached.
func (r *Resolver) ContainerID(pid int32) (string, error) {
	if pid <= 0 {
		r.stats.Errors.Add(1)
		return "", ErrNoPID
	}
	now := r.now()
	r.mu.Lock()
	e, ok := r.cache[pid]
	r.mu.Unlock()
	if ok && now.Before(e.expires) {
		r.stats.Hits.Add(1)
		return e.id, nil
	}
	r.stats.Misses.Add(1)
	data, err := os.ReadFile(filepath.Join(r.procRoot, strconv.Itoa(int(pid)), "cgroup"))
	id := ""
	if err != nil {
		r.stats.Errors.Add(1)
		err = fmt.Errorf("origin: reading the cgroup of pid %d: %w", pid, err)
	} else {
		id = ContainerIDFromCgroup(data)
	}
	r.store(pid, entry{id: id, expires: now.Add(r.ttl)}, now)
	return id, err
}

func (r *Resolver) store(pid int32, e entry, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.cache[pid]; !ok && len(r.cache) >= r.size {
		r.evictLocked(now)
	}
	r.cache[pid] = e
}

// evictLocked drops expired entries and, if that is not enough, a quarter of the cache in map
// order (effectively random), so a full cache costs one scan per quarter of its size.
func (r *Resolver) evictLocked(now time.Time) {
	before := len(r.cache)
	for pid, e := range r.cache {
		if !now.Before(e.expires) {
			delete(r.cache, pid)
		}
	}
	target := r.size - max(r.size/4, 1)
	if len(r.cache) < r.size {
		target = len(r.cache)
	}
	for pid := range r.cache {
		if len(r.cache) <= target {
			break
		}
		delete(r.cache, pid)
	}
	r.stats.Evictions.Add(uint64(before - len(r.cache)))
}

// Len returns the number of cached pids.
func (r *Resolver) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.cache)
}
