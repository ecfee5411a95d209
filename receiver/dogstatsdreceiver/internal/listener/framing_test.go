package listener

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/packets"
)

// chunkReader returns data in reads whose sizes cycle through sizes (each +1), and, when
// eofWithData is set, returns io.EOF together with the last bytes.
type chunkReader struct {
	data        []byte
	sizes       []byte
	i           int
	eofWithData bool
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := len(r.data)
	if len(r.sizes) > 0 {
		n = min(n, int(r.sizes[r.i%len(r.sizes)])+1)
		r.i++
	}
	n = copy(p, r.data[:n])
	r.data = r.data[n:]
	if len(r.data) == 0 && r.eofWithData {
		return n, io.EOF
	}
	return n, nil
}

// sliceSink keeps copies of packet contents and gives the packets back.
type sliceSink struct {
	pool    *packets.Pool
	got     []string
	maxSize int
}

func (s *sliceSink) Append(p *packets.Packet) {
	s.got = append(s.got, string(p.Contents))
	s.maxSize = max(s.maxSize, len(p.Contents))
	s.pool.Put(p)
}

func newTestStreamReader(size int) (*streamReader, *sliceSink, *Stats) {
	pool := packets.NewPool(size)
	sink := &sliceSink{pool: pool}
	stats := &Stats{}
	return newStreamReader(pool, sink, packets.SourceUnixStream, "", stats), sink, stats
}

func TestReadFramesPacksFrames(t *testing.T) {
	r, sink, stats := newTestStreamReader(32)
	var in []byte
	for _, p := range []string{"a:1|c", "b:2|c\n", "", "ccc:3|c", "d:4|c"} {
		in = append(in, frame(p)...)
	}
	if err := r.readFrames(bytes.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	// One read brings every frame; their payloads share one packet.
	if want := []string{"a:1|c\nb:2|c\nccc:3|c\nd:4|c"}; strings.Join(sink.got, "|") != strings.Join(want, "|") {
		t.Fatalf("packets %q, want %q", sink.got, want)
	}
	if stats.Packets.Load() != 5 || stats.Bytes.Load() != uint64(len(in)) {
		t.Fatalf("frames %d bytes %d", stats.Packets.Load(), stats.Bytes.Load())
	}
}

func TestReadFramesStartsNewPacketWhenFull(t *testing.T) {
	r, sink, _ := newTestStreamReader(12)
	in := append(append(frame("a:1|c"), frame("b:2|c")...), frame("c:3|c")...) // one read
	if err := r.readFrames(bytes.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	if want := []string{"a:1|c\nb:2|c", "c:3|c"}; strings.Join(sink.got, "|") != strings.Join(want, "|") {
		t.Fatalf("packets %q, want %q", sink.got, want)
	}
}

func TestReadFramesOneByteReads(t *testing.T) {
	r, sink, _ := newTestStreamReader(64)
	in := append(frame("x:1|c"), frame("y:2|c")...)
	if err := r.readFrames(iotest.OneByteReader(bytes.NewReader(in))); err != nil {
		t.Fatal(err)
	}
	if strings.Join(sink.got, "\n") != "x:1|c\ny:2|c" {
		t.Fatalf("packets %q", sink.got)
	}
}

func TestReadFramesEndsInsideFrame(t *testing.T) {
	r, sink, stats := newTestStreamReader(64)
	in := append(frame("x:1|c"), frame("cut:1|c")[:6]...)
	if err := r.readFrames(bytes.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	if strings.Join(sink.got, "\n") != "x:1|c" || stats.ReadErrors.Load() != 1 {
		t.Fatalf("packets %q read errors %d", sink.got, stats.ReadErrors.Load())
	}
}

func TestReadFramesHugeLengthAllocatesNothing(t *testing.T) {
	pool := packets.NewPool(8192)
	sink := &sliceSink{pool: pool}
	in := append(frame("ok:1|c"), 0xff, 0xff, 0xff, 0xff) // announces 4 GiB
	in = append(in, bytes.Repeat([]byte("z"), 100)...)
	var err error
	allocs := testing.AllocsPerRun(20, func() {
		sink.got = sink.got[:0]
		r := newStreamReader(pool, sink, packets.SourceUnixStream, "", &Stats{})
		err = r.readFrames(bytes.NewReader(in))
	})
	if !errors.Is(err, errFrameTooLarge) {
		t.Fatalf("err %v, want errFrameTooLarge", err)
	}
	// The reader, its read buffer, the bytes.Reader and one string copy in the sink.
	if !raceEnabled && allocs > 5 {
		t.Fatalf("%.0f allocations for a stream announcing a 4 GiB frame", allocs)
	}
}

func TestReadFramesNoAllocationPerFrame(t *testing.T) {
	pool := packets.NewPool(8192)
	sink := &discardSink{pool: pool}
	var in []byte
	for range 1000 {
		in = append(in, frame("page.views:1|c|#env:prod,route:/home")...)
	}
	allocs := testing.AllocsPerRun(10, func() {
		r := newStreamReader(pool, sink, packets.SourceUnixStream, "", &Stats{})
		if err := r.readFrames(bytes.NewReader(in)); err != nil {
			t.Fatal(err)
		}
	})
	if !raceEnabled && allocs > 3 { // reader, read buffer, bytes.Reader
		t.Fatalf("%.0f allocations for 1000 frames", allocs)
	}
}

type discardSink struct {
	pool  *packets.Pool
	bytes int
}

func (s *discardSink) Append(p *packets.Packet) {
	s.bytes += len(p.Contents)
	s.pool.Put(p)
}

// expectFrames decodes a frame stream the simple way: the payload text the packets must hold.
func expectFrames(data []byte, size int) (joined string, oversized bool) {
	var parts []string
	for len(data) >= frameHeader {
		l := binary.LittleEndian.Uint32(data)
		if l > uint32(size) {
			return strings.Join(parts, "\n"), true
		}
		if uint32(len(data)-frameHeader) < l {
			break
		}
		p := strings.TrimSuffix(string(data[frameHeader:frameHeader+int(l)]), "\n")
		if p != "" {
			parts = append(parts, p)
		}
		data = data[frameHeader+int(l):]
	}
	return strings.Join(parts, "\n"), false
}

// FuzzStreamFrames feeds arbitrary bytes as a Unix stream: the reader must not panic, must
// deliver exactly the complete frames' payloads, never build a packet over buffer_size, and
// allocate nothing per frame (only pooled packets, which the sink gives back).
func FuzzStreamFrames(f *testing.F) {
	f.Add(append(frame("a:1|c"), frame("b:2|c\nc:3|c")...), []byte{3, 200}, false)
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 'x'}, []byte{0}, true)
	f.Add(append(frame(strings.Repeat("y", 64)), frame("")...), []byte{}, true)
	f.Add(frame(strings.Repeat("q", 30)+"\n"+strings.Repeat("r", 30)), []byte{1, 7, 63}, false)
	const size = 64
	f.Fuzz(func(t *testing.T, data, sizes []byte, eofWithData bool) {
		pool := packets.NewPool(size)
		sink := &sliceSink{pool: pool}
		stats := &Stats{}
		r := newStreamReader(pool, sink, packets.SourceUnixStream, "", stats)
		rbufCap := cap(r.rbuf)
		err := r.readFrames(&chunkReader{data: data, sizes: sizes, eofWithData: eofWithData})
		want, oversized := expectFrames(data, size)
		if oversized != errors.Is(err, errFrameTooLarge) || (err != nil && !oversized) {
			t.Fatalf("err %v, oversized frame in input: %v", err, oversized)
		}
		if got := strings.Join(sink.got, "\n"); got != want {
			t.Fatalf("delivered %q, want %q", got, want)
		}
		if sink.maxSize > size {
			t.Fatalf("a packet of %d bytes, limit %d", sink.maxSize, size)
		}
		if cap(r.rbuf) != rbufCap {
			t.Fatalf("read buffer grew from %d to %d", rbufCap, cap(r.rbuf))
		}
		// Packets go back to the pool as soon as they are delivered, so at most two are ever
		// out at once (sync.Pool may still drop some: allow one per delivered packet).
		if a := pool.Stats().Allocations.Load(); a > uint64(len(sink.got))+1 {
			t.Fatalf("%d packet allocations for %d packets", a, len(sink.got))
		}
		if g, p := pool.Stats().Gets.Load(), pool.Stats().Puts.Load(); g != p {
			t.Fatalf("packets leaked: %d taken, %d given back", g, p)
		}
	})
}

// expectLines is the simple model of the TCP framing: lines split at '\n', the last one kept
// at a clean end, empty lines and lines over size dropped.
func expectLines(data []byte, size int) []string {
	var out []string
	for l := range strings.SplitSeq(string(data), "\n") {
		if l != "" && len(l) <= size {
			out = append(out, l)
		}
	}
	return out
}

func FuzzTCPLines(f *testing.F) {
	f.Add([]byte("a:1|c\nb:2|c\n"), []byte{2}, false)
	f.Add([]byte("a:1|c\n"+strings.Repeat("x", 200)+"\nb:2|c"), []byte{10, 100}, true)
	f.Add([]byte(strings.Repeat("y", 64)+"\n"+strings.Repeat("z", 65)), []byte{}, false)
	f.Add([]byte("\n\n\nq\n"), []byte{0}, true)
	const size = 64
	f.Fuzz(func(t *testing.T, data, sizes []byte, eofWithData bool) {
		pool := packets.NewPool(size)
		sink := &sliceSink{pool: pool}
		stats := &Stats{}
		r := newStreamReader(pool, sink, packets.SourceTCP, "", stats)
		rbufCap := cap(r.rbuf)
		if err := r.readLines(&chunkReader{data: data, sizes: sizes, eofWithData: eofWithData}); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range sink.got {
			for l := range strings.SplitSeq(p, "\n") {
				if l != "" {
					got = append(got, l)
				}
			}
		}
		if want := expectLines(data, size); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("delivered %q, want %q", got, want)
		}
		if sink.maxSize > size || cap(r.rbuf) != rbufCap {
			t.Fatalf("packet of %d bytes (limit %d), read buffer %d -> %d", sink.maxSize, size, rbufCap, cap(r.rbuf))
		}
		if g, p := pool.Stats().Gets.Load(), pool.Stats().Puts.Load(); g != p {
			t.Fatalf("packets leaked: %d taken, %d given back", g, p)
		}
	})
}
