package chunkfileexporter

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/doghouse-otel/doghouse/chunkfile"
)

// BenchmarkPush measures one push of 10,000 gauge and sum points (5,000 series each with 3
// attributes), fsync policy never, into a segment in a temp dir: the exporter's CPU cost per
// point, conversion and block encoding included.
func BenchmarkPush(b *testing.B) {
	exp, cfg := newTestExporter(b, func(c *Config) { c.Fsync = "never" })
	md := sample(1)
	ms := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	ms.RemoveIf(func(pmetric.Metric) bool { return true })
	g := ms.AppendEmpty()
	g.SetName("queue.depth")
	gd := g.SetEmptyGauge().DataPoints()
	s := ms.AppendEmpty()
	s.SetName("requests")
	sd := s.SetEmptySum().DataPoints()
	for i := range 5000 {
		for _, dps := range []pmetric.NumberDataPointSlice{gd, sd} {
			dp := dps.AppendEmpty()
			dp.SetTimestamp(ts(1))
			dp.SetDoubleValue(float64(i % 97))
			dp.Attributes().PutStr("service", fmt.Sprintf("svc-%d", i%50))
			dp.Attributes().PutStr("pod", fmt.Sprintf("pod-%d", i))
			dp.Attributes().PutStr("env", "prod")
		}
	}
	points := md.DataPointCount()
	b.ReportAllocs()
	sec := 1
	cpu0 := cpuTime()
	for b.Loop() {
		sec++
		for _, dps := range []pmetric.NumberDataPointSlice{gd, sd} {
			for i := range dps.Len() {
				dps.At(i).SetTimestamp(ts(sec))
			}
		}
		if err := exp.ConsumeMetrics(context.Background(), md); err != nil {
			b.Fatal(err)
		}
	}
	cpu := cpuTime() - cpu0
	b.StopTimer()
	if err := exp.Shutdown(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(points)*float64(b.N)/b.Elapsed().Seconds(), "points/s")
	if cpu > 0 {
		b.ReportMetric(float64(points)*float64(b.N)/cpu.Seconds(), "points/cpu-s")
	}
	entries, _ := os.ReadDir(cfg.Directory)
	var size int64
	var read int
	for _, e := range entries {
		if e.Name() == lockName || e.IsDir() {
			continue
		}
		info, _ := e.Info()
		size += info.Size()
		r, err := chunkfile.OpenFile(filepath.Join(cfg.Directory, e.Name()), chunkfile.ReaderOptions{})
		if err != nil {
			b.Fatal(err)
		}
		for r.Next() {
			read += r.Batch().Len()
		}
		r.Close()
	}
	if read != points*b.N {
		b.Fatalf("read %d points back, wrote %d", read, points*b.N)
	}
	b.ReportMetric(float64(size)/float64(read), "bytes/point")
}

// cpuTime is the process's user and system CPU time: with the garbage collector's work on
// other threads, points per CPU-second is the exporter's cost whatever the cores.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkMemoryPerSeries measures the heap the exporter holds per series of its open segment
// (the writer's per-series state and the converter's cache), the figure behind
// max_segment_series: 100,000 new counter series of one point each, with three attributes, in
// pushes of 1,000, after a GC, minus the heap before.
//
//	go test -run XXX -bench MemoryPerSeries -benchtime 3x ./exporter/chunkfileexporter/
func BenchmarkMemoryPerSeries(b *testing.B) {
	const series, perPush = 100_000, 1000
	pushes := make([]pmetric.Metrics, series/perPush)
	for p := range pushes {
		md := pmetric.NewMetrics()
		ms := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics()
		for i := range perPush {
			m := ms.AppendEmpty()
			m.SetName(fmt.Sprintf("flood.user.%d", p*perPush+i))
			sum := m.SetEmptySum()
			sum.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
			dp := sum.DataPoints().AppendEmpty()
			dp.SetTimestamp(pcommon.Timestamp(1_700_000_000_000_000_000 + int64(p)*1e9))
			dp.SetIntValue(1)
			dp.Attributes().PutStr("env", "prod")
			dp.Attributes().PutStr("service", "web")
			dp.Attributes().PutStr("user_id", fmt.Sprint(i))
		}
		pushes[p] = md
	}
	var per float64
	for b.Loop() {
		b.StopTimer()
		exp, _ := newTestExporter(b, func(c *Config) { c.MaxSegmentSeries = 10 * series })
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		b.StartTimer()
		for _, md := range pushes {
			cp := pmetric.NewMetrics()
			md.CopyTo(cp)
			if err := exp.ConsumeMetrics(context.Background(), cp); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&after)
		per = (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / series
		if err := exp.Shutdown(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(per, "B/series")
}
