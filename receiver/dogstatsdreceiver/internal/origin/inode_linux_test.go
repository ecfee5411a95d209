//go:build linux

package origin

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	idC = "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00"
	idD = "d1d2d3d4d5d6d7d8d9d0d1d2d3d4d5d6d7d8d9d0d1d2d3d4d5d6d7d8d9d0d1d2"
)

// fakeCgroups makes the directories under a temp root and returns the root.
func fakeCgroups(t *testing.T, dirs ...string) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range dirs {
		mkdir(t, root, d)
	}
	return root
}

func mkdir(t *testing.T, root, dir string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
		t.Fatal(err)
	}
}

// inodeOf is the inode a client in that cgroup would send: its directory's.
func inodeOf(t *testing.T, root, dir string) uint64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join(root, dir), &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

const (
	dockerScope   = "system.slice/docker-" + idA + ".scope"
	kubeSystemd   = "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod8e7a2b1c_3d4e_4f5a_9b6c_7d8e9f0a1b2c.slice/cri-containerd-" + idB + ".scope"
	kubeCgroupfs  = "kubepods/besteffort/pod8e7a2b1c-3d4e-4f5a-9b6c-7d8e9f0a1b2c/" + idC
	podmanNested  = "machine.slice/libpod-" + idD + ".scope/container"
	podmanConmon  = "machine.slice/libpod-conmon-" + idD + ".scope"
	dockerMount   = "system.slice/docker-" + idA + ".mount"
	hostSession   = "user.slice/user-1000.slice/session-3.scope"
	kubePodParent = "kubepods/besteffort/pod8e7a2b1c-3d4e-4f5a-9b6c-7d8e9f0a1b2c"
)

func TestInodeResolverFakeHierarchy(t *testing.T) {
	root := fakeCgroups(t, dockerScope, kubeSystemd, kubeCgroupfs, podmanNested, podmanConmon, dockerMount, hostSession)
	r := NewInodeResolver(InodeConfig{Root: root})
	r.now = (&fakeClock{t: time.Unix(1000, 0)}).now // the clock stands still: one walk at most
	for _, tc := range []struct {
		dir, want string
	}{
		{dockerScope, idA},
		{kubeSystemd, idB},
		{kubeCgroupfs, idC},
		{podmanNested, idD}, // a container's sub-cgroup is the container
		{"machine.slice/libpod-" + idD + ".scope", idD}, // and so is the container's own cgroup
		{podmanConmon, ""}, // the monitor is not the container
		{dockerMount, ""},  // systemd's mount unit holds no process
		{hostSession, ""},
		{kubePodParent, ""}, // a pod's cgroup names no container
		{"system.slice", ""},
	} {
		if got := r.ContainerID(inodeOf(t, root, tc.dir)); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.dir, got, tc.want)
		}
	}
	if got := r.ContainerID(0); got != "" {
		t.Errorf("inode 0: %q", got)
	}
	// The first lookup walked; the lookups that found nothing could not walk again within the
	// rescan interval.
	if s := r.Stats(); s.Scans.Load() != 1 || s.ScanErrors.Load() != 0 {
		t.Fatalf("scans %d errors %d, want 1 and 0", s.Scans.Load(), s.ScanErrors.Load())
	}
	if r.Len() != 5 {
		t.Fatalf("%d container cgroups kept, want 5 (docker, kube x2, libpod scope and its child)", r.Len())
	}
}

func TestInodeResolverRescansRateLimited(t *testing.T) {
	root := fakeCgroups(t, dockerScope, hostSession)
	clock := &fakeClock{t: time.Unix(1000, 0)}
	r := NewInodeResolver(InodeConfig{Root: root, RescanInterval: time.Second, UnknownTTL: time.Minute})
	r.now = clock.now
	if got := r.ContainerID(inodeOf(t, root, dockerScope)); got != idA {
		t.Fatalf("docker: %q", got)
	}
	// A container started after the walk: its samples within the interval cause no walk.
	mkdir(t, root, kubeSystemd)
	newInode := inodeOf(t, root, kubeSystemd)
	for range 1000 {
		if got := r.ContainerID(newInode); got != "" {
			t.Fatalf("new container found without a walk: %q", got)
		}
	}
	if n := r.Stats().Scans.Load(); n != 1 {
		t.Fatalf("%d walks for 1001 lookups within the interval, want 1", n)
	}
	clock.t = clock.t.Add(time.Second)
	if got := r.ContainerID(newInode); got != idB {
		t.Fatalf("after the interval: %q, want %q", got, idB)
	}
	if n := r.Stats().Scans.Load(); n != 2 {
		t.Fatalf("%d walks, want 2", n)
	}

	// An inode that a walk did not find waits UnknownTTL, not RescanInterval.
	host := inodeOf(t, root, hostSession)
	clock.t = clock.t.Add(time.Second)
	if got := r.ContainerID(host); got != "" {
		t.Fatalf("host cgroup: %q", got)
	}
	if n := r.Stats().Scans.Load(); n != 3 {
		t.Fatalf("%d walks, want 3 (the host inode was never looked for)", n)
	}
	clock.t = clock.t.Add(30 * time.Second)
	r.ContainerID(host)
	if n := r.Stats().Scans.Load(); n != 3 {
		t.Fatalf("%d walks, want 3: the host inode is known to be unknown for a minute", n)
	}
	clock.t = clock.t.Add(31 * time.Second)
	r.ContainerID(host)
	if n := r.Stats().Scans.Load(); n != 4 {
		t.Fatalf("%d walks, want 4 once the unknown entry expired", n)
	}
	// Known inodes never walk.
	for range 100 {
		r.ContainerID(newInode)
	}
	if n := r.Stats().Scans.Load(); n != 4 {
		t.Fatalf("%d walks after hits, want 4", n)
	}
}

func TestInodeResolverBounded(t *testing.T) {
	var dirs []string
	for i := range 20 {
		dirs = append(dirs, "system.slice/docker-"+strings.Repeat(string("0123456789abcdef"[i%16]), 63)+string("0123456789abcdef"[i/16])+".scope")
	}
	root := fakeCgroups(t, dirs...)
	r := NewInodeResolver(InodeConfig{Root: root, CacheSize: 8})
	r.ContainerID(1) // any miss walks
	if r.Len() != 8 || r.Stats().Truncated.Load() != 1 {
		t.Fatalf("kept %d cgroups, truncated %d; want 8 and 1", r.Len(), r.Stats().Truncated.Load())
	}
	// The unknown list is bounded too.
	clock := &fakeClock{t: time.Unix(1000, 0)}
	r.now = clock.now
	for inode := uint64(1); inode <= 100; inode++ {
		clock.t = clock.t.Add(2 * time.Second) // each lookup may walk
		r.ContainerID(1<<40 + inode)
		if n := len(r.unknown); n > 8 {
			t.Fatalf("%d unknown inodes remembered, bound is 8", n)
		}
	}
}

func TestInodeResolverMissingRoot(t *testing.T) {
	r := NewInodeResolver(InodeConfig{Root: filepath.Join(t.TempDir(), "absent")})
	if got := r.ContainerID(42); got != "" {
		t.Fatalf("%q", got)
	}
	if s := r.Stats(); s.Scans.Load() != 1 || s.ScanErrors.Load() != 1 {
		t.Fatalf("scans %d errors %d, want 1 and 1", s.Scans.Load(), s.ScanErrors.Load())
	}
}

func TestInodeResolverHitDoesNotAllocate(t *testing.T) {
	root := fakeCgroups(t, dockerScope)
	r := NewInodeResolver(InodeConfig{Root: root})
	inode := inodeOf(t, root, dockerScope)
	if r.ContainerID(inode) != idA {
		t.Fatal("not found")
	}
	if allocs := testing.AllocsPerRun(100, func() { r.ContainerID(inode) }); allocs != 0 {
		t.Fatalf("a hit allocates %.0f times", allocs)
	}
}

// Workers look inodes up concurrently while a walk replaces the map (run with -race).
func TestInodeResolverConcurrent(t *testing.T) {
	root := fakeCgroups(t, dockerScope, kubeSystemd)
	r := NewInodeResolver(InodeConfig{Root: root, RescanInterval: time.Nanosecond})
	a, b := inodeOf(t, root, dockerScope), inodeOf(t, root, kubeSystemd)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				if got := r.ContainerID(a); got != idA {
					t.Errorf("goroutine %d: %q", g, got)
					return
				}
				r.ContainerID(uint64(1<<40 + g*1000 + i)) // misses: walks race with the hits
				if got := r.ContainerID(b); got != idB {
					t.Errorf("goroutine %d: %q", g, got)
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkInodeResolverHit(b *testing.B) {
	root := b.TempDir()
	if err := os.MkdirAll(filepath.Join(root, dockerScope), 0o755); err != nil {
		b.Fatal(err)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join(root, dockerScope), &st); err != nil {
		b.Fatal(err)
	}
	r := NewInodeResolver(InodeConfig{Root: root})
	b.ReportAllocs()
	for b.Loop() {
		if r.ContainerID(st.Ino) != idA {
			b.Fatal("miss")
		}
	}
}

// BenchmarkScanCgroups walks this machine's cgroup hierarchy: the cost of one rescan.
func BenchmarkScanCgroups(b *testing.B) {
	dirs := 0
	if err := filepath.WalkDir(DefaultCgroupRoot, func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs++
		}
		return nil
	}); err != nil || dirs == 0 {
		b.Skip("no readable cgroup hierarchy at " + DefaultCgroupRoot)
	}
	var found int
	for b.Loop() {
		m, _, err := scanCgroups(DefaultCgroupRoot, DefaultInodeCacheSize)
		if err != nil {
			b.Fatal(err)
		}
		found = len(m)
	}
	b.ReportMetric(float64(dirs), "dirs")
	b.ReportMetric(float64(found), "containers")
}
