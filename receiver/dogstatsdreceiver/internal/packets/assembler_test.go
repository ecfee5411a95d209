package packets

import (
	"strings"
	"sync"
	"testing"
	"time"
)

// recordingSink keeps copies of what it receives and gives the packets back to the pool.
type recordingSink struct {
	pool *Pool
	mu   sync.Mutex
	got  []string
	srcs []Source
	ch   chan struct{}
}

func newRecordingSink(pool *Pool) *recordingSink {
	return &recordingSink{pool: pool, ch: make(chan struct{}, 1000)}
}

func (s *recordingSink) Append(p *Packet) {
	s.mu.Lock()
	s.got = append(s.got, string(p.Contents))
	s.srcs = append(s.srcs, p.Source)
	s.mu.Unlock()
	s.pool.Put(p)
	s.ch <- struct{}{}
}

func (s *recordingSink) packets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

// waitPackets waits until the sink has received n packets, at most 5 s.
func (s *recordingSink) waitPackets(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for len(s.packets()) < n {
		select {
		case <-s.ch:
		case <-deadline:
			t.Fatalf("timed out waiting for %d packets, have %q", n, s.packets())
		}
	}
	return s.packets()
}

const never = time.Hour // a flush timeout that does not fire during a test

func TestAssemblerFlushBySize(t *testing.T) {
	pool := NewPool(64)
	sink := newRecordingSink(pool)
	a := NewAssembler(never, pool, sink, SourceUDP, nil)
	defer a.Close()

	d := func(c byte) []byte { return []byte(strings.Repeat(string(c), 20)) }
	a.Add(d('a'))
	a.Add(d('b'))
	a.Add(d('c')) // 20+1+20+1+20 = 62 <= 64: all three share one packet
	if got := sink.packets(); len(got) != 0 {
		t.Fatalf("flushed before the packet was full: %q", got)
	}
	a.Add(d('d')) // 62+1+20 > 64
	got := sink.waitPackets(t, 1)
	want := strings.Repeat("a", 20) + "\n" + strings.Repeat("b", 20) + "\n" + strings.Repeat("c", 20)
	if got[0] != want {
		t.Fatalf("packet = %q, want %q", got[0], want)
	}
	if sink.srcs[0] != SourceUDP {
		t.Fatalf("source = %v, want udp", sink.srcs[0])
	}
	if n := a.Stats().FlushesBySize.Load(); n != 1 {
		t.Fatalf("FlushesBySize = %d, want 1", n)
	}
	a.Close()
	got = sink.waitPackets(t, 2)
	if got[1] != strings.Repeat("d", 20) {
		t.Fatalf("Close flushed %q, want the d datagram", got[1])
	}
	if n := a.Stats().FlushesOnClose.Load(); n != 1 {
		t.Fatalf("FlushesOnClose = %d, want 1", n)
	}
}

func TestAssemblerExactFit(t *testing.T) {
	pool := NewPool(11)
	sink := newRecordingSink(pool)
	a := NewAssembler(never, pool, sink, SourceUDP, nil)
	a.Add([]byte("abcde"))
	a.Add([]byte("fghij")) // 5+1+5 = 11: fits exactly
	a.Close()
	got := sink.waitPackets(t, 1)
	if len(got) != 1 || got[0] != "abcde\nfghij" {
		t.Fatalf("packets = %q, want one packet %q", got, "abcde\nfghij")
	}
}

func TestAssemblerFlushByTimer(t *testing.T) {
	pool := NewPool(8192)
	sink := newRecordingSink(pool)
	a := NewAssembler(10*time.Millisecond, pool, sink, SourceUDP, nil)
	defer a.Close()
	a.Add([]byte("page.views:1|c"))
	a.Add([]byte("page.views:2|c\n"))
	got := sink.waitPackets(t, 1)
	if got[0] != "page.views:1|c\npage.views:2|c" {
		t.Fatalf("packet = %q", got[0])
	}
	if n := a.Stats().FlushesByTimer.Load(); n != 1 {
		t.Fatalf("FlushesByTimer = %d, want 1", n)
	}
	if n := a.Stats().FlushesBySize.Load(); n != 0 {
		t.Fatalf("FlushesBySize = %d, want 0", n)
	}
}

func TestAssemblerOversizedDatagram(t *testing.T) {
	pool := NewPool(16)
	sink := newRecordingSink(pool)
	a := NewAssembler(never, pool, sink, SourceUDP, nil)
	a.Add([]byte("x:1|c"))
	// 17 bytes as a reader passes them (bufferSize+1): the whole lines that fit are kept.
	a.Add([]byte("a:1|c\nb:2|c\nc:333"))
	// No line boundary within the buffer: nothing can be kept.
	a.Add([]byte("0123456789abcdefg"))
	a.Close()
	got := sink.waitPackets(t, 2)
	if len(got) != 2 || got[0] != "x:1|c" || got[1] != "a:1|c\nb:2|c" {
		t.Fatalf("packets = %q, want [x:1|c a:1|c\\nb:2|c]", got)
	}
	s := a.Stats()
	if s.Truncated.Load() != 2 || s.TruncatedBytes.Load() != 6+17 {
		t.Fatalf("Truncated = %d, TruncatedBytes = %d, want 2 and 23", s.Truncated.Load(), s.TruncatedBytes.Load())
	}
}

func TestAssemblerIgnoresEmptyDatagrams(t *testing.T) {
	pool := NewPool(64)
	sink := newRecordingSink(pool)
	a := NewAssembler(never, pool, sink, SourceUDP, nil)
	a.Add(nil)
	a.Add([]byte("\n"))
	a.Close()
	if got := sink.packets(); len(got) != 0 {
		t.Fatalf("empty datagrams produced packets: %q", got)
	}
	a.Add([]byte("late:1|c")) // after Close: ignored, no panic
}

func TestAssemblerCopiesDatagram(t *testing.T) {
	pool := NewPool(64)
	sink := newRecordingSink(pool)
	a := NewAssembler(never, pool, sink, SourceUDP, nil)
	buf := []byte("a:1|c")
	a.Add(buf)
	copy(buf, "zzzzz") // the reader reuses its buffer at once
	a.Close()
	if got := sink.waitPackets(t, 1); got[0] != "a:1|c" {
		t.Fatalf("packet = %q, want a:1|c", got[0])
	}
}
