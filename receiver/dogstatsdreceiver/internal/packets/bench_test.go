package packets

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// datagrams returns n DogStatsD datagrams of one line each, 40-60 bytes, from a fixed seed.
func datagrams(n int) [][]byte {
	r := rand.New(rand.NewPCG(1, 2))
	out := make([][]byte, n)
	for i := range out {
		out[i] = fmt.Appendf(nil, "app.request.count:%d|c|#env:prod,host:h%03d,route:r%d",
			r.IntN(1000), r.IntN(1000), r.IntN(50))
	}
	return out
}

// countingSink gives packets straight back to the pool and counts their bytes.
type countingSink struct {
	pool  *Pool
	bytes int
	n     int
}

func (s *countingSink) Append(p *Packet) {
	s.bytes += len(p.Contents)
	s.n++
	s.pool.Put(p)
}

func BenchmarkAssemblerAdd(b *testing.B) {
	in := datagrams(1024)
	var total int
	for _, d := range in {
		total += len(d)
	}
	pool := NewPool(DefaultBufferSize)
	sink := &countingSink{pool: pool}
	a := NewAssembler(never, pool, sink, SourceUDP, nil)
	b.SetBytes(int64(total) / int64(len(in)))
	b.ReportAllocs()
	var added, addedBytes int
	for b.Loop() {
		d := in[added%len(in)]
		a.Add(d)
		added++
		addedBytes += len(d)
	}
	a.Close()
	// Every datagram's bytes arrive, plus one separator per datagram that shares a packet.
	if want := addedBytes + added - sink.n; sink.bytes != want {
		b.Fatalf("sink got %d bytes in %d packets, want %d", sink.bytes, sink.n, want)
	}
	b.ReportMetric(float64(added)/float64(sink.n), "datagrams/packet")
}

func BenchmarkBufferAppend(b *testing.B) {
	pool := NewPool(DefaultBufferSize)
	out := make(chan Packets, DefaultQueueSize)
	buf := NewBuffer(BufferConfig{}, out, pool, nil)
	received := make(chan int)
	go func() {
		n := 0
		for ps := range out {
			n += len(ps)
			pool.PutAll(ps)
		}
		received <- n
	}()
	b.ReportAllocs()
	appended := 0
	for b.Loop() {
		p := pool.Get()
		p.SetLen(100)
		buf.Append(p)
		appended++
	}
	buf.Close()
	close(out)
	n := <-received
	if s := buf.Stats(); uint64(n) != s.PacketsSent.Load() || s.PacketsSent.Load()+s.PacketsDropped.Load() != uint64(appended) {
		b.Fatalf("received %d, sent %d, dropped %d of %d", n, s.PacketsSent.Load(), s.PacketsDropped.Load(), appended)
	}
}

func BenchmarkPoolGetPut(b *testing.B) {
	pool := NewPool(DefaultBufferSize)
	b.ReportAllocs()
	var n int
	for b.Loop() {
		p := pool.Get()
		p.SetLen(1)
		n += len(p.Contents)
		pool.Put(p)
	}
	if uint64(n) != pool.Stats().Gets.Load() {
		b.Fatalf("gets %d, want %d", pool.Stats().Gets.Load(), n)
	}
}
