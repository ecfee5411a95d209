package fairshareprocessor

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/doghouse-otel/doghouse/processor/fairshareprocessor/internal/aggregate"
	"github.com/doghouse-otel/doghouse/processor/fairshareprocessor/internal/metadata"
)

// shardsUsed returns how many distinct shards names hash to in p.
func shardsUsed(p *fairshareProcessor, names []string) int {
	used := map[int]bool{}
	for _, n := range names {
		used[p.engine.shardOf(n)] = true
	}
	return len(used)
}

// dataMetrics calls fn for every data (not metametric) metric of everything sink received,
// with the index of its ResourceMetrics in its request.
func dataMetrics(sink *consumertest.MetricsSink, fn func(req, rm int, m pmetric.Metric)) {
	for r, md := range sink.AllMetrics() {
		rms := md.ResourceMetrics()
		for i := range rms.Len() {
			sms := rms.At(i).ScopeMetrics()
			for j := range sms.Len() {
				if sms.At(j).Scope().Name() == metadata.ScopeName {
					continue
				}
				ms := sms.At(j).Metrics()
				for k := range ms.Len() {
					fn(r, i, ms.At(k))
				}
			}
		}
	}
}

// TestConcurrentConsumeAcrossShards: 8 goroutines send 50 requests each, every request holding
// its own metric and one metric shared by all (so requests both stay in one shard and span
// several), and a cumulative metric that is forwarded. Under -race this checks the shard locks;
// after the final flush every total is exact and every resource comes out in one
// ResourceMetrics per request.
func TestConcurrentConsumeAcrossShards(t *testing.T) {
	const goroutines, requests, points = 8, 50, 10
	sink := new(consumertest.MetricsSink)
	cfg := createDefaultConfig().(*Config)
	cfg.Shards = 4
	cfg.Resolution = time.Minute
	cfg.Budget.BytesPerSecond = 1 << 30
	clock := &fakeClock{t: t0.Add(500 * time.Millisecond)}
	p := newTestProcessor(t, cfg, sink, clock)
	var names []string
	for g := range goroutines {
		names = append(names, fmt.Sprintf("worker.%d.jobs", g))
	}
	require.Greater(t, shardsUsed(p, append(names, "shared")), 2, "the names must spread over the shards")

	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for r := range requests {
				md := counters(clock.Now(), points, func(i int) int64 { return int64(i + r) }, names[g], "shared", "cumulative")
				md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(2).Sum().SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
				assert.NoError(t, p.ConsumeMetrics(ctx, md))
			}
		})
	}
	wg.Wait()
	rows, _ := held(p)
	assert.Equal(t, goroutines*points+points, rows)
	require.NoError(t, p.Shutdown(ctx))

	// Each request adds sum(i+r for i < points) to its metric: points*r + 45.
	perWorker := float64(points*requests*(requests-1)/2 + requests*45)
	sums, rowsOut, _ := collected(sink)
	for _, n := range names {
		assert.Equal(t, perWorker, sums[n], n)
		assert.Equal(t, points, rowsOut[n], n)
	}
	assert.Equal(t, goroutines*perWorker, sums["shared"])
	assert.Equal(t, points, rowsOut["shared"])
	assert.Equal(t, goroutines*perWorker, sums["cumulative"], "forwarded unchanged")

	last := sink.AllMetrics()[len(sink.AllMetrics())-1]
	resources := 0
	for i := range last.ResourceMetrics().Len() {
		if sm := last.ResourceMetrics().At(i).ScopeMetrics(); sm.Len() > 0 && sm.At(0).Scope().Name() != metadata.ScopeName {
			resources++
			assert.Equal(t, 1, sm.Len(), "one ScopeMetrics per scope")
		}
	}
	assert.Equal(t, 1, resources, "the shards emit into one ResourceMetrics per resource")
}

// TestMaxMetricsIsGlobalAcrossShards: with 4 shards and max_metrics 10, 100 names sent at once
// from 4 goroutines (every metric holds rows, so none can be evicted) leave exactly 10 metrics
// tracked over all shards, not 10 per shard, and the points of the other 90 come out in the
// overflow metric with their total.
func TestMaxMetricsIsGlobalAcrossShards(t *testing.T) {
	sink := new(consumertest.MetricsSink)
	cfg := createDefaultConfig().(*Config)
	cfg.Shards = 4
	cfg.MaxMetrics = 10
	cfg.Budget.BytesPerSecond = 1 << 30
	clock := &fakeClock{t: t0.Add(500 * time.Millisecond)}
	p := newTestProcessor(t, cfg, sink, clock)
	var names []string
	for i := range 100 {
		names = append(names, fmt.Sprintf("app.metric%d", i))
	}
	require.Equal(t, 4, shardsUsed(p, names))
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			assert.NoError(t, p.ConsumeMetrics(ctx, counters(clock.Now(), 2, func(int) int64 { return 3 }, names[g*25:(g+1)*25]...)))
		})
	}
	wg.Wait()
	_, tracked := held(p)
	assert.Equal(t, 10, tracked)
	assert.Equal(t, 10, p.engine.limits.Metrics())
	clock.Set(t0.Add(2100 * time.Millisecond))
	require.NoError(t, p.flush(ctx, false))

	sums, _, meta := collected(sink)
	named := 0
	var total float64
	for name, v := range sums {
		total += v
		if name != aggregate.OverflowMetricPrefix+"sum" {
			named++
		}
	}
	assert.Equal(t, 10, named)
	assert.Equal(t, 100*2*3.0, total)
	assert.Equal(t, 90*2*3.0, sums[aggregate.OverflowMetricPrefix+"sum"])
	assert.Equal(t, 10.0, meta["fairshare.metrics"][""])
	assert.Equal(t, 100.0, meta["fairshare.metrics.new"][""], "new names of all shards, under one prefix point")
	require.NoError(t, p.Shutdown(ctx))
}

// TestMaxRowsIsGlobalAcrossShards: with 4 shards and max_rows 50, 10 metrics of 20 rows each
// hold exactly 50 rows that are not overflow rows, over all shards.
func TestMaxRowsIsGlobalAcrossShards(t *testing.T) {
	sink := new(consumertest.MetricsSink)
	cfg := createDefaultConfig().(*Config)
	cfg.Shards = 4
	cfg.MaxRows = 50
	cfg.Budget.BytesPerSecond = 1 << 30
	clock := &fakeClock{t: t0.Add(500 * time.Millisecond)}
	p := newTestProcessor(t, cfg, sink, clock)
	var names []string
	for i := range 10 {
		names = append(names, fmt.Sprintf("rows.metric%d", i))
	}
	require.Greater(t, shardsUsed(p, names), 2)
	ctx := context.Background()
	var wg sync.WaitGroup
	for _, n := range names {
		wg.Go(func() {
			assert.NoError(t, p.ConsumeMetrics(ctx, counters(clock.Now(), 20, func(int) int64 { return 1 }, n)))
		})
	}
	wg.Wait()
	clock.Set(t0.Add(2100 * time.Millisecond))
	require.NoError(t, p.flush(ctx, false))
	plain, overflow := 0, 0
	var total int64
	dataMetrics(sink, func(_, _ int, m pmetric.Metric) {
		dps := m.Sum().DataPoints()
		for i := range dps.Len() {
			total += dps.At(i).IntValue()
			if _, ok := dps.At(i).Attributes().Get(aggregate.OverflowAttribute); ok {
				overflow++
			} else {
				plain++
			}
		}
	})
	assert.Equal(t, 50, plain)
	assert.LessOrEqual(t, overflow, 10, "one overflow row per metric at most")
	assert.Equal(t, int64(200), total)
	require.NoError(t, p.Shutdown(ctx))
}

// TestOverflowMetricOncePerKindAcrossShards: beyond max_metrics, the sums and gauges of names
// in every shard merge into a single fairshare.overflow.sum and fairshare.overflow.gauge per
// resource (two resources here), whose total is the total of the overflowed points, and the
// telemetry counts every one of those points.
func TestOverflowMetricOncePerKindAcrossShards(t *testing.T) {
	sink := new(consumertest.MetricsSink)
	cfg := createDefaultConfig().(*Config)
	cfg.Shards = 4
	cfg.MaxMetrics = 4
	cfg.Budget.BytesPerSecond = 1 << 30
	clock := &fakeClock{t: t0.Add(500 * time.Millisecond)}
	p := newTestProcessor(t, cfg, sink, clock)
	ctx := context.Background()
	var names []string
	for i := range 40 {
		names = append(names, fmt.Sprintf("flood.m%d", i))
	}
	require.Equal(t, 4, shardsUsed(p, names[4:]))
	// The first four names take the places; the rest, in every shard, overflow.
	require.NoError(t, p.ConsumeMetrics(ctx, counters(clock.Now(), 1, func(int) int64 { return 1 }, names[:4]...)))
	var overflowed int64
	for _, host := range []string{"a", "b"} {
		md := counters(clock.Now(), 3, func(i int) int64 { return int64(i + 1) }, names[4:]...)
		md.ResourceMetrics().At(0).Resource().Attributes().PutStr("host", host)
		ms := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
		for i := range ms.Len() / 2 { // half of them gauges
			m := ms.At(2 * i)
			dps := pmetric.NewNumberDataPointSlice()
			m.Sum().DataPoints().CopyTo(dps)
			dps.CopyTo(m.SetEmptyGauge().DataPoints())
		}
		overflowed += int64(ms.Len()/2) * 6 // the sums: 1+2+3 each
		st, _ := p.engine.add(md, clock.Now().UnixNano())
		assert.Equal(t, uint64(36*3), st.MetricOverflow, "host %s", host)
		assert.Equal(t, uint64(36*3), st.Points, "host %s", host)
	}
	clock.Set(t0.Add(2100 * time.Millisecond))
	require.NoError(t, p.flush(ctx, false))

	type perResource struct{ sums, gauges int }
	seen := map[string]*perResource{}
	var overflowTotal int64
	dataMetrics(sink, func(req, rm int, m pmetric.Metric) {
		key := fmt.Sprint(req, "/", rm)
		if seen[key] == nil {
			seen[key] = &perResource{}
		}
		switch m.Name() {
		case aggregate.OverflowMetricPrefix + "sum":
			seen[key].sums++
			dps := m.Sum().DataPoints()
			require.Equal(t, 1, dps.Len(), "one row per resource")
			overflowTotal += dps.At(0).IntValue()
		case aggregate.OverflowMetricPrefix + "gauge":
			seen[key].gauges++
		}
	})
	resources := 0
	for key, pr := range seen {
		if pr.sums > 0 || pr.gauges > 0 {
			resources++
			assert.Equal(t, 1, pr.sums, key)
			assert.Equal(t, 1, pr.gauges, key)
		}
	}
	assert.Equal(t, 2, resources)
	assert.Equal(t, overflowed, overflowTotal)
	require.NoError(t, p.Shutdown(ctx))
}

// TestShardsShareOneBudget: the same flushes through 1 and 4 shards keep the same rows. Twelve
// metrics with different row counts (rows of one metric have equal sizes, so strict mode keeps
// a number of rows that does not depend on chance) compete for a budget of about a third of
// them; a budget split between shards, or a fair share computed per shard, would keep other
// counts. Strict mode never goes over the budget with 4 shards either, and the counter totals
// (all counts 1) stay exact.
func TestShardsShareOneBudget(t *testing.T) {
	var names []string
	for i := range 12 {
		names = append(names, fmt.Sprintf("svc%d.requests", i))
	}
	run := func(shards int) (kept []map[string]int, totals []map[string]float64) {
		sink := new(consumertest.MetricsSink)
		cfg := createDefaultConfig().(*Config)
		cfg.Shards = shards
		cfg.Budget.BytesPerSecond = 12000
		clock := &fakeClock{t: t0}
		p := newTestProcessor(t, cfg, sink, clock)
		if shards > 1 {
			require.Equal(t, shards, shardsUsed(p, names))
		}
		ctx := context.Background()
		for sec := range 10 {
			now := t0.Add(time.Duration(sec)*time.Second + 500*time.Millisecond)
			clock.Set(now)
			for i, n := range names {
				require.NoError(t, p.ConsumeMetrics(ctx, counters(now, 20*(i+1)+10*sec, func(int) int64 { return 1 }, n)))
			}
			clock.Set(now.Add(1600 * time.Millisecond))
			sink.Reset()
			require.NoError(t, p.flush(ctx, false))
			sums, rows, meta := collected(sink)
			require.LessOrEqual(t, meta["fairshare.bytes"]["/kept"], 12000.0, "shards %d, second %d", shards, sec)
			kept = append(kept, rows)
			totals = append(totals, sums)
		}
		require.NoError(t, p.Shutdown(ctx))
		return kept, totals
	}
	kept1, totals1 := run(1)
	kept4, totals4 := run(4)
	assert.Equal(t, kept1, kept4)
	for sec := range totals1 {
		for i, n := range names {
			want := float64(20*(i+1) + 10*sec)
			assert.InDelta(t, want, totals1[sec][n], 1e-6, "1 shard, %s, second %d", n, sec)
			assert.InDelta(t, want, totals4[sec][n], 1e-6, "4 shards, %s, second %d", n, sec)
		}
	}
}
