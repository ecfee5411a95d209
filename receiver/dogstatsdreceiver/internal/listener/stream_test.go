package listener

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/packets"
)

func frame(payload string) []byte {
	return append(binary.LittleEndian.AppendUint32(nil, uint32(len(payload))), payload...)
}

func startUnixStream(t *testing.T, cfg UnixStreamConfig, set Settings) *UnixStream {
	t.Helper()
	if cfg.Path == "" {
		cfg.Path = filepath.Join(t.TempDir(), "dsd-stream.sock")
	}
	l := NewUnixStream(cfg, set)
	if err := l.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Stop)
	return l
}

func dial(t *testing.T, addr net.Addr) net.Conn {
	t.Helper()
	c, err := net.Dial(addr.Network(), addr.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestUnixStreamFrames(t *testing.T) {
	pool := packets.NewPool(1024)
	col := newCollector(t, pool, 64)
	l := startUnixStream(t, UnixStreamConfig{}, settings(pool, col, 5*time.Millisecond))
	c := dial(t, l.Addr())
	var stream []byte
	var want []string
	for i := range 50 {
		payload := fmt.Sprintf("req.count:%d|c|#route:r%d\nreq.time:%d|ms", i, i%5, i)
		stream = append(stream, frame(payload)...)
		want = append(want, strings.Split(payload, "\n")...)
	}
	// Write in odd pieces so frames and headers straddle reads.
	for len(stream) > 0 {
		n := min(len(stream), 37)
		if _, err := c.Write(stream[:n]); err != nil {
			t.Fatal(err)
		}
		stream = stream[n:]
	}
	got := col.waitLines(t, len(want))
	if !slices.Equal(got, want) {
		t.Fatalf("lines differ:\n got %q\nwant %q", got, want)
	}
	if s := l.Stats(); s.Packets.Load() != 50 || s.Connections.Load() != 1 {
		t.Fatalf("frames %d connections %d", s.Packets.Load(), s.Connections.Load())
	}
	for _, p := range col.packets() {
		if p.source != packets.SourceUnixStream || len(p.contents) > 1024 {
			t.Fatalf("packet source %v size %d", p.source, len(p.contents))
		}
	}
}

func TestUnixStreamOversizedFrameClosesConnection(t *testing.T) {
	pool := packets.NewPool(64)
	col := newCollector(t, pool, 64)
	l := startUnixStream(t, UnixStreamConfig{}, settings(pool, col, 5*time.Millisecond))
	c := dial(t, l.Addr())
	// A good frame, then a header announcing 65 bytes (> 64), then what would be a good frame.
	msg := append(frame("ok:1|c"), binary.LittleEndian.AppendUint32(nil, 65)...)
	msg = append(msg, frame("never:1|c")...)
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	if err := c.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("read after an oversized frame: %v, want EOF (connection closed)", err)
	}
	if got := col.waitLines(t, 1); !slices.Equal(got, []string{"ok:1|c"}) {
		t.Fatalf("lines %q, want only the frame before the oversized one", got)
	}
	eventually(t, "the connection to be closed", func() bool { return l.Stats().OpenConnections.Load() == 0 })
	if n := l.Stats().Oversized.Load(); n != 1 {
		t.Fatalf("oversized %d, want 1", n)
	}
	// Other and new connections are unaffected.
	c2 := dial(t, l.Addr())
	if _, err := c2.Write(frame("next:1|c")); err != nil {
		t.Fatal(err)
	}
	if got := col.waitLines(t, 2); got[1] != "next:1|c" {
		t.Fatalf("lines %q", got)
	}
}

func TestUnixStreamStopClosesConnectionsAndKeepsData(t *testing.T) {
	pool := packets.NewPool(1024)
	col := newCollector(t, pool, 64)
	l := startUnixStream(t, UnixStreamConfig{}, settings(pool, col, never))
	var conns []net.Conn
	for i := range 3 {
		c := dial(t, l.Addr())
		if _, err := c.Write(frame(fmt.Sprintf("conn%d:1|c", i))); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	eventually(t, "three frames read", func() bool { return l.Stats().Packets.Load() == 3 })
	l.Stop() // clients still connected
	col.stop()
	if got := sortedCopy(col.lines()); !slices.Equal(got, []string{"conn0:1|c", "conn1:1|c", "conn2:1|c"}) {
		t.Fatalf("lines after Stop %q", got)
	}
	if n := l.Stats().OpenConnections.Load(); n != 0 {
		t.Fatalf("%d connections open after Stop", n)
	}
	for _, c := range conns {
		if err := c.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
			t.Fatalf("client read after Stop: %v, want EOF", err)
		}
	}
}

func TestStreamMaxConnections(t *testing.T) {
	pool := packets.NewPool(256)
	col := newCollector(t, pool, 64)
	l := startUnixStream(t, UnixStreamConfig{MaxConnections: 1}, settings(pool, col, 5*time.Millisecond))
	first := dial(t, l.Addr())
	if _, err := first.Write(frame("a:1|c")); err != nil {
		t.Fatal(err)
	}
	col.waitLines(t, 1)
	second := dial(t, l.Addr())
	if err := second.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := second.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("second connection: %v, want closed", err)
	}
	if s := l.Stats(); s.RejectedConnections.Load() != 1 || s.Connections.Load() != 1 {
		t.Fatalf("rejected %d accepted %d", s.RejectedConnections.Load(), s.Connections.Load())
	}
}

func startTCP(t *testing.T, set Settings) *TCP {
	t.Helper()
	l := NewTCP(TCPConfig{Endpoint: "127.0.0.1:0"}, set)
	if err := l.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Stop)
	return l
}

func TestTCPLines(t *testing.T) {
	pool := packets.NewPool(128)
	col := newCollector(t, pool, 64)
	l := startTCP(t, settings(pool, col, 5*time.Millisecond))
	c := dial(t, l.Addr())
	w := bufio.NewWriterSize(c, 100) // writes straddle lines
	var want []string
	for i := range 200 {
		line := fmt.Sprintf("tcp.metric:%d|g|#shard:%d", i, i%7)
		want = append(want, line)
		fmt.Fprintf(w, "%s\n", line)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	got := col.waitLines(t, len(want))
	if !slices.Equal(got, want) {
		t.Fatalf("lines differ:\n got %q\nwant %q", got, want)
	}
	for _, p := range col.packets() {
		if p.source != packets.SourceTCP || len(p.contents) > 128 {
			t.Fatalf("packet source %v size %d", p.source, len(p.contents))
		}
	}
	if s := l.Stats(); s.Packets.Load() != 200 {
		t.Fatalf("lines counted %d", s.Packets.Load())
	}
}

func TestTCPLongLineDroppedConnectionKept(t *testing.T) {
	pool := packets.NewPool(32)
	col := newCollector(t, pool, 64)
	l := startTCP(t, settings(pool, col, 5*time.Millisecond))
	c := dial(t, l.Addr())
	long := "long:" + strings.Repeat("9", 100) + "|c"
	if _, err := fmt.Fprintf(c, "before:1|c\n%s\nafter:1|c\nlast:1|c", long); err != nil {
		t.Fatal(err)
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil { // clean end: "last" has no '\n'
		t.Fatal(err)
	}
	got := col.waitLines(t, 3)
	if want := []string{"before:1|c", "after:1|c", "last:1|c"}; !slices.Equal(got, want) {
		t.Fatalf("lines %q, want %q", got, want)
	}
	if n := l.Stats().Oversized.Load(); n != 1 {
		t.Fatalf("oversized %d, want 1", n)
	}
}

func TestStreamListenersNotStarted(t *testing.T) {
	pool := packets.NewPool(64)
	col := newCollector(t, pool, 4)
	for _, l := range []Listener{
		NewTCP(TCPConfig{}, settings(pool, col, never)),
		NewUnixStream(UnixStreamConfig{Path: filepath.Join(t.TempDir(), "x.sock")}, settings(pool, col, never)),
		NewUnixDatagram(UnixDatagramConfig{Path: filepath.Join(t.TempDir(), "y.sock")}, settings(pool, col, never)),
		NewUDP(UDPConfig{}, settings(pool, col, never)),
	} {
		if l.Addr() != nil {
			t.Fatalf("%T: Addr before Start", l)
		}
		l.Stop()
		if l.Stats() == nil {
			t.Fatalf("%T: nil stats", l)
		}
	}
	if err := NewUnixStream(UnixStreamConfig{}, settings(pool, col, never)).Start(); err == nil {
		t.Fatal("unix stream with an empty path started")
	}
	if err := NewUnixDatagram(UnixDatagramConfig{}, settings(pool, col, never)).Start(); err == nil {
		t.Fatal("unixgram with an empty path started")
	}
}

// All four transports at once, sharing one pool and one queue, as the receiver runs them.
func TestAllTransportsAtOnce(t *testing.T) {
	pool := packets.NewPool(512)
	col := newCollector(t, pool, 64)
	set := settings(pool, col, 5*time.Millisecond)
	dir := t.TempDir()
	udp := mustStart(t, NewUDP(UDPConfig{Endpoint: "127.0.0.1:0"}, set))
	gram := mustStart(t, NewUnixDatagram(UnixDatagramConfig{Path: filepath.Join(dir, "g.sock")}, set))
	stream := mustStart(t, NewUnixStream(UnixStreamConfig{Path: filepath.Join(dir, "s.sock")}, set))
	tcp := mustStart(t, NewTCP(TCPConfig{Endpoint: "127.0.0.1:0"}, set))

	for i, l := range []Listener{udp, gram} {
		c := dial(t, l.Addr())
		if _, err := fmt.Fprintf(c, "dgram%d:1|c", i); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := dial(t, stream.Addr()).Write(frame("stream:1|c")); err != nil {
		t.Fatal(err)
	}
	if _, err := dial(t, tcp.Addr()).Write([]byte("tcp:1|c\n")); err != nil {
		t.Fatal(err)
	}
	got := sortedCopy(col.waitLines(t, 4))
	if want := []string{"dgram0:1|c", "dgram1:1|c", "stream:1|c", "tcp:1|c"}; !slices.Equal(got, want) {
		t.Fatalf("lines %q, want %q", got, want)
	}
	sources := map[packets.Source]bool{}
	for _, p := range col.packets() {
		sources[p.source] = true
	}
	if len(sources) != 4 {
		t.Fatalf("packets came from %v, want all four transports", sources)
	}
}
