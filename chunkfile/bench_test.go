package chunkfile

import (
	"bytes"
	"io"
	"math"
	"syscall"
	"testing"
	"time"

	"github.com/doghouse-otel/doghouse/chunkfile/workload"
)

// Reference-workload benchmarks (shared/workloads/chunk-reference.md). Each iteration encodes
// or decodes all 3.6 M events; the metrics are events per second and bytes per event.

var benchVariants = []struct {
	name   string
	jitter bool
	dur    time.Duration
}{
	{"60s", false, time.Minute},
	{"10s", false, 10 * time.Second},
	{"60s-jitter", true, time.Minute},
}

func BenchmarkEncodeReference(b *testing.B) {
	for _, v := range benchVariants {
		b.Run(v.name, func(b *testing.B) {
			ss := workload.Generate(workload.Options{Jitter: v.jitter})
			events := workload.Events(ss)
			evs := arrivalOrder(ss)
			var buf bytes.Buffer
			b.ReportAllocs()
			b.ResetTimer()
			c0 := cpuTime()
			for b.Loop() {
				buf.Reset()
				w, err := NewWriter(&buf, Options{BlockDuration: v.dur})
				if err != nil {
					b.Fatal(err)
				}
				refs := addWorkloadSeries(b, w, ss)
				for _, e := range evs {
					if e.isInt {
						err = w.AppendInt(refs[e.ref], e.t, int64(e.v))
					} else {
						err = w.AppendFloat(refs[e.ref], e.t, math.Float64frombits(e.v))
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
				if w.Stats().Points != int64(events) {
					b.Fatalf("wrote %d points, want %d", w.Stats().Points, events)
				}
			}
			reportRates(b, events, cpuTime()-c0)
			b.ReportMetric(float64(buf.Len())/float64(events), "B/event")
		})
	}
}

// event is one pre-generated input point in the order an exporter receives them.
type event struct {
	t     int64
	v     uint64
	ref   int32
	isInt bool
}

// arrivalOrder flattens the workload into arrival order: second by second, every series.
func arrivalOrder(ss []workload.Series) []event {
	evs := make([]event, 0, workload.Events(ss))
	for j := range ss[0].T {
		for i := range ss {
			if ss[i].Ints != nil {
				evs = append(evs, event{ss[i].T[j], uint64(ss[i].Ints[j]), int32(i), true})
			} else {
				evs = append(evs, event{ss[i].T[j], math.Float64bits(ss[i].Floats[j]), int32(i), false})
			}
		}
	}
	return evs
}

func BenchmarkDecodeReference(b *testing.B) {
	for _, v := range benchVariants {
		b.Run(v.name, func(b *testing.B) {
			ss := workload.Generate(workload.Options{Jitter: v.jitter})
			events := workload.Events(ss)
			data := encodeWorkload(b, ss, Options{BlockDuration: v.dur})
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			b.ResetTimer()
			c0 := cpuTime()
			for b.Loop() {
				r, err := NewReader(bytes.NewReader(data), ReaderOptions{})
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				var sum int64
				for r.Next() {
					bt := r.Batch()
					n += bt.Len()
					sum += bt.T[len(bt.T)-1]
				}
				if err := r.Err(); err != nil {
					b.Fatal(err)
				}
				if n != events || sum == 0 {
					b.Fatalf("read %d points, want %d", n, events)
				}
			}
			reportRates(b, events, cpuTime()-c0)
		})
	}
}

// reportRates reports events per second of wall time and of process CPU time. Run with
// -cpu 1: the CPU-time rate is then the cost on one core, unaffected by other jobs sharing the
// machine (which can halve the wall-clock rate).
func reportRates(b *testing.B, events int, cpu time.Duration) {
	n := float64(events) * float64(b.N) / 1e6
	b.ReportMetric(n/b.Elapsed().Seconds(), "Mevents/s")
	if cpu > 0 {
		b.ReportMetric(n/cpu.Seconds(), "cpu-Mevents/s")
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkAddSeriesHit measures interning an already known descriptor, which an exporter
// does for every data point it receives.
func BenchmarkAddSeriesHit(b *testing.B) {
	w, err := NewWriter(io.Discard, Options{})
	if err != nil {
		b.Fatal(err)
	}
	s := Series{Name: "http.server.duration", Kind: KindHistogram, Temporality: TemporalityDelta, Unit: "ms",
		Attrs:    []Attr{{Key: "http.method", Value: StringValue("GET")}, {Key: "http.route", Value: StringValue("/api/v1/items")}},
		Resource: []Attr{{Key: "host.name", Value: StringValue("web-1")}, {Key: "service.name", Value: StringValue("shop")}}}
	want, err := w.AddSeries(s)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ref, err := w.AddSeries(s); err != nil || ref != want {
			b.Fatalf("ref %d, %v", ref, err)
		}
	}
}

// BenchmarkBlockDuration reports the size cost of short blocks (each block repeats every
// series' first timestamp and value): what a writer pays for flushing often. It uses the first
// 10 minutes of the reference workload.
func BenchmarkBlockDuration(b *testing.B) {
	ss := workload.Generate(workload.Options{NumPoints: 600})
	events := workload.Events(ss)
	for _, d := range []time.Duration{time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second, time.Minute, 5 * time.Minute} {
		b.Run(d.String(), func(b *testing.B) {
			var n int
			for b.Loop() {
				n = len(encodeWorkload(b, ss, Options{BlockDuration: d}))
			}
			if n == 0 {
				b.Fatal("empty file")
			}
			b.ReportMetric(float64(n)/float64(events), "B/event")
		})
	}
}
