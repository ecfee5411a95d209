package packets

import (
	"bytes"
	"testing"
)

func TestPoolGetResetsPacket(t *testing.T) {
	p := NewPool(16)
	pk := p.Get()
	if got := len(pk.Buffer()); got != 16 {
		t.Fatalf("buffer len = %d, want 16", got)
	}
	copy(pk.Buffer(), "abc")
	pk.SetLen(3)
	pk.Origin = "container"
	pk.Source = SourceTCP
	p.Put(pk)
	for range 100 { // sync.Pool may drop items (always under -race), so look for a reuse
		got := p.Get()
		if len(got.Contents) != 0 || got.Origin != "" || got.Source != SourceUnknown {
			t.Fatalf("Get returned a dirty packet: %q %q %v", got.Contents, got.Origin, got.Source)
		}
		if len(got.Buffer()) != 16 {
			t.Fatalf("buffer len = %d, want 16", len(got.Buffer()))
		}
		got.Origin = "x"
		got.SetLen(2)
		p.Put(got)
	}
}

func TestPoolReusesPackets(t *testing.T) {
	p := NewPool(64)
	const cycles = 1000
	for range cycles {
		pk := p.Get()
		pk.SetLen(10)
		p.Put(pk)
	}
	s := p.Stats()
	if s.Gets.Load() != cycles || s.Puts.Load() != cycles {
		t.Fatalf("gets=%d puts=%d, want %d each", s.Gets.Load(), s.Puts.Load(), cycles)
	}
	// Without reuse every Get would allocate; the race detector drops a quarter of Puts.
	if a := s.Allocations.Load(); a > cycles/2 {
		t.Fatalf("allocations = %d for %d get/put cycles: packets are not reused", a, cycles)
	}
}

func TestPoolNeverEmpty(t *testing.T) {
	p := NewPool(8)
	held := make([]*Packet, 0, 50)
	for range 50 {
		held = append(held, p.Get())
	}
	if a := p.Stats().Allocations.Load(); a != 50 {
		t.Fatalf("allocations = %d, want 50 (one per Get while nothing was returned)", a)
	}
	seen := map[*Packet]bool{}
	for _, pk := range held {
		if seen[pk] {
			t.Fatal("the same packet was handed out twice")
		}
		seen[pk] = true
	}
	p.PutAll(held)
	for i, pk := range held {
		if pk != nil {
			t.Fatalf("PutAll left slot %d set", i)
		}
	}
}

func TestPoolDropsForeignPackets(t *testing.T) {
	small, big := NewPool(8), NewPool(16)
	pk := big.Get()
	small.Put(pk)
	small.Put(nil)
	if f := small.Stats().Foreign.Load(); f != 1 {
		t.Fatalf("foreign = %d, want 1", f)
	}
	if got := small.Get(); len(got.Buffer()) != 8 {
		t.Fatalf("pool handed out a %d-byte packet, want 8", len(got.Buffer()))
	}
}

func TestNewPoolDefaultSize(t *testing.T) {
	if got := NewPool(0).BufferSize(); got != DefaultBufferSize {
		t.Fatalf("BufferSize = %d, want %d", got, DefaultBufferSize)
	}
}

func TestCompleteLines(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"no newline", ""},
		{"a:1|c\n", "a:1|c"},
		{"a:1|c\nb:2|c", "a:1|c"},
		{"a:1|c\nb:2|c\nc:3", "a:1|c\nb:2|c"},
		{"\n", ""},
	} {
		if got := CompleteLines([]byte(tc.in)); !bytes.Equal(got, []byte(tc.want)) {
			t.Errorf("CompleteLines(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestDropUnterminated(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		dropped  bool
	}{
		{"", "", false},
		{"a:1|c\n", "a:1|c\n", false},
		{"a:1|c\nb:2|c\n", "a:1|c\nb:2|c\n", false},
		{"a:1|c", "", true},
		{"a:1|c\nb:2|c", "a:1|c\n", true},
		{"a:1|c\r\nb:2|c\r", "a:1|c\r\n", true}, // a '\r' does not end a line
		{"\n\n", "\n\n", false},
	} {
		got, dropped := DropUnterminated([]byte(tc.in))
		if string(got) != tc.want || dropped != tc.dropped {
			t.Errorf("DropUnterminated(%q) = %q, %v; want %q, %v", tc.in, got, dropped, tc.want, tc.dropped)
		}
	}
}

func TestSourceString(t *testing.T) {
	for s, want := range map[Source]string{
		SourceUDP: "udp", SourceUnixDatagram: "unixgram", SourceUnixStream: "unix",
		SourceTCP: "tcp", SourceUnknown: "unknown",
	} {
		if got := s.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", s, got, want)
		}
	}
}
