package listener

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/packets"
)

func dialUDP(t *testing.T, addr net.Addr) net.Conn {
	t.Helper()
	c, err := net.Dial("udp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestUDPReceivesAndAssembles(t *testing.T) {
	pool := packets.NewPool(1024)
	col := newCollector(t, pool, 64)
	l := NewUDP(UDPConfig{Endpoint: "127.0.0.1:0"}, settings(pool, col, 10*time.Millisecond))
	if err := l.Start(); err != nil {
		t.Fatal(err)
	}
	defer l.Stop()
	c := dialUDP(t, l.Addr())
	var want []string
	for i := range 100 {
		line := fmt.Sprintf("page.views:%d|c|#env:test", i)
		want = append(want, line)
		if _, err := c.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	got := col.waitLines(t, len(want))
	if !slices.Equal(got, want) {
		t.Fatalf("lines differ:\n got %q\nwant %q", got, want)
	}
	for _, p := range col.packets() {
		if p.source != packets.SourceUDP || p.origin != "" {
			t.Fatalf("packet source %v origin %q, want udp and no origin", p.source, p.origin)
		}
	}
	s := l.Stats()
	if s.Packets.Load() != 100 || s.Bytes.Load() != uint64(len(strings.Join(want, ""))) {
		t.Fatalf("packets %d bytes %d", s.Packets.Load(), s.Bytes.Load())
	}
	if s.Transport != packets.SourceUDP {
		t.Fatalf("transport %v", s.Transport)
	}
}

// Stop hands over everything read even when no timer has fired.
func TestUDPStopFlushesAssemblerAndBuffer(t *testing.T) {
	pool := packets.NewPool(8192)
	col := newCollector(t, pool, 64)
	l := NewUDP(UDPConfig{Endpoint: "127.0.0.1:0", Readers: 2}, settings(pool, col, never))
	if err := l.Start(); err != nil {
		t.Fatal(err)
	}
	c := dialUDP(t, l.Addr())
	const n = 50
	for i := range n {
		if _, err := c.Write(fmt.Appendf(nil, "m%d:1|c", i)); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "the listener to read every datagram", func() bool { return l.Stats().Packets.Load() == n })
	if got := len(col.lines()); got != 0 {
		t.Fatalf("%d lines arrived before any flush", got)
	}
	l.Stop()
	col.stop()
	if got := col.lines(); len(got) != n {
		t.Fatalf("after Stop %d lines, want %d", len(got), n)
	}
	if s := l.Stats(); s.Assembler.FlushesOnClose.Load() == 0 || s.Buffer.FlushesOnClose.Load() != 1 {
		t.Fatalf("assembler close flushes %d, buffer close flushes %d", s.Assembler.FlushesOnClose.Load(), s.Buffer.FlushesOnClose.Load())
	}
}

func TestUDPOversizedDatagram(t *testing.T) {
	pool := packets.NewPool(32)
	col := newCollector(t, pool, 64)
	l := NewUDP(UDPConfig{Endpoint: "127.0.0.1:0"}, settings(pool, col, 5*time.Millisecond))
	if err := l.Start(); err != nil {
		t.Fatal(err)
	}
	defer l.Stop()
	c := dialUDP(t, l.Addr())
	// 47 bytes: the first two lines (27 bytes) fit in 32, the third is cut and must not appear.
	if _, err := c.Write([]byte("first.line:1|c\nsecond:22|c\nthird.line:333|c")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("after:1|c")); err != nil {
		t.Fatal(err)
	}
	got := col.waitLines(t, 3)
	if want := []string{"first.line:1|c", "second:22|c", "after:1|c"}; !slices.Equal(got, want) {
		t.Fatalf("lines %q, want %q", got, want)
	}
	if s := l.Stats(); s.Oversized.Load() != 1 || s.Assembler.Truncated.Load() != 1 {
		t.Fatalf("oversized %d truncated %d, want 1 and 1", s.Oversized.Load(), s.Assembler.Truncated.Load())
	}
}

func TestUDPBindErrorAndLifecycle(t *testing.T) {
	pool := packets.NewPool(64)
	col := newCollector(t, pool, 4)
	first := NewUDP(UDPConfig{Endpoint: "127.0.0.1:0"}, settings(pool, col, never))
	if first.Addr() != nil {
		t.Fatal("Addr before Start is not nil")
	}
	first.Stop() // without Start: no-op
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	defer first.Stop()
	second := NewUDP(UDPConfig{Endpoint: first.Addr().String()}, settings(pool, col, never))
	if err := second.Start(); err == nil {
		second.Stop()
		t.Fatal("binding a busy port succeeded")
	}
	second.Stop()
	if err := NewUDP(UDPConfig{}, Settings{}).Start(); !errors.Is(err, errSettings) {
		t.Fatalf("Start without pool/queue: %v", err)
	}
	first.Stop()
	first.Stop()
}

// With the queue full and blocking, the reader stops reading, the socket buffer fills and
// the kernel drops datagrams: the drop count must become visible.
func TestUDPKernelDropsVisible(t *testing.T) {
	if _, ok := procUDPDrops(1); !ok && !udpDropCounterSupported {
		t.Skip("no kernel drop counter on this system")
	}
	pool := packets.NewPool(64)
	out := make(chan packets.Packets, 1)
	set := Settings{Pool: pool, Out: out, Buffer: packets.BufferConfig{Size: 1, FlushTimeout: time.Millisecond, BlockWhenFull: true}}
	l := NewUDP(UDPConfig{Endpoint: "127.0.0.1:0", SoRcvbuf: 4096}, set)
	if err := l.Start(); err != nil {
		t.Fatal(err)
	}
	c := dialUDP(t, l.Addr())
	payload := []byte(strings.Repeat("x", 60))
	for range 2000 {
		_, _ = c.Write(payload)
	}
	eventually(t, "kernel drops to be counted", func() bool { return l.Stats().KernelDrops.Load() > 0 })
	// Unblock the reader so Stop can finish: drain until Stop has returned.
	stopped := make(chan struct{})
	go func() { l.Stop(); close(stopped) }()
	for {
		select {
		case ps := <-out:
			pool.PutAll(ps)
			continue
		case <-stopped:
		}
		break
	}
	for len(out) > 0 {
		pool.PutAll(<-out)
	}
	s := l.Stats()
	if s.Packets.Load()+s.KernelDrops.Load() > 2000 {
		t.Fatalf("read %d + dropped %d > 2000 sent", s.Packets.Load(), s.KernelDrops.Load())
	}
}

func TestUDPSoRcvbuf(t *testing.T) {
	if !udpDropCounterSupported {
		t.Skip("the effective receive buffer is only reported on Linux")
	}
	pool := packets.NewPool(64)
	col := newCollector(t, pool, 4)
	small := NewUDP(UDPConfig{Endpoint: "127.0.0.1:0", SoRcvbuf: 64 << 10}, settings(pool, col, never))
	big := NewUDP(UDPConfig{Endpoint: "127.0.0.1:0", SoRcvbuf: 1 << 20}, settings(pool, col, never))
	for _, l := range []*UDP{small, big} {
		if err := l.Start(); err != nil {
			t.Fatal(err)
		}
		defer l.Stop()
	}
	s, b := small.Stats().ReceiveBuffer.Load(), big.Stats().ReceiveBuffer.Load()
	if s < 64<<10 || b <= s {
		t.Fatalf("effective buffers %d (asked 64 KiB) and %d (asked 1 MiB)", s, b)
	}
}
