package aggregate

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/parse"
)

// BenchmarkContextMemory reports the heap cost of one tracked context (key, state, map slot)
// for counters with 3 tags and for distributions holding 20 distinct values, the figure behind
// max_contexts' memory bound in the README.
func BenchmarkContextMemory(b *testing.B) {
	const n = 100_000
	for _, tc := range []struct {
		name   string
		typ    parse.MetricType
		values int
	}{{"counter", parse.Counter, 1}, {"distribution", parse.Distribution, 20}} {
		b.Run(tc.name, func(b *testing.B) {
			// Names and tags are interned by the parser, so they are shared, not per context.
			tags := []string{"env:prod", "service:web", "region:eu"}
			names := make([]string, n)
			for i := range names {
				names[i] = fmt.Sprintf("metric.%d", i)
			}
			var perContext float64
			for b.Loop() {
				runtime.GC()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				a := New(Config{MaxContexts: n, MaxBuckets: 160}, 1)
				batch := make([]parse.Sample, 1)
				f := a.NewFeeder(1)
				for i := range n {
					for v := range tc.values {
						batch[0] = parse.Sample{Name: names[i], Type: tc.typ, Value: float64(v + 1), SampleRate: 1, Tags: append(batch[0].Tags[:0], tags...)}
						f.Add(batch, 1)
					}
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				if a.Stats.Contexts.Load() != n {
					b.Fatalf("%d contexts", a.Stats.Contexts.Load())
				}
				perContext = float64(after.HeapAlloc-before.HeapAlloc) / n
				runtime.KeepAlive(a)
			}
			b.ReportMetric(perContext, "bytes/context")
		})
	}
}
