package opentsdb

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
)

// putLines returns n put lines over 1000 series (10 metrics x 100 hosts, 3 tags), as a
// tcollector-style client sends them.
func putLines(n int) [][]byte {
	rng := rand.New(rand.NewPCG(7, 11))
	out := make([][]byte, n)
	for i := range out {
		s := rng.IntN(1000)
		out[i] = fmt.Appendf(nil, "put sys.cpu.m%d %d %d.%d host=web%03d dc=dc%d cpu=%d",
			s%10, 1356998400+i, rng.IntN(1000), rng.IntN(100), s/10, s%3, s%8)
	}
	return out
}

// BenchmarkLineParser: "full" parses and checks every line; "known" has a Lookup that knows
// every series (as a connection's series table does once it has seen them), so only the
// timestamp and the value are read.
func BenchmarkLineParser(b *testing.B) {
	lines := putLines(10_000)
	known := newLearner()
	for _, l := range lines {
		known.learn(string(l))
	}
	var size int
	for _, l := range lines {
		size += len(l) + 1
	}
	for _, c := range []struct {
		name   string
		lookup func(metric, tagsText []byte) int32
	}{{"full", nil}, {"known", known.lookup}} {
		b.Run(c.name, func(b *testing.B) {
			lp := LineParser{Rules: Rules{MaxTags: 8}, Lookup: c.lookup}
			b.SetBytes(int64(size / len(lines)))
			b.ReportAllocs()
			i, ok := 0, 0
			for b.Loop() {
				if _, p, _ := lp.Parse(lines[i%len(lines)]); p != nil {
					ok++
				}
				i++
			}
			if ok != i {
				b.Fatalf("%d of %d lines accepted", ok, i)
			}
		})
	}
}

func BenchmarkPutParser(b *testing.B) {
	var body bytes.Buffer
	body.WriteByte('[')
	for i, l := range putLines(100) {
		if i > 0 {
			body.WriteByte(',')
		}
		f := bytes.Fields(l)
		fmt.Fprintf(&body, `{"metric":%q,"timestamp":%s,"value":%s,"tags":{`, f[1], f[2], f[3])
		for j, t := range f[4:] {
			k, v, _ := bytes.Cut(t, []byte("="))
			if j > 0 {
				body.WriteByte(',')
			}
			fmt.Fprintf(&body, "%q:%q", k, v)
		}
		body.WriteString("}}")
	}
	body.WriteByte(']')
	pp := PutParser{Rules: Rules{MaxTags: 8}}
	b.SetBytes(int64(body.Len()))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if err := pp.Parse(body.Bytes(), func(p *Point, _ *Raw, rej *Error) {
			if rej == nil {
				n++
			}
		}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "points/s")
	if n != 100*b.N {
		b.Fatalf("%d points of %d", n, 100*b.N)
	}
}
