//go:build linux

package listener

import (
	"encoding/binary"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/origin"
	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/packets"
)

const testContainerID = "3f2e9c1b7d5a48e6b0c2f4a1d9e8b7c6a5f4e3d2c1b0a9f8e7d6c5b4a3928170"

// fakeProcForSelf makes a proc tree in which this test process runs in a Docker container.
func fakeProcForSelf(t *testing.T) *origin.Resolver {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, strconv.Itoa(os.Getpid()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cg := "0::/system.slice/docker-" + testContainerID + ".scope\n"
	if err := os.WriteFile(filepath.Join(dir, "cgroup"), []byte(cg), 0o644); err != nil {
		t.Fatal(err)
	}
	return origin.NewResolver(origin.ResolverConfig{ProcRoot: root})
}

func TestUnixDatagramOriginDetection(t *testing.T) {
	pool := packets.NewPool(256)
	col := newCollector(t, pool, 64)
	path := filepath.Join(t.TempDir(), "dsd.sock")
	res := fakeProcForSelf(t)
	l := NewUnixDatagram(UnixDatagramConfig{Path: path, OriginDetection: true, Resolver: res},
		settings(pool, col, 5*time.Millisecond))
	if err := l.Start(); err != nil {
		t.Fatal(err)
	}
	defer l.Stop()
	c := dialUnixgram(t, path)
	for range 3 {
		if _, err := c.Write([]byte("m:1|c")); err != nil {
			t.Fatal(err)
		}
	}
	col.waitLines(t, 3)
	for _, p := range col.packets() {
		if p.origin != testContainerID {
			t.Fatalf("origin %q, want %q", p.origin, testContainerID)
		}
	}
	if s := res.Stats(); s.Misses.Load() != 1 || s.Hits.Load() != 2 {
		t.Fatalf("resolver misses %d hits %d; want one lookup then the cache", s.Misses.Load(), s.Hits.Load())
	}
	if n := l.Stats().OriginErrors.Load(); n != 0 {
		t.Fatalf("origin errors %d", n)
	}
}

func TestUnixStreamOriginDetection(t *testing.T) {
	pool := packets.NewPool(256)
	col := newCollector(t, pool, 64)
	path := filepath.Join(t.TempDir(), "dsd-stream.sock")
	l := NewUnixStream(UnixStreamConfig{Path: path, OriginDetection: true, Resolver: fakeProcForSelf(t)},
		settings(pool, col, 5*time.Millisecond))
	if err := l.Start(); err != nil {
		t.Fatal(err)
	}
	defer l.Stop()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	frame := binary.LittleEndian.AppendUint32(nil, 5)
	frame = append(frame, "m:1|c"...)
	if _, err := c.Write(frame); err != nil {
		t.Fatal(err)
	}
	col.waitLines(t, 1)
	if p := col.packets()[0]; p.origin != testContainerID || p.source != packets.SourceUnixStream {
		t.Fatalf("origin %q source %v", p.origin, p.source)
	}
}
