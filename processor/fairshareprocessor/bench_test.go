package fairshareprocessor

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/doghouse-otel/doghouse/processor/fairshareprocessor/internal/metadata"
)

// benchInput is one window's input: hosts resources, each with a point for every one of
// metrics*series rows (100 metrics x 1,000 attribute sets = 100,000 distinct rows), all merged
// across hosts (merge_attributes: [host.name]). Points per row per window = hosts.
func benchInput(hosts, metrics, series int, ts time.Time) []pmetric.Metrics {
	out := make([]pmetric.Metrics, hosts)
	for h := range hosts {
		md := pmetric.NewMetrics()
		rm := md.ResourceMetrics().AppendEmpty()
		rm.Resource().Attributes().PutStr("service.name", "checkout")
		rm.Resource().Attributes().PutStr("host.name", fmt.Sprintf("host-%03d", h))
		sm := rm.ScopeMetrics().AppendEmpty()
		for m := range metrics {
			metric := sm.Metrics().AppendEmpty()
			metric.SetName(fmt.Sprintf("app.requests.%02d", m))
			sum := metric.SetEmptySum()
			sum.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
			sum.SetIsMonotonic(true)
			dps := sum.DataPoints()
			dps.EnsureCapacity(series)
			for s := range series {
				dp := dps.AppendEmpty()
				dp.SetTimestamp(pcommon.NewTimestampFromTime(ts))
				dp.SetIntValue(int64(1 + (s+h)%7))
				a := dp.Attributes()
				a.EnsureCapacity(3)
				a.PutStr("endpoint", fmt.Sprintf("/api/v1/items/%d", s%50))
				a.PutStr("status", []string{"200", "404", "500", "503"}[s%4])
				a.PutInt("shard", int64(s/100)) // with endpoint and status: unique per s
			}
		}
		out[h] = md
	}
	return out
}

// countingSink counts the data points and rows it receives, for the benchmark's check.
type countingSink struct {
	points atomic.Int64
}

func (c *countingSink) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }
func (c *countingSink) ConsumeMetrics(_ context.Context, md pmetric.Metrics) error {
	c.points.Add(int64(md.DataPointCount()))
	return nil
}

// BenchmarkAggregateAndSample pushes one window per iteration through the processor: hosts
// batches hitting 100,000 distinct rows, then the flush that samples them to half of their
// size (strict mode, mainstays, metametrics off) and builds the output. points/s is wall time,
// points/cpu-s divides by the CPU time the process used (GC included), which is what one core
// sustains even when other tenants load the machine. Run it on one core:
//
//	go test -run XXX -bench AggregateAndSample -benchtime 10x -cpu 1 ./processor/fairshareprocessor/
func BenchmarkAggregateAndSample(b *testing.B) {
	for _, hosts := range []int{10, 1} {
		b.Run(fmt.Sprintf("points_per_row=%d", hosts), func(b *testing.B) {
			const metrics, series = 100, 1000
			rows := metrics * series
			// The input is kept as protobuf bytes (no pointers for the GC to scan) and decoded
			// before each window, outside the timer.
			var template [][]byte
			for _, md := range benchInput(hosts, metrics, series, t0) {
				buf, err := (&pmetric.ProtoMarshaler{}).MarshalMetrics(md)
				if err != nil {
					b.Fatal(err)
				}
				template = append(template, buf)
			}
			cfg := createDefaultConfig().(*Config)
			cfg.MergeAttributes = []string{"host.name"}
			cfg.Metametrics = false
			// A counter row here is 8 + 15 (name) + ~54 (key) + 8 bytes; half of 100,000 of them.
			cfg.Budget.BytesPerSecond = int64(rows) * 85 / 2
			sink := &countingSink{}
			clock := &fakeClock{t: t0}
			p, err := newProcessor(processortest.NewNopSettings(metadata.Type), cfg, sink)
			if err != nil {
				b.Fatal(err)
			}
			p.now = clock.Now
			ctx := context.Background()
			input := make([]pmetric.Metrics, hosts)
			for i := range input {
				input[i] = pmetric.NewMetrics()
			}
			var windows, flushed int64
			var busy, cpu time.Duration
			window := func() {
				ts := t0.Add(time.Duration(windows)*time.Second + 500*time.Millisecond)
				for i := range input {
					md, err := (&pmetric.ProtoUnmarshaler{}).UnmarshalMetrics(template[i])
					if err != nil {
						b.Fatal(err)
					}
					setTimestamps(md, ts)
					input[i] = md
				}
				clock.Set(ts)
				runtime.GC() // the decoder's garbage is the benchmark's, not the processor's
			}
			// One untimed window first: the steady state reuses its rows, index and arena.
			window()
			for i := range input {
				if err := p.ConsumeMetrics(ctx, input[i]); err != nil {
					b.Fatal(err)
				}
			}
			clock.Set(clock.Now().Add(1600 * time.Millisecond))
			if err := p.flush(ctx, false); err != nil {
				b.Fatal(err)
			}
			windows++
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				window()
				ts := clock.Now()
				before := sink.points.Load()
				b.StartTimer()
				start, startCPU := time.Now(), cpuTime()
				for i := range input {
					if err := p.ConsumeMetrics(ctx, input[i]); err != nil {
						b.Fatal(err)
					}
				}
				clock.Set(ts.Add(1600 * time.Millisecond))
				if err := p.flush(ctx, false); err != nil {
					b.Fatal(err)
				}
				busy += time.Since(start)
				cpu += cpuTime() - startCPU
				flushed = sink.points.Load() - before
				windows++
				if offered := len(p.engine.items); offered != rows {
					b.Fatalf("window %d offered %d rows to sampling, want %d", windows, offered, rows)
				}
			}
			// Check: about half of the rows were kept (the budget).
			if flushed < int64(rows)*45/100 || flushed > int64(rows)*55/100 {
				b.Fatalf("last window kept %d of %d rows, want about half", flushed, rows)
			}
			points := float64((windows - 1) * int64(rows*hosts))
			b.ReportMetric(points/busy.Seconds(), "points/s")
			if cpu > 0 {
				b.ReportMetric(points/cpu.Seconds(), "points/cpu-s")
			}
			b.ReportMetric(float64(flushed), "rows_kept/window")
		})
	}
}

func setTimestamps(md pmetric.Metrics, ts time.Time) {
	t := pcommon.NewTimestampFromTime(ts)
	ms := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	for m := range ms.Len() {
		dps := ms.At(m).Sum().DataPoints()
		for i := range dps.Len() {
			dps.At(i).SetTimestamp(t)
		}
	}
}

// BenchmarkMemoryPerRow measures the heap the processor holds per tracked row: 100,000 rows
// (counters with three attributes) in one open window, after a GC, minus the heap before. The
// input stays referenced throughout; the processor consumes a copy of it.
//
//	go test -run XXX -bench MemoryPerRow -benchtime 3x ./processor/fairshareprocessor/
func BenchmarkMemoryPerRow(b *testing.B) {
	const metrics, series = 100, 1000
	b.ReportMetric(heapPer(b, benchInput(1, metrics, series, t0)[0], metrics, metrics*series), "B/row")
}

// BenchmarkMemoryPerMetric measures the heap held per tracked metric with one row each (the
// unique-names flood): 100,000 metric names, one counter row of three attributes each. The
// figure includes the metric's row, its table entries and its cardinality sketch.
//
//	go test -run XXX -bench MemoryPerMetric -benchtime 3x ./processor/fairshareprocessor/
func BenchmarkMemoryPerMetric(b *testing.B) {
	const metrics = 100_000
	b.ReportMetric(heapPer(b, benchInput(1, metrics, 1, t0)[0], metrics, metrics), "B/metric")
}

// heapPer consumes copies of input into new processors and returns the heap they hold per unit
// after a GC: units rows of metrics metrics are expected in the windows.
func heapPer(b *testing.B, input pmetric.Metrics, metrics, units int) float64 {
	cfg := createDefaultConfig().(*Config)
	cfg.MergeAttributes = []string{"host.name"}
	cfg.MaxMetrics = metrics
	var per float64
	for b.Loop() {
		b.StopTimer()
		clock := &fakeClock{t: t0.Add(500 * time.Millisecond)}
		p, err := newProcessor(processortest.NewNopSettings(metadata.Type), cfg, &countingSink{})
		if err != nil {
			b.Fatal(err)
		}
		p.now = clock.Now
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		cp := pmetric.NewMetrics()
		input.CopyTo(cp)
		b.StartTimer()
		if err := p.ConsumeMetrics(context.Background(), cp); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		cp = pmetric.Metrics{} // emptied by ConsumeMetrics; let the GC take it
		runtime.GC()
		runtime.ReadMemStats(&after)
		rows, tracked := held(p)
		if rows != units {
			b.Fatalf("%d rows held, want %d", rows, units)
		}
		if got := tracked; got != metrics {
			b.Fatalf("%d metrics tracked, want %d", got, metrics)
		}
		per = (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / float64(units)
		runtime.KeepAlive(p)
		runtime.KeepAlive(cp)
		b.StartTimer()
	}
	runtime.KeepAlive(input)
	return per
}

// BenchmarkConsumeParallel calls ConsumeMetrics from GOMAXPROCS goroutines at once, as a
// receiver serving many connections does, with 1,000 distinct metrics in one open window. A
// request carries 100 points: one metric with 100 attribute sets (100 rows per metric), or 10
// metrics with 10 (10 rows per metric; such a request spans shards and is split). Each
// iteration is one round: every goroutine sends 250 requests, copied from templates before the
// timer starts, so that the figure is the processor's (copying pdata allocates, and on a small
// VM allocation does not scale with cores). points/s is over all rounds; best_round_points/s is
// the fastest round, what the cores give when no other tenant of the machine takes them.
// shards=1 is one lock, as before sharding; shards=auto is the default (one shard per core, at
// most 8). Compare on 1 and 2 cores:
//
//	go test -run '^$' -bench ConsumeParallel -cpu 1,2 -count 5 ./processor/fairshareprocessor/
func BenchmarkConsumeParallel(b *testing.B) {
	const names, points, requests = 1000, 100, 250
	for _, perRequest := range []int{1, 10} {
		for _, shards := range []int{1, 0} {
			label := "auto"
			if shards > 0 {
				label = fmt.Sprint(shards)
			}
			b.Run(fmt.Sprintf("metrics_per_request=%d/shards=%s", perRequest, label), func(b *testing.B) {
				cfg := createDefaultConfig().(*Config)
				cfg.Shards = shards
				cfg.Metametrics = false
				clock := &fakeClock{t: t0.Add(500 * time.Millisecond)}
				p, err := newProcessor(processortest.NewNopSettings(metadata.Type), cfg, &countingSink{})
				if err != nil {
					b.Fatal(err)
				}
				p.now = clock.Now
				templates := make([]pmetric.Metrics, names/perRequest)
				for i := range templates {
					list := make([]string, perRequest)
					for j := range list {
						list[j] = fmt.Sprintf("bench.metric%04d", i*perRequest+j)
					}
					templates[i] = counters(clock.Now(), points/perRequest, func(i int) int64 { return int64(i%7 + 1) }, list...)
				}
				ctx := context.Background()
				consume := func(md pmetric.Metrics) {
					if err := p.ConsumeMetrics(ctx, md); err != nil {
						b.Error(err)
					}
				}
				for _, tm := range templates { // the rows exist before the timer starts
					md := pmetric.NewMetrics()
					tm.CopyTo(md)
					consume(md)
				}
				workers := runtime.GOMAXPROCS(0)
				input := make([][]pmetric.Metrics, workers)
				next := 0
				var busy, best time.Duration
				b.ResetTimer()
				// A b.N loop, not b.Loop: b.Loop benchmarks measure their first -cpu value in
				// the ramp-up run, under the GOMAXPROCS the test binary started with.
				for range b.N {
					b.StopTimer()
					for w := range input {
						input[w] = input[w][:0]
						for range requests {
							md := pmetric.NewMetrics()
							templates[next].CopyTo(md)
							input[w] = append(input[w], md)
							next = (next + 1) % len(templates)
						}
					}
					runtime.GC()
					b.StartTimer()
					start := time.Now()
					var wg sync.WaitGroup
					for _, mds := range input {
						wg.Add(1)
						go func() {
							defer wg.Done()
							for _, md := range mds {
								consume(md)
							}
						}()
					}
					wg.Wait()
					d := time.Since(start)
					busy += d
					if best == 0 || d < best {
						best = d
					}
				}
				b.StopTimer()
				b.ReportMetric(float64(b.N*workers*requests*points)/busy.Seconds(), "points/s")
				b.ReportMetric(float64(workers*requests*points)/best.Seconds(), "best_round_points/s")
				b.ReportMetric(float64(len(p.engine.shards)), "shards")
				b.ReportMetric(float64(workers), "goroutines")
				if rows, _ := held(p); rows != names*(points/perRequest) {
					b.Fatalf("%d rows held, want %d", rows, names*(points/perRequest))
				}
				if err := p.Shutdown(ctx); err != nil {
					b.Fatal(err)
				}
			})
		}
	}
}
