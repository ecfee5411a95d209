package loadgen

import (
	"net"
	"testing"
	"time"
)

// BenchmarkBuild measures formatting the traffic up front (once per workload in a suite).
func BenchmarkBuild(b *testing.B) {
	cfg := Config{Seed: 11, Contexts: 1000, Lines: 20000, PacketSize: 1432}
	w, err := Build(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(w.Total().Bytes)
	b.ReportAllocs()
	for b.Loop() {
		if w, err = Build(cfg); err != nil {
			b.Fatal(err)
		}
	}
	if w.Total().Metrics != 20000 {
		b.Fatalf("built %d metric lines, want 20000", w.Total().Metrics)
	}
}

// BenchmarkSendUDP measures what the generator pays per pre-built datagram over loopback UDP
// (the receiver's share of the kernel work runs on the sender's CPU on loopback).
func BenchmarkSendUDP(b *testing.B) {
	w, err := Build(Config{Seed: 11, Contexts: 1000, Lines: 20000, PacketSize: 1432})
	if err != nil {
		b.Fatal(err)
	}
	sink, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	s, err := dial(Target{UDP, sink.LocalAddr().String()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.close()
	deadline := time.Now().Add(time.Hour)
	var bytes, sent int64
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		n, err := s.send(w, i, i+1, deadline)
		if err != nil {
			b.Fatal(err)
		}
		sent += int64(n)
		bytes += int64(len(w.Datagram(i)))
		i = (i + 1) % w.Len()
	}
	b.SetBytes(bytes / max(sent, 1))
	if sent != int64(b.N) {
		b.Fatalf("sent %d datagrams of %d", sent, b.N)
	}
}

// BenchmarkFloodBlock measures formatting flood traffic while it is sent: one op is one block
// of floodBlockDatagrams datagrams of 30 lines (unique names: 1M names, 1000 tag sets). It
// reports the bytes a line takes, which is what pre-building the traffic would hold per line
// (twice: datagram and Unix stream copies).
func BenchmarkFloodBlock(b *testing.B) {
	f, err := NewFlood(FloodConfig{Names: 1000000, TagSets: 1000, Prefix: "un"})
	if err != nil {
		b.Fatal(err)
	}
	_, _, next := f.start(0, 1)
	var lines, bytes int64
	b.ReportAllocs()
	for b.Loop() {
		w := next()
		lines += w.total.Lines
		bytes += w.total.Bytes
	}
	b.SetBytes(bytes / int64(b.N))
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(lines), "ns/line")
	b.ReportMetric(float64(bytes)/float64(lines), "bytes/line")
	if want := int64(b.N) * floodBlockDatagrams * 30; lines != want {
		b.Fatalf("formatted %d lines, want %d", lines, want)
	}
}
