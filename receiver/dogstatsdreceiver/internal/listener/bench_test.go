package listener

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/packets"
)

// payloads returns n pre-built payloads of k DogStatsD counter lines each (41-42 bytes a
// line, 1000 contexts, 3 tags: the peer measurement's shape), from a fixed seed.
func payloads(n, k int) [][]byte {
	r := rand.New(rand.NewPCG(7, 11))
	out := make([][]byte, n)
	for i := range out {
		var b []byte
		for j := range k {
			if j > 0 {
				b = append(b, '\n')
			}
			c := r.IntN(1000)
			b = fmt.Appendf(b, "bench.requests.m%02d:%d|c|#env:prod,a:%d,b:%02d", c%100, r.IntN(100), c%10, c/10)
		}
		out[i] = b
	}
	return out
}

// benchConsumer plays the workers: it counts lines and gives packets back.
type benchConsumer struct {
	out   chan packets.Packets
	lines chan int
}

func newBenchConsumer(pool *packets.Pool) *benchConsumer {
	c := &benchConsumer{out: make(chan packets.Packets, packets.DefaultQueueSize), lines: make(chan int, 1)}
	go func() {
		n := 0
		for ps := range c.out {
			for _, p := range ps {
				n += bytes.Count(p.Contents, []byte{'\n'}) + 1
			}
			pool.PutAll(ps)
		}
		c.lines <- n
	}()
	return c
}

func benchSettings(pool *packets.Pool, c *benchConsumer) Settings {
	return Settings{Pool: pool, Out: c.out, Buffer: packets.BufferConfig{}}
}

// runDatagramBench sends pre-built datagrams over conn, 32 per system call where it can, waits until the listener has read or
// the kernel has dropped each one, stops the listener and checks every line read arrived.
func runDatagramBench(b *testing.B, l Listener, conn net.Conn, c *benchConsumer, k int) {
	in := payloads(1024, k)
	var bytesPerOp int
	for _, p := range in {
		bytesPerOp += len(p)
	}
	b.SetBytes(int64(bytesPerOp / len(in)))
	b.ReportAllocs()
	sender, err := newBatchSender(conn)
	if err != nil {
		b.Fatal(err)
	}
	const burst = 32 // datagrams per sendmmsg call
	sent := 0
	start := time.Now()
	for b.Loop() {
		sent++
		if sent%burst == 0 {
			i := (sent - burst) % len(in)
			if err := sender.Send(in[i : i+burst]); err != nil {
				b.Fatal(err)
			}
		}
	}
	if rest := sent % burst; rest > 0 {
		i := (sent - rest) % len(in)
		if err := sender.Send(in[i : i+rest]); err != nil {
			b.Fatal(err)
		}
	}
	s := l.Stats()
	deadline := time.Now().Add(10 * time.Second)
	for s.Packets.Load()+s.KernelDrops.Load() < uint64(sent) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
		s = l.Stats()
	}
	elapsed := time.Since(start)
	l.Stop()
	close(c.out)
	lines := <-c.lines
	read := int(s.Packets.Load())
	if lines != read*k || s.Buffer.PacketsDropped.Load() != 0 {
		b.Fatalf("consumer got %d lines, listener read %d datagrams of %d lines; queue drops %d",
			lines, read, k, s.Buffer.PacketsDropped.Load())
	}
	b.ReportMetric(float64(lines)/elapsed.Seconds(), "lines/s")
	b.ReportMetric(100*float64(sent-read)/float64(sent), "%lost")
}

func BenchmarkUDP(b *testing.B) {
	for _, tc := range []struct{ lines, readers int }{{1, 1}, {1, 2}, {30, 1}} {
		b.Run(fmt.Sprintf("lines=%d/readers=%d", tc.lines, tc.readers), func(b *testing.B) {
			pool := packets.NewPool(packets.DefaultBufferSize)
			c := newBenchConsumer(pool)
			l := NewUDP(UDPConfig{Endpoint: "127.0.0.1:0", SoRcvbuf: 4 << 20, Readers: tc.readers}, benchSettings(pool, c))
			if err := l.Start(); err != nil {
				b.Fatal(err)
			}
			conn, err := net.Dial("udp", l.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			runDatagramBench(b, l, conn, c, tc.lines)
		})
	}
}

func BenchmarkUnixDatagram(b *testing.B) {
	for _, k := range []int{1, 30} {
		b.Run(fmt.Sprintf("lines=%d", k), func(b *testing.B) {
			pool := packets.NewPool(packets.DefaultBufferSize)
			c := newBenchConsumer(pool)
			path := filepath.Join(b.TempDir(), "bench.sock")
			l := NewUnixDatagram(UnixDatagramConfig{Path: path}, benchSettings(pool, c))
			if err := l.Start(); err != nil {
				b.Fatal(err)
			}
			conn, err := net.Dial("unixgram", path)
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			runDatagramBench(b, l, conn, c, k)
		})
	}
}

// runStreamBench writes the stream in writes of about 64 KiB and checks every line arrived.
func runStreamBench(b *testing.B, l Listener, conn net.Conn, c *benchConsumer, unit []byte, linesPerUnit int) {
	const perWrite = 64 << 10
	chunk := bytes.Repeat(unit, max(1, perWrite/len(unit)))
	units := len(chunk) / len(unit)
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	writes := 0
	start := time.Now()
	for b.Loop() {
		if _, err := conn.Write(chunk); err != nil {
			b.Fatal(err)
		}
		writes++
	}
	want := writes * units * linesPerUnit
	if err := conn.Close(); err != nil {
		b.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for l.Stats().OpenConnections.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	l.Stop()
	close(c.out)
	if lines := <-c.lines; lines != want {
		b.Fatalf("consumer got %d lines, want %d", lines, want)
	}
	b.ReportMetric(float64(want)/elapsed.Seconds(), "lines/s")
}

func BenchmarkUnixStream(b *testing.B) {
	for _, k := range []int{1, 30} {
		b.Run(fmt.Sprintf("lines=%d", k), func(b *testing.B) {
			pool := packets.NewPool(packets.DefaultBufferSize)
			c := newBenchConsumer(pool)
			path := filepath.Join(b.TempDir(), "bench.sock")
			l := NewUnixStream(UnixStreamConfig{Path: path}, benchSettings(pool, c))
			if err := l.Start(); err != nil {
				b.Fatal(err)
			}
			conn, err := net.Dial("unix", path)
			if err != nil {
				b.Fatal(err)
			}
			var unit []byte
			for _, p := range payloads(16, k) {
				unit = append(unit, frame(string(p))...)
			}
			runStreamBench(b, l, conn, c, unit, 16*k)
		})
	}
}

func BenchmarkTCP(b *testing.B) {
	pool := packets.NewPool(packets.DefaultBufferSize)
	c := newBenchConsumer(pool)
	l := NewTCP(TCPConfig{Endpoint: "127.0.0.1:0"}, benchSettings(pool, c))
	if err := l.Start(); err != nil {
		b.Fatal(err)
	}
	conn, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	unit := append(bytes.Join(payloads(64, 1), []byte{'\n'}), '\n')
	runStreamBench(b, l, conn, c, unit, 64)
}

// BenchmarkReadFrames is the Unix stream framing alone, from memory.
func BenchmarkReadFrames(b *testing.B) {
	pool := packets.NewPool(packets.DefaultBufferSize)
	sink := &discardSink{pool: pool}
	var in []byte
	lines := 0
	for _, p := range payloads(1000, 1) {
		in = append(in, frame(string(p))...)
		lines++
	}
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	runs := 0
	for b.Loop() {
		r := newStreamReader(pool, sink, packets.SourceUnixStream, "", &Stats{})
		if err := r.readFrames(bytes.NewReader(in)); err != nil {
			b.Fatal(err)
		}
		runs++
	}
	if want := runs * (len(in) - lines*frameHeader - (lines - 1)); sink.bytes < want {
		b.Fatalf("delivered %d bytes, want at least %d", sink.bytes, want)
	}
	b.ReportMetric(float64(lines*runs)/b.Elapsed().Seconds(), "frames/s")
}

// BenchmarkReadFramesEOL is BenchmarkReadFrames with frames that end in '\n', with
// eol_required off and on: the cost of the check on frames that pass it.
func BenchmarkReadFramesEOL(b *testing.B) {
	pool := packets.NewPool(packets.DefaultBufferSize)
	var in []byte
	lines := 0
	for _, p := range payloads(1000, 1) {
		in = append(in, frame(string(p)+"\n")...)
		lines++
	}
	for _, eol := range []bool{false, true} {
		b.Run(fmt.Sprintf("eol_required=%v", eol), func(b *testing.B) {
			sink := &discardSink{pool: pool}
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			stats := &Stats{}
			for b.Loop() {
				r := newStreamReader(pool, sink, packets.SourceUnixStream, "", stats)
				r.eolRequired = eol
				if err := r.readFrames(bytes.NewReader(in)); err != nil {
					b.Fatal(err)
				}
			}
			if stats.Unterminated.Load() != 0 {
				b.Fatalf("%d lines dropped from terminated frames", stats.Unterminated.Load())
			}
			b.ReportMetric(float64(lines*b.N)/b.Elapsed().Seconds(), "frames/s")
		})
	}
}
