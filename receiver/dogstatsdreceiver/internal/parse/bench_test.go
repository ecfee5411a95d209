package parse

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

const benchLine = "page.views.total:12.5|c|@0.5|#env:prod,service:web,region:eu-west-1"

func BenchmarkParseMetric(b *testing.B) {
	p := newTestParser()
	line := []byte(benchLine)
	dst := make([]Sample, 0, 1)
	tagBuf := make([]string, 0, 3)
	p.AppendSamples(dst, tagBuf, line) // intern the strings, as a warm worker has
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		out, _, err := p.AppendSamples(dst[:0], tagBuf[:0], line)
		if err != nil {
			b.Fatal(err)
		}
		n += len(out)
		dst = out
	}
	if n != b.N || dst[0].Value != 12.5 || dst[0].SampleRate != 0.5 || len(dst[0].Tags) != 3 {
		b.Fatalf("parsed %d samples for %d lines, last %+v", n, b.N, dst[0])
	}
}

func BenchmarkParsePacked(b *testing.B) {
	p := newTestParser()
	line := []byte("request.latency:12.5:13.1:9.8:22.4:11.0:15.7:10.2:18.9|d|#env:prod,service:api,region:us-east-1")
	dst := make([]Sample, 0, 8)
	tagBuf := make([]string, 0, 3)
	p.AppendSamples(dst, tagBuf, line)
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		out, _, err := p.AppendSamples(dst[:0], tagBuf[:0], line)
		if err != nil {
			b.Fatal(err)
		}
		n += len(out)
		dst = out
	}
	if n != 8*b.N || dst[7].Value != 18.9 {
		b.Fatalf("parsed %d samples for %d lines of 8 values", n, b.N)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/value")
}

// benchPacket builds a packet of n metric lines like a busy service sends: a few dozen metric
// names, 3 to 5 tags from small value sets, mixed types, sometimes a sample rate.
func benchPacket(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	types := []string{"c", "c", "c", "g", "ms", "h", "d"}
	var sb strings.Builder
	for i := range n {
		fmt.Fprintf(&sb, "app.%s.metric_%d:%d.%d|%s", []string{"http", "db", "cache"}[r.IntN(3)], r.IntN(20), r.IntN(1000), r.IntN(100), types[r.IntN(len(types))])
		if r.IntN(4) == 0 {
			sb.WriteString("|@0.5")
		}
		fmt.Fprintf(&sb, "|#env:prod,service:svc-%d,region:eu-west-%d", r.IntN(5), r.IntN(3))
		for range r.IntN(3) {
			fmt.Fprintf(&sb, ",endpoint:/api/v1/item/%d", r.IntN(10))
		}
		if i < n-1 {
			sb.WriteByte('\n')
		}
	}
	return []byte(sb.String())
}

func BenchmarkParsePacket30(b *testing.B) {
	p := newTestParser()
	packet := benchPacket(30)
	dst := make([]Sample, 0, 32)
	tagBuf := make([]string, 0, 160)
	parse := func() int {
		dst, tagBuf = dst[:0], tagBuf[:0]
		for line := range Lines(packet) {
			var err error
			if dst, tagBuf, err = p.AppendSamples(dst, tagBuf, line); err != nil {
				b.Fatal(err)
			}
		}
		return len(dst)
	}
	parse()
	b.SetBytes(int64(len(packet)))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n += parse()
	}
	if n != 30*b.N {
		b.Fatalf("parsed %d samples, want %d", n, 30*b.N)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/line")
}

func BenchmarkParseEvent(b *testing.B) {
	p := newTestParser()
	line := []byte("_e{21,36}:An exception occurred|Cannot parse CSV file from 10.0.0.17|t:warning|#env:prod,service:etl")
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	var ev Event
	for b.Loop() {
		var err error
		if ev, err = p.ParseEvent(line); err != nil {
			b.Fatal(err)
		}
	}
	if ev.AlertType != AlertWarning || len(ev.Tags) != 2 {
		b.Fatalf("event %+v", ev)
	}
}
