package origin

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// fakeProc writes <root>/<pid>/cgroup files.
func fakeProc(t *testing.T, files map[int32]string) string {
	t.Helper()
	root := t.TempDir()
	for pid, content := range files {
		writeCgroup(t, root, pid, content)
	}
	return root
}

func writeCgroup(t *testing.T, root string, pid int32, content string) {
	t.Helper()
	dir := filepath.Join(root, strconv.Itoa(int(pid)))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cgroup"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestResolverCachesUntilTTL(t *testing.T) {
	root := fakeProc(t, map[int32]string{
		100: "0::/system.slice/docker-" + idA + ".scope\n",
		200: "0::/user.slice/user-1000.slice/session-3.scope\n",
	})
	clock := &fakeClock{t: time.Unix(1000, 0)}
	r := NewResolver(ResolverConfig{ProcRoot: root, TTL: time.Minute})
	r.now = clock.now

	if id, err := r.ContainerID(100); err != nil || id != idA {
		t.Fatalf("pid 100: %q, %v; want %q", id, err, idA)
	}
	if id, err := r.ContainerID(200); err != nil || id != "" {
		t.Fatalf("pid 200 (host process): %q, %v; want empty origin", id, err)
	}
	// The pid is reused by a process in another container: the cache still answers.
	writeCgroup(t, root, 100, "0::/system.slice/docker-"+idB+".scope\n")
	clock.t = clock.t.Add(59 * time.Second)
	if id, _ := r.ContainerID(100); id != idA {
		t.Fatalf("within TTL: %q, want cached %q", id, idA)
	}
	clock.t = clock.t.Add(2 * time.Second)
	if id, _ := r.ContainerID(100); id != idB {
		t.Fatalf("after TTL: %q, want re-read %q", id, idB)
	}
	s := r.Stats()
	if s.Hits.Load() != 1 || s.Misses.Load() != 3 || s.Errors.Load() != 0 {
		t.Fatalf("hits %d misses %d errors %d; want 1, 3, 0", s.Hits.Load(), s.Misses.Load(), s.Errors.Load())
	}
}

func TestResolverErrors(t *testing.T) {
	r := NewResolver(ResolverConfig{ProcRoot: t.TempDir()})
	if _, err := r.ContainerID(0); !errors.Is(err, ErrNoPID) {
		t.Fatalf("pid 0: err = %v, want ErrNoPID", err)
	}
	id, err := r.ContainerID(4242) // no such process
	if err == nil || !errors.Is(err, os.ErrNotExist) || id != "" {
		t.Fatalf("missing pid: %q, %v; want empty and a not-exist error", id, err)
	}
	// The failed answer is cached: no second read.
	if id, err := r.ContainerID(4242); err != nil || id != "" {
		t.Fatalf("cached missing pid: %q, %v", id, err)
	}
	if s := r.Stats(); s.Errors.Load() != 2 || s.Misses.Load() != 1 || s.Hits.Load() != 1 {
		t.Fatalf("errors %d misses %d hits %d; want 2, 1, 1", s.Errors.Load(), s.Misses.Load(), s.Hits.Load())
	}
}

func TestResolverBounded(t *testing.T) {
	files := map[int32]string{}
	for pid := int32(1); pid <= 100; pid++ {
		files[pid] = "0::/docker/" + idA + "\n"
	}
	r := NewResolver(ResolverConfig{ProcRoot: fakeProc(t, files), CacheSize: 8})
	for pid := int32(1); pid <= 100; pid++ {
		if id, err := r.ContainerID(pid); err != nil || id != idA {
			t.Fatalf("pid %d: %q, %v", pid, id, err)
		}
		if n := r.Len(); n > 8 {
			t.Fatalf("cache holds %d entries, bound is 8", n)
		}
	}
	if r.Stats().Evictions.Load() == 0 {
		t.Fatal("no evictions counted although 100 pids went through an 8-entry cache")
	}
}

func TestResolverEvictsExpiredFirst(t *testing.T) {
	files := map[int32]string{}
	for pid := int32(1); pid <= 5; pid++ {
		files[pid] = "0::/docker/" + idA + "\n"
	}
	clock := &fakeClock{t: time.Unix(1000, 0)}
	r := NewResolver(ResolverConfig{ProcRoot: fakeProc(t, files), CacheSize: 4, TTL: time.Second})
	r.now = clock.now
	for pid := int32(1); pid <= 3; pid++ {
		_, _ = r.ContainerID(pid)
	}
	clock.t = clock.t.Add(2 * time.Second) // 1..3 expire
	_, _ = r.ContainerID(4)
	_, _ = r.ContainerID(5) // cache full (4 entries): the expired ones go, 4 stays
	if r.Len() != 2 || r.Stats().Evictions.Load() != 3 {
		t.Fatalf("len %d evictions %d; want 2 and 3", r.Len(), r.Stats().Evictions.Load())
	}
	hits := r.Stats().Hits.Load()
	_, _ = r.ContainerID(4)
	if r.Stats().Hits.Load() != hits+1 {
		t.Fatal("a live entry was evicted while expired ones could go")
	}
}

func BenchmarkResolverHit(b *testing.B) {
	root := b.TempDir()
	dir := filepath.Join(root, "7")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cgroup"), []byte("0::/docker/"+idA+"\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	r := NewResolver(ResolverConfig{ProcRoot: root})
	b.ReportAllocs()
	for b.Loop() {
		if id, _ := r.ContainerID(7); id != idA {
			b.Fatalf("got %q", id)
		}
	}
}
