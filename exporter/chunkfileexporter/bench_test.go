package chunkfileexporter

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

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
	b.StopTimer()
	if err := exp.Shutdown(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(points)*float64(b.N)/b.Elapsed().Seconds(), "points/s")
	entries, _ := os.ReadDir(cfg.Directory)
	var size int64
	var read int
	for _, e := range entries {
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
