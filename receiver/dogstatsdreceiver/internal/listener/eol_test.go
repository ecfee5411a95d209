package listener

import (
	"bytes"
	"net"
	"path/filepath"
	"slices"
	"testing"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/packets"
)

// The datagrams or frames every eol_required test sends, and the lines that survive with the
// option on and off. The second and fourth payloads end without '\n'.
var (
	eolPayloads = []string{"a:1|c\nb:2|c", "c:3|c\n", "d:4|c", "e:5|c\nf:6|c\n"}
	eolWantOn   = []string{"a:1|c", "c:3|c", "e:5|c", "f:6|c"}
	eolWantOff  = []string{"a:1|c", "b:2|c", "c:3|c", "d:4|c", "e:5|c", "f:6|c"}
)

func eolCases() []struct {
	name         string
	on           bool
	want         []string
	unterminated uint64
} {
	return []struct {
		name         string
		on           bool
		want         []string
		unterminated uint64
	}{
		{"off", false, eolWantOff, 0},
		{"on", true, eolWantOn, 2},
	}
}

func TestReadFramesEOLRequired(t *testing.T) {
	for _, tc := range eolCases() {
		t.Run(tc.name, func(t *testing.T) {
			r, sink, stats := newTestStreamReader(64)
			r.eolRequired = tc.on
			var in []byte
			for _, p := range append(slices.Clone(eolPayloads), "") {
				in = append(in, frame(p)...)
			}
			if err := r.readFrames(bytes.NewReader(in)); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range sink.got {
				got = append(got, splitLines(p)...)
			}
			if !slices.Equal(got, tc.want) || stats.Unterminated.Load() != tc.unterminated {
				t.Fatalf("lines %q unterminated %d, want %q and %d", got, stats.Unterminated.Load(), tc.want, tc.unterminated)
			}
			if stats.Packets.Load() != 5 {
				t.Fatalf("frames counted %d, want 5 (a dropped line's frame was still read)", stats.Packets.Load())
			}
		})
	}
}

// A TCP stream's last line without '\n' is whole only if the client meant it; with
// eol_required it is dropped at the close, however the close arrives (with the last bytes or
// in a read of its own).
func TestReadLinesEOLRequiredAtClose(t *testing.T) {
	for _, tc := range []struct {
		in   string
		on   bool
		want []string
		cut  uint64
	}{
		{"a:1|c\nb:2|c", false, []string{"a:1|c", "b:2|c"}, 0},
		{"a:1|c\nb:2|c", true, []string{"a:1|c"}, 1},
		{"a:1|c\nb:2|c\n", true, []string{"a:1|c", "b:2|c"}, 0},
		{"b:2|c", true, nil, 1},
		{"", true, nil, 0},
	} {
		for _, eofWithData := range []bool{false, true} {
			r, sink, stats := newTestStreamReader(64)
			r.eolRequired = tc.on
			if err := r.readLines(&chunkReader{data: []byte(tc.in), sizes: []byte{2}, eofWithData: eofWithData}); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range sink.got {
				got = append(got, splitLines(p)...)
			}
			if !slices.Equal(got, tc.want) || stats.Unterminated.Load() != tc.cut {
				t.Errorf("%q eol_required=%v eofWithData=%v: lines %q unterminated %d, want %q and %d",
					tc.in, tc.on, eofWithData, got, stats.Unterminated.Load(), tc.want, tc.cut)
			}
		}
	}
}

// The UDP check is made on each datagram before the assembler packs it: once packed, the '\n'
// the assembler puts between datagrams would make "b:2|c" look terminated.
func TestUDPEOLRequiredPerDatagram(t *testing.T) {
	for _, tc := range eolCases() {
		t.Run(tc.name, func(t *testing.T) {
			pool := packets.NewPool(1024)
			col := newCollector(t, pool, 64)
			l := NewUDP(UDPConfig{Endpoint: "127.0.0.1:0", EOLRequired: tc.on}, settings(pool, col, never))
			if err := l.Start(); err != nil {
				t.Fatal(err)
			}
			defer l.Stop()
			c := dialUDP(t, l.Addr())
			for _, d := range eolPayloads {
				if _, err := c.Write([]byte(d)); err != nil {
					t.Fatal(err)
				}
			}
			eventually(t, "every datagram read", func() bool { return l.Stats().Packets.Load() == uint64(len(eolPayloads)) })
			l.Stop() // flushes the assembler: every datagram went into one packet
			col.stop()
			if got := col.lines(); !slices.Equal(got, tc.want) {
				t.Fatalf("lines %q, want %q", got, tc.want)
			}
			if len(col.packets()) != 1 {
				t.Fatalf("%d packets, want the datagrams packed into 1", len(col.packets()))
			}
			if got := l.Stats().Unterminated.Load(); got != tc.unterminated {
				t.Fatalf("unterminated %d, want %d", got, tc.unterminated)
			}
		})
	}
}

func TestUnixDatagramEOLRequired(t *testing.T) {
	for _, tc := range eolCases() {
		t.Run(tc.name, func(t *testing.T) {
			pool := packets.NewPool(1024)
			col := newCollector(t, pool, 64)
			path := filepath.Join(t.TempDir(), "dsd.sock")
			l := NewUnixDatagram(UnixDatagramConfig{Path: path, EOLRequired: tc.on}, settings(pool, col, never))
			if err := l.Start(); err != nil {
				t.Fatal(err)
			}
			defer l.Stop()
			c := dialUnixgram(t, path)
			for _, d := range eolPayloads {
				if _, err := c.Write([]byte(d)); err != nil {
					t.Fatal(err)
				}
			}
			eventually(t, "every datagram read", func() bool { return l.Stats().Packets.Load() == uint64(len(eolPayloads)) })
			l.Stop()
			col.stop()
			if got := col.lines(); !slices.Equal(got, tc.want) {
				t.Fatalf("lines %q, want %q", got, tc.want)
			}
			if got := l.Stats().Unterminated.Load(); got != tc.unterminated {
				t.Fatalf("unterminated %d, want %d", got, tc.unterminated)
			}
		})
	}
}

func TestUnixStreamEOLRequired(t *testing.T) {
	for _, tc := range eolCases() {
		t.Run(tc.name, func(t *testing.T) {
			pool := packets.NewPool(1024)
			col := newCollector(t, pool, 64)
			l := startUnixStream(t, UnixStreamConfig{EOLRequired: tc.on}, settings(pool, col, never))
			c := dial(t, l.Addr())
			var in []byte
			for _, p := range eolPayloads {
				in = append(in, frame(p)...)
			}
			if _, err := c.Write(in); err != nil {
				t.Fatal(err)
			}
			eventually(t, "every frame read", func() bool { return l.Stats().Packets.Load() == uint64(len(eolPayloads)) })
			l.Stop()
			col.stop()
			if got := col.lines(); !slices.Equal(got, tc.want) {
				t.Fatalf("lines %q, want %q", got, tc.want)
			}
			if got := l.Stats().Unterminated.Load(); got != tc.unterminated {
				t.Fatalf("unterminated %d, want %d", got, tc.unterminated)
			}
		})
	}
}

func TestTCPEOLRequiredAtClose(t *testing.T) {
	for _, tc := range []struct {
		on   bool
		want []string
		cut  uint64
	}{
		{false, []string{"a:1|c", "b:2|c"}, 0},
		{true, []string{"a:1|c"}, 1},
	} {
		pool := packets.NewPool(1024)
		col := newCollector(t, pool, 64)
		l := NewTCP(TCPConfig{Endpoint: "127.0.0.1:0", EOLRequired: tc.on}, settings(pool, col, never))
		if err := l.Start(); err != nil {
			t.Fatal(err)
		}
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write([]byte("a:1|c\nb:2|c")); err != nil {
			t.Fatal(err)
		}
		_ = c.Close() // a clean close: the server reads EOF
		eventually(t, "the connection to end", func() bool {
			s := l.Stats()
			return s.Connections.Load() == 1 && s.OpenConnections.Load() == 0
		})
		l.Stop()
		col.stop()
		if got := col.lines(); !slices.Equal(got, tc.want) || l.Stats().Unterminated.Load() != tc.cut {
			t.Errorf("eol_required=%v: lines %q unterminated %d, want %q and %d", tc.on, got, l.Stats().Unterminated.Load(), tc.want, tc.cut)
		}
	}
}

func splitLines(p string) []string {
	var out []string
	for l := range bytes.SplitSeq([]byte(p), []byte{'\n'}) {
		if len(l) > 0 {
			out = append(out, string(l))
		}
	}
	return out
}
