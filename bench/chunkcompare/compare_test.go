package main

import (
	"bytes"
	"math"
	"testing"
	"time"

	"github.com/doghouse-otel/doghouse/chunkfile"
	"github.com/doghouse-otel/doghouse/chunkfile/workload"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestBothEncodingsKeepTheData checks that the two encoders compared hold the same points, so
// the size comparison is between lossless encodings of identical data.
func TestBothEncodingsKeepTheData(t *testing.T) {
	ss := workload.Generate(workload.Options{Jitter: true, NumSeries: 50, NumPoints: 500})
	evs := arrivalOrder(ss)
	var buf bytes.Buffer
	if err := encodeChunkfile(ss, evs, time.Minute, &buf); err != nil {
		t.Fatal(err)
	}
	chunks, err := encodeXOR(ss, evs)
	if err != nil {
		t.Fatal(err)
	}
	r, err := chunkfile.NewReader(bytes.NewReader(buf.Bytes()), chunkfile.ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	type pt struct {
		t int64
		v float64
	}
	ours := make([][]pt, len(ss))
	for r.Next() {
		b := r.Batch()
		for i := range b.Len() {
			ours[b.Ref] = append(ours[b.Ref], pt{b.T[i], b.Num[i].Float64()})
		}
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	var it chunkenc.Iterator
	for i, cs := range chunks {
		j := 0
		for _, c := range cs {
			it = c.Iterator(it)
			for it.Next() == chunkenc.ValFloat {
				tm, v := it.At()
				want := ss[i].T[j]
				if tm != want || ours[i][j].t != want || math.Float64bits(v) != math.Float64bits(ours[i][j].v) {
					t.Fatalf("series %d point %d: xor (%d, %v), chunkfile %+v, want t=%d", i, j, tm, v, ours[i][j], want)
				}
				j++
			}
		}
		if j != len(ss[i].T) || len(ours[i]) != j {
			t.Fatalf("series %d: xor %d points, chunkfile %d, want %d", i, j, len(ours[i]), len(ss[i].T))
		}
	}
}

func benchData(b *testing.B) ([]workload.Series, []event) {
	ss := workload.Generate(workload.Options{})
	return ss, arrivalOrder(ss)
}

func BenchmarkEncodeChunkfile60s(b *testing.B) {
	ss, evs := benchData(b)
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		if err := encodeChunkfile(ss, evs, time.Minute, &buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(evs))*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mevents/s")
	b.ReportMetric(float64(buf.Len())/float64(len(evs)), "B/event")
}

func BenchmarkEncodeXOR(b *testing.B) {
	ss, evs := benchData(b)
	var chunks [][]*chunkenc.XORChunk
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if chunks, err = encodeXOR(ss, evs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(evs))*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mevents/s")
	b.ReportMetric(float64(xorBytes(chunks))/float64(len(evs)), "B/event")
}

func BenchmarkDecodeChunkfile60s(b *testing.B) {
	ss, evs := benchData(b)
	var buf bytes.Buffer
	if err := encodeChunkfile(ss, evs, time.Minute, &buf); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		n, _, err := decodeChunkfile(buf.Bytes())
		if err != nil || n != len(evs) {
			b.Fatalf("decoded %d of %d: %v", n, len(evs), err)
		}
	}
	b.ReportMetric(float64(len(evs))*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mevents/s")
}

func BenchmarkDecodeXOR(b *testing.B) {
	ss, evs := benchData(b)
	chunks, err := encodeXOR(ss, evs)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		n, _, err := decodeXOR(chunks)
		if err != nil || n != len(evs) {
			b.Fatalf("decoded %d of %d: %v", n, len(evs), err)
		}
	}
	b.ReportMetric(float64(len(evs))*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mevents/s")
}
