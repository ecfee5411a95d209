package listener

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/packets"
)

func dialUnixgram(t *testing.T, path string) net.Conn {
	t.Helper()
	c, err := net.Dial("unixgram", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestUnixDatagramOnePacketPerDatagram(t *testing.T) {
	pool := packets.NewPool(1024)
	col := newCollector(t, pool, 64)
	path := filepath.Join(t.TempDir(), "dsd.sock")
	l := NewUnixDatagram(UnixDatagramConfig{Path: path}, settings(pool, col, 5*time.Millisecond))
	if err := l.Start(); err != nil {
		t.Fatal(err)
	}
	defer l.Stop()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 || fi.Mode()&fs.ModeSocket == 0 {
		t.Fatalf("socket mode %v, want a socket with 0600", fi.Mode())
	}
	if got := l.Addr().String(); got != path {
		t.Fatalf("Addr %q, want %q", got, path)
	}
	c := dialUnixgram(t, path)
	want := []string{"a:1|c\nb:2|c", "c:3|g", "d:4|ms"}
	for _, d := range want {
		if _, err := c.Write([]byte(d)); err != nil {
			t.Fatal(err)
		}
	}
	col.waitLines(t, 4)
	var got []string
	for _, p := range col.packets() {
		if p.source != packets.SourceUnixDatagram || p.origin != "" {
			t.Fatalf("packet source %v origin %q", p.source, p.origin)
		}
		got = append(got, p.contents)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("packets %q, want one per datagram %q", got, want)
	}
	if s := l.Stats(); s.Packets.Load() != 3 || s.Bytes.Load() != 11+5+6 {
		t.Fatalf("packets %d bytes %d", s.Packets.Load(), s.Bytes.Load())
	}
	l.Stop()
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("socket file still there after Stop: %v", err)
	}
}

func TestUnixDatagramTruncatedDatagram(t *testing.T) {
	pool := packets.NewPool(32)
	col := newCollector(t, pool, 64)
	path := filepath.Join(t.TempDir(), "dsd.sock")
	l := NewUnixDatagram(UnixDatagramConfig{Path: path}, settings(pool, col, 5*time.Millisecond))
	if err := l.Start(); err != nil {
		t.Fatal(err)
	}
	defer l.Stop()
	c := dialUnixgram(t, path)
	if _, err := c.Write([]byte("first.line:1|c\nsecond:22|c\nthird.line:333|c")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("no.newline.and.far.too.long.for.32:1|c")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("after:1|c")); err != nil {
		t.Fatal(err)
	}
	got := col.waitLines(t, 3)
	if want := []string{"first.line:1|c", "second:22|c", "after:1|c"}; !slices.Equal(got, want) {
		t.Fatalf("lines %q, want %q", got, want)
	}
	if n := l.Stats().Oversized.Load(); n != 2 {
		t.Fatalf("oversized %d, want 2", n)
	}
}

func TestUnixDatagramPermissionsAndStaleSocket(t *testing.T) {
	pool := packets.NewPool(64)
	col := newCollector(t, pool, 4)
	dir := t.TempDir()
	path := filepath.Join(dir, "dsd.sock")

	// A socket file left behind by a process that died: bound, then closed without unlinking.
	stale, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	stale.Close()
	if _, err := os.Lstat(path); err != nil {
		t.Fatalf("no stale socket file to test with: %v", err)
	}
	l := NewUnixDatagram(UnixDatagramConfig{Path: path, Permissions: 0o622}, settings(pool, col, 5*time.Millisecond))
	if err := l.Start(); err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	defer l.Stop()
	if fi, err := os.Lstat(path); err != nil || fi.Mode().Perm() != 0o622 {
		t.Fatalf("mode %v (%v), want 0622", fi.Mode(), err)
	}
	// A second listener must not steal a live socket.
	other := NewUnixDatagram(UnixDatagramConfig{Path: path}, settings(pool, col, never))
	if err := other.Start(); !errors.Is(err, ErrSocketInUse) {
		other.Stop()
		t.Fatalf("second listener on a live socket: %v, want ErrSocketInUse", err)
	}
	// Nor replace a file that is not a socket.
	regular := filepath.Join(dir, "regular")
	if err := os.WriteFile(regular, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	third := NewUnixDatagram(UnixDatagramConfig{Path: regular}, settings(pool, col, never))
	if err := third.Start(); err == nil {
		third.Stop()
		t.Fatal("a regular file was replaced by a socket")
	}
	if b, err := os.ReadFile(regular); err != nil || string(b) != "keep me" {
		t.Fatalf("regular file damaged: %q %v", b, err)
	}
	// The listener still works.
	c := dialUnixgram(t, path)
	if _, err := c.Write([]byte("still:1|c")); err != nil {
		t.Fatal(err)
	}
	if got := col.waitLines(t, 1); got[0] != "still:1|c" {
		t.Fatalf("line %q", got[0])
	}
}

// Everything written before Stop reaches the queue, with no timer firing.
func TestUnixDatagramStopFlushes(t *testing.T) {
	pool := packets.NewPool(256)
	col := newCollector(t, pool, 64)
	path := filepath.Join(t.TempDir(), "dsd.sock")
	l := NewUnixDatagram(UnixDatagramConfig{Path: path}, settings(pool, col, never))
	if err := l.Start(); err != nil {
		t.Fatal(err)
	}
	c := dialUnixgram(t, path)
	const n = 30 // not a multiple of the batch size (4)
	for i := range n {
		if _, err := c.Write(fmt.Appendf(nil, "m:%d|c", i)); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "every datagram read", func() bool { return l.Stats().Packets.Load() == n })
	l.Stop()
	col.stop()
	if got := len(col.lines()); got != n {
		t.Fatalf("%d lines after Stop, want %d", got, n)
	}
}
