package aggregate

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/doghouse-otel/doghouse/receiver/dogstatsdreceiver/internal/parse"
)

// BenchmarkContextMemory reports the heap cost of one tracked context (key, state, map slot)
// for counters with 3 tags, for distributions holding 20 distinct values, and for timers under
// agent_aggregates holding 20 values and max_histogram_values (1000) values, at rate 1 and at
// rate 0.5 (which keeps a weight per value), and for timers under the gauge mapping holding 1, 20
// and 1000 values (each value held until the flush), the figures behind max_contexts' and
// max_timestamped's memory bounds in the README.
func BenchmarkContextMemory(b *testing.B) {
	for _, tc := range []struct {
		name    string
		typ     parse.MetricType
		values  int
		rate    float64
		mapping Mapping
	}{
		{"counter", parse.Counter, 1, 1, MappingExponentialHistogram},
		{"distribution", parse.Distribution, 20, 1, MappingExponentialHistogram},
		{"distribution_1000", parse.Distribution, 1000, 1, MappingExponentialHistogram},
		{"agent_timer_20", parse.Timer, 20, 1, MappingAgentAggregates},
		{"agent_timer_1000", parse.Timer, 1000, 1, MappingAgentAggregates},
		{"agent_timer_1000_rate", parse.Timer, 1000, 0.5, MappingAgentAggregates},
		{"agent_timer_1001", parse.Timer, 1001, 1, MappingAgentAggregates},
		{"gauge_timer_1", parse.Timer, 1, 1, MappingGauge},
		{"gauge_timer_20", parse.Timer, 20, 1, MappingGauge},
		{"gauge_timer_1000", parse.Timer, 1000, 1, MappingGauge},
	} {
		n := 100_000
		if tc.values > 100 {
			n = 10_000 // keeps the heap of the run within a few hundred MB
		}
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
				a := New(Config{
					MaxContexts: n, MaxBuckets: 160, TimerMapping: tc.mapping, MaxTimestamped: n * tc.values,
					HistogramAggregates: AgentAggregates, HistogramPercentiles: []int{95}, MaxHistogramValues: 1000,
				}, 1)
				batch := make([]parse.Sample, 1)
				f := a.NewFeeder(1)
				for i := range n {
					for v := range tc.values {
						batch[0] = parse.Sample{Name: names[i], Type: tc.typ, Value: float64(v + 1), SampleRate: tc.rate, Tags: append(batch[0].Tags[:0], tags...)}
						f.Add(batch, 1)
					}
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				if a.Stats.Contexts.Load() != int64(n) {
					b.Fatalf("%d contexts", a.Stats.Contexts.Load())
				}
				perContext = float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
				runtime.KeepAlive(a)
			}
			b.ReportMetric(perContext, "bytes/context")
		})
	}
}
