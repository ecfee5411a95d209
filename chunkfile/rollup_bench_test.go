package chunkfile

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/doghouse-otel/doghouse/chunkfile/workload"
)

// BenchmarkRollupReference rolls up the reference workload (3.6 M points of 1000 series over
// an hour, one segment of 60 s blocks as the exporter writes it) at 1 minute and 1 hour: the
// rollup's cost at seal per million raw points, and the tier file's size.
func BenchmarkRollupReference(b *testing.B) {
	ss := workload.Generate(workload.Options{})
	events := workload.Events(ss)
	raw := encodeWorkload(b, ss, Options{})
	for _, res := range []time.Duration{time.Minute, time.Hour} {
		b.Run(res.String(), func(b *testing.B) {
			var buf bytes.Buffer
			var st RollupStats
			b.ReportAllocs()
			c0 := cpuTime()
			for b.Loop() {
				buf.Reset()
				w, err := NewWriter(&buf, Options{})
				if err != nil {
					b.Fatal(err)
				}
				st, err = RollupAt(context.Background(), w, bytes.NewReader(raw), int64(len(raw)), RollupOptions{Resolution: res})
				if err != nil {
					b.Fatal(err)
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
			}
			cpu := cpuTime() - c0
			if st.RawPoints != int64(events) || st.Series != len(ss) {
				b.Fatalf("rolled up %+v, want %d points of %d series", st, events, len(ss))
			}
			m := float64(events) * float64(b.N) / 1e6
			b.ReportMetric(b.Elapsed().Seconds()/m, "s/Mpoints")
			b.ReportMetric(cpu.Seconds()/m, "cpu-s/Mpoints")
			b.ReportMetric(float64(buf.Len()), "tier-bytes")
			b.ReportMetric(float64(len(raw)), "raw-bytes")
			b.ReportMetric(float64(buf.Len())/float64(st.Windows), "B/window")
		})
	}
}

// BenchmarkRollupMemory reports the peak heap of a rollup of many series at 1 minute: 20,000
// series with a point every 10 s for an hour (7.2 M points, 1.22 M series windows), with the
// default MaxWindows (several passes), with 4 times as many, and in one pass holding every
// window.
func BenchmarkRollupMemory(b *testing.B) {
	const nSeries, nPoints = 20_000, 360
	var raw bytes.Buffer
	w, err := NewWriter(&raw, Options{MaxBlockSeries: 1 << 16})
	if err != nil {
		b.Fatal(err)
	}
	refs := make([]SeriesRef, nSeries)
	for i := range refs {
		if refs[i], err = w.AddSeries(Series{Name: "app.requests", Kind: KindSum, Temporality: TemporalityDelta,
			Attrs: []Attr{{Key: "id", Value: StringValue(fmt.Sprint(i))}}}); err != nil {
			b.Fatal(err)
		}
	}
	t0 := int64(workload.Base)
	for j := range nPoints {
		for i, ref := range refs {
			if err := w.AppendInt(ref, t0+int64(j)*10_000+int64(i%1000), int64(i+j)%7); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	data := raw.Bytes()
	for _, c := range []struct {
		name       string
		maxWindows int
	}{{"default", 0}, {"one-pass", math.MaxInt32}, {"256k", 1 << 18}} {
		b.Run(c.name, func(b *testing.B) {
			var peak, live uint64
			var st RollupStats
			for b.Loop() {
				runtime.GC()
				stop := sampleHeap(&peak, &live)
				out, err := NewWriter(&bytes.Buffer{}, Options{})
				if err != nil {
					b.Fatal(err)
				}
				st, err = RollupAt(context.Background(), out, bytes.NewReader(data), int64(len(data)), RollupOptions{Resolution: time.Minute, MaxWindows: c.maxWindows})
				if err != nil {
					b.Fatal(err)
				}
				if err := out.Close(); err != nil {
					b.Fatal(err)
				}
				stop()
			}
			if st.RawPoints != nSeries*nPoints {
				b.Fatalf("rolled up %+v", st)
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(live)/(1<<20), "peak-live-MiB")
			b.ReportMetric(float64(st.Passes), "passes")
			b.ReportMetric(float64(st.Windows), "windows")
			b.ReportMetric(float64(len(data))/(1<<20), "raw-MiB")
		})
	}
}

// sampleHeap records, every millisecond until the returned function is called, the largest
// heap seen (objects, garbage not collected yet included) into peak and the largest live heap
// (marked by a collection) into live.
func sampleHeap(peak, live *uint64) func() {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			*peak = max(*peak, s[0].Value.Uint64())
			*live = max(*live, s[1].Value.Uint64())
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// BenchmarkRollupFloodSegment reports the peak heap of the rollup of a segment a cardinality
// flood leaves: 50,000 series (the exporter's max_segment_series) of one point each, every
// one a new name with three attributes, at 1 minute and 1 hour.
func BenchmarkRollupFloodSegment(b *testing.B) {
	const nSeries = 50_000
	var raw bytes.Buffer
	w, err := NewWriter(&raw, Options{})
	if err != nil {
		b.Fatal(err)
	}
	t0 := int64(workload.Base)
	for i := range nSeries {
		ref, err := w.AddSeries(Series{Name: fmt.Sprintf("flood.metric.%07d", i), Kind: KindSum, Temporality: TemporalityDelta, Monotonic: true,
			ScopeName: "github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver",
			Attrs: []Attr{{Key: "env", Value: StringValue("prod")}, {Key: "service", Value: StringValue(fmt.Sprintf("svc%d", i%100))},
				{Key: "version", Value: StringValue("1.2.3")}}})
		if err != nil {
			b.Fatal(err)
		}
		if err := w.AppendInt(ref, t0+int64(i)*20, 1); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	data := raw.Bytes()
	for _, res := range []time.Duration{time.Minute, time.Hour} {
		b.Run(res.String(), func(b *testing.B) {
			var peak, live uint64
			var out bytes.Buffer
			for b.Loop() {
				runtime.GC()
				stop := sampleHeap(&peak, &live)
				out.Reset()
				ow, err := NewWriter(&out, Options{})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := RollupAt(context.Background(), ow, bytes.NewReader(data), int64(len(data)), RollupOptions{Resolution: res}); err != nil {
					b.Fatal(err)
				}
				if err := ow.Close(); err != nil {
					b.Fatal(err)
				}
				stop()
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(live)/(1<<20), "peak-live-MiB")
			b.ReportMetric(float64(len(data))/(1<<20), "raw-MiB")
			b.ReportMetric(float64(out.Len())/(1<<20), "tier-MiB")
		})
	}
}
